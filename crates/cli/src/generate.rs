//! `opensesa demo --size N`: a synthetic requirements project for benchmarks.
//!
//! One system module, ten subsystem modules below it and four software modules below each
//! subsystem (51 modules, three levels). N requirements are spread over them (5 % system,
//! 25 % subsystem, 70 % software), each module in sections: a heading, then requirements
//! under it, every fourth one a child of the requirement before it. Subsystem requirements
//! derive from system requirements, software requirements from subsystem requirements (mostly
//! of their own subsystem), about `links_per_req × N` links in all. One system requirement
//! (the "hub") has exactly 1,000 descendants through derives links, for the suspect
//! propagation benchmark; the report names it.
//!
//! Text comes from word lists through a seeded generator (SplitMix64), so the same seed gives
//! the same project. Everything is written through `App::import_batch` (the app's batch save,
//! with audit events and revisions) in batches of a few thousand rows, one transaction each.

use opensesa_app::ports::{ReqBatch, ReqWrite};
use opensesa_app::requirements::statement_key;
use opensesa_app::{App, AppError, Principal};
use opensesa_domain::ids::{LinkId, ModuleId, ProjectId, RequirementId};
use opensesa_domain::portfolio::ProjectInput;
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::model::human_id;
use opensesa_domain::requirements::quality::{check_text, QualityInput, RuleSet};
use opensesa_domain::requirements::{
    LinkKind, ModuleInput, Priority, ReqKind, Requirement, TraceLink, VerificationMethod,
};
use std::time::{Duration, Instant};

/// The descendants the hub requirement gets (when the project is large enough).
pub const HUB_DESCENDANTS: usize = 1_000;
pub const MIN_SIZE: usize = 100;
pub const MAX_SIZE: usize = 1_000_000;
/// Items per section: a heading and the requirements under it.
const SECTION: usize = 25;

#[derive(Debug, Clone)]
pub struct Options {
    /// The project to create (it must not exist or have no requirement modules).
    pub project: String,
    pub requirements: usize,
    /// Links per requirement on average (1.5 gives 150,000 links for 100,000 requirements).
    pub links_per_req: f64,
    pub seed: u64,
    /// Requirements per transaction.
    pub batch: usize,
    /// Links per transaction.
    pub link_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            project: "BENCH".into(),
            requirements: 10_000,
            links_per_req: 1.5,
            seed: 2026,
            batch: 2_000,
            link_batch: 5_000,
        }
    }
}

/// What the generator created and how long it took.
#[derive(Debug, Clone)]
pub struct Report {
    pub project: String,
    pub modules: usize,
    pub requirements: usize,
    pub headings: usize,
    pub links: usize,
    /// The requirement with (about) 1,000 descendants, and their exact number.
    pub hub: String,
    pub hub_descendants: usize,
    pub requirements_time: Duration,
    pub links_time: Duration,
    /// Computing the baselines' working groups of the new project.
    pub groups_time: Duration,
    pub total_time: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Generated project {}: {} modules, {} requirements ({} of them section headings), {} links.",
            self.project, self.modules, self.requirements, self.headings, self.links
        )?;
        writeln!(
            f,
            "  {} has {} descendants through derives links (edit it to measure suspect propagation).",
            self.hub, self.hub_descendants
        )?;
        write!(
            f,
            "  time: requirements {:.1} s, links {:.1} s, working groups {:.1} s, total {:.1} s",
            self.requirements_time.as_secs_f64(),
            self.links_time.as_secs_f64(),
            self.groups_time.as_secs_f64(),
            self.total_time.as_secs_f64()
        )
    }
}

/// SplitMix64: tiny, fast, and the same sequence on every platform and version.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// An independent stream for item `i` (so a batch needs no state from the one before).
    pub(crate) fn for_item(seed: u64, i: usize) -> Self {
        let mut r = Self(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        r.next();
        r
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub(crate) fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list.get(self.below(list.len()))
            .copied()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    System,
    Subsystem,
    Software,
}

struct ModSpec {
    prefix: String,
    name: String,
    description: String,
    parent: Option<usize>,
    level: Level,
    /// The subsystem (0..10) a subsystem or software module belongs to.
    sub: usize,
    /// The subject of its statements ("The satellite", "The EPS", ...).
    actor: String,
    id: ModuleId,
    top_level: bool,
}

#[derive(Clone, Copy)]
struct Item {
    module: u16,
    number: u32,
    heading: bool,
    parent: Option<u32>,
}

const SUBSYSTEMS: &[(&str, &str)] = &[
    ("Attitude and Orbit Control", "The AOCS"),
    ("Electrical Power", "The EPS"),
    ("Thermal Control", "The thermal control subsystem"),
    ("Communications", "The communications subsystem"),
    ("On-Board Data Handling", "The OBDH"),
    ("Propulsion", "The propulsion subsystem"),
    ("Optical Payload", "The imager"),
    ("Structure and Mechanisms", "The structure"),
    ("Navigation", "The GNSS receiver"),
    ("Payload Data Handling", "The payload data handling unit"),
];

const SOFTWARE_PARTS: &[(&str, &str)] = &[
    ("Mode Management", "mode manager"),
    ("Monitoring and FDIR", "FDIR software"),
    ("Control and Processing", "control software"),
    ("Telemetry and Telecommand", "TM/TC software"),
];

const SECTIONS: &[&str] = &[
    "General",
    "Functions",
    "Performance",
    "Interfaces",
    "Operating modes",
    "Failure detection, isolation and recovery",
    "Telemetry and telecommand",
    "Budgets and margins",
    "Environment",
    "Verification provisions",
];

/// (verb, the noun for titles)
const VERBS: &[(&str, &str)] = &[
    ("measure", "measurement"),
    ("monitor", "monitoring"),
    ("control", "control"),
    ("report", "reporting"),
    ("limit", "limitation"),
    ("maintain", "maintenance"),
    ("record", "recording"),
    ("estimate", "estimation"),
    ("command", "commanding"),
    ("protect", "protection"),
    ("verify", "verification"),
    ("provide", "provision"),
    ("store", "storage"),
    ("transmit", "transmission"),
    ("detect anomalies of", "anomaly detection"),
    ("calibrate", "calibration"),
];

const OBJECTS: &[&str] = &[
    "bus voltage",
    "battery temperature",
    "battery state of charge",
    "reaction wheel speed",
    "star tracker quaternion",
    "body rate",
    "focal plane temperature",
    "downlink data rate",
    "heater duty cycle",
    "thruster valve state",
    "on-board time",
    "memory scrub rate",
    "solar array current",
    "antenna pointing",
    "attitude error",
    "propellant tank pressure",
    "mass memory fill level",
    "GNSS position fix",
    "magnetometer field vector",
    "radiator temperature",
    "command counter",
    "event log",
    "image compression ratio",
    "X-band transmitter power",
    "S-band receiver lock status",
    "processor load",
    "watchdog status",
    "deployment switch state",
    "orbit position",
    "line of sight",
];

const MEASURES: &[&str] = &[
    "within {n} ms",
    "at {n} Hz",
    "with an accuracy of {n} %",
    "at least every {n} s",
    "with a resolution of {n} bits",
    "within {n} s of a request",
    "to within {n} % of the commanded value",
    "for at least {n} minutes",
];

const CONDITIONS: &[&str] = &[
    "",
    " in nominal mode",
    " during eclipse",
    " in safe mode",
    " during imaging",
    " after a processor reset",
    " while a ground station is in view",
    " during the launch and early orbit phase",
    " in fine pointing mode",
    " during orbit manoeuvres",
];

const RATIONALES: &[&str] = &[
    "Flows down from the parent requirement's allocation.",
    "Needed to meet the mission lifetime with a margin of 20 %.",
    "Follows from the system budget; see analysis note AN-{n}.",
    "Heritage value from the previous platform, confirmed in flight.",
    "Required by the launcher interface control document.",
    "Keeps the failure detection time below the recovery budget.",
    "Operators need this to diagnose anomalies from the ground.",
    "Allocated from the end-of-life performance budget.",
];

const OWNERS: &[&str] = &[
    "Lena Lead",
    "Emil Editor",
    "A. Novak",
    "P. Ruiz",
    "K. Tanaka",
    "M. Okafor",
    "S. Lindqvist",
    "J. Moreau",
    "R. Iyer",
    "D. Schmidt",
    "F. Rossi",
    "T. Nguyen",
];

const TAGS: &[&str] = &[
    "budget",
    "fdir",
    "telemetry",
    "heritage",
    "interface",
    "safety",
    "performance",
    "lifetime",
    "operations",
    "margin",
];

const CRITICALITY: &[&str] = &["A", "B", "C", "D"];

fn criticality_def() -> AttributeDef {
    AttributeDef {
        name: "Criticality".into(),
        kind: AttributeKind::Enumeration,
        options: CRITICALITY.iter().map(|s| (*s).to_owned()).collect(),
        required: false,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn modules() -> Vec<ModSpec> {
    let mut out = vec![ModSpec {
        prefix: "SYS".into(),
        name: "System requirements".into(),
        description: "Requirements on the satellite as a whole.".into(),
        parent: None,
        level: Level::System,
        sub: 0,
        actor: "The satellite".into(),
        id: ModuleId::new(),
        top_level: true,
    }];
    for (i, (name, actor)) in SUBSYSTEMS.iter().enumerate() {
        out.push(ModSpec {
            prefix: format!("SS{:02}", i + 1),
            name: format!("{name} subsystem"),
            description: format!("Requirements allocated to the {name} subsystem."),
            parent: Some(0),
            level: Level::Subsystem,
            sub: i,
            actor: (*actor).to_owned(),
            id: ModuleId::new(),
            top_level: false,
        });
    }
    for (i, (name, actor)) in SUBSYSTEMS.iter().enumerate() {
        for (j, (part, part_actor)) in SOFTWARE_PARTS.iter().enumerate() {
            let short = actor
                .trim_start_matches("The ")
                .trim_end_matches(" subsystem");
            out.push(ModSpec {
                prefix: format!("SW{:02}", i * SOFTWARE_PARTS.len() + j + 1),
                name: format!("{name} software: {part}"),
                description: format!("Flight software of the {name} subsystem: {part}."),
                parent: Some(1 + i),
                level: Level::Software,
                sub: i,
                actor: format!("The {short} {part_actor}"),
                id: ModuleId::new(),
                top_level: false,
            });
        }
    }
    out
}

/// `total` split over `parts` as evenly as possible.
fn split(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// The plan: every item (requirement or heading) and every link, as indices.
struct Plan {
    modules: Vec<ModSpec>,
    items: Vec<Item>,
    links: Vec<(u32, u32)>,
    hub: u32,
    hub_descendants: usize,
}

fn plan(opts: &Options) -> Plan {
    let n = opts.requirements;
    let mods = modules();
    let n_sys = n / 20;
    let n_ss = n / 4;
    let n_sw = n - n_sys - n_ss;
    let mut per_module = vec![n_sys];
    per_module.extend(split(n_ss, SUBSYSTEMS.len()));
    per_module.extend(split(n_sw, SUBSYSTEMS.len() * SOFTWARE_PARTS.len()));

    let mut items = Vec::with_capacity(n);
    for (m, count) in per_module.iter().enumerate() {
        let mut heading = 0u32;
        for i in 0..*count {
            let idx = items.len() as u32;
            let j = i % SECTION;
            let (is_heading, parent) = if j == 0 {
                heading = idx;
                (true, None)
            } else if j.is_multiple_of(4) {
                // A child of the requirement before it (never a heading: j - 1 is not 0 mod 4).
                (false, Some(idx - 1))
            } else {
                (false, Some(heading))
            };
            items.push(Item {
                module: m as u16,
                number: (i + 1) as u32,
                heading: is_heading,
                parent,
            });
        }
    }

    let mut rng = Rng::new(opts.seed);
    let level = |it: &Item| mods.get(it.module as usize).map(|m| (m.level, m.sub));
    // The hub: the first requirement (not heading) of the system module.
    let hub = items
        .iter()
        .position(|it| !it.heading && matches!(level(it), Some((Level::System, _))))
        .unwrap_or(0) as u32;
    let mut sys_pool = Vec::new();
    let mut ss_all = Vec::new();
    let mut ss_by_sub: Vec<Vec<u32>> = vec![Vec::new(); SUBSYSTEMS.len()];
    for (i, it) in items.iter().enumerate() {
        if it.heading {
            continue;
        }
        match level(it) {
            Some((Level::System, _)) if i as u32 != hub => sys_pool.push(i as u32),
            Some((Level::Subsystem, sub)) => {
                ss_all.push(i as u32);
                if let Some(v) = ss_by_sub.get_mut(sub) {
                    v.push(i as u32);
                }
            }
            _ => {}
        }
    }
    let sources: Vec<u32> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| !it.heading && !matches!(level(it), Some((Level::System, _)) | None))
        .map(|(i, _)| i as u32)
        .collect();
    let target_links = (n as f64 * opts.links_per_req).round() as usize;
    let n_sources = sources.len().max(1);
    let base = target_links / n_sources;
    let extra_total = target_links % n_sources;
    let mut links: Vec<(u32, u32)> = Vec::with_capacity(target_links + 16);
    let mut first_link: std::collections::HashMap<u32, usize> = Default::default();
    for (k, &src) in sources.iter().enumerate() {
        // Spread the remainder exactly: source k takes one more when the running share
        // crosses an integer.
        let extra = (k + 1) * extra_total / n_sources > k * extra_total / n_sources;
        let want = base + usize::from(extra);
        let Some(it) = items.get(src as usize) else {
            continue;
        };
        let (lvl, sub) = level(it).unwrap_or((Level::Software, 0));
        let pool: &[u32] = match lvl {
            Level::Subsystem => &sys_pool,
            _ => {
                let own = ss_by_sub.get(sub).map(Vec::as_slice).unwrap_or_default();
                if own.len() >= want.max(1) * 2 && !rng.chance(0.1) {
                    own
                } else {
                    &ss_all
                }
            }
        };
        let mut chosen: Vec<u32> = Vec::with_capacity(want);
        let mut tries = 0;
        while chosen.len() < want.min(pool.len()) && tries < want * 8 + 8 {
            tries += 1;
            if let Some(&t) = pool.get(rng.below(pool.len())) {
                if !chosen.contains(&t) {
                    chosen.push(t);
                }
            }
        }
        if !chosen.is_empty() {
            first_link.insert(src, links.len());
        }
        links.extend(chosen.into_iter().map(|t| (src, t)));
    }

    // The hub's descendants: subsystem requirements re-pointed to the hub, each bringing the
    // software requirements that derive from it. Take candidates that still fit until exactly
    // HUB_DESCENDANTS are covered (or the candidates run out on a small project).
    let mut incoming: std::collections::HashMap<u32, Vec<u32>> = Default::default();
    for &(s, t) in &links {
        if matches!(
            items.get(t as usize).and_then(level),
            Some((Level::Subsystem, _))
        ) {
            incoming.entry(t).or_default().push(s);
        }
    }
    let mut candidates = ss_all.clone();
    for i in (1..candidates.len()).rev() {
        candidates.swap(i, rng.below(i + 1));
    }
    let mut covered = std::collections::HashSet::new();
    let mut count = 0usize;
    for c in candidates {
        if count >= HUB_DESCENDANTS {
            break;
        }
        let fresh: Vec<u32> = incoming
            .get(&c)
            .map(|v| v.iter().copied().filter(|s| !covered.contains(s)).collect())
            .unwrap_or_default();
        if count + 1 + fresh.len() > HUB_DESCENDANTS {
            continue;
        }
        count += 1 + fresh.len();
        covered.extend(fresh);
        match first_link.get(&c).and_then(|&p| links.get_mut(p)) {
            Some(l) => l.1 = hub,
            None => links.push((c, hub)),
        }
    }
    Plan {
        modules: mods,
        items,
        links,
        hub,
        hub_descendants: count,
    }
}

fn section_title(number: u32) -> String {
    let s = ((number as usize).saturating_sub(1)) / SECTION;
    let name = SECTIONS
        .get(s % SECTIONS.len())
        .copied()
        .unwrap_or("General");
    if s < SECTIONS.len() {
        name.to_owned()
    } else {
        format!("{name} (part {})", s / SECTIONS.len() + 1)
    }
}

struct Text {
    title: String,
    statement: String,
    rationale: String,
    kind: ReqKind,
    priority: Priority,
    verification: Vec<VerificationMethod>,
    owner: String,
    tags: Vec<String>,
    criticality: Option<String>,
}

fn text(seed: u64, idx: usize, m: &ModSpec) -> Text {
    let mut r = Rng::for_item(seed, idx);
    let (verb, noun) = VERBS
        .get(r.below(VERBS.len()))
        .copied()
        .unwrap_or(("monitor", "monitoring"));
    let object = r.pick(OBJECTS);
    let value = 1 + r.below(500);
    let measure = r.pick(MEASURES);
    let measure = if r.chance(0.01) {
        measure.replace("{n}", "TBD")
    } else {
        measure.replace("{n}", &value.to_string())
    };
    let condition = r.pick(CONDITIONS);
    let modal = if r.chance(0.015) { "should" } else { "shall" };
    let mut statement = format!(
        "{} {modal} {verb} the {object} {measure}{condition}",
        m.actor
    );
    if r.chance(0.005) {
        statement.push_str(" and shall report every violation in the event log");
    }
    statement.push('.');
    let title = format!("{} {noun}", capitalise(object));
    let rationale = if r.chance(0.03) {
        String::new()
    } else {
        r.pick(RATIONALES)
            .replace("{n}", &format!("{:03}", r.below(1000)))
    };
    let kind = match r.below(100) {
        0..=54 => ReqKind::Functional,
        55..=79 => ReqKind::Performance,
        80..=87 => ReqKind::Interface,
        88..=92 => ReqKind::Constraint,
        93..=96 => ReqKind::Safety,
        _ => ReqKind::Security,
    };
    let priority = match r.below(100) {
        0..=4 => Priority::Critical,
        5..=29 => Priority::High,
        30..=79 => Priority::Medium,
        _ => Priority::Low,
    };
    let methods = VerificationMethod::ALL;
    let verification = match r.below(100) {
        0..=3 => Vec::new(),
        4..=73 => methods
            .get(r.below(methods.len()))
            .copied()
            .into_iter()
            .collect(),
        _ => {
            let a = r.below(methods.len());
            let b = (a + 1 + r.below(methods.len() - 1)) % methods.len();
            [a, b]
                .iter()
                .filter_map(|i| methods.get(*i).copied())
                .collect()
        }
    };
    let owner = r.pick(OWNERS).to_owned();
    let mut tags = vec![r.pick(TAGS).to_owned()];
    if r.chance(0.4) {
        let t = r.pick(TAGS).to_owned();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let criticality = (m.level != Level::Software).then(|| r.pick(CRITICALITY).to_owned());
    Text {
        title,
        statement,
        rationale,
        kind,
        priority,
        verification,
        owner,
        tags,
        criticality,
    }
}

/// Creates the project (when missing), its 51 modules, N requirements and the links.
/// `principal` must be a site admin when the project does not exist, else its lead.
pub async fn generate(
    app: &App,
    principal: &Principal,
    opts: &Options,
    mut progress: impl FnMut(&str),
) -> Result<Report, AppError> {
    if !(MIN_SIZE..=MAX_SIZE).contains(&opts.requirements) {
        return Err(AppError::field(
            "size",
            format!("must be between {MIN_SIZE} and {MAX_SIZE} requirements"),
        ));
    }
    if !opts.links_per_req.is_finite() || !(0.0..=3.0).contains(&opts.links_per_req) {
        return Err(AppError::field("links_per_req", "must be between 0 and 3"));
    }
    let started = Instant::now();
    let code = opts.project.trim().to_uppercase();
    let project_id: ProjectId = match app.store.find_project_by_code(&code).await? {
        Some(p) => {
            let (_, modules) = app.list_modules(principal, &code).await?;
            if !modules.is_empty() {
                return Err(AppError::field(
                    "project",
                    format!(
                        "{code} already has requirement modules; choose another --project or a fresh database"
                    ),
                ));
            }
            p.id
        }
        None => {
            let input = ProjectInput {
                code: Some(code.clone()),
                name: Some(format!(
                    "Benchmark: {} generated requirements",
                    opts.requirements
                )),
                description: Some(format!(
                    "Synthetic project made by `opensesa demo --size {}` (seed {}).",
                    opts.requirements, opts.seed
                )),
                program: None,
                status: None,
            };
            app.create_project(Some(principal), &input).await?.id
        }
    };

    let mut plan = plan(opts);
    for i in 0..plan.modules.len() {
        let Some(spec) = plan.modules.get(i) else {
            continue;
        };
        let parent = spec
            .parent
            .and_then(|p| plan.modules.get(p))
            .map(|p| p.prefix.clone())
            .unwrap_or_default();
        let input = ModuleInput {
            prefix: Some(spec.prefix.clone()),
            name: Some(spec.name.clone()),
            description: Some(spec.description.clone()),
            parent: Some(parent),
            attributes: (spec.level != Level::Software).then(|| vec![criticality_def()]),
        };
        let created = app.create_module(principal, &code, &input).await?;
        if let Some(spec) = plan.modules.get_mut(i) {
            spec.id = created.id;
        }
    }
    progress(&format!(
        "{code}: {} modules; writing {} requirements in batches of {}",
        plan.modules.len(),
        plan.items.len(),
        opts.batch
    ));

    // Trace facts per item, for the stored quality findings.
    let mut touching = vec![0u32; plan.items.len()];
    let mut has_up = vec![false; plan.items.len()];
    for &(s, t) in &plan.links {
        if let Some(x) = touching.get_mut(s as usize) {
            *x += 1;
        }
        if let Some(x) = touching.get_mut(t as usize) {
            *x += 1;
        }
        if let Some(x) = has_up.get_mut(s as usize) {
            *x = true;
        }
    }
    let ids: Vec<RequirementId> = (0..plan.items.len())
        .map(|_| RequirementId::new())
        .collect();
    let rules = RuleSet::all();
    let now = app.clock.now();
    let req_started = Instant::now();
    let mut headings = 0;
    let mut written = 0;
    for chunk_start in (0..plan.items.len()).step_by(opts.batch.max(1)) {
        let end = (chunk_start + opts.batch.max(1)).min(plan.items.len());
        let mut batch = ReqBatch::default();
        for idx in chunk_start..end {
            let (Some(it), Some(id)) = (plan.items.get(idx), ids.get(idx)) else {
                continue;
            };
            let Some(m) = plan.modules.get(it.module as usize) else {
                continue;
            };
            let mut req = Requirement::blank(project_id, m.id, now);
            req.id = *id;
            req.human_id = human_id(&m.prefix, i64::from(it.number));
            req.revision = 1;
            req.ordinal = i64::from(it.number) * 1024;
            req.parent_id = it.parent.and_then(|p| ids.get(p as usize)).copied();
            if it.heading {
                headings += 1;
                req.kind = ReqKind::Heading;
                req.title = section_title(it.number);
            } else {
                let t = text(opts.seed, idx, m);
                req.title = t.title;
                req.statement = t.statement;
                req.rationale = t.rationale;
                req.kind = t.kind;
                req.priority = t.priority;
                req.verification_methods = t.verification;
                req.owner = t.owner;
                req.tags = t.tags;
                req.source = "generated".into();
                if let Some(c) = t.criticality {
                    req.attributes
                        .insert("Criticality".into(), serde_json::Value::String(c));
                }
            }
            let findings = check_text(
                &QualityInput {
                    title: &req.title,
                    statement: &req.statement,
                    rationale: &req.rationale,
                    kind: req.kind.as_str(),
                    verification_methods: req.verification_methods.len(),
                    has_parent: req.parent_id.is_some()
                        || has_up.get(idx).copied().unwrap_or(false),
                    top_level: m.top_level,
                    trace_links: touching.get(idx).copied().unwrap_or(0) as usize,
                },
                &rules,
            );
            batch.requirements.push(ReqWrite {
                statement_key: statement_key(&req.statement),
                req,
                create: true,
                content_changed: true,
                findings,
            });
        }
        written += batch.requirements.len();
        app.import_batch(principal, &code, batch).await?;
        progress(&format!(
            "  {written} requirements ({:.1} s)",
            req_started.elapsed().as_secs_f64()
        ));
    }
    let requirements_time = req_started.elapsed();

    let links_started = Instant::now();
    let by = Some(principal.user.id);
    let mut linked = 0;
    for chunk in plan.links.chunks(opts.link_batch.max(1)) {
        let mut batch = ReqBatch::default();
        for &(s, t) in chunk {
            let (Some(source), Some(target)) = (ids.get(s as usize), ids.get(t as usize)) else {
                continue;
            };
            batch.add_links.push(TraceLink {
                id: LinkId::new(),
                project_id,
                kind: LinkKind::Derives,
                source_type: opensesa_app::requirements::links::REQUIREMENT.into(),
                source_id: source.0,
                target_type: opensesa_app::requirements::links::REQUIREMENT.into(),
                target_id: target.0,
                source_revision: 1,
                target_revision: 1,
                suspect: false,
                suspect_reasons: Vec::new(),
                created_by: by,
                created_at: now,
                confirmed_at: now,
                confirmed_by: by,
                external_id: None,
            });
        }
        linked += batch.add_links.len();
        app.import_batch(principal, &code, batch).await?;
        progress(&format!(
            "  {linked} links ({:.1} s)",
            links_started.elapsed().as_secs_f64()
        ));
    }
    let links_time = links_started.elapsed();
    // A bulk load leaves every working group dirty; compute them now, as the worker's
    // refresh would within a minute, so that the generated project is in its steady state.
    let groups_started = Instant::now();
    app.refresh_working_groups().await?;
    let groups_time = groups_started.elapsed();

    let hub = plan
        .items
        .get(plan.hub as usize)
        .and_then(|it| {
            plan.modules
                .get(it.module as usize)
                .map(|m| human_id(&m.prefix, i64::from(it.number)))
        })
        .unwrap_or_default();
    Ok(Report {
        project: code,
        modules: plan.modules.len(),
        requirements: written,
        headings,
        links: linked,
        hub,
        hub_descendants: plan.hub_descendants,
        requirements_time,
        links_time,
        groups_time,
        total_time: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_the_asked_size_and_a_hub_with_1000_descendants() {
        let opts = Options {
            requirements: 2_000,
            ..Default::default()
        };
        let p = plan(&opts);
        assert_eq!(p.items.len(), 2_000);
        assert_eq!(p.modules.len(), 51);
        assert_eq!(p.links.len(), 3_000);
        assert_eq!(p.hub_descendants, HUB_DESCENDANTS);
        // Parents come before their children, in the same module.
        for (i, it) in p.items.iter().enumerate() {
            if let Some(parent) = it.parent {
                assert!((parent as usize) < i);
                assert_eq!(p.items[parent as usize].module, it.module);
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_text() {
        let m = &modules()[12];
        let a = text(7, 42, m);
        let b = text(7, 42, m);
        assert_eq!(a.statement, b.statement);
        assert!(a.statement.starts_with("The AOCS"));
    }
}
