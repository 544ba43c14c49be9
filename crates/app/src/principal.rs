//! The authenticated caller of a use case.

use opensesa_domain::accounts::model::{Session, User};

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The browser session, when the caller came with a cookie (not with an API token).
    pub session: Option<Session>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }

    pub fn label(&self) -> String {
        self.user.email.to_string()
    }
}
