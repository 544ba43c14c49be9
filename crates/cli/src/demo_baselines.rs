//! Demo baselines and release governance for SAT: a baseline frozen at the preliminary
//! design review, a few changes (a new requirement refining a system requirement), a second
//! baseline at the critical design review, and a release pack on it with documents, adoption
//! actions and a conditional decision. Runs once (it does nothing when SAT has baselines).

use opensesa_app::{App, AppError, Principal};
use opensesa_domain::baselines::{
    ActionInput, ActionStatus, BaselineInput, DecisionInput, PackInput,
};
use opensesa_domain::requirements::RequirementInput;

pub async fn seed(app: &App, lead: &Principal, editor: &Principal) -> Result<(), AppError> {
    const SAT: &str = "SAT";
    let (_, existing) = app.list_baselines(lead, SAT).await?;
    if !existing.is_empty() {
        return Ok(());
    }
    let pdr = app
        .create_baseline(
            editor,
            SAT,
            &BaselineInput {
                name: "Preliminary design review".into(),
                description: "Requirements, verification cases and results as reviewed at PDR."
                    .into(),
            },
            "",
            true,
        )
        .await?;
    app.freeze_baseline(lead, SAT, &pdr.human_id).await?;

    // What changed between the reviews.
    let added = app
        .create_requirement(
        editor,
        SAT,
        "SYS",
        &RequirementInput {
            title: Some("Safe mode entry".into()),
            statement: Some(
                "The satellite shall enter safe mode within 10 s of detecting a loss of attitude."
                    .into(),
            ),
            rationale: Some("CDR finding CDR-4: the FDIR timing was unspecified.".into()),
            verification_methods: Some("test".into()),
            ..Default::default()
        },
    )
    .await?;
    // The new requirement refines a system requirement: a link the CDR baseline adds.
    app.create_link(editor, SAT, &added.human_id, "refines", "SYS-001")
        .await?;
    let cdr = app
        .create_baseline(
            editor,
            SAT,
            &BaselineInput {
                name: "Critical design review".into(),
                description: "The design baseline released for manufacturing.".into(),
            },
            "",
            true,
        )
        .await?;
    app.freeze_baseline(lead, SAT, &cdr.human_id).await?;

    let pack = app
        .create_pack(
            editor,
            SAT,
            &cdr.human_id,
            &PackInput {
                name: "Flight software 1.0 and platform design".into(),
                notes: "Release for the qualification model build.".into(),
                documents: "System design description | SAT-SDD-001 | 2.0\n\
                            Software user manual | SAT-SUM-004 | 1.0\n\
                            Verification control document | SAT-VCD-002 | 1.1"
                    .into(),
            },
        )
        .await?;
    for (title, owner, due) in [
        (
            "Train the operations team on safe mode",
            "Mission operations",
            "2027-10-15",
        ),
        (
            "Update the flight procedures for FSW 1.0",
            "Flight dynamics",
            "2027-10-30",
        ),
    ] {
        app.add_action(
            editor,
            SAT,
            &pack.human_id,
            &ActionInput {
                title: title.into(),
                owner: owner.into(),
                due: due.into(),
            },
        )
        .await?;
    }
    let (_, packs) = app.list_packs(lead, SAT).await?;
    if let Some(first) = packs.first() {
        let actions = app.store.pack_actions(first.pack.id).await?;
        if let Some(a) = actions.first() {
            app.move_action(editor, SAT, &a.human_id, ActionStatus::InProgress)
                .await?;
        }
    }
    app.decide_pack(
        lead,
        SAT,
        &pack.human_id,
        &DecisionInput {
            decision: "conditional".into(),
            rationale: "The design is mature; open verification items are understood and owned.".into(),
            conditions: "Close the failing ADCS case and its defect before the qualification review."
                .into(),
        },
    )
    .await?;
    Ok(())
}
