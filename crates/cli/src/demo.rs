//! `opensesa demo`: a sample program and projects with phases, organisations and one user
//! per role, so a newcomer sees a living model. Idempotent: what exists is left as it is.

use opensesa_app::{App, AppError, Principal};
use opensesa_domain::accounts::Email;
use opensesa_domain::portfolio::{PhaseInput, ProjectInput};

pub const DEMO_PASSWORD: &str = "demo-orbit-lantern-2026";

pub struct DemoLogin {
    pub email: &'static str,
    pub role: &'static str,
}

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin {
        email: "admin@opensesa.local",
        role: "site admin, lead of SAT and GSEG",
    },
    DemoLogin {
        email: "lead@opensesa.local",
        role: "lead of SAT and GSEG",
    },
    DemoLogin {
        email: "editor@opensesa.local",
        role: "editor of SAT",
    },
    DemoLogin {
        email: "viewer@opensesa.local",
        role: "viewer of SAT",
    },
];

async fn user(
    app: &App,
    email: &str,
    name: &str,
    admin: bool,
    password: &str,
) -> Result<Principal, AppError> {
    let parsed = Email::parse(email).map_err(|r| AppError::field("email", r))?;
    let user = match app.store.find_user_by_email(&parsed).await? {
        Some(u) => u,
        None => app.create_user(None, email, name, password, admin).await?,
    };
    Ok(Principal {
        user,
        session: None,
    })
}

/// Creates the demo data where missing.
pub async fn seed(app: &App, password: &str) -> Result<(), AppError> {
    let admin = user(app, "admin@opensesa.local", "Ada Admin", true, password).await?;
    let lead = user(app, "lead@opensesa.local", "Lena Lead", false, password).await?;
    let editor = user(app, "editor@opensesa.local", "Emil Editor", false, password).await?;
    let viewer = user(app, "viewer@opensesa.local", "Vera Viewer", false, password).await?;

    if app.store.find_program_by_code("ORBIT").await?.is_none() {
        app.create_program(
            Some(&admin),
            "ORBIT",
            "Orbital Systems Program",
            "Earth observation constellation and its ground segment.",
        )
        .await?;
    }
    for (code, name) in [
        ("PRIME", "Prime contractor"),
        ("AVION", "Avionics supplier"),
        ("GROUND", "Ground segment operator"),
    ] {
        if app.store.find_organisation_by_code(code).await?.is_none() {
            app.create_organisation(Some(&admin), code, name).await?;
        }
    }
    if app.store.find_project_by_code("SAT").await?.is_none() {
        let input = ProjectInput {
            code: Some("SAT".into()),
            name: Some("Earth Observation Satellite".into()),
            description: Some(
                "A 150 kg optical imaging satellite: platform, payload and on-board software."
                    .into(),
            ),
            program: Some("ORBIT".into()),
            status: None,
        };
        app.create_project(Some(&admin), &input).await?;
        for (name, start, end) in [
            ("Concept (Phase A)", "2026-01-05", "2026-04-30"),
            ("Preliminary design (Phase B)", "2026-05-01", "2026-10-31"),
            ("Detailed design (Phase C)", "2026-11-01", "2027-06-30"),
            ("Integration and test (Phase D)", "2027-07-01", "2028-03-31"),
            ("Operations (Phase E)", "2028-04-01", ""),
        ] {
            let phase = PhaseInput {
                name: Some(name.into()),
                ordinal: None,
                starts_on: Some(start.into()),
                ends_on: Some(end.into()),
            };
            app.create_phase(&admin, "SAT", &phase).await?;
        }
        app.set_member(
            &admin,
            "SAT",
            lead.user.email.as_str(),
            "lead",
            Some("PRIME"),
        )
        .await?;
        app.set_member(
            &admin,
            "SAT",
            editor.user.email.as_str(),
            "editor",
            Some("AVION"),
        )
        .await?;
        app.set_member(
            &admin,
            "SAT",
            viewer.user.email.as_str(),
            "viewer",
            Some("PRIME"),
        )
        .await?;
    }
    if app.store.find_project_by_code("GSEG").await?.is_none() {
        let input = ProjectInput {
            code: Some("GSEG".into()),
            name: Some("Ground Segment".into()),
            description: Some(
                "Mission control, flight dynamics and the image processing chain.".into(),
            ),
            program: Some("ORBIT".into()),
            status: None,
        };
        app.create_project(Some(&admin), &input).await?;
        app.set_member(
            &admin,
            "GSEG",
            lead.user.email.as_str(),
            "lead",
            Some("GROUND"),
        )
        .await?;
    }
    Ok(())
}
