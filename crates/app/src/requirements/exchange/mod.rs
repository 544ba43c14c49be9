//! Import and export of requirement modules: CSV and XLSX (one row per requirement), ReqIF
//! 1.2 (`.reqif`, `.reqifz`), and the RVTM as CSV or XLSX.
//!
//! Every import is a dry run first: the file is parsed and turned into a plan (per row or
//! spec object: created, updated, unchanged or rejected, with reasons naming the row or the
//! ReqIF identifier and the field; links to add), and the upload is stored with that report.
//! Nothing is written until a person confirms; "Apply" parses the stored file again,
//! recomputes the plan against the project as it is now and writes it in one transaction
//! through `save`. A plan with any rejected row, or any problem with the file as a whole, is
//! not applied at all (strict: fix the file and upload it again). A file that cannot be read
//! (bad XML, a ragged CSV row, not an XLSX) is refused at upload with the reader's positioned
//! message, and nothing is stored.
//!
//! The uploaded file waits in the import file area (`ImportFileStore`, on disk under the data
//! directory), not in the database: the web layer streams the upload there, the ReqIF reader
//! parses it from disk, and nothing holds the whole file in memory. CSV and XLSX files are
//! read whole (an XLSX is a zip archive; a 10,000-row CSV is under 2 MB).
//!
//! Imports run inline (not as jobs): a 10,000-row CSV is parsed, planned and applied in
//! about a second, and the upload cap ([`MAX_IMPORT_BYTES`]) bounds the memory one import
//! takes.

mod reqif_in;
mod reqif_out;
mod sheet;

use crate::error::{AppError, AppResult};
use crate::import_file_port::{ImportFileStore, StagedUpload};
use crate::portfolio::ProjectCtx;
use crate::ports::{ModuleWrite, PendingImport, ReqBatch, ReqWrite};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{ImportId, LinkId, ModuleId};
use opensesa_domain::requirements::{Module, Requirement, TraceLink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use opensesa_interchange::reqif;
pub use opensesa_interchange::sheet::SheetFormat;
pub use sheet::RvtmFilter;

/// The largest file an import accepts (50 MiB).
pub const MAX_IMPORT_BYTES: usize = 50 * 1024 * 1024;

/// Where an import's file is read from.
enum ImportInput {
    /// In the import file area.
    File(std::path::PathBuf),
    /// In the database row: imports uploaded before files moved to the import file area.
    Bytes(Vec<u8>),
}

impl ImportInput {
    async fn bytes(&self) -> AppResult<std::borrow::Cow<'_, [u8]>> {
        match self {
            ImportInput::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            ImportInput::File(path) => tokio::fs::read(path)
                .await
                .map(std::borrow::Cow::Owned)
                .map_err(|e| AppError::Internal(format!("import file {}: {e}", path.display()))),
        }
    }

    /// Parses a ReqIF file or archive on a blocking thread (a 40 MB file takes about half a
    /// second), streaming from disk.
    async fn reqif(&self) -> AppResult<reqif::ReqifDocument> {
        let parsed = match self {
            ImportInput::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read_reqif_file(&path)).await
            }
            ImportInput::Bytes(b) => {
                let bytes = b.clone();
                tokio::task::spawn_blocking(move || {
                    reqif::read_bytes(&bytes).map_err(|e| e.to_string())
                })
                .await
            }
        }
        .map_err(|e| AppError::Internal(format!("ReqIF reader: {e}")))?;
        parsed.map_err(|e| AppError::field("file", format!("not a readable ReqIF file: {e}")))
    }
}

/// A `.reqif` file (read through a buffer) or a `.reqifz` archive (detected by its zip magic).
fn read_reqif_file(path: &std::path::Path) -> Result<reqif::ReqifDocument, String> {
    use std::io::{Read, Seek};
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("the stored file cannot be read: {e}"))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| e.to_string())?;
    file.rewind().map_err(|e| e.to_string())?;
    if n == 4 && &magic == b"PK\x03\x04" {
        reqif::read_reqifz(file).map_err(|e| e.to_string())
    } else {
        reqif::read(std::io::BufReader::with_capacity(256 * 1024, file)).map_err(|e| e.to_string())
    }
}

/// The most report lines kept per import (all rejected ones are kept first).
const MAX_REPORT_ITEMS: usize = 20_000;

/// The file formats of requirement exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Xlsx,
    Reqif,
    Reqifz,
}

impl FileFormat {
    /// The format named by a file name's extension.
    pub fn from_name(file_name: &str) -> Option<Self> {
        let (_, ext) = file_name.trim().rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Some(Self::Csv),
            "xlsx" | "xlsm" => Some(Self::Xlsx),
            "reqif" | "xml" => Some(Self::Reqif),
            "reqifz" => Some(Self::Reqifz),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Reqif => "reqif",
            Self::Reqifz => "reqifz",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::from_name(&format!("x.{s}"))
    }

    fn is_reqif(self) -> bool {
        matches!(self, Self::Reqif | Self::Reqifz)
    }
}

/// A file to download.
#[derive(Debug, Clone)]
pub struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What happens to one row, spec object, link or module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Rejected => "rejected",
        }
    }
}

/// One line of the dry-run report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportItem {
    /// "requirement" or "link".
    pub what: String,
    /// Where in the file: `row 7`, `SPEC-OBJECT 'abc'`, `SPEC-RELATION 'r1'`.
    pub at: String,
    /// The human id (existing or planned; empty when one will be allocated).
    pub id: String,
    pub title: String,
    pub outcome: Outcome,
    /// Reasons for a rejection (`field: reason`), changed fields of an update, notes.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub links_added: usize,
    /// Links whose kind or ends changed: removed and added again.
    pub links_replaced: usize,
    pub links_unchanged: usize,
    pub links_rejected: usize,
    pub modules_created: usize,
    pub modules_updated: usize,
}

/// A module an import creates or changes (ReqIF: one per specification).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleReport {
    pub prefix: String,
    pub name: String,
    pub outcome: Outcome,
    pub details: Vec<String>,
}

/// The dry-run report, stored with the upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportReport {
    pub format: String,
    pub file_name: String,
    /// "module SYS" or "new modules (one per specification)".
    pub target: String,
    pub counts: ImportCounts,
    /// Problems with the file as a whole (unknown columns, ...); any blocks the import.
    pub problems: Vec<String>,
    /// Things worth knowing that do not block (ignored columns, truncated titles, ...).
    pub notes: Vec<String>,
    pub modules: Vec<ModuleReport>,
    pub items: Vec<ReportItem>,
    /// Report lines left out to keep the report small.
    pub items_left_out: usize,
    /// New modules or attribute definitions need the lead role.
    pub needs_lead: bool,
}

impl ImportReport {
    /// Why the plan cannot be applied, if it cannot.
    pub fn blocked_because(&self) -> Option<String> {
        let c = &self.counts;
        let rejected = c.rejected + c.links_rejected;
        if !self.problems.is_empty() {
            return Some(format!(
                "the file has {} problem{} to fix first; nothing is applied",
                self.problems.len(),
                plural(self.problems.len())
            ));
        }
        if rejected > 0 {
            return Some(format!(
                "{rejected} row{} or object{} rejected; nothing is applied while any is — fix the file and upload it again",
                plural(rejected),
                if rejected == 1 { " is" } else { "s are" }
            ));
        }
        None
    }

    pub fn can_apply(&self) -> bool {
        self.blocked_because().is_none()
    }

    /// Nothing to write.
    pub fn is_noop(&self) -> bool {
        let c = &self.counts;
        c.created
            + c.updated
            + c.links_added
            + c.links_replaced
            + c.modules_created
            + c.modules_updated
            == 0
    }

    fn push(&mut self, item: ReportItem) {
        let c = &mut self.counts;
        let link = item.what == "link";
        match (link, item.outcome) {
            (false, Outcome::Created) => c.created += 1,
            (false, Outcome::Updated) => c.updated += 1,
            (false, Outcome::Unchanged) => c.unchanged += 1,
            (false, Outcome::Rejected) => c.rejected += 1,
            (true, Outcome::Created) => c.links_added += 1,
            (true, Outcome::Updated) => c.links_replaced += 1,
            (true, Outcome::Unchanged) => c.links_unchanged += 1,
            (true, Outcome::Rejected) => c.links_rejected += 1,
        }
        self.items.push(item);
    }

    /// Keeps the report bounded: rejected lines first, then the rest in file order.
    fn trim(&mut self) {
        if self.items.len() <= MAX_REPORT_ITEMS {
            return;
        }
        let (mut kept, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|i| i.outcome == Outcome::Rejected);
        let room = MAX_REPORT_ITEMS.saturating_sub(kept.len());
        let total = kept.len() + rest.len();
        kept.extend(rest.into_iter().take(room));
        self.items_left_out = total - kept.len();
        self.items = kept;
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Where an import goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Module(Module),
    /// ReqIF only: one module per specification (existing ones reused on re-import).
    NewModules,
}

/// One requirement the plan writes.
#[derive(Debug, Clone)]
pub(crate) struct PlannedWrite {
    pub req: Requirement,
    pub create: bool,
    /// Created with the id the file gave (written before those given a new id, so the
    /// counter moves past the file's numbers first).
    pub explicit_id: bool,
}

/// What an import would write, and its report.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub report: ImportReport,
    pub modules: Vec<ModuleWrite>,
    pub writes: Vec<PlannedWrite>,
    pub before: Vec<Requirement>,
    pub add_links: Vec<TraceLink>,
    pub remove_links: Vec<LinkId>,
}

/// The part of a stored report that applying compares with the fresh plan.
#[derive(Deserialize)]
struct ReportHead {
    counts: ImportCounts,
    problems: Vec<String>,
}

/// The report page's content.
pub struct ImportView {
    pub ctx: ProjectCtx,
    pub import: PendingImport,
    pub report: ImportReport,
    /// The module imported into, if one was chosen.
    pub module: Option<Module>,
}

/// What "Apply" did.
#[derive(Debug)]
pub enum ApplyOutcome {
    /// Written: the counts of the plan that was applied.
    Applied(ImportCounts),
    /// The project changed since the report was made: a new report was stored under this
    /// id (the old one is discarded); nothing was written.
    Replanned(ImportId),
}

/// A title from free text: whitespace collapsed, at most `max` characters.
fn too_large() -> AppError {
    AppError::field(
        "file",
        format!(
            "the file is larger than {} MB, the most an import accepts; split it",
            MAX_IMPORT_BYTES / (1024 * 1024)
        ),
    )
}

fn file_area(e: std::io::Error) -> AppError {
    AppError::Internal(format!("import file area: {e}"))
}

pub(crate) fn short_title(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut t: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    t = t.trim_end().to_owned();
    t.push('…');
    t
}

/// A human id normalised (`sys-7` → `SYS-007`) with its prefix, or `None` when it is not of
/// the form `PREFIX-123`.
pub(crate) fn normalise_id(raw: &str) -> Option<(String, String)> {
    let s = raw.trim().to_uppercase();
    let (prefix, digits) = s.rsplit_once('-')?;
    if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let prefix = opensesa_domain::requirements::model::parse_prefix(prefix).ok()?;
    let n: i64 = digits.parse().ok()?;
    if n < 1 {
        return None;
    }
    Some((
        opensesa_domain::requirements::model::human_id(&prefix, n),
        prefix,
    ))
}

/// Field names whose values differ between two snapshots, for "updated" report lines.
pub(crate) fn changed_fields(before: &Requirement, after: &Requirement) -> Vec<String> {
    use opensesa_domain::revision::Versioned;
    let (a, b) = (before.snapshot(), after.snapshot());
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(*v))
        .map(|(k, _)| match k.as_str() {
            "statement_xhtml" => "statement (rich text)".to_owned(),
            "parent_id" => "parent".to_owned(),
            "module_id" => "module".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    out.dedup();
    out
}

/// Keeps stored attribute values that read the same as the planned ones (a number stored
/// as `3` and parsed back as `3.0`), so a re-import of unchanged data is "unchanged".
pub(crate) fn keep_equal_attributes(planned: &mut Requirement, before: &Requirement) {
    use opensesa_domain::requirements::attributes::AttributeDef;
    for (name, value) in planned.attributes.iter_mut() {
        if let Some(old) = before.attributes.get(name) {
            if old != value && AttributeDef::display(old) == AttributeDef::display(value) {
                *value = old.clone();
            }
        }
    }
}

/// Turns a planned requirement into an update (new revision, status after an edit) or an
/// "unchanged" line. Returns the report outcome and details.
pub(crate) fn settle_update(
    planned: &mut Requirement,
    before: &Requirement,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Outcome, Vec<String>), String> {
    keep_equal_attributes(planned, before);
    if planned.same_content(before) {
        // Keep the stored ordinal too: an unchanged row writes nothing.
        *planned = before.clone();
        return Ok((Outcome::Unchanged, Vec::new()));
    }
    planned.status = before.status.after_edit()?;
    planned.revision = before.revision + 1;
    planned.updated_at = now;
    let fields = changed_fields(before, planned);
    Ok((
        Outcome::Updated,
        vec![format!("changes {}", fields.join(", "))],
    ))
}

/// Places new requirements between the existing ones around them in file order. `items`
/// is the module's sequence in file order: `Some(ordinal)` for a kept requirement, `None`
/// for a new one; returns the ordinals for the new ones in order. `max` is the largest
/// ordinal in the module.
pub(crate) fn place_new(items: &[Option<i64>], max: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut end = max;
    let mut i = 0;
    let mut prev = 0i64;
    while i < items.len() {
        match items[i] {
            Some(o) => {
                prev = prev.max(o);
                i += 1;
            }
            None => {
                let start = i;
                while i < items.len() && items[i].is_none() {
                    i += 1;
                }
                let k = (i - start) as i64;
                let next = items[i..].iter().flatten().copied().find(|&o| o > prev);
                match next {
                    Some(next) if (next - prev) / (k + 1) >= 1 => {
                        let step = (next - prev) / (k + 1);
                        for j in 1..=k {
                            out.push(prev + step * j);
                        }
                        prev += step * k;
                    }
                    _ => {
                        for _ in 0..k {
                            end += 1024;
                            out.push(end);
                        }
                        prev = prev.max(end);
                    }
                }
            }
        }
    }
    out
}

impl App {
    /// Resolves the import target: a module prefix, or empty for "new modules" (ReqIF).
    async fn import_target(
        &self,
        ctx: &ProjectCtx,
        module_id: Option<ModuleId>,
        prefix: Option<&str>,
        format: FileFormat,
    ) -> AppResult<Target> {
        let module = match (module_id, prefix.map(str::trim).filter(|p| !p.is_empty())) {
            (Some(id), _) => Some(
                self.store
                    .find_module(ctx.project.id, id)
                    .await?
                    .ok_or_else(|| {
                        AppError::Conflict("the module of this import no longer exists".into())
                    })?,
            ),
            (None, Some(p)) => Some(
                self.store
                    .find_module_by_prefix(ctx.project.id, &p.to_uppercase())
                    .await?
                    .ok_or_else(|| {
                        AppError::field("module", format!("no module has the prefix {p:?}"))
                    })?,
            ),
            (None, None) => None,
        };
        match module {
            Some(m) => Ok(Target::Module(m)),
            None if format.is_reqif() => Ok(Target::NewModules),
            None => Err(AppError::field(
                "module",
                "choose the module to import a CSV or XLSX file into",
            )),
        }
    }

    /// Parses a file and computes what importing it would do. A file that cannot be read is
    /// an error naming where.
    async fn plan_import(
        &self,
        ctx: &ProjectCtx,
        format: FileFormat,
        target: &Target,
        file_name: &str,
        input: &ImportInput,
    ) -> AppResult<Plan> {
        let mut plan = match (format, target) {
            (FileFormat::Csv | FileFormat::Xlsx, Target::Module(m)) => {
                let sheet_format = if format == FileFormat::Csv {
                    SheetFormat::Csv
                } else {
                    SheetFormat::Xlsx
                };
                let bytes = input.bytes().await?;
                self.plan_sheet(ctx, m, sheet_format, &bytes).await?
            }
            (FileFormat::Csv | FileFormat::Xlsx, Target::NewModules) => {
                return Err(AppError::field(
                    "module",
                    "choose the module to import a CSV or XLSX file into",
                ))
            }
            (FileFormat::Reqif | FileFormat::Reqifz, _) => {
                let doc = input.reqif().await?;
                self.plan_reqif(ctx, target, &doc, file_name).await?
            }
        };
        plan.report.format = format.as_str().to_owned();
        plan.report.file_name = file_name.to_owned();
        plan.report.target = match target {
            Target::Module(m) => format!("module {} ({})", m.prefix, m.name),
            Target::NewModules => "new modules (one per specification)".to_owned(),
        };
        plan.report.needs_lead = plan.modules.iter().any(|m| {
            m.before.is_none()
                || m.before.as_ref().map(|b| &b.attributes) != Some(&m.module.attributes)
        });
        if plan.report.needs_lead && !ctx.can(Permission::Lead) {
            plan.report.problems.push(
                "this import creates modules or attribute definitions, which needs the lead role; ask a lead to import it"
                    .to_owned(),
            );
        }
        plan.report.trim();
        Ok(plan)
    }

    /// Uploads a file for import from memory: see [`App::start_import_upload`].
    pub async fn start_import(
        &self,
        principal: &Principal,
        code: &str,
        module: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> AppResult<ImportId> {
        let files = self.import_files()?;
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(too_large());
        }
        let staged = files.stage().await.map_err(file_area)?;
        if let Err(e) = tokio::fs::write(staged.path(), &bytes).await {
            let _ = files.discard(staged).await;
            return Err(file_area(e));
        }
        drop(bytes);
        self.start_import_upload(principal, code, module, file_name, staged)
            .await
    }

    /// Starts an import from an uploaded file: parses it, computes the plan and keeps the
    /// file with its dry-run report. Nothing else is written. `module` is the target module's
    /// prefix, or empty for ReqIF's "one new module per specification". A refused upload's
    /// file is removed.
    pub async fn start_import_upload(
        &self,
        principal: &Principal,
        code: &str,
        module: &str,
        file_name: &str,
        staged: StagedUpload,
    ) -> AppResult<ImportId> {
        let files = self.import_files()?;
        let id = ImportId::new();
        match self
            .plan_upload(principal, code, module, file_name, staged.path(), id)
            .await
        {
            Ok(import) => {
                files.keep(staged, id).await.map_err(file_area)?;
                if let Err(e) = self.store.insert_import(&import, &[]).await {
                    let _ = files.remove(id).await;
                    return Err(e.into());
                }
                Ok(id)
            }
            Err(e) => {
                let _ = files.discard(staged).await;
                Err(e)
            }
        }
    }

    /// The pending import (with its dry-run report) of a staged upload.
    async fn plan_upload(
        &self,
        principal: &Principal,
        code: &str,
        module: &str,
        file_name: &str,
        path: &std::path::Path,
        id: ImportId,
    ) -> AppResult<PendingImport> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let file_name = file_name.trim();
        let file_name = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .chars()
            .take(200)
            .collect::<String>();
        let size = tokio::fs::metadata(path).await.map_err(file_area)?.len();
        if size == 0 {
            return Err(AppError::field("file", "the file is empty"));
        }
        if size > MAX_IMPORT_BYTES as u64 {
            return Err(too_large());
        }
        let format = FileFormat::from_name(&file_name).ok_or_else(|| {
            AppError::field(
                "file",
                format!("{file_name:?} is not a .csv, .xlsx, .reqif or .reqifz file"),
            )
        })?;
        let target = self.import_target(&ctx, None, Some(module), format).await?;
        let input = ImportInput::File(path.to_owned());
        let plan = self
            .plan_import(&ctx, format, &target, &file_name, &input)
            .await?;
        Ok(PendingImport {
            id,
            project_id: ctx.project.id,
            module_id: match &target {
                Target::Module(m) => Some(m.id),
                Target::NewModules => None,
            },
            format: format.as_str().to_owned(),
            file_name,
            created_by: principal.user.id,
            created_at: self.clock.now(),
            status: "pending".to_owned(),
            report: serde_json::to_value(&plan.report)
                .map_err(|e| AppError::Internal(format!("import report: {e}")))?,
        })
    }

    fn import_files(&self) -> AppResult<&std::sync::Arc<dyn ImportFileStore>> {
        self.import_files
            .as_ref()
            .ok_or_else(|| AppError::Internal("no import file area is configured".into()))
    }

    /// A stored import and its dry-run report.
    pub async fn import_report(
        &self,
        principal: &Principal,
        code: &str,
        id: ImportId,
    ) -> AppResult<ImportView> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let (import, _) = self
            .store
            .find_import(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let report: ImportReport = serde_json::from_value(import.report.clone())
            .map_err(|e| AppError::Internal(format!("stored import report: {e}")))?;
        let module = match import.module_id {
            Some(m) => self.store.find_module(ctx.project.id, m).await?,
            None => None,
        };
        Ok(ImportView {
            ctx,
            import,
            report,
            module,
        })
    }

    /// Applies a pending import: parses the stored file again, recomputes the plan and, if
    /// it is the one the person saw and nothing is rejected, writes it in one transaction.
    pub async fn apply_import(
        &self,
        principal: &Principal,
        code: &str,
        id: ImportId,
    ) -> AppResult<ApplyOutcome> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let files = self.import_files()?;
        let (mut import, bytes) = self
            .store
            .find_import(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if import.status != "pending" {
            return Err(AppError::Conflict(format!(
                "this import is {} already",
                import.status
            )));
        }
        // Only the counts and problems of the report the person saw are compared; the
        // stored report (with up to 20,000 lines) is not kept while the plan is built.
        let seen = ReportHead::deserialize(&import.report)
            .map_err(|e| AppError::Internal(format!("stored import report: {e}")))?;
        import.report = serde_json::Value::Null;
        let input = if bytes.is_empty() {
            ImportInput::File(files.path(import.id))
        } else {
            ImportInput::Bytes(bytes)
        };
        let format = FileFormat::parse(&import.format)
            .ok_or_else(|| AppError::Internal(format!("stored import format {}", import.format)))?;
        let started = std::time::Instant::now();
        let target = self
            .import_target(&ctx, import.module_id, None, format)
            .await?;
        let mut plan = self
            .plan_import(&ctx, format, &target, &import.file_name, &input)
            .await?;
        let planned_ms = started.elapsed().as_millis() as u64;
        if seen.counts != plan.report.counts || seen.problems != plan.report.problems {
            // The project changed since the report: show the new one instead of applying
            // something the person has not seen.
            let fresh = PendingImport {
                id: ImportId::new(),
                created_at: self.clock.now(),
                created_by: principal.user.id,
                report: serde_json::to_value(&plan.report)
                    .map_err(|e| AppError::Internal(format!("import report: {e}")))?,
                ..import.clone()
            };
            // The new import takes over the file.
            match &input {
                ImportInput::File(_) => files.rename(import.id, fresh.id).await,
                ImportInput::Bytes(b) => files.put(fresh.id, b).await,
            }
            .map_err(file_area)?;
            self.store.insert_import(&fresh, &[]).await?;
            self.store.set_import_status(import.id, "discarded").await?;
            return Ok(ApplyOutcome::Replanned(fresh.id));
        }
        // The file (up to 50 MB) and the report's lines are not needed while the plan is
        // written.
        drop(input);
        plan.report.items = Vec::new();
        if let Some(why) = plan.report.blocked_because() {
            return Err(AppError::Conflict(why));
        }
        if plan.report.needs_lead && !ctx.can(Permission::Lead) {
            return Err(AppError::forbidden(
                "this import creates modules or attribute definitions, which needs the lead role",
            ));
        }
        let counts = plan.report.counts.clone();
        // Two confirmations of one import must not both write it (rows without an id would
        // be created twice): the first to claim it applies it.
        if !self.store.claim_import(import.id).await? {
            return Err(AppError::Conflict(
                "this import is being applied or was applied already".into(),
            ));
        }
        let written = if plan.report.is_noop() {
            Ok(())
        } else {
            self.write_plan(principal, &ctx, plan).await.map(|_| ())
        };
        let status = if written.is_ok() {
            "applied"
        } else {
            "pending"
        };
        self.store.set_import_status(import.id, status).await?;
        written?;
        if let Err(e) = files.remove(import.id).await {
            // Housekeeping removes it after a day.
            tracing::warn!(import = %import.id, error = %e, "applied import's file not removed");
        }
        tracing::debug!(
            import = %import.id,
            planned_ms,
            written_ms = started.elapsed().as_millis() as u64 - planned_ms,
            "import applied"
        );
        self.refresh_working_groups_soon(ctx.project.id).await;
        Ok(ApplyOutcome::Applied(counts))
    }

    /// Discards a pending import (the stored file is pruned later).
    pub async fn discard_import(
        &self,
        principal: &Principal,
        code: &str,
        id: ImportId,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let (import, _) = self
            .store
            .find_import(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if import.status != "pending" {
            return Err(AppError::Conflict(format!(
                "this import is {} already",
                import.status
            )));
        }
        self.store.set_import_status(import.id, "discarded").await?;
        if let Err(e) = self.import_files()?.remove(import.id).await {
            tracing::warn!(import = %import.id, error = %e, "discarded import's file not removed");
        }
        Ok(())
    }

    /// Writes a plan in one batch: modules, requirements (with their findings), links.
    async fn write_plan(
        &self,
        principal: &Principal,
        ctx: &ProjectCtx,
        plan: Plan,
    ) -> AppResult<()> {
        let rules = self.rules_of(ctx).await?;
        let mut modules: HashMap<ModuleId, Module> = self
            .store
            .list_modules(ctx.project.id)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        for mw in &plan.modules {
            modules.insert(mw.module.id, mw.module.clone());
        }
        let mut writes = plan.writes;
        // Created with the file's ids first, so the counter moves past them before new ids
        // are allocated; then updates; then the requirements that get new ids.
        writes.sort_by_key(|w| match (w.create, w.explicit_id) {
            (true, true) => 0,
            (false, _) => 1,
            (true, false) => 2,
        });
        let mut add_links = plan.add_links;
        for l in &mut add_links {
            l.created_by = Some(principal.user.id);
            l.confirmed_by = Some(principal.user.id);
        }
        let mut batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            modules: plan.modules,
            add_links,
            remove_links: plan.remove_links,
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let findings = self
            .import_findings(ctx, &rules, &modules, &writes, &batch)
            .await?;
        tracing::debug!(
            rows = writes.len(),
            findings_ms = started.elapsed().as_millis() as u64,
            "import findings"
        );
        for (w, findings) in writes.into_iter().zip(findings) {
            batch.requirements.push(ReqWrite {
                statement_key: super::statement_key(&w.req.statement),
                content_changed: true,
                create: w.create,
                findings,
                req: w.req,
            });
        }
        self.save(principal, ctx, batch, plan.before).await?;
        Ok(())
    }

    /// The quality findings of every written requirement, computed in memory from two
    /// queries (the project's link facts and statements) rather than two per requirement:
    /// the same rules as a single save, with the links and duplicates the import itself adds.
    async fn import_findings(
        &self,
        ctx: &ProjectCtx,
        rules: &opensesa_domain::requirements::quality::RuleSet,
        modules: &HashMap<ModuleId, Module>,
        writes: &[PlannedWrite],
        batch: &ReqBatch,
    ) -> AppResult<Vec<Vec<opensesa_domain::requirements::quality::Finding>>> {
        use opensesa_domain::requirements::quality::{check_text, QualityInput, RuleId};
        use std::collections::HashSet;
        let written: HashSet<uuid::Uuid> = writes.iter().map(|w| w.req.id.0).collect();
        // What `quality::text_findings` reads from a requirement's link views, counted from
        // the compact link facts: the links touching it (a link to itself twice, as it is
        // listed at both ends) and whether one is a trace link leading up from it.
        #[derive(Default, Clone, Copy)]
        struct Touching {
            links: usize,
            up: bool,
        }
        let removed: HashSet<LinkId> = batch.remove_links.iter().copied().collect();
        // Created requirements have new ids, which no stored link can name: the stored
        // links matter only when the import updates requirements.
        let stored = if writes.iter().any(|w| !w.create) {
            self.store.link_facts(ctx.project.id).await?
        } else {
            Vec::new()
        };
        let ends = stored
            .iter()
            .filter(|l| !removed.contains(&l.id))
            .map(|l| (l.kind, l.source_id, l.target_id))
            .chain(
                batch
                    .add_links
                    .iter()
                    .map(|l| (l.kind, l.source_id, l.target_id)),
            );
        let mut touching: HashMap<uuid::Uuid, Touching> = HashMap::new();
        for (kind, source, target) in ends {
            if written.contains(&target) {
                touching.entry(target).or_default().links += 1;
            }
            if written.contains(&source) {
                let t = touching.entry(source).or_default();
                t.links += 1;
                t.up |= kind.is_trace();
            }
        }
        drop(stored);
        // Statement keys of the project as it will be, for exact duplicates (obsolete
        // requirements do not count, as for a single save).
        let duplicates = rules.is_enabled(RuleId::Duplicate);
        let mut by_key: HashMap<String, Vec<(uuid::Uuid, String)>> = HashMap::new();
        let mut keys: Vec<String> = Vec::with_capacity(writes.len());
        if duplicates {
            keys = writes
                .iter()
                .map(|w| {
                    if w.req.kind.is_requirement() {
                        super::statement_key(&w.req.statement)
                    } else {
                        String::new()
                    }
                })
                .collect();
            // Only the keys the written requirements have can name a duplicate of one.
            for key in keys.iter().filter(|k| !k.is_empty()) {
                by_key.entry(key.clone()).or_default();
            }
            // The stored requirements with those keys, through the statement-key index (as a
            // single save does), not by reading and hashing every statement of the project.
            let wanted: Vec<String> = by_key.keys().cloned().collect();
            for (id, human_id, key) in self.store.statement_twins(ctx.project.id, &wanted).await? {
                if written.contains(&id.0) {
                    continue;
                }
                if let Some(same) = by_key.get_mut(&key) {
                    same.push((id.0, human_id));
                }
            }
            for (w, key) in writes.iter().zip(&keys) {
                if let Some(same) = by_key.get_mut(key) {
                    same.push((w.req.id.0, w.req.human_id.clone()));
                }
            }
        }
        let mut out = Vec::with_capacity(writes.len());
        for (i, w) in writes.iter().enumerate() {
            let module = modules.get(&w.req.module_id).ok_or_else(|| {
                AppError::Conflict("a module of this import no longer exists".into())
            })?;
            let t = touching.get(&w.req.id.0).copied().unwrap_or_default();
            let r = &w.req;
            let mut findings = check_text(
                &QualityInput {
                    title: &r.title,
                    statement: &r.statement,
                    rationale: &r.rationale,
                    kind: r.kind.as_str(),
                    verification_methods: r.verification_methods.len(),
                    has_parent: r.parent_id.is_some() || t.up,
                    top_level: module.parent_id.is_none(),
                    trace_links: t.links,
                },
                rules,
            );
            let key = keys.get(i).map_or("", String::as_str);
            if !key.is_empty() {
                let same: Vec<String> = by_key
                    .get(key)
                    .into_iter()
                    .flatten()
                    .filter(|(id, human)| *id != r.id.0 && !human.is_empty())
                    .map(|(_, human)| human.clone())
                    .collect();
                if !same.is_empty() {
                    findings.push(super::quality::duplicate_finding(&same));
                }
            }
            out.push(findings);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalise() {
        assert_eq!(
            normalise_id(" sys-7 "),
            Some(("SYS-007".to_owned(), "SYS".to_owned()))
        );
        assert_eq!(
            normalise_id("SW-NAV-0012"),
            Some(("SW-NAV-012".to_owned(), "SW-NAV".to_owned()))
        );
        assert_eq!(normalise_id("12"), None);
        assert_eq!(normalise_id("SYS-"), None);
        assert_eq!(normalise_id("1A-3"), None);
    }

    #[test]
    fn new_items_go_between_their_neighbours() {
        assert_eq!(place_new(&[None, None], 0), vec![1024, 2048]);
        assert_eq!(place_new(&[Some(1024), None, Some(2048)], 2048), vec![1536]);
        assert_eq!(place_new(&[Some(1024), None], 4096), vec![5120]);
        // No room between 1 and 2: appended.
        assert_eq!(place_new(&[Some(1), None, Some(2)], 2), vec![1026]);
    }

    #[test]
    fn titles_are_shortened() {
        assert_eq!(short_title("a  b\nc", 80), "a b c");
        assert_eq!(short_title("abcdef", 4), "abc…");
    }
}
