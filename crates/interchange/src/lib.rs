//! Import and export formats. For now: CSV writing that is safe to open in a spreadsheet.
//! XLSX, ReqIF and JSON archives join as the modules that need them land.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod audit_csv;
pub mod csv_export;
pub mod junit;
mod position;
pub mod reqif;
pub mod sheet;
