//! Account rules: email addresses, display names and the password policy (OWASP ASVS 6.2:
//! length, no composition rules, not the email, not a commonly used password).

use serde::{Deserialize, Serialize};

/// A normalised (trimmed, lower-cased) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("must look like name@example.org".into());
        };
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("must look like name@example.org".into());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address read back from storage, where it was validated when written.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn parse_display_name(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    if s.chars().count() > 120 {
        return Err("is longer than 120 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_owned())
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Checks a new password against the policy. Returns the reason when refused.
pub fn check_password(password: &str, email: Option<&Email>) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(format!("must be at least {PASSWORD_MIN_CHARS} characters"));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(format!("must be at most {PASSWORD_MAX_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if let Some(email) = email {
        let local = email.local_part();
        if lower == email.as_str() || (local.len() >= 4 && lower.contains(local)) {
            return Err("must not contain your email address".into());
        }
    }
    if is_common_password(&lower) {
        return Err("is too common; choose a less predictable password".into());
    }
    if password
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        < 4
    {
        return Err("must not repeat the same few characters".into());
    }
    Ok(())
}

/// Common passwords of policy length and their stems (from public breach top lists). A
/// password is refused when it is one of them, or one of them with digits or symbols around.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "qwertyuiopasdfgh",
    "qwertyuiop123",
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "iloveyou",
    "letmein",
    "welcome",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "dragon",
    "monkey",
    "master",
    "shadow",
    "superman",
    "batman",
    "trustno1",
    "whatever",
    "starwars",
    "administrator",
    "admin",
    "changeme",
    "secret",
    "opensesa",
    "computer",
    "internet",
    "michael",
    "jennifer",
    "jordan",
    "hunter",
    "charlie",
    "freedom",
    "abcdefghijkl",
    "abcdef123456",
    "aaaaaaaaaaaa",
    "111111111111",
    "000000000000",
    "correcthorsebatterystaple",
    "letmeinnow",
    "welcome123",
    "password123",
    "password1234",
    "qwerty123456",
    "iloveyou123",
    "default",
    "guest",
    "login",
    "access",
    "mustang",
    "harley",
    "ranger",
    "soccer",
    "hockey",
    "killer",
    "summer",
    "winter",
    "spring",
    "autumn",
    "cheese",
    "pepper",
    "ginger",
    "flower",
    "silver",
    "golden",
    "orange",
    "purple",
];

fn is_common_password(lower: &str) -> bool {
    let stem: String = lower
        .trim_matches(|c: char| !c.is_alphabetic())
        .chars()
        .collect();
    COMMON
        .iter()
        .any(|c| *c == lower || (!stem.is_empty() && *c == stem))
        || lower.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_validated() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").map(|e| e.0),
            Ok("ada@example.org".into())
        );
        for bad in ["", "ada", "@x.org", "ada@", "a b@x.org", "a@b@c", "a@.x"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("grace.hopper@navy.mil").ok();
        assert!(check_password("short", None)
            .unwrap_err()
            .contains("at least"));
        assert!(check_password("Password1234!", None)
            .unwrap_err()
            .contains("common"));
        assert!(check_password("welcome123!!", None)
            .unwrap_err()
            .contains("common"));
        assert!(check_password("123456789012345", None).is_err());
        assert!(check_password("grace.hopper-rocks", email.as_ref())
            .unwrap_err()
            .contains("email"));
        assert!(check_password("abababababab", None)
            .unwrap_err()
            .contains("repeat"));
        assert!(check_password("tide-lantern-orbit-42", email.as_ref()).is_ok());
        assert!(check_password(&"x1y2".repeat(40), None)
            .unwrap_err()
            .contains("at most"));
    }
}

/// Account records. These are plain data; the rules that change them live in `app::accounts`.
pub mod model {
    use super::Email;
    use crate::ids::{ProjectId, TokenId, UserId};
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct User {
        pub id: UserId,
        pub email: Email,
        pub display_name: String,
        /// Argon2id PHC string.
        #[serde(skip_serializing)]
        pub password_hash: String,
        pub is_admin: bool,
        pub is_active: bool,
        /// TOTP secret, encrypted with a key derived from the secret key.
        #[serde(skip_serializing)]
        pub totp_secret: Option<String>,
        pub totp_enabled_at: Option<DateTime<Utc>>,
        /// Last accepted TOTP time step: a code of this step or earlier is a replay.
        pub totp_last_step: Option<i64>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    impl User {
        pub fn mfa_enabled(&self) -> bool {
            self.totp_enabled_at.is_some()
        }

        /// The fields the audit trail records (never secrets or hashes).
        pub fn snapshot(&self) -> Value {
            json!({
                "email": self.email,
                "display_name": self.display_name,
                "is_admin": self.is_admin,
                "is_active": self.is_active,
                "mfa_enabled": self.mfa_enabled(),
            })
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SessionStage {
        /// Password accepted, second factor still due: only the MFA pages answer.
        MfaPending,
        Active,
    }

    impl SessionStage {
        pub fn as_str(self) -> &'static str {
            match self {
                SessionStage::MfaPending => "mfa_pending",
                SessionStage::Active => "active",
            }
        }

        pub fn parse(s: &str) -> Option<Self> {
            match s {
                "mfa_pending" => Some(Self::MfaPending),
                "active" => Some(Self::Active),
                _ => None,
            }
        }
    }

    /// A server-side session. Only the SHA-256 of the cookie value is stored.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Session {
        pub id_hash: String,
        pub user_id: UserId,
        pub stage: SessionStage,
        pub csrf_token: String,
        pub project_id: Option<ProjectId>,
        pub ip: String,
        pub user_agent: String,
        pub created_at: DateTime<Utc>,
        pub last_seen_at: DateTime<Utc>,
        pub expires_at: DateTime<Utc>,
    }

    /// A personal API token. Only its SHA-256 is stored; `prefix` lets a person recognise it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ApiToken {
        pub id: TokenId,
        pub user_id: UserId,
        pub name: String,
        pub prefix: String,
        #[serde(skip_serializing)]
        pub token_hash: String,
        pub created_at: DateTime<Utc>,
        pub last_used_at: Option<DateTime<Utc>>,
        pub revoked_at: Option<DateTime<Utc>>,
    }
}
