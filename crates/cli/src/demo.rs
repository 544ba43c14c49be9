//! `opensesa demo`: a sample program and projects with phases, organisations and one user
//! per role, and in SAT a small-satellite requirements specification (stakeholder needs,
//! system, two subsystems and the on-board software, with trace links, approvals, a review
//! round, comments, suspect links and a few quality findings), so a newcomer sees a living
//! model. Idempotent: what exists is left as it is. `opensesa demo --size N` adds a generated
//! project for benchmarks (see `generate`).

use crate::generate;
use opensesa_app::{App, AppError, Principal};
use opensesa_domain::accounts::Email;
use opensesa_domain::portfolio::{PhaseInput, ProjectInput};
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::{ModuleInput, RequirementInput, Transition};
use std::collections::{BTreeMap, HashMap};

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
    requirements(app, &lead, &editor, &viewer).await?;
    crate::demo_vv::seed(app, &lead, &editor).await?;
    crate::demo_baselines::seed(app, &lead, &editor).await?;
    crate::demo_ops::seed(app, &lead, &editor).await?;
    Ok(())
}

/// Creates the generated benchmark project as the demo admin (run `seed` first) and makes
/// the demo lead, editor and viewer members of it.
pub async fn generate(
    app: &App,
    opts: &generate::Options,
    progress: impl FnMut(&str),
) -> Result<generate::Report, AppError> {
    let email = Email::parse("admin@opensesa.local").map_err(|r| AppError::field("email", r))?;
    let admin = app.store.find_user_by_email(&email).await?.ok_or_else(|| {
        AppError::field(
            "email",
            "the demo admin does not exist; run the demo seed first",
        )
    })?;
    let admin = Principal {
        user: admin,
        session: None,
    };
    let report = generate::generate(app, &admin, opts, progress).await?;
    for (email, role) in [
        ("lead@opensesa.local", "lead"),
        ("editor@opensesa.local", "editor"),
        ("viewer@opensesa.local", "viewer"),
    ] {
        app.set_member(&admin, &report.project, email, role, None)
            .await?;
    }
    Ok(report)
}

/// Verification data on a generated project, as the demo admin (see `generate_vv`).
pub async fn generate_vv(
    app: &App,
    project: &str,
    cases: usize,
    results: usize,
    seed: u64,
    progress: impl FnMut(&str),
) -> Result<crate::generate_vv::VvReport, AppError> {
    let email = Email::parse("admin@opensesa.local").map_err(|r| AppError::field("email", r))?;
    let admin = app
        .store
        .find_user_by_email(&email)
        .await?
        .ok_or_else(|| AppError::field("email", "the demo admin does not exist"))?;
    let admin = Principal {
        user: admin,
        session: None,
    };
    crate::generate_vv::generate(app, &admin, project, cases, results, seed, progress).await
}

/// An operations plan on a generated project, as the demo admin (see `generate_ops`).
pub async fn generate_ops(
    app: &App,
    project: &str,
    items: usize,
    milestones: usize,
    seed: u64,
) -> Result<crate::generate_ops::OpsReport, AppError> {
    let email = Email::parse("admin@opensesa.local").map_err(|r| AppError::field("email", r))?;
    let admin = app
        .store
        .find_user_by_email(&email)
        .await?
        .ok_or_else(|| AppError::field("email", "the demo admin does not exist"))?;
    let admin = Principal {
        user: admin,
        session: None,
    };
    crate::generate_ops::generate(app, &admin, project, items, milestones, seed).await
}

/// The SAT requirement modules: (prefix, name, description, parent prefix, Criticality?).
const MODULES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "STK",
        "Stakeholder needs",
        "What the mission's users and operators need, in their words.",
        "",
        false,
    ),
    (
        "SYS",
        "System requirements",
        "Requirements on the satellite as a whole, derived from the stakeholder needs.",
        "",
        true,
    ),
    (
        "SS-ADCS",
        "Attitude determination and control subsystem",
        "Sensors, actuators and control modes that point the satellite.",
        "SYS",
        true,
    ),
    (
        "SS-EPS",
        "Electrical power subsystem",
        "Solar arrays, battery, power conditioning and distribution.",
        "SYS",
        true,
    ),
    (
        "SW-OBC",
        "AOCS on-board software",
        "The attitude and orbit control software running on the on-board computer.",
        "SS-ADCS",
        false,
    ),
];

/// One demo requirement. `key` names it for parents and links (human ids are allocated).
struct DemoReq {
    key: &'static str,
    module: &'static str,
    kind: &'static str,
    title: &'static str,
    statement: &'static str,
    rationale: &'static str,
    verification: &'static str,
    priority: &'static str,
    owner: &'static str,
    tags: &'static str,
    /// The key of the parent (a section heading), or "".
    parent: &'static str,
    /// The value of the module's "Criticality" attribute, or "".
    criticality: &'static str,
}

const fn heading(key: &'static str, module: &'static str, title: &'static str) -> DemoReq {
    DemoReq {
        key,
        module,
        kind: "heading",
        title,
        statement: "",
        rationale: "",
        verification: "",
        priority: "medium",
        owner: "",
        tags: "",
        parent: "",
        criticality: "",
    }
}

#[allow(clippy::too_many_arguments)]
const fn req(
    key: &'static str,
    module: &'static str,
    parent: &'static str,
    kind: &'static str,
    title: &'static str,
    statement: &'static str,
    rationale: &'static str,
    verification: &'static str,
    priority: &'static str,
    owner: &'static str,
    tags: &'static str,
    criticality: &'static str,
) -> DemoReq {
    DemoReq {
        key,
        module,
        kind,
        title,
        statement,
        rationale,
        verification,
        priority,
        owner,
        tags,
        parent,
        criticality,
    }
}

const LENA: &str = "Lena Lead";
const EMIL: &str = "Emil Editor";
const NOVAK: &str = "A. Novak (AOCS)";
const RUIZ: &str = "P. Ruiz (power)";

const REQS: &[DemoReq] = &[
    // Stakeholder needs.
    heading("stk.mission", "STK", "Mission needs"),
    req("stk.coverage", "STK", "stk.mission", "functional", "Imaging coverage",
        "The mission shall image any point between 60° S and 60° N at least once every 3 days.",
        "The customers' agricultural and disaster monitoring services need a 3-day revisit.",
        "analysis", "critical", LENA, "mission, coverage", ""),
    req("stk.gsd", "STK", "stk.mission", "performance", "Ground sampling distance",
        "The mission shall deliver panchromatic images with a ground sampling distance of 2.5 m or better at nadir.",
        "Field boundaries and road damage must be visible; 2.5 m is the customers' threshold.",
        "analysis, test", "critical", LENA, "mission, image quality", ""),
    req("stk.geolocation", "STK", "stk.mission", "performance", "Image geolocation",
        "The mission shall geolocate image pixels to within 20 m (CE90) without ground control points.",
        "Users overlay images on maps without manual registration.",
        "analysis", "high", LENA, "mission, image quality", ""),
    req("stk.lifetime", "STK", "stk.mission", "constraint", "Mission lifetime",
        "The mission shall operate in orbit for at least 5 years.",
        "The business case assumes five years of image sales.",
        "analysis", "high", LENA, "mission, lifetime", ""),
    heading("stk.ops", "STK", "Operations needs"),
    req("stk.latency", "STK", "stk.ops", "performance", "Data latency",
        "The mission shall make acquired images available to users within 6 hours of acquisition.",
        "Disaster response teams need same-day images.",
        "demonstration", "high", LENA, "operations, latency", ""),
    req("stk.capacity", "STK", "stk.ops", "performance", "Daily imaging capacity",
        "The mission shall acquire at least 150 images of 20 km × 20 km per day.",
        "The order book of the first year needs 150 scenes a day.",
        "analysis", "medium", LENA, "operations, capacity", ""),
    req("stk.operators", "STK", "stk.ops", "constraint", "Operations team",
        "The mission shall be operable by a team of 4 operators working office hours.",
        "Operations cost is capped in the business plan.",
        "demonstration", "medium", LENA, "operations", ""),
    req("stk.disposal", "STK", "stk.ops", "constraint", "End-of-life disposal",
        "The mission shall re-enter the atmosphere within 25 years after the end of operations.",
        "Space debris mitigation guidelines (ISO 24113).",
        "analysis", "high", LENA, "lifetime, debris", ""),
    // System requirements.
    heading("sys.pointing", "SYS", "Pointing and attitude"),
    req("sys.ape", "SYS", "sys.pointing", "performance", "Absolute pointing error",
        "The satellite shall point the payload line of sight with an absolute pointing error of 0.05° or better (3σ) during imaging.",
        "0.05° at 600 km keeps the scene within the 2 km swath margin and supports the geolocation budget.",
        "analysis, test", "critical", NOVAK, "pointing, aocs", "B"),
    req("sys.agility", "SYS", "sys.pointing", "performance", "Agility",
        "The satellite shall slew 30° about any axis and settle within 45 s.",
        "Imaging 150 scenes a day needs two targets per pass on average.",
        "analysis, test", "high", NOVAK, "pointing, aocs", "C"),
    req("sys.knowledge", "SYS", "sys.pointing", "performance", "Attitude knowledge",
        "The satellite shall determine its attitude with a knowledge error of 10 arcsec or better (3σ).",
        "Dominant term of the 20 m geolocation budget.",
        "analysis", "high", NOVAK, "pointing, geolocation", "B"),
    req("sys.safe", "SYS", "sys.pointing", "safety", "Autonomous safe mode",
        "The satellite shall enter sun-pointing safe mode within 60 s of detecting an attitude anomaly.",
        "A tumbling satellite loses power within one orbit; ground contact may be hours away.",
        "test", "critical", NOVAK, "safety, fdir", "A"),
    heading("sys.power", "SYS", "Power"),
    req("sys.power_budget", "SYS", "sys.power", "performance", "Orbit-average power",
        "The satellite shall provide 180 W orbit-average power to the platform and payload at end of life.",
        "Sum of the platform (110 W) and payload (70 W) orbit-average consumption at 150 scenes a day.",
        "analysis", "critical", RUIZ, "power, budget", "B"),
    req("sys.eclipse", "SYS", "sys.power", "performance", "Eclipse operations",
        "The satellite shall operate through eclipses of up to 36 minutes without shedding loads.",
        "Longest eclipse of the 10:30 sun-synchronous orbit.",
        "analysis, test", "high", RUIZ, "power", "B"),
    req("sys.dod", "SYS", "sys.power", "constraint", "Battery depth of discharge",
        "The satellite shall limit the battery depth of discharge to 30 % in nominal operations.",
        "Keeps the lithium-ion cells within their 5-year cycle life (27,000 cycles).",
        "analysis", "high", RUIZ, "power, lifetime", "C"),
    req("sys.margin", "SYS", "sys.power", "constraint", "Power margin",
        "The satellite should keep a power margin of 10 % at end of life.",
        "Margin policy of the prime contractor.",
        "analysis", "medium", RUIZ, "power, margin", "D"),
    heading("sys.data", "SYS", "Telemetry, telecommand and data"),
    req("sys.hk_tm", "SYS", "sys.data", "interface", "Housekeeping telemetry",
        "The satellite shall downlink housekeeping telemetry at 64 kbit/s in S-band.",
        "Compatible with the ground segment's S-band stations.",
        "test", "high", EMIL, "telemetry, interface", "C"),
    req("sys.payload_rate", "SYS", "sys.data", "performance", "Payload downlink rate",
        "The satellite shall downlink payload data at 300 Mbit/s or more in X-band.",
        "150 compressed scenes a day must fit in four 8-minute passes.",
        "test", "high", EMIL, "payload data, interface", "C"),
    req("sys.storage", "SYS", "sys.data", "performance", "On-board storage",
        "The satellite shall store at least 512 GB of payload data on board.",
        "A day of acquisitions when two passes are lost.",
        "test, inspection", "medium", EMIL, "payload data", "D"),
    req("sys.tc_auth", "SYS", "sys.data", "security", "Telecommand authentication",
        "The satellite shall reject telecommands that fail authentication.",
        "Protects the spacecraft against unauthorised commanding (CCSDS SDLS).",
        "test", "critical", EMIL, "security, telecommand", "A"),
    req("sys.timestamp", "SYS", "sys.data", "performance", "Time-stamp accuracy",
        "The satellite shall time-stamp telemetry with an accuracy of TBD ms relative to UTC.",
        "Image geolocation needs accurate time tags; the value depends on the GNSS receiver choice.",
        "test", "medium", EMIL, "telemetry, time", "C"),
    heading("sys.software", "SYS", "On-board autonomy and software"),
    req("sys.autonomy", "SYS", "sys.software", "functional", "Command schedule",
        "The satellite shall execute time-tagged command schedules of up to 72 hours without ground contact.",
        "Weekends without operators (4 operators, office hours).",
        "test", "high", EMIL, "autonomy, operations", "C"),
    req("sys.sw_update", "SYS", "sys.software", "functional", "In-orbit software update",
        "The satellite shall accept in-orbit updates of the flight software.",
        "Five years in orbit without a way to fix software defects is not acceptable.",
        "demonstration", "medium", EMIL, "software, lifetime", "C"),
    req("sys.fdir", "SYS", "sys.software", "safety", "Failure tolerance",
        "The satellite shall recover from any single failure of the attitude or power equipment without ground intervention.",
        "",
        "analysis, test", "critical", NOVAK, "fdir, safety", "A"),
    req("sys.event_log", "SYS", "sys.software", "functional", "Event log",
        "The satellite shall record every mode transition in the event log and shall downlink the event log at every ground contact.",
        "Operators reconstruct what happened between passes.",
        "test", "medium", EMIL, "telemetry, operations", "D"),
    // Attitude determination and control subsystem.
    heading("adcs.sensors", "SS-ADCS", "Sensors"),
    req("adcs.star_trackers", "SS-ADCS", "adcs.sensors", "constraint", "Star trackers",
        "The ADCS shall include two star tracker heads with boresights at least 60° apart.",
        "One head may be blinded by the sun or the Earth; the other keeps the attitude.",
        "inspection", "high", NOVAK, "aocs, sensors", "B"),
    req("adcs.estimation", "SS-ADCS", "adcs.sensors", "performance", "Attitude estimation",
        "The ADCS shall estimate the attitude quaternion at 10 Hz with a knowledge error of 8 arcsec or better (3σ).",
        "Leaves 2 arcsec of the system budget for thermo-elastic misalignment.",
        "analysis, test", "high", NOVAK, "aocs, estimation", "B"),
    req("adcs.sun_sensors", "SS-ADCS", "adcs.sensors", "safety", "Coarse sun sensing",
        "The ADCS shall determine the sun direction to within 5° from any attitude using coarse sun sensors.",
        "Safe mode must find the sun without the star trackers.",
        "test", "critical", NOVAK, "aocs, safe mode", "A"),
    req("adcs.gyro", "SS-ADCS", "adcs.sensors", "performance", "Rate measurement",
        "The ADCS shall measure body rates with a bias stability of 0.01°/h or better.",
        "Propagation through star tracker outages of up to 10 minutes.",
        "test", "medium", NOVAK, "aocs, sensors", "B"),
    heading("adcs.control", "SS-ADCS", "Actuators and control"),
    req("adcs.wheels", "SS-ADCS", "adcs.control", "constraint", "Reaction wheels",
        "The ADCS shall store 0.5 Nms of momentum per axis using four reaction wheels in a pyramid configuration.",
        "Four wheels in a pyramid tolerate one wheel failure; 0.5 Nms covers the 30° slew.",
        "analysis, inspection", "high", NOVAK, "aocs, actuators", "B"),
    req("adcs.slew", "SS-ADCS", "adcs.control", "performance", "Slew and settle",
        "The ADCS shall perform a 30° slew in 35 s and settle to a rate error of 0.01°/s within 10 s.",
        "Allocation of the 45 s system agility requirement.",
        "analysis, test", "high", NOVAK, "aocs, agility", "C"),
    req("adcs.fine_pointing", "SS-ADCS", "adcs.control", "performance", "Fine pointing",
        "The ADCS shall control the attitude with an absolute pointing error of 0.03° (3σ) in fine pointing mode.",
        "Leaves 0.02° of the system budget for payload misalignment.",
        "analysis, test", "critical", NOVAK, "aocs, pointing", "B"),
    req("adcs.desaturation", "SS-ADCS", "adcs.control", "functional", "Momentum desaturation",
        "The ADCS shall desaturate the reaction wheels with magnetorquers without interrupting imaging.",
        "No thrusters are used for attitude control.",
        "analysis", "medium", NOVAK, "aocs, actuators", "C"),
    req("adcs.sun_acquisition", "SS-ADCS", "adcs.control", "safety", "Sun acquisition",
        "The ADCS shall acquire sun pointing from any attitude and body rates up to 2°/s within 30 minutes.",
        "Allocation of the system safe mode requirement; 2°/s covers separation tip-off rates.",
        "analysis, test", "critical", NOVAK, "aocs, safe mode", "A"),
    // Electrical power subsystem.
    heading("eps.generation", "SS-EPS", "Generation and storage"),
    req("eps.array", "SS-EPS", "eps.generation", "performance", "Solar array power",
        "The EPS shall generate 420 W at end of life with the arrays pointed at the sun.",
        "180 W orbit average with 36-minute eclipses, charge efficiency and 10 % margin.",
        "analysis, test", "critical", RUIZ, "power, solar array", "B"),
    req("eps.battery", "SS-EPS", "eps.generation", "performance", "Battery capacity",
        "The EPS shall store 40 Ah in a lithium-ion battery.",
        "36-minute eclipse at 30 % depth of discharge with one failed string.",
        "test", "high", RUIZ, "power, battery", "B"),
    req("eps.charge", "SS-EPS", "eps.generation", "performance", "Battery recharge",
        "The EPS shall recharge the battery from 30 % depth of discharge within one sunlit period.",
        "The battery must be full before the next eclipse.",
        "analysis, test", "high", RUIZ, "power, battery", "C"),
    heading("eps.distribution", "SS-EPS", "Distribution and protection"),
    req("eps.bus", "SS-EPS", "eps.distribution", "interface", "Main bus voltage",
        "The EPS shall regulate the main bus at 28 V ± 1 %.",
        "Standard regulated bus of the platform equipment.",
        "test", "high", RUIZ, "power, interface", "C"),
    req("eps.lcl", "SS-EPS", "eps.distribution", "safety", "Load protection",
        "The EPS shall protect each load with a latching current limiter.",
        "A short circuit in one unit must not take down the bus.",
        "test, inspection", "critical", RUIZ, "power, fdir", "A"),
    req("eps.shedding", "SS-EPS", "eps.distribution", "safety", "Load shedding",
        "The EPS shall switch off non-essential loads when the battery voltage falls below 24 V.",
        "Keeps the platform alive when the battery is over-discharged.",
        "test", "critical", RUIZ, "power, fdir", "A"),
    req("eps.telemetry", "SS-EPS", "eps.distribution", "functional", "Power telemetry",
        "The EPS shall report bus voltage, battery current and battery temperature at 1 Hz.",
        "Operators and the FDIR need the power state.",
        "test", "medium", RUIZ, "power, telemetry", "D"),
    req("eps.heaters", "SS-EPS", "eps.distribution", "functional", "Battery heaters",
        "The battery heaters shall be switched on when the battery temperature drops below 5 °C.",
        "Lithium-ion cells must not be charged below 0 °C.",
        "test", "medium", RUIZ, "power, thermal", "C"),
    // AOCS on-board software.
    heading("sw.control", "SW-OBC", "Attitude control software"),
    req("sw.cycle", "SW-OBC", "sw.control", "performance", "Control cycle",
        "The AOCS software shall run the attitude control cycle at 10 Hz with a jitter below 5 ms.",
        "The estimation and control laws are designed for a 10 Hz cycle.",
        "test", "high", EMIL, "software, aocs", ""),
    req("sw.filter", "SW-OBC", "sw.control", "functional", "Attitude filter",
        "The AOCS software shall fuse star tracker and gyro measurements in an extended Kalman filter.",
        "Meets the 8 arcsec knowledge with the selected sensors.",
        "test, analysis", "high", EMIL, "software, estimation", ""),
    req("sw.modes", "SW-OBC", "sw.control", "functional", "Mode commands",
        "The AOCS software shall reject a mode command that is not allowed from the current mode.",
        "A wrong mode command must not put the satellite at risk.",
        "test", "high", EMIL, "software, modes", ""),
    req("sw.wheels", "SW-OBC", "sw.control", "functional", "Wheel commanding",
        "The AOCS software shall command the reaction wheel torques at 10 Hz.",
        "",
        "test", "medium", EMIL, "software, actuators", ""),
    req("sw.desat", "SW-OBC", "sw.control", "functional", "Desaturation trigger",
        "The AOCS software shall start momentum desaturation when a wheel exceeds 80 % of its momentum capacity.",
        "Keeps 20 % of the momentum for slews.",
        "test", "medium", EMIL, "software, actuators", ""),
    req("sw.blinding", "SW-OBC", "sw.control", "functional", "Star tracker outage",
        "The AOCS software shall propagate the attitude on gyro measurements alone for up to 10 minutes when both star trackers are blinded.",
        "Sun and Earth blinding during slews.",
        "test", "high", EMIL, "software, estimation", ""),
    heading("sw.services", "SW-OBC", "Services"),
    req("sw.hk", "SW-OBC", "sw.services", "functional", "AOCS housekeeping",
        "The AOCS software shall generate AOCS housekeeping telemetry packets at 1 Hz.",
        "Operators diagnose attitude anomalies from the ground.",
        "test", "medium", EMIL, "software, telemetry", ""),
    req("sw.patch", "SW-OBC", "sw.services", "functional", "Parameter patching",
        "The AOCS software shall accept memory patches of the AOCS parameters from the ground.",
        "Tuning of the control laws in orbit without a full software update.",
        "test", "medium", EMIL, "software, maintenance", ""),
    req("sw.watchdog", "SW-OBC", "sw.services", "safety", "Watchdog",
        "The AOCS software shall reset the AOCS processor when its watchdog is not served within 1 s.",
        "A hung processor must not leave the actuators in their last state.",
        "test", "critical", EMIL, "software, fdir", ""),
];

/// (source key, kind, target key): "source KIND target", the target upstream.
const LINKS: &[(&str, &str, &str)] = &[
    ("sys.ape", "derives", "stk.gsd"),
    ("sys.ape", "derives", "stk.geolocation"),
    ("sys.agility", "derives", "stk.capacity"),
    ("sys.knowledge", "derives", "stk.geolocation"),
    ("sys.safe", "derives", "stk.lifetime"),
    ("sys.power_budget", "derives", "stk.capacity"),
    ("sys.eclipse", "derives", "stk.capacity"),
    ("sys.dod", "derives", "stk.lifetime"),
    ("sys.margin", "derives", "stk.lifetime"),
    ("sys.hk_tm", "derives", "stk.operators"),
    ("sys.payload_rate", "derives", "stk.latency"),
    ("sys.storage", "derives", "stk.capacity"),
    ("sys.tc_auth", "derives", "stk.lifetime"),
    ("sys.timestamp", "derives", "stk.geolocation"),
    ("sys.autonomy", "derives", "stk.operators"),
    ("sys.sw_update", "derives", "stk.lifetime"),
    ("sys.fdir", "derives", "stk.lifetime"),
    ("sys.event_log", "derives", "stk.operators"),
    ("adcs.star_trackers", "derives", "sys.knowledge"),
    ("adcs.estimation", "derives", "sys.knowledge"),
    ("adcs.sun_sensors", "derives", "sys.safe"),
    ("adcs.gyro", "derives", "sys.knowledge"),
    ("adcs.wheels", "derives", "sys.agility"),
    ("adcs.slew", "derives", "sys.agility"),
    ("adcs.fine_pointing", "derives", "sys.ape"),
    ("adcs.desaturation", "derives", "sys.ape"),
    ("adcs.sun_acquisition", "derives", "sys.safe"),
    ("adcs.sun_acquisition", "derives", "sys.fdir"),
    ("eps.array", "derives", "sys.power_budget"),
    ("eps.battery", "derives", "sys.eclipse"),
    ("eps.battery", "derives", "sys.dod"),
    ("eps.charge", "derives", "sys.eclipse"),
    ("eps.bus", "derives", "sys.power_budget"),
    ("eps.lcl", "derives", "sys.fdir"),
    ("eps.shedding", "derives", "sys.fdir"),
    ("eps.telemetry", "derives", "sys.hk_tm"),
    ("eps.heaters", "derives", "sys.dod"),
    ("sw.cycle", "refines", "adcs.estimation"),
    ("sw.filter", "refines", "adcs.estimation"),
    ("sw.modes", "refines", "adcs.sun_acquisition"),
    ("sw.wheels", "refines", "adcs.wheels"),
    ("sw.desat", "refines", "adcs.desaturation"),
    ("sw.blinding", "refines", "adcs.star_trackers"),
    ("sw.hk", "derives", "sys.hk_tm"),
    ("sw.patch", "refines", "adcs.fine_pointing"),
    ("sw.patch", "derives", "sys.sw_update"),
    ("sw.watchdog", "refines", "adcs.sun_acquisition"),
    ("sw.watchdog", "relates", "eps.lcl"),
];

/// The SAT requirements specification, written through the use cases as the demo users so
/// that audit trail, revisions, suspect links and review state are real. Skipped when the
/// STK module exists.
async fn requirements(
    app: &App,
    lead: &Principal,
    editor: &Principal,
    viewer: &Principal,
) -> Result<(), AppError> {
    const SAT: &str = "SAT";
    let (_, existing) = app.list_modules(lead, SAT).await?;
    if existing.iter().any(|m| m.module.prefix == "STK") {
        return Ok(());
    }
    for (prefix, name, description, parent, criticality) in MODULES {
        let input = ModuleInput {
            prefix: Some((*prefix).into()),
            name: Some((*name).into()),
            description: Some((*description).into()),
            parent: Some((*parent).into()),
            attributes: Some(if *criticality {
                vec![AttributeDef {
                    name: "Criticality".into(),
                    kind: AttributeKind::Enumeration,
                    options: ["A", "B", "C", "D"].map(String::from).to_vec(),
                    required: false,
                }]
            } else {
                Vec::new()
            }),
        };
        app.create_module(lead, SAT, &input).await?;
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    let id = |ids: &HashMap<&str, String>, key: &str| -> Result<String, AppError> {
        ids.get(key)
            .cloned()
            .ok_or_else(|| AppError::field("demo", format!("no demo requirement {key:?}")))
    };
    for r in REQS {
        let mut attributes = BTreeMap::new();
        if !r.criticality.is_empty() {
            attributes.insert("Criticality".to_owned(), r.criticality.to_owned());
        }
        let parent = if r.parent.is_empty() {
            String::new()
        } else {
            id(&ids, r.parent)?
        };
        let input = RequirementInput {
            title: Some(r.title.into()),
            statement: Some(r.statement.into()),
            rationale: Some(r.rationale.into()),
            kind: Some(r.kind.into()),
            priority: Some(r.priority.into()),
            verification_methods: Some(r.verification.into()),
            source: Some(if r.kind == "heading" {
                String::new()
            } else {
                "ORBIT mission requirements document, issue 2".into()
            }),
            owner: Some(r.owner.into()),
            tags: Some(r.tags.into()),
            parent: Some(parent),
            attributes,
        };
        let created = app.create_requirement(lead, SAT, r.module, &input).await?;
        ids.insert(r.key, created.human_id);
    }
    for (source, kind, target) in LINKS {
        app.create_link(lead, SAT, &id(&ids, source)?, kind, &id(&ids, target)?)
            .await?;
    }
    // The stakeholder needs and the safe-mode requirement are approved.
    for key in [
        "stk.coverage",
        "stk.gsd",
        "stk.geolocation",
        "stk.lifetime",
        "stk.latency",
        "sys.safe",
    ] {
        let h = id(&ids, key)?;
        app.transition(lead, SAT, &h, Transition::Submit, None)
            .await?;
        app.transition(
            lead,
            SAT,
            &h,
            Transition::Approve,
            Some("Agreed with the customer at the system requirements review.".into()),
        )
        .await?;
    }
    // Two later edits make the links touching them suspect.
    app.update_requirement(
        lead,
        SAT,
        &id(&ids, "eps.bus")?,
        &RequirementInput {
            statement: Some("The EPS shall regulate the main bus at 28 V ± 0.5 %.".into()),
            ..Default::default()
        },
        None,
    )
    .await?;
    app.update_requirement(
        editor,
        SAT,
        &id(&ids, "sw.cycle")?,
        &RequirementInput {
            statement: Some(
                "The AOCS software shall run the attitude control cycle at 10 Hz with a jitter below 2 ms."
                    .into(),
            ),
            rationale: Some(
                "The estimation and control laws are designed for a 10 Hz cycle; the filter tuning assumes 2 ms jitter."
                    .into(),
            ),
            ..Default::default()
        },
        None,
    )
    .await?;
    // An open review round with decisions.
    let round = app
        .open_round(
            lead,
            SAT,
            "Power and data system requirements review",
            &[
                id(&ids, "sys.power_budget")?,
                id(&ids, "sys.margin")?,
                id(&ids, "sys.timestamp")?,
            ],
            &[lead.user.id, editor.user.id],
        )
        .await?;
    app.record_decision(
        lead,
        SAT,
        round,
        &id(&ids, "sys.power_budget")?,
        "approve",
        "",
    )
    .await?;
    app.record_decision(
        editor,
        SAT,
        round,
        &id(&ids, "sys.margin")?,
        "comment",
        "\"should\" is not binding: make it a shall, or move the margin policy to the rationale.",
    )
    .await?;
    app.record_decision(
        editor,
        SAT,
        round,
        &id(&ids, "sys.timestamp")?,
        "reject",
        "The accuracy is still TBD; the geolocation budget needs a number before approval.",
    )
    .await?;
    // Discussion.
    let thread = app
        .add_comment(
            editor,
            SAT,
            &id(&ids, "adcs.wheels")?,
            "With one wheel failed, do three wheels still store 0.5 Nms about every axis?",
            None,
        )
        .await?;
    app.add_comment(
        lead,
        SAT,
        &id(&ids, "adcs.wheels")?,
        "Yes: the pyramid angle was chosen for that; see the AOCS analysis note AN-014.",
        Some(thread.id),
    )
    .await?;
    app.resolve_thread(lead, SAT, &id(&ids, "adcs.wheels")?, thread.id)
        .await?;
    app.add_comment(
        viewer,
        SAT,
        &id(&ids, "stk.latency")?,
        "Does \"available to users\" mean listed in the catalogue or delivered to the customer's server?",
        None,
    )
    .await?;
    app.add_comment(
        editor,
        SAT,
        &id(&ids, "sys.fdir")?,
        "Rationale missing: which failures are in scope (wheel, star tracker, battery string)?",
        None,
    )
    .await?;
    Ok(())
}
