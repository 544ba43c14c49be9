//! Roles and what they allow. Enforcement happens in the use cases; this module only says
//! which role is enough for which kind of action.

use serde::{Deserialize, Serialize};

/// A member's role in one project. Ordered: each role includes the rights of the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Editor,
    Lead,
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the project and its artefacts.
    Read,
    /// Create and update artefacts.
    Write,
    /// Review decisions, freeze, lock, governance decisions, project settings and members.
    Lead,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Lead];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "lead" => Ok(Role::Lead),
            other => Err(format!(
                "unknown role {other:?}; expected viewer, editor or lead"
            )),
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        let needed = match permission {
            Permission::Read => Role::Viewer,
            Permission::Write => Role::Editor,
            Permission::Lead => Role::Lead,
        };
        self >= needed
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_cumulative() {
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::Write));
        assert!(Role::Editor.allows(Permission::Write));
        assert!(!Role::Editor.allows(Permission::Lead));
        assert!(Role::Lead.allows(Permission::Lead));
    }

    #[test]
    fn parse_round_trips_and_names_bad_values() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("owner").unwrap_err().contains("owner"));
    }
}
