//! The generic revision mechanism: a versioned artefact keeps every saved state as an
//! append-only revision; its current row carries the number of the latest one.

use crate::ids::{RevisionId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A versioned artefact: it can describe its own content as a JSON snapshot.
pub trait Versioned {
    const ARTEFACT_TYPE: &'static str;
    fn artefact_id(&self) -> String;
    fn revision(&self) -> i64;
    /// The content that a revision records: every field a person edits, no bookkeeping.
    fn snapshot(&self) -> Value;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub id: RevisionId,
    pub artefact_type: String,
    pub artefact_id: String,
    pub number: i64,
    pub data: Value,
    pub content_hash: String,
    pub author_id: Option<UserId>,
    pub at: DateTime<Utc>,
}

impl Revision {
    pub fn of<T: Versioned>(item: &T, author_id: Option<UserId>, at: DateTime<Utc>) -> Self {
        let data = item.snapshot();
        Self {
            id: RevisionId::new(),
            artefact_type: T::ARTEFACT_TYPE.to_owned(),
            artefact_id: item.artefact_id(),
            number: item.revision(),
            content_hash: content_hash(&data),
            data,
            author_id,
            at,
        }
    }
}

/// SHA-256 (hex) of the canonical JSON form: object keys sorted (serde_json's default map is
/// ordered), no insignificant white space. Anyone can recompute it from the snapshot.
pub fn content_hash(data: &Value) -> String {
    let canonical = data.to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_and_sees_values() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":"x"}"#).unwrap_or_default();
        let b = json!({"a": "x", "b": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&b), content_hash(&json!({"a": "y", "b": 1})));
        assert_eq!(content_hash(&b).len(), 64);
    }
}
