//! XLSX downloads: a baseline comparison (one sheet per kind of change) and a release pack
//! (pack, checklist, baseline items, documents, actions, decisions).

use super::packs::PackDetail;
use super::ComparisonView;
use crate::error::{AppError, AppResult};
use crate::requirements::exchange::Download;
use crate::{App, Principal};
use opensesa_domain::baselines::Item;
use opensesa_interchange::sheet::{Cell, SheetError, SheetFormat, SheetWriter};

fn err(e: SheetError) -> AppError {
    AppError::Internal(format!("xlsx export: {e}"))
}

fn item_cells(i: &Item) -> [Cell; 5] {
    [
        i.kind.as_str().into(),
        i.label.as_str().into(),
        i.id.to_string().as_str().into(),
        Cell::Number(i.revision as f64),
        i.hash.as_str().into(),
    ]
}

/// The comparison as a workbook: a summary, then every change with both revisions.
pub fn comparison_xlsx(v: &ComparisonView) -> AppResult<Download> {
    let mut w = SheetWriter::new(SheetFormat::Xlsx, "Summary").map_err(err)?;
    w.header(&["kind", "added", "removed", "changed", "moved"])
        .map_err(err)?;
    for (kind, d) in &v.comparison.kinds {
        w.row(&[
            kind.label().into(),
            Cell::Number(d.added.len() as f64),
            Cell::Number(d.removed.len() as f64),
            Cell::Number(d.changed.len() as f64),
            Cell::Number(d.moved.len() as f64),
        ])
        .map_err(err)?;
    }
    w.add_sheet("Changes").map_err(err)?;
    w.header(&[
        "change",
        "kind",
        "artefact",
        "id",
        "from revision",
        "to revision",
        "from hash",
        "to hash",
        "from container",
        "to container",
    ])
    .map_err(err)?;
    for (kind, d) in &v.comparison.kinds {
        for i in &d.added {
            w.row(&[
                "added".into(),
                kind.as_str().into(),
                i.label.as_str().into(),
                i.id.to_string().as_str().into(),
                Cell::Empty,
                Cell::Number(i.revision as f64),
                Cell::Empty,
                i.hash.as_str().into(),
                Cell::Empty,
                i.group.to_string().as_str().into(),
            ])
            .map_err(err)?;
        }
        for i in &d.removed {
            w.row(&[
                "removed".into(),
                kind.as_str().into(),
                i.label.as_str().into(),
                i.id.to_string().as_str().into(),
                Cell::Number(i.revision as f64),
                Cell::Empty,
                i.hash.as_str().into(),
                Cell::Empty,
                i.group.to_string().as_str().into(),
                Cell::Empty,
            ])
            .map_err(err)?;
        }
        for (what, pairs) in [("changed", &d.changed), ("moved", &d.moved)] {
            for p in pairs {
                w.row(&[
                    what.into(),
                    kind.as_str().into(),
                    p.to.label.as_str().into(),
                    p.to.id.to_string().as_str().into(),
                    Cell::Number(p.from.revision as f64),
                    Cell::Number(p.to.revision as f64),
                    p.from.hash.as_str().into(),
                    p.to.hash.as_str().into(),
                    p.from.group.to_string().as_str().into(),
                    p.to.group.to_string().as_str().into(),
                ])
                .map_err(err)?;
            }
        }
    }
    Ok(Download {
        file_name: format!(
            "compare-{}-{}.xlsx",
            v.from.human_id,
            v.to_label().replace(' ', "-")
        ),
        content_type: SheetFormat::Xlsx.content_type(),
        bytes: w.finish().map_err(err)?,
    })
}

impl App {
    /// A release pack as a workbook, with its baseline's items.
    pub async fn pack_xlsx(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<Download> {
        let d: PackDetail = self.pack(principal, code, human_id).await?;
        let items = self.frozen_items(&d.baseline).await?;
        let mut w = SheetWriter::new(SheetFormat::Xlsx, "Pack").map_err(err)?;
        w.header(&["field", "value"]).map_err(err)?;
        let frozen = d.baseline.frozen.as_ref();
        let rows: Vec<(&str, String)> = vec![
            ("pack", d.pack.human_id.clone()),
            ("name", d.pack.name.clone()),
            ("status", d.pack.status.as_str().to_owned()),
            ("baseline", d.baseline.human_id.clone()),
            ("baseline name", d.baseline.name.clone()),
            (
                "baseline content hash",
                frozen.map(|f| f.content_hash.clone()).unwrap_or_default(),
            ),
            (
                "baseline items",
                frozen.map(|f| f.items.to_string()).unwrap_or_default(),
            ),
            (
                "checklist",
                if d.checklist.passed() {
                    "passed"
                } else {
                    "failing"
                }
                .to_owned(),
            ),
            (
                "lock override",
                d.pack.lock_override.clone().unwrap_or_default(),
            ),
            ("notes", d.pack.notes.clone()),
        ];
        for (k, v) in rows {
            w.row(&[k.into(), v.as_str().into()]).map_err(err)?;
        }
        w.add_sheet("Checklist").map_err(err)?;
        w.header(&["check", "label", "passed", "detail"])
            .map_err(err)?;
        for c in &d.checklist.items {
            w.row(&[
                c.id.into(),
                c.label.into(),
                Cell::Bool(c.passed),
                c.detail.as_str().into(),
            ])
            .map_err(err)?;
        }
        for n in &d.checklist.notes {
            w.row(&["note".into(), Cell::Empty, Cell::Empty, n.as_str().into()])
                .map_err(err)?;
        }
        w.add_sheet("Baseline items").map_err(err)?;
        w.header(&["kind", "artefact", "id", "revision", "revision hash"])
            .map_err(err)?;
        for i in &items {
            w.row(&item_cells(i)).map_err(err)?;
        }
        w.add_sheet("Documents").map_err(err)?;
        w.header(&["title", "reference", "version"]).map_err(err)?;
        for doc in &d.pack.documents {
            w.row(&[
                doc.title.as_str().into(),
                doc.reference.as_str().into(),
                doc.version.as_str().into(),
            ])
            .map_err(err)?;
        }
        w.add_sheet("Adoption actions").map_err(err)?;
        w.header(&["action", "title", "owner", "due", "status"])
            .map_err(err)?;
        for a in &d.actions {
            w.row(&[
                a.human_id.as_str().into(),
                a.title.as_str().into(),
                a.owner.as_str().into(),
                a.due.map_or(Cell::Empty, Cell::Date),
                a.status.as_str().into(),
            ])
            .map_err(err)?;
        }
        w.add_sheet("Decisions").map_err(err)?;
        w.header(&[
            "decided",
            "by",
            "decision",
            "rationale",
            "conditions",
            "checklist passed",
        ])
        .map_err(err)?;
        for dec in &d.decisions {
            w.row(&[
                dec.decided_at.to_rfc3339().as_str().into(),
                dec.decided_by_name.as_str().into(),
                dec.kind.as_str().into(),
                dec.rationale.as_str().into(),
                dec.conditions.as_str().into(),
                Cell::Bool(dec.checklist_passed),
            ])
            .map_err(err)?;
        }
        Ok(Download {
            file_name: format!("{}.xlsx", d.pack.human_id),
            content_type: SheetFormat::Xlsx.content_type(),
            bytes: w.finish().map_err(err)?,
        })
    }
}
