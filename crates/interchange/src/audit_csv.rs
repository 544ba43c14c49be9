//! The audit trail as CSV: one row per changed field (one row for an event without field
//! changes), the same for the streamed download and the background export.

use crate::csv_export::CsvWriter;
use opensesa_domain::audit::AuditEvent;
use serde_json::Value;
use std::io::Write;

pub const HEADER: [&str; 9] = [
    "at",
    "actor",
    "action",
    "artefact_type",
    "artefact_id",
    "field",
    "before",
    "after",
    "reason",
];

/// A field value as a cell: text as is, absent as empty, anything else as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes the rows of one event; returns how many.
pub fn write_event<W: Write>(w: &mut CsvWriter<W>, e: &AuditEvent) -> Result<u64, csv::Error> {
    let at = e.at.to_rfc3339();
    let reason = e.reason.clone().unwrap_or_default();
    let base = [
        at.as_str(),
        e.actor.as_str(),
        e.action.as_str(),
        e.artefact_type.as_str(),
        e.artefact_id.as_str(),
    ];
    if e.changes.is_empty() {
        w.row(base.iter().copied().chain(["", "", "", reason.as_str()]))?;
        return Ok(1);
    }
    for ch in &e.changes {
        let (b, a) = (cell(&ch.before), cell(&ch.after));
        w.row(base.iter().copied().chain([
            ch.field.as_str(),
            b.as_str(),
            a.as_str(),
            reason.as_str(),
        ]))?;
    }
    Ok(e.changes.len() as u64)
}
