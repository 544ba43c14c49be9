//! Validation errors that name the field and the reason.

use serde::Serialize;
use std::collections::BTreeMap;

/// Reasons per field, in a stable order so messages and JSON are deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, reason: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, reason);
        e
    }

    pub fn add(&mut self, field: &str, reason: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(reason.into());
    }

    /// Records the error of a parse step under `field` and returns the parsed value if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.add(field, reason);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was recorded, the collected errors otherwise.
    pub fn into_result(self) -> Result<(), ValidationError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ValidationError(self))
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, reasons) in &self.0 {
            for reason in reasons {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {reason}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {0}")]
pub struct ValidationError(pub FieldErrors);

impl ValidationError {
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        Self(FieldErrors::single(field, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_field_and_reason_in_order() {
        let mut e = FieldErrors::new();
        e.add("name", "is required");
        e.add("code", "is too long");
        assert_eq!(e.to_string(), "code: is too long; name: is required");
        assert!(e.into_result().is_err());
        assert!(FieldErrors::new().into_result().is_ok());
    }
}
