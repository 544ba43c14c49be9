//! The operations part of `opensesa demo`: in SAT, an operations readiness plan of twelve
//! items, three milestones (operational readiness review, launch readiness, handover) with
//! their gating items, finish-to-start dependencies, one blocked item and one late item (a
//! licence due after the review it gates). Written through the use cases as the demo users;
//! skipped when the project has milestones already.

use opensesa_app::{App, AppError, Principal};
use opensesa_domain::operations::{ItemInput, ItemStatus, MilestoneInput};

/// (title, owner, due date, days, source, description)
const ITEMS: &[(&str, &str, &str, i64, &str, &str)] = &[
    ("Write the flight operations procedures", "Mission operations team", "2027-10-29", 30, "Operations concept, chapter 4", "Nominal, contingency and LEOP procedures for every mode of the platform and payload."),
    ("Validate the procedures on the satellite simulator", "Mission operations team", "2027-12-03", 20, "Operations concept, chapter 4", "Every procedure run end to end on the software simulator with the flight software image."),
    ("Train and certify the flight controllers", "Flight control lead", "2028-01-28", 25, "Staffing plan", "Classroom, simulator sessions and a certification run per controller."),
    ("Contract ground station passes", "Ground segment manager", "2027-09-30", 15, "Ground segment requirements", "Polar station passes for LEOP and routine operations, with backup station."),
    ("Ground segment end-to-end test", "Ground segment manager", "2027-12-17", 10, "Verification plan VP-001", "Telecommand and telemetry through the stations, mission control and the image processing chain."),
    ("Flight dynamics system acceptance", "Flight dynamics team", "2027-11-26", 12, "Ground segment requirements", "Orbit determination and manoeuvre planning accepted against reference cases."),
    ("Anomaly response plan", "Mission operations team", "2027-12-10", 10, "Safety review action 12", "On-call rota, escalation paths and the anomaly review board."),
    ("Collision avoidance service agreement", "Programme office", "2028-01-21", 8, "Space debris mitigation plan", "Conjunction screening and manoeuvre advice from the space surveillance provider."),
    ("Frequency licence filing", "Spectrum coordinator", "2028-02-01", 40, "Regulatory plan", "Filing and coordination of the S- and X-band assignments."),
    ("Operational readiness review data pack", "Project office", "2028-01-10", 5, "Review plan", "Procedures, test reports, training records and open items for the review board."),
    ("Launch and early orbit phase rehearsal", "Flight control lead", "2028-02-20", 5, "LEOP plan", "Full-team rehearsal of the first 72 hours with injected anomalies."),
    ("Sign the handover checklist", "Operations manager", "2028-04-28", 2, "Handover plan", "Operations formally take over the satellite from the project."),
];

/// (name, target date, gating items by position 1..=12, description)
const MILESTONES: &[(&str, &str, &[usize], &str)] = &[
    (
        "Operational readiness review",
        "2028-01-15",
        &[2, 5, 9, 10],
        "The board confirms that people, procedures and the ground segment are ready.",
    ),
    (
        "Launch readiness",
        "2028-03-01",
        &[3, 8, 11],
        "Go for launch from the operations side.",
    ),
    (
        "Handover to operations",
        "2028-05-01",
        &[12],
        "End of commissioning; routine operations begin.",
    ),
];

/// Finish-to-start, by position: items 1..=12, milestones as 101..=103.
const DEPENDENCIES: &[(usize, usize)] = &[
    (1, 2),
    (2, 3),
    (3, 11),
    (4, 5),
    (6, 5),
    (5, 10),
    (7, 10),
    (9, 10),
    (101, 11),
    (8, 11),
    (102, 12),
];

fn hid(pos: usize) -> String {
    if pos > 100 {
        format!("MS-{:03}", pos - 100)
    } else {
        format!("OPS-{pos:03}")
    }
}

pub async fn seed(app: &App, lead: &Principal, editor: &Principal) -> Result<(), AppError> {
    const SAT: &str = "SAT";
    if !app.list_milestones(lead, SAT).await?.1.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::new();
    for (title, owner, due, days, source, description) in ITEMS {
        let i = app
            .create_ops_item(
                editor,
                SAT,
                &ItemInput {
                    title: Some((*title).into()),
                    description: Some((*description).into()),
                    owner: Some((*owner).into()),
                    due_date: Some((*due).into()),
                    source: Some((*source).into()),
                    duration_days: Some(days.to_string()),
                },
            )
            .await?;
        ids.push(i.human_id);
    }
    for (name, target, gates, description) in MILESTONES {
        let gates: Vec<String> = gates
            .iter()
            .filter_map(|g| ids.get(g - 1).cloned())
            .collect();
        app.create_milestone(
            lead,
            SAT,
            &MilestoneInput {
                name: Some((*name).into()),
                description: Some((*description).into()),
                target_date: Some((*target).into()),
            },
            &gates.join(", "),
        )
        .await?;
    }
    for (p, s) in DEPENDENCIES {
        app.add_ops_dependency(editor, SAT, &hid(*p), &hid(*s))
            .await?;
    }
    // Progress: the procedures are written, the station contract is under way, and the
    // collision avoidance agreement waits for the provider.
    for (pos, steps) in [
        (1, &[ItemStatus::InProgress, ItemStatus::Done][..]),
        (4, &[ItemStatus::InProgress][..]),
        (6, &[ItemStatus::InProgress][..]),
        (8, &[ItemStatus::Blocked][..]),
    ] {
        for to in steps {
            app.move_ops_item(editor, SAT, &hid(pos), *to).await?;
        }
    }
    Ok(())
}
