//! Tabular files (CSV and XLSX) read and written row by row.
