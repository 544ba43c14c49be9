//! CSV and XLSX: module export and import (one row per requirement), and the RVTM export.
//!
//! Columns: id, title, statement, rationale, type, priority, verification, source, owner,
//! tags, parent, status, revision, then one per custom attribute of the module (by name).
//! An XLSX export has a second sheet "Links" (source, kind, target) with the links whose
//! source is in the module; it is for reading: imports read the first sheet only.
//!
//! On import, headers match case-insensitively (`type` or `kind`, `id` or `human_id`, ...);
//! a column that is neither a field nor an attribute of the module is a problem that blocks
//! the import. Absent columns leave their field unchanged. `status` and `revision` are not
//! imported: status changes go through the review workflow; `revision` guards against lost
//! updates (a row exported at revision 2 of a requirement now at revision 3 is rejected when
//! it would change it).

use super::{
    normalise_id, place_new, settle_update, Download, Outcome, Plan, PlannedWrite, ReportItem,
};
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::{App, Principal};
use opensesa_domain::ids::RequirementId;
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::{Module, Requirement, RequirementInput};
use opensesa_domain::FieldErrors;
use opensesa_interchange::sheet::{Cell, SheetError, SheetFormat, SheetReader, SheetWriter};
use std::collections::{HashMap, HashSet};

const HEADER: [&str; 13] = [
    "id",
    "title",
    "statement",
    "rationale",
    "type",
    "priority",
    "verification",
    "source",
    "owner",
    "tags",
    "parent",
    "status",
    "revision",
];

fn sheet_err(e: SheetError) -> AppError {
    AppError::field("file", format!("the file cannot be read: {e}"))
}

/// A file that cannot be written (an XLSX cell holds at most 32,767 characters, a statement
/// up to 50,000) is refused with the writer's row and column.
fn write_err(e: SheetError) -> AppError {
    match e {
        SheetError::CellTooLong { .. } => AppError::Conflict(format!(
            "the export cannot be written: {e}; a CSV export has no such limit"
        )),
        other => AppError::Internal(format!("sheet export: {other}")),
    }
}

/// An attribute value as a typed cell (XLSX keeps numbers, booleans and dates typed; CSV
/// writes them as the text a person types).
fn attribute_cell(def: &AttributeDef, v: Option<&serde_json::Value>) -> Cell {
    let Some(v) = v else { return Cell::Empty };
    match (def.kind, v) {
        (AttributeKind::Number, serde_json::Value::Number(n)) => match n.as_f64() {
            Some(f) => Cell::Number(f),
            None => Cell::Text(AttributeDef::display(v)),
        },
        (AttributeKind::Boolean, serde_json::Value::Bool(b)) => Cell::Bool(*b),
        (AttributeKind::Date, serde_json::Value::String(s)) => {
            match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Cell::Date(d),
                Err(_) => Cell::Text(s.clone()),
            }
        }
        _ => Cell::Text(AttributeDef::display(v)),
    }
}

/// Which RVTM rows to export (the same filters as the RVTM page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RvtmFilter {
    #[default]
    All,
    /// Not covered upward or downward.
    Uncovered,
    /// With suspect links.
    Suspect,
    /// No verifying artefact.
    Unverified,
    /// A verifying case's latest result fails.
    Failing,
}

impl RvtmFilter {
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "uncovered" => Self::Uncovered,
            "suspect" => Self::Suspect,
            "unverified" => Self::Unverified,
            "failing" => Self::Failing,
            _ => Self::All,
        }
    }

    fn keeps(self, r: &super::super::coverage::RvtmRow) -> bool {
        match self {
            Self::All => true,
            Self::Uncovered => !r.up_covered() || !r.down_covered(),
            Self::Suspect => r.suspect_links > 0,
            Self::Unverified => {
                r.verification == super::super::coverage::VerificationStatus::NoCase
            }
            Self::Failing => r.verification == super::super::coverage::VerificationStatus::Failing,
        }
    }
}

/// A cell's header, as the importer reads it.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Id,
    Title,
    Statement,
    Rationale,
    Kind,
    Priority,
    Verification,
    Source,
    Owner,
    Tags,
    Parent,
    Status,
    Revision,
    Attribute(String),
    /// Blank header over empty cells.
    Ignored,
}

fn column_of(name: &str, module: &Module) -> Option<Column> {
    let key = name.trim().to_lowercase().replace([' ', '-'], "_");
    Some(match key.as_str() {
        "" => Column::Ignored,
        "id" | "human_id" => Column::Id,
        "title" => Column::Title,
        "statement" | "text" => Column::Statement,
        "rationale" => Column::Rationale,
        "type" | "kind" => Column::Kind,
        "priority" => Column::Priority,
        "verification" | "verification_methods" | "verification_method" => Column::Verification,
        "source" => Column::Source,
        "owner" => Column::Owner,
        "tags" => Column::Tags,
        "parent" => Column::Parent,
        "status" => Column::Status,
        "revision" => Column::Revision,
        _ => {
            let n = name.trim();
            let def = module
                .attributes
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(n))?;
            Column::Attribute(def.name.clone())
        }
    })
}

/// One parsed row of an import.
struct Row {
    number: u64,
    /// The id as written (normalised), empty for "allocate".
    id: String,
    input: RequirementInput,
    parent: Option<String>,
    revision: Option<String>,
}

/// The spreadsheet name of a 0-based column.
fn column_letter(index: usize) -> String {
    let mut name = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = ((rest - 1) % 26) as u8;
        name.push(char::from(b'A' + digit));
        rest = (rest - 1) / 26;
    }
    name.iter().rev().collect()
}

impl App {
    /// A module as CSV or XLSX.
    pub async fn export_module_sheet(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
        format: SheetFormat,
    ) -> AppResult<Download> {
        let (ctx, module, reqs) = self.module_document(principal, code, prefix).await?;
        let mut names: HashMap<RequirementId, String> =
            reqs.iter().map(|r| (r.id, r.human_id.clone())).collect();
        // Parents in other modules.
        for r in &reqs {
            if let Some(p) = r.parent_id {
                if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(p) {
                    if let Some(parent) =
                        self.store.find_requirement_by_id(ctx.project.id, p).await?
                    {
                        slot.insert(parent.human_id);
                    }
                }
            }
        }
        let mut w = SheetWriter::new(format, "Requirements").map_err(write_err)?;
        let mut header: Vec<&str> = HEADER.to_vec();
        header.extend(module.attributes.iter().map(|a| a.name.as_str()));
        w.header(&header).map_err(write_err)?;
        for r in &reqs {
            let mut cells: Vec<Cell> = vec![
                r.human_id.as_str().into(),
                r.title.as_str().into(),
                r.statement.as_str().into(),
                r.rationale.as_str().into(),
                r.kind.as_str().into(),
                r.priority.as_str().into(),
                r.verification_text().into(),
                r.source.as_str().into(),
                r.owner.as_str().into(),
                r.tags_text().into(),
                r.parent_id
                    .and_then(|p| names.get(&p).cloned())
                    .unwrap_or_default()
                    .into(),
                r.status.as_str().into(),
                Cell::Number(r.revision as f64),
            ];
            for def in &module.attributes {
                cells.push(attribute_cell(def, r.attributes.get(&def.name)));
            }
            w.row(&cells).map_err(write_err)?;
        }
        if format == SheetFormat::Xlsx {
            w.add_sheet("Links").map_err(write_err)?;
            w.header(&["source", "kind", "target"]).map_err(write_err)?;
            let ids: HashSet<uuid::Uuid> = reqs.iter().map(|r| r.id.0).collect();
            let links = self.all_links(&ctx).await?;
            for l in links.iter().filter(|l| ids.contains(&l.link.source_id)) {
                w.row(&[
                    l.source_human_id.as_str().into(),
                    l.link.kind.as_str().into(),
                    l.target_human_id.as_str().into(),
                ])
                .map_err(write_err)?;
            }
        }
        let bytes = w.finish().map_err(write_err)?;
        Ok(Download {
            file_name: format!(
                "{}-{}.{}",
                ctx.project.code,
                module.prefix,
                format.extension()
            ),
            content_type: format.content_type(),
            bytes,
        })
    }

    /// Every link of the project (for exports and import plans).
    pub(crate) async fn all_links(
        &self,
        ctx: &ProjectCtx,
    ) -> AppResult<Vec<crate::ports::LinkView>> {
        Ok(self.store.all_project_links(ctx.project.id).await?)
    }

    /// The RVTM as CSV or XLSX.
    pub async fn export_rvtm(
        &self,
        principal: &Principal,
        code: &str,
        format: SheetFormat,
        filter: RvtmFilter,
    ) -> AppResult<Download> {
        let cov = self.coverage(principal, code).await?;
        let modules: HashMap<_, _> = cov
            .modules
            .iter()
            .map(|(m, _)| (m.id, m.name.clone()))
            .collect();
        let mut w = SheetWriter::new(format, "RVTM").map_err(write_err)?;
        w.header(&[
            "id",
            "title",
            "module",
            "status",
            "upstream",
            "downstream",
            "verified by",
            "verification status",
            "suspect links",
        ])
        .map_err(write_err)?;
        // Each id once, in order (a parent that is also a link target appears once).
        let list = |ids: &[String]| {
            let mut seen = HashSet::new();
            ids.iter()
                .filter(|i| seen.insert(i.as_str()))
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        for r in cov.rows.iter().filter(|r| filter.keeps(r)) {
            w.row(&[
                r.human_id.as_str().into(),
                r.title.as_str().into(),
                modules
                    .get(&r.module_id)
                    .map_or_else(
                        || r.module_prefix.clone(),
                        |n| format!("{} {n}", r.module_prefix),
                    )
                    .into(),
                r.status.as_str().into(),
                list(&r.upstream).into(),
                list(&r.downstream).into(),
                list(&r.verified_by).into(),
                r.verification.label().into(),
                Cell::Number(r.suspect_links as f64),
            ])
            .map_err(write_err)?;
        }
        let bytes = w.finish().map_err(write_err)?;
        Ok(Download {
            file_name: format!("{}-rvtm.{}", cov.ctx.project.code, format.extension()),
            content_type: format.content_type(),
            bytes,
        })
    }

    /// The plan of a CSV or XLSX import into `module`.
    pub(crate) async fn plan_sheet(
        &self,
        ctx: &ProjectCtx,
        module: &Module,
        format: SheetFormat,
        bytes: &[u8],
    ) -> AppResult<Plan> {
        let mut plan = Plan::default();
        let mut reader = SheetReader::open(format, bytes).map_err(sheet_err)?;
        let mut columns = Vec::new();
        for (i, name) in reader.headers().iter().enumerate() {
            match column_of(name, module) {
                Some(c) => columns.push(c),
                None => {
                    plan.report.problems.push(format!(
                        "column {} \"{}\" is neither a requirement field nor an attribute of module {} \
                         (fields: {}; attributes: {})",
                        column_letter(i),
                        name.trim(),
                        module.prefix,
                        HEADER.join(", "),
                        if module.attributes.is_empty() {
                            "none".to_owned()
                        } else {
                            module
                                .attributes
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ));
                    columns.push(Column::Ignored);
                }
            }
        }
        if columns.contains(&Column::Status) {
            plan.report.notes.push(
                "the status column is not imported: status changes go through the review workflow"
                    .to_owned(),
            );
        }
        // Streams the rows; a row the reader refuses (ragged, not UTF-8) refuses the file.
        let mut rows = Vec::new();
        while let Some(next) = reader.next_row() {
            let (number, cells) = next.map_err(sheet_err)?;
            let mut row = Row {
                number,
                id: String::new(),
                input: RequirementInput::default(),
                parent: None,
                revision: None,
            };
            for (col, cell) in columns.iter().zip(cells) {
                let i = &mut row.input;
                match col {
                    Column::Id => row.id = cell.trim().to_owned(),
                    Column::Title => i.title = Some(cell),
                    Column::Statement => i.statement = Some(cell),
                    Column::Rationale => i.rationale = Some(cell),
                    Column::Kind => i.kind = Some(cell),
                    Column::Priority => i.priority = Some(cell),
                    Column::Verification => i.verification_methods = Some(cell),
                    Column::Source => i.source = Some(cell),
                    Column::Owner => i.owner = Some(cell),
                    Column::Tags => i.tags = Some(cell),
                    Column::Parent => row.parent = Some(cell.trim().to_owned()),
                    Column::Revision => row.revision = Some(cell.trim().to_owned()),
                    Column::Attribute(name) => {
                        i.attributes.insert(name.clone(), cell);
                    }
                    Column::Status | Column::Ignored => {}
                }
            }
            rows.push(row);
        }
        self.plan_rows(ctx, module, rows, &mut plan).await?;
        Ok(plan)
    }

    async fn plan_rows(
        &self,
        ctx: &ProjectCtx,
        module: &Module,
        rows: Vec<Row>,
        plan: &mut Plan,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let in_module = self.store.module_requirements(module.id).await?;
        let max_ordinal = in_module.iter().map(|r| r.ordinal).max().unwrap_or(0);
        let mut existing: HashMap<String, Requirement> = in_module
            .into_iter()
            .map(|r| (r.human_id.clone(), r))
            .collect();
        // Ids (and parents) named in the file that live elsewhere in the project.
        let mut wanted: Vec<String> = Vec::new();
        for r in &rows {
            for raw in [Some(r.id.as_str()), r.parent.as_deref()]
                .into_iter()
                .flatten()
            {
                let id = normalise_id(raw).map_or_else(|| raw.trim().to_uppercase(), |(id, _)| id);
                if !id.is_empty() && !existing.contains_key(&id) {
                    wanted.push(id);
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        let elsewhere: HashMap<String, Requirement> = self
            .store
            .find_requirements_by_human_ids(ctx.project.id, &wanted)
            .await?
            .into_iter()
            .map(|r| (r.human_id.clone(), r))
            .collect();

        struct Draft {
            row: u64,
            id: String,
            req: Requirement,
            before: Option<Requirement>,
            errors: FieldErrors,
            parent: Option<String>,
            notes: Vec<String>,
        }
        let mut drafts: Vec<Draft> = Vec::with_capacity(rows.len());
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in rows {
            let mut errors = FieldErrors::new();
            let mut id = String::new();
            let mut before = None;
            if !row.id.is_empty() {
                match normalise_id(&row.id) {
                    None => errors.add(
                        "id",
                        format!(
                            "{:?} is not an id of the form {}-001; leave it empty to get a new id",
                            row.id, module.prefix
                        ),
                    ),
                    Some((norm, prefix)) => {
                        id = norm.clone();
                        if let Some(first) = seen.insert(norm.clone(), row.number) {
                            errors.add("id", format!("{norm} is in row {first} already"));
                        } else if let Some(r) = existing.remove(&norm) {
                            before = Some(r);
                        } else if elsewhere.contains_key(&norm) {
                            errors.add(
                                "id",
                                format!(
                                    "{norm} belongs to another module of this project; import it there"
                                ),
                            );
                        } else if prefix != module.prefix {
                            errors.add(
                                "id",
                                format!(
                                    "{norm} does not exist and is not an id of module {} ({}-001); leave it empty to get a new id",
                                    module.prefix, module.prefix
                                ),
                            );
                        }
                    }
                }
            }
            let mut req = match &before {
                Some(b) => b.clone(),
                None => {
                    let mut r = Requirement::blank(ctx.project.id, module.id, now);
                    r.revision = 1;
                    r.human_id = id.clone();
                    r
                }
            };
            let mut notes = Vec::new();
            row.input.apply(&mut req, module, &mut errors);
            if let (Some(b), Some(rev)) =
                (&before, row.revision.as_deref().filter(|r| !r.is_empty()))
            {
                match rev.parse::<f64>() {
                    Ok(n) if n as i64 != b.revision => {
                        let mut probe = req.clone();
                        super::keep_equal_attributes(&mut probe, b);
                        if !probe.same_content(b) {
                            errors.add(
                                "revision",
                                format!(
                                    "the row is from revision {} but {} is at revision {} now; export again and redo the change",
                                    n as i64, b.human_id, b.revision
                                ),
                            );
                        } else {
                            notes.push(format!(
                                "the row is from revision {}; {} is at revision {}",
                                n as i64, b.human_id, b.revision
                            ));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => notes.push(format!("revision {rev:?} is not a number; ignored")),
                }
            }
            drafts.push(Draft {
                row: row.number,
                id,
                req,
                before,
                errors,
                parent: row.parent,
                notes,
            });
        }

        // Parents: a row of this file first, then any requirement of the project.
        let by_file_id: HashMap<String, usize> = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.id.is_empty())
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        let mut parents: Vec<Option<Option<RequirementId>>> = Vec::with_capacity(drafts.len());
        let mut parent_errors: Vec<Option<String>> = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let Some(raw) = d.parent.as_deref() else {
                parents.push(None);
                parent_errors.push(None);
                continue;
            };
            if raw.is_empty() {
                parents.push(Some(None));
                parent_errors.push(None);
                continue;
            }
            let key = normalise_id(raw).map_or_else(|| raw.to_uppercase(), |(id, _)| id);
            if let Some(&i) = by_file_id.get(&key) {
                parents.push(Some(Some(drafts[i].req.id)));
                parent_errors.push(None);
            } else if let Some(r) = existing.get(&key).or_else(|| elsewhere.get(&key)) {
                parents.push(Some(Some(r.id)));
                parent_errors.push(None);
            } else {
                parents.push(None);
                parent_errors.push(Some(format!(
                    "no requirement {raw} in this file or this project"
                )));
            }
        }
        for (i, d) in drafts.iter_mut().enumerate() {
            if let Some(e) = parent_errors[i].take() {
                d.errors.add("parent", e);
            }
            if let Some(p) = parents[i] {
                if p == Some(d.req.id) {
                    d.errors
                        .add("parent", "a requirement cannot be its own parent");
                } else {
                    d.req.parent_id = p;
                }
            }
        }
        // Cycles through the new parents: walk up through the file's rows, the module's
        // requirements and, beyond them, the store.
        let mut up: HashMap<RequirementId, Option<RequirementId>> = existing
            .values()
            .chain(elsewhere.values())
            .map(|r| (r.id, r.parent_id))
            .collect();
        for d in &drafts {
            up.insert(d.req.id, d.req.parent_id);
        }
        for d in drafts.iter_mut() {
            let changed = match &d.before {
                Some(b) => b.parent_id != d.req.parent_id,
                None => d.req.parent_id.is_some(),
            };
            if !changed {
                continue;
            }
            let start = d.req.id;
            let mut cursor = d.req.parent_id;
            let mut steps = 0;
            while let Some(c) = cursor {
                if c == start {
                    let parent = d.parent.clone().unwrap_or_default();
                    d.errors
                        .add("parent", format!("{parent} is below this requirement"));
                    break;
                }
                steps += 1;
                if steps > 10_000 {
                    break;
                }
                cursor = match up.get(&c) {
                    Some(p) => *p,
                    None => {
                        let p = self
                            .store
                            .find_requirement_by_id(ctx.project.id, c)
                            .await?
                            .and_then(|r| r.parent_id);
                        up.insert(c, p);
                        p
                    }
                };
            }
        }

        // Ordinals for new rows, between their neighbours in file order.
        let sequence: Vec<Option<i64>> = drafts
            .iter()
            .map(|d| d.before.as_ref().map(|b| b.ordinal))
            .collect();
        let mut ordinals = place_new(&sequence, max_ordinal).into_iter();
        for d in drafts.iter_mut().filter(|d| d.before.is_none()) {
            d.req.ordinal = ordinals.next().unwrap_or(max_ordinal);
        }

        for d in drafts {
            let title = d.req.title.clone();
            if !d.errors.is_empty() {
                plan.report.push(ReportItem {
                    what: "requirement".into(),
                    at: format!("row {}", d.row),
                    id: d.id,
                    title,
                    outcome: Outcome::Rejected,
                    details: d
                        .errors
                        .iter()
                        .flat_map(|(f, rs)| rs.iter().map(move |r| format!("{f}: {r}")))
                        .collect(),
                });
                continue;
            }
            let mut req = d.req;
            let mut details = d.notes;
            let outcome = match &d.before {
                Some(b) => match settle_update(&mut req, b, now) {
                    Ok((o, mut more)) => {
                        details.append(&mut more);
                        o
                    }
                    Err(why) => {
                        plan.report.push(ReportItem {
                            what: "requirement".into(),
                            at: format!("row {}", d.row),
                            id: d.id,
                            title,
                            outcome: Outcome::Rejected,
                            details: vec![format!("status: {why}")],
                        });
                        continue;
                    }
                },
                None => Outcome::Created,
            };
            match outcome {
                Outcome::Updated => {
                    plan.before
                        .push(d.before.clone().unwrap_or_else(|| req.clone()));
                    plan.writes.push(PlannedWrite {
                        req: req.clone(),
                        create: false,
                        explicit_id: true,
                    });
                }
                Outcome::Created => plan.writes.push(PlannedWrite {
                    explicit_id: !req.human_id.is_empty(),
                    req: req.clone(),
                    create: true,
                }),
                _ => {}
            }
            plan.report.push(ReportItem {
                what: "requirement".into(),
                at: format!("row {}", d.row),
                id: d.id,
                title,
                outcome,
                details,
            });
        }
        Ok(())
    }
}
