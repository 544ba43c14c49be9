//! The V&V part of `opensesa demo`: in SAT, a system qualification plan with activities,
//! verification cases tied to the system and subsystem requirements, a regression set, a
//! history of results (passes, a failure and its correction, a blocked run), a defect raised
//! from the failure, and a snapshot, all written through the use cases as the demo users.
//! Skipped when the project has a plan already.

use opensesa_app::vv::results::{ResultInput, StepInput, Upload};
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{App, AppError, Principal};
use opensesa_domain::vv::{ActivityInput, CaseInput, DefectInput, PlanInput, PlanStatus, Step};

struct DemoCase {
    title: &'static str,
    method: &'static str,
    /// Requirement human ids, as the demo specification numbers them.
    verifies: &'static str,
    activity: &'static str,
    steps: &'static [(&'static str, &'static str)],
    automation_key: &'static str,
}

const CASES: &[DemoCase] = &[
    DemoCase {
        title: "Absolute pointing error on the air-bearing table",
        method: "test",
        verifies: "SYS-003",
        activity: "VP-001/1",
        steps: &[
            (
                "Mount the ADCS engineering model on the air-bearing table",
                "Table levelled within 0.01°",
            ),
            (
                "Command an inertial pointing profile for 600 s",
                "Profile accepted",
            ),
            (
                "Record star-tracker and reference attitude",
                "APE below 0.05° (3σ)",
            ),
        ],
        automation_key: "",
    },
    DemoCase {
        title: "Slew agility, 30° in 60 s",
        method: "test",
        verifies: "SYS-004",
        activity: "VP-001/1",
        steps: &[
            ("Command a 30° roll slew", "Slew starts within 1 s"),
            ("Measure settling", "Settled within 60 s to 0.1°"),
        ],
        automation_key: "",
    },
    DemoCase {
        title: "Power budget in the worst-case imaging orbit",
        method: "analysis",
        verifies: "SS-EPS-002",
        activity: "VP-001/2",
        steps: &[(
            "Run the orbit power simulation with end-of-life cells",
            "Positive margin over the orbit",
        )],
        automation_key: "",
    },
    DemoCase {
        title: "Battery depth of discharge in eclipse",
        method: "test",
        verifies: "SS-EPS-003",
        activity: "VP-001/3",
        steps: &[
            (
                "Discharge the battery engineering model over a 35-minute eclipse profile",
                "Voltage logged",
            ),
            ("Compute the depth of discharge", "Below 25 %"),
        ],
        automation_key: "",
    },
    DemoCase {
        title: "On-board software boots within 20 s",
        method: "test",
        verifies: "SW-OBC-001",
        activity: "VP-001/1",
        steps: &[(
            "Power-cycle the on-board computer",
            "Boot message within 20 s",
        )],
        automation_key: "tests::vc_boot_time",
    },
    DemoCase {
        title: "Telecommand authentication rejects a replayed frame",
        method: "test",
        verifies: "SW-OBC-002",
        activity: "VP-001/1",
        steps: &[
            ("Send an authenticated telecommand", "Executed"),
            ("Replay the same frame", "Rejected and counted"),
        ],
        automation_key: "tests::vc_tc_replay",
    },
    DemoCase {
        title: "Structure inspection after vibration",
        method: "inspection",
        verifies: "SYS-002",
        activity: "VP-001/3",
        steps: &[(
            "Inspect the structure for cracks and loose fasteners",
            "No damage",
        )],
        automation_key: "",
    },
];

async fn first(app: &App, who: &Principal, code: &str) -> Result<bool, AppError> {
    let (_, plans) = app.list_plans(who, code).await?;
    Ok(plans.is_empty())
}

/// Keeps only the requirement ids the specification has, so the demo stays consistent if
/// the specification changes.
async fn existing(app: &App, who: &Principal, code: &str, ids: &str) -> Result<String, AppError> {
    let ctx = app
        .project_access(who, code, opensesa_domain::access::Permission::Read)
        .await?;
    let wanted: Vec<String> = ids.split(',').map(|s| s.trim().to_owned()).collect();
    let found = app
        .store
        .find_requirements_by_human_ids(ctx.project.id, &wanted)
        .await?;
    Ok(found
        .iter()
        .map(|r| r.human_id.clone())
        .collect::<Vec<_>>()
        .join(", "))
}

fn verdict(v: &str, configuration: &str) -> ResultInput {
    ResultInput {
        verdict: v.into(),
        configuration: configuration.into(),
        ..Default::default()
    }
}

pub async fn seed(app: &App, lead: &Principal, editor: &Principal) -> Result<(), AppError> {
    const SAT: &str = "SAT";
    if !first(app, lead, SAT).await? {
        return Ok(());
    }
    let plan = app
        .create_plan(
            editor,
            SAT,
            &PlanInput {
                title: Some("System qualification".into()),
                description: Some(
                    "Qualification of the platform and on-board software against the system and subsystem requirements."
                        .into(),
                ),
            },
            "SYS, SS-ADCS, SS-EPS, SW-OBC",
        )
        .await?;
    for (title, phase, method, start, end, org) in [
        (
            "ADCS and software bench tests",
            "qualification",
            "test",
            "2027-07-05",
            "2027-09-30",
            "AVION",
        ),
        (
            "Power budget analyses",
            "qualification",
            "analysis",
            "2027-07-05",
            "2027-08-15",
            "PRIME",
        ),
        (
            "Environmental test campaign",
            "qualification",
            "test",
            "2027-10-01",
            "2028-01-31",
            "PRIME",
        ),
    ] {
        app.save_activity(
            editor,
            SAT,
            &plan.human_id,
            None,
            &ActivityInput {
                title: Some(title.into()),
                phase: Some(phase.into()),
                method: Some(method.into()),
                planned_start: Some(start.into()),
                planned_end: Some(end.into()),
                organisation: Some(org.into()),
            },
        )
        .await?;
    }
    app.move_plan(lead, SAT, &plan.human_id, PlanStatus::Approved)
        .await?;
    app.move_plan(editor, SAT, &plan.human_id, PlanStatus::Active)
        .await?;
    let mut ids = Vec::new();
    for c in CASES {
        let input = CaseInput {
            title: Some(c.title.into()),
            method: Some(c.method.into()),
            preconditions: Some("Engineering model integrated; test procedure released.".into()),
            steps: Some(
                c.steps
                    .iter()
                    .map(|(a, e)| Step {
                        action: (*a).into(),
                        expected: (*e).into(),
                    })
                    .collect(),
            ),
            expected: Some("Every step meets its expected result.".into()),
            automation_key: Some(c.automation_key.into()),
            ..Default::default()
        };
        let verifies = existing(app, lead, SAT, c.verifies).await?;
        let case = app
            .create_case(editor, SAT, &input, &verifies, c.activity)
            .await?;
        app.move_case(
            editor,
            SAT,
            &case.human_id,
            opensesa_domain::vv::CaseStatus::Ready,
        )
        .await?;
        ids.push(case.human_id);
    }
    app.save_set(
        editor,
        SAT,
        None,
        "Regression",
        "Run on every on-board software release.",
        &ids.iter()
            .filter(|h| ["VC-005", "VC-006", "VC-002"].contains(&h.as_str()))
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
    )
    .await?;
    // A history: passes, a failure with a defect, a blocked run, a correction.
    let log = Upload {
        file_name: "ape-run-1.log".into(),
        bytes: b"t=0s  APE=0.031 deg\nt=600s APE=0.042 deg\nmax APE 0.042 deg (3 sigma)\n".to_vec(),
    };
    app.record_result(
        editor,
        SAT,
        "VC-001",
        &ResultInput {
            steps: vec![
                StepInput {
                    step: 1,
                    verdict: "pass".into(),
                    note: String::new(),
                },
                StepInput {
                    step: 2,
                    verdict: "pass".into(),
                    note: String::new(),
                },
                StepInput {
                    step: 3,
                    verdict: "pass".into(),
                    note: "0.042° max".into(),
                },
            ],
            notes: "Within the requirement with margin.".into(),
            ..verdict("pass", "ADCS EM s/n 002, FSW 0.9.1")
        },
        &[log],
    )
    .await?;
    let failed = app
        .record_result(
            editor,
            SAT,
            "VC-002",
            &verdict("fail", "ADCS EM s/n 002, FSW 0.9.1"),
            &[],
        )
        .await?;
    app.create_defect(
        editor,
        SAT,
        &DefectInput {
            title: Some("Slew settles in 74 s, not 60 s".into()),
            description: Some(
                "Reaction wheel torque limit set to 80 % in the FSW configuration table.".into(),
            ),
            severity: Some("major".into()),
        },
        Some(failed.id),
        "",
        "",
    )
    .await?;
    app.record_result(
        editor,
        SAT,
        "VC-003",
        &verdict("pass", "Power model v3"),
        &[],
    )
    .await?;
    app.record_result(
        editor,
        SAT,
        "VC-004",
        &ResultInput {
            notes: "Thermal chamber unavailable.".into(),
            ..verdict("blocked", "Battery EM s/n 001")
        },
        &[],
    )
    .await?;
    let wrong = app
        .record_result(
            editor,
            SAT,
            "VC-005",
            &verdict("fail", "OBC EM, FSW 0.9.1"),
            &[],
        )
        .await?;
    app.record_result(
        editor,
        SAT,
        "VC-005",
        &ResultInput {
            supersedes: Some(wrong.id),
            reason: "The stopwatch was started at power-on of the rack, not of the OBC.".into(),
            ..verdict("pass", "OBC EM, FSW 0.9.1")
        },
        &[],
    )
    .await?;
    app.record_result(
        editor,
        SAT,
        "VC-006",
        &verdict("pass", "OBC EM, FSW 0.9.1"),
        &[],
    )
    .await?;
    app.create_snapshot(
        editor,
        SAT,
        &SnapshotScope::Plan(plan.human_id.clone()),
        "Qualification status after the first bench runs",
    )
    .await?;
    Ok(())
}
