//! Audit events and field-level change sets. Events are append-only: the store refuses
//! updates and deletes of them (a trigger on both backends).

use crate::ids::{EventId, ProjectId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field's value before and after a change. `null` stands for "absent".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// The fields that differ between two JSON object snapshots, in field order. Non-object
/// snapshots are compared whole under the field name `value`.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    // Creation and deletion compare against "no fields at all".
    let empty = Value::Object(serde_json::Map::new());
    let before = if before.is_null() && after.is_object() {
        &empty
    } else {
        before
    };
    let after = if after.is_null() && before.is_object() {
        &empty
    } else {
        after
    };
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter_map(|k| {
                    let bv = b.get(k).unwrap_or(&Value::Null);
                    let av = a.get(k).unwrap_or(&Value::Null);
                    (bv != av).then(|| FieldChange {
                        field: k.clone(),
                        before: bv.clone(),
                        after: av.clone(),
                    })
                })
                .collect()
        }
        _ if before == after => Vec::new(),
        _ => vec![FieldChange {
            field: "value".into(),
            before: before.clone(),
            after: after.clone(),
        }],
    }
}

/// What kind of mutation an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Login,
    LoginFailed,
    Logout,
    Revoke,
    Reset,
    /// A workflow state change (review, approval, obsolescence).
    Transition,
    /// A suspect trace link confirmed again.
    Clear,
    Comment,
    Import,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Login,
        Action::LoginFailed,
        Action::Logout,
        Action::Revoke,
        Action::Reset,
        Action::Transition,
        Action::Clear,
        Action::Comment,
        Action::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::Revoke => "revoke",
            Action::Reset => "reset",
            Action::Transition => "transition",
            Action::Clear => "clear",
            Action::Comment => "comment",
            Action::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An append-only record of one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: EventId,
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    /// The actor's email at the time, kept so the trail reads even after the account changes.
    pub actor: String,
    pub project_id: Option<ProjectId>,
    pub artefact_type: String,
    pub artefact_id: String,
    pub action: Action,
    pub changes: Vec<FieldChange>,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_added_and_removed_fields() {
        let before = json!({"name": "A", "status": "active", "gone": 1});
        let after = json!({"name": "B", "status": "active", "new": true});
        let d = diff(&before, &after);
        let fields: Vec<_> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["gone", "name", "new"]);
        assert_eq!(d[1].before, json!("A"));
        assert_eq!(d[1].after, json!("B"));
        assert_eq!(d[0].after, Value::Null);
        assert!(diff(&before, &before).is_empty());
    }

    #[test]
    fn diff_from_nothing_lists_every_field() {
        let d = diff(&Value::Null, &json!({"a": 1, "b": 2}));
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|c| c.before.is_null()));
    }
}
