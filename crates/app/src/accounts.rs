//! Accounts: login with password and second factor, sessions, MFA enrolment and recovery
//! codes, password changes, API tokens, and the site admin's user management.

use crate::audit::EventBuilder;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::ports::{Journal, LimitScope};
use crate::{App, MfaPolicy, Principal};
use chrono::{DateTime, Utc};
use opensesa_domain::accounts::model::{ApiToken, Session, SessionStage, User};
use opensesa_domain::accounts::{check_password, parse_display_name, Email};
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{TokenId, UserId};
use opensesa_domain::FieldErrors;

/// Where the client came from, for limits and the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// A new session: the cookie value (shown once, never stored) and its record.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
}

/// What the person must do after a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Enter a TOTP or recovery code.
    MfaCode,
    /// Logged in, but the policy requires enrolling a second factor first.
    MfaEnrolment,
    Done,
}

/// Which factor completed a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

pub struct MfaEnrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// Tokens are `osa_` followed by 40 base32 characters (200 bits).
pub const TOKEN_PREFIX: &str = "osa_";

/// Session last-seen times are written at most this often, so reading a page is not a write.
const TOUCH_EVERY_SECS: i64 = 60;

impl App {
    fn session_hash(token: &str) -> String {
        crypto::sha256_hex(token)
    }

    /// Whether the policy requires this user to have a second factor.
    pub fn mfa_required_for(&self, user: &User) -> bool {
        match self.settings.mfa_policy {
            MfaPolicy::Off => false,
            MfaPolicy::Admins => user.is_admin,
            MfaPolicy::All => true,
        }
    }

    async fn check_limits(&self, account_key: &str, ip: &str) -> AppResult<()> {
        let policy = &self.settings.lockout;
        let now = self.clock.now();
        let since = now - policy.window;
        for (scope, key, limit) in [
            (LimitScope::Account, account_key, policy.account_limit),
            (LimitScope::Address, ip, policy.address_limit),
        ] {
            if key.is_empty() {
                continue;
            }
            let (count, last) = self.store.auth_failures(scope, key, since).await?;
            if count >= limit {
                if let Some(last) = last {
                    let until = last + policy.lock_for;
                    if until > now {
                        return Err(AppError::RateLimited {
                            retry_after_secs: (until - now).num_seconds().max(1),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    async fn record_failure(&self, account_key: &str, ip: &str, what: &str) -> AppResult<()> {
        let now = self.clock.now();
        self.store
            .record_auth_failure(LimitScope::Account, account_key, now)
            .await?;
        if !ip.is_empty() {
            self.store
                .record_auth_failure(LimitScope::Address, ip, now)
                .await?;
        }
        // Logged with the key escaped by the structured logger (no log injection).
        tracing::warn!(account = account_key, ip, what, "authentication failure");
        Ok(())
    }

    async fn new_session(
        &self,
        user: &User,
        stage: SessionStage,
        client: &ClientInfo,
        project: Option<opensesa_domain::ids::ProjectId>,
    ) -> AppResult<NewSession> {
        let token = crypto::random_token(32);
        let now = self.clock.now();
        let session = Session {
            id_hash: Self::session_hash(&token),
            user_id: user.id,
            stage,
            csrf_token: crypto::random_token(20),
            project_id: project,
            ip: client.ip.chars().take(64).collect(),
            user_agent: client.user_agent.chars().take(300).collect(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.session_absolute,
        };
        self.store.insert_session(&session).await?;
        Ok(NewSession { token, session })
    }

    async fn end_session(&self, id_hash: &str) -> AppResult<()> {
        self.store.delete_session(id_hash).await?;
        if let Some(cache) = &self.cache {
            cache.remove(&[id_hash.to_owned()]).await;
        }
        Ok(())
    }

    /// Checks email and password. On success the previous session (if any) is ended and a new
    /// one begins: fully active, or waiting for the second factor.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
        previous_token: Option<&str>,
    ) -> AppResult<(NewSession, NextStep)> {
        let account_key = email.trim().to_lowercase();
        self.check_limits(&account_key, &client.ip).await?;
        let user = match Email::parse(email) {
            Ok(e) => self.store.find_user_by_email(&e).await?,
            Err(_) => None,
        };
        let ok = match &user {
            Some(u) => {
                crypto::verify_password_off_thread(password, &u.password_hash).await && u.is_active
            }
            None => {
                let _ = crypto::verify_password_off_thread(password, &self.dummy_hash).await;
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            self.record_failure(&account_key, &client.ip, "password")
                .await?;
            let event = EventBuilder::new(self, None, Action::LoginFailed, "user", &account_key)
                .change("ip", serde_json::Value::Null, client.ip.clone().into())
                .build();
            self.store.append_journal(&Journal::event(event)).await?;
            return Err(AppError::Unauthenticated);
        };
        self.store
            .clear_auth_failures(LimitScope::Account, &account_key)
            .await?;
        if let Some(prev) = previous_token {
            self.end_session(&Self::session_hash(prev)).await?;
        }
        let (stage, next) = if user.mfa_enabled() {
            (SessionStage::MfaPending, NextStep::MfaCode)
        } else if self.mfa_required_for(&user) {
            (SessionStage::Active, NextStep::MfaEnrolment)
        } else {
            (SessionStage::Active, NextStep::Done)
        };
        let session = self.new_session(&user, stage, client, None).await?;
        if stage == SessionStage::Active {
            self.audit_login(&user, client, "password").await?;
        }
        Ok((session, next))
    }

    async fn audit_login(&self, user: &User, client: &ClientInfo, method: &str) -> AppResult<()> {
        let event = EventBuilder::new(
            self,
            Some((user.id, user.email.to_string())),
            Action::Login,
            "user",
            user.id,
        )
        .change("ip", serde_json::Value::Null, client.ip.clone().into())
        .change("method", serde_json::Value::Null, method.into())
        .build();
        self.store.append_journal(&Journal::event(event)).await?;
        Ok(())
    }

    /// Completes a login with a TOTP code or a recovery code. The pending session is replaced
    /// by a new active one (new id).
    pub async fn complete_mfa(
        &self,
        pending: &Session,
        code: &str,
        client: &ClientInfo,
    ) -> AppResult<(NewSession, SecondFactor)> {
        if pending.stage != SessionStage::MfaPending {
            return Err(AppError::Conflict(
                "this session has no second factor pending".into(),
            ));
        }
        let user = self
            .store
            .find_user(pending.user_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let account_key = user.email.to_string();
        self.check_limits(&account_key, &client.ip).await?;
        let factor = self.check_second_factor(&user, code).await?;
        let Some(factor) = factor else {
            self.record_failure(&account_key, &client.ip, "second factor")
                .await?;
            return Err(AppError::field(
                "code",
                "is not a valid authentication or recovery code",
            ));
        };
        self.store
            .clear_auth_failures(LimitScope::Account, &account_key)
            .await?;
        self.end_session(&pending.id_hash).await?;
        let session = self
            .new_session(&user, SessionStage::Active, client, pending.project_id)
            .await?;
        let method = match factor {
            SecondFactor::Totp => "password+totp",
            SecondFactor::RecoveryCode => "password+recovery_code",
        };
        self.audit_login(&user, client, method).await?;
        Ok((session, factor))
    }

    /// `Some(factor)` when `code` is a current unused TOTP code or an unused recovery code.
    async fn check_second_factor(
        &self,
        user: &User,
        code: &str,
    ) -> AppResult<Option<SecondFactor>> {
        let code = code.trim();
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            let Some(secret) = self.totp_secret(user)? else {
                return Ok(None);
            };
            let now = self.clock.now().timestamp().max(0) as u64;
            if let Some(step) = crypto::totp_match(&secret, code, now) {
                // A code is single use per step: the store accepts only a newer step.
                if self.store.advance_totp_step(user.id, step).await? {
                    return Ok(Some(SecondFactor::Totp));
                }
            }
            return Ok(None);
        }
        let normal = crypto::normalise_recovery_code(code);
        if normal.len() == 10 && user.mfa_enabled() {
            let hash = crypto::sha256_hex(&normal);
            if self
                .store
                .use_recovery_code(user.id, &hash, self.clock.now())
                .await?
            {
                return Ok(Some(SecondFactor::RecoveryCode));
            }
        }
        Ok(None)
    }

    fn totp_secret(&self, user: &User) -> AppResult<Option<Vec<u8>>> {
        match &user.totp_secret {
            Some(sealed) => self
                .secrets
                .open(sealed)
                .map(Some)
                .map_err(AppError::Internal),
            None => Ok(None),
        }
    }

    /// The session and user behind a cookie value, when both are valid. Expired sessions
    /// (idle or absolute) are ended here.
    pub async fn resolve_session(&self, token: &str) -> AppResult<Option<(Session, User)>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = Self::session_hash(token);
        let cached = match &self.cache {
            Some(c) => c.get(&hash).await,
            None => None,
        };
        let from_cache = cached.is_some();
        let found = match cached {
            Some(session) => self
                .store
                .find_user(session.user_id)
                .await?
                .map(|user| (session, user)),
            None => self.store.find_session_user(&hash).await?,
        };
        let Some((mut session, user)) = found else {
            return Ok(None);
        };
        let now = self.clock.now();
        if session.expires_at <= now || session.last_seen_at + self.settings.session_idle <= now {
            self.end_session(&hash).await?;
            return Ok(None);
        }
        if !user.is_active {
            self.end_session(&hash).await?;
            return Ok(None);
        }
        if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
            self.store.touch_session(&hash, now).await?;
            session.last_seen_at = now;
            if let Some(c) = &self.cache {
                c.put(&session).await;
            }
        } else if !from_cache {
            if let Some(c) = &self.cache {
                c.put(&session).await;
            }
        }
        Ok(Some((session, user)))
    }

    pub async fn logout(&self, session: &Session) -> AppResult<()> {
        self.end_session(&session.id_hash).await?;
        let event = EventBuilder::new(self, None, Action::Logout, "user", session.user_id).build();
        self.store.append_journal(&Journal::event(event)).await?;
        Ok(())
    }

    /// Ends every session of the caller (this one included) — "log out everywhere".
    pub async fn logout_everywhere(&self, principal: &Principal) -> AppResult<u64> {
        let ended = self.end_user_sessions(principal.user.id, None).await?;
        let event = EventBuilder::by(self, principal, Action::Logout, "user", principal.user.id)
            .change("sessions_ended", serde_json::Value::Null, ended.into())
            .build();
        self.store.append_journal(&Journal::event(event)).await?;
        Ok(ended)
    }

    async fn end_user_sessions(&self, user: UserId, keep: Option<&str>) -> AppResult<u64> {
        let hashes = self.store.delete_user_sessions(user, keep).await?;
        if let Some(cache) = &self.cache {
            cache.remove(&hashes).await;
        }
        Ok(hashes.len() as u64)
    }

    pub async fn end_own_session(&self, principal: &Principal, id_hash: &str) -> AppResult<()> {
        let sessions = self.store.list_user_sessions(principal.user.id).await?;
        if !sessions.iter().any(|s| s.id_hash == id_hash) {
            return Err(AppError::NotFound);
        }
        self.end_session(id_hash).await
    }

    pub async fn list_sessions(&self, principal: &Principal) -> AppResult<Vec<Session>> {
        Ok(self.store.list_user_sessions(principal.user.id).await?)
    }

    pub async fn select_project(
        &self,
        session: &Session,
        project: opensesa_domain::ids::ProjectId,
    ) -> AppResult<()> {
        if session.project_id != Some(project) {
            self.store
                .set_session_project(&session.id_hash, Some(project))
                .await?;
            if let Some(c) = &self.cache {
                let mut s = session.clone();
                s.project_id = Some(project);
                c.put(&s).await;
            }
        }
        Ok(())
    }

    /// Re-authentication before a sensitive change (ASVS 7.5.1): the current password, and
    /// the second factor when one is enrolled.
    async fn reauthenticate(
        &self,
        principal: &Principal,
        password: &str,
        code: Option<&str>,
    ) -> AppResult<User> {
        let user = self
            .store
            .find_user(principal.user.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let key = user.email.to_string();
        self.check_limits(&key, "").await?;
        if !crypto::verify_password_off_thread(password, &user.password_hash).await {
            self.record_failure(&key, "", "re-authentication").await?;
            return Err(AppError::field(
                "current_password",
                "is not your current password",
            ));
        }
        if user.mfa_enabled() {
            let code = code.unwrap_or_default();
            if self.check_second_factor(&user, code).await?.is_none() {
                self.record_failure(&key, "", "re-authentication second factor")
                    .await?;
                return Err(AppError::field(
                    "code",
                    "is not a valid authentication or recovery code",
                ));
            }
        }
        Ok(user)
    }

    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        code: Option<&str>,
        new: &str,
    ) -> AppResult<()> {
        let mut user = self.reauthenticate(principal, current, code).await?;
        check_password(new, Some(&user.email)).map_err(|r| AppError::field("new_password", r))?;
        user.password_hash = crypto::hash_password_off_thread(new)
            .await
            .map_err(AppError::Internal)?;
        user.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Update, "user", user.id)
            .change("password", "[set]".into(), "[changed]".into())
            .build();
        self.store
            .update_user(&user, &Journal::event(event))
            .await?;
        let keep = principal.session.as_ref().map(|s| s.id_hash.as_str());
        self.end_user_sessions(user.id, keep).await?;
        Ok(())
    }

    /// Starts (or restarts) TOTP enrolment: a new secret is stored sealed but not active.
    pub async fn begin_mfa_enrolment(&self, principal: &Principal) -> AppResult<MfaEnrolment> {
        let mut user = self
            .store
            .find_user(principal.user.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if user.mfa_enabled() {
            return Err(AppError::Conflict(
                "two-factor authentication is already enabled; disable it first".into(),
            ));
        }
        let secret = crypto::new_totp_secret();
        user.totp_secret = Some(self.secrets.seal(&secret).map_err(AppError::Internal)?);
        user.totp_last_step = None;
        user.updated_at = self.clock.now();
        self.store.update_user(&user, &Journal::default()).await?;
        Ok(MfaEnrolment {
            secret_base32: data_encoding::BASE32_NOPAD.encode(&secret),
            otpauth_uri: crypto::totp_uri(&secret, &self.settings.totp_issuer, user.email.as_str()),
        })
    }

    /// The pending enrolment of the caller, if one was begun.
    pub async fn pending_mfa_enrolment(
        &self,
        principal: &Principal,
    ) -> AppResult<Option<MfaEnrolment>> {
        let user = self
            .store
            .find_user(principal.user.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if user.mfa_enabled() {
            return Ok(None);
        }
        Ok(self.totp_secret(&user)?.map(|secret| MfaEnrolment {
            secret_base32: data_encoding::BASE32_NOPAD.encode(&secret),
            otpauth_uri: crypto::totp_uri(&secret, &self.settings.totp_issuer, user.email.as_str()),
        }))
    }

    /// Activates TOTP after a correct code; returns the 10 recovery codes (shown once).
    pub async fn confirm_mfa_enrolment(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<Vec<String>> {
        let mut user = self
            .store
            .find_user(principal.user.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if user.mfa_enabled() {
            return Err(AppError::Conflict(
                "two-factor authentication is already enabled".into(),
            ));
        }
        let secret = self
            .totp_secret(&user)?
            .ok_or_else(|| AppError::field("code", "start the enrolment first"))?;
        let now = self.clock.now().timestamp().max(0) as u64;
        let Some(step) = crypto::totp_match(&secret, code, now) else {
            return Err(AppError::field(
                "code",
                "does not match; check the time on your device and try the current code",
            ));
        };
        let before = user.snapshot();
        user.totp_enabled_at = Some(self.clock.now());
        user.totp_last_step = Some(step);
        user.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Update, "user", user.id)
            .changes(&before, &user.snapshot())
            .build();
        self.store
            .update_user(&user, &Journal::event(event))
            .await?;
        self.issue_recovery_codes(principal, &user).await
    }

    async fn issue_recovery_codes(
        &self,
        principal: &Principal,
        user: &User,
    ) -> AppResult<Vec<String>> {
        let codes: Vec<String> = (0..10).map(|_| crypto::new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| crypto::sha256_hex(&crypto::normalise_recovery_code(c)))
            .collect();
        let event =
            EventBuilder::by(self, principal, Action::Reset, "recovery_codes", user.id).build();
        self.store
            .replace_recovery_codes(user.id, &hashes, &Journal::event(event))
            .await?;
        Ok(codes)
    }

    pub async fn regenerate_recovery_codes(
        &self,
        principal: &Principal,
        password: &str,
        code: &str,
    ) -> AppResult<Vec<String>> {
        let user = self.reauthenticate(principal, password, Some(code)).await?;
        if !user.mfa_enabled() {
            return Err(AppError::Conflict(
                "enable two-factor authentication first".into(),
            ));
        }
        self.issue_recovery_codes(principal, &user).await
    }

    pub async fn recovery_codes_left(&self, principal: &Principal) -> AppResult<i64> {
        Ok(self
            .store
            .count_unused_recovery_codes(principal.user.id)
            .await?)
    }

    /// Turns MFA off for the caller (after re-authentication), unless the policy requires it.
    pub async fn disable_mfa(
        &self,
        principal: &Principal,
        password: &str,
        code: &str,
    ) -> AppResult<()> {
        let user = self.reauthenticate(principal, password, Some(code)).await?;
        if self.mfa_required_for(&user) {
            return Err(AppError::forbidden(
                "the site policy requires two-factor authentication for your account",
            ));
        }
        self.clear_mfa(principal, user, Action::Update).await
    }

    async fn clear_mfa(
        &self,
        principal: &Principal,
        mut user: User,
        action: Action,
    ) -> AppResult<()> {
        let before = user.snapshot();
        user.totp_secret = None;
        user.totp_enabled_at = None;
        user.totp_last_step = None;
        user.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, action, "user", user.id)
            .changes(&before, &user.snapshot())
            .build();
        self.store
            .update_user(&user, &Journal::event(event))
            .await?;
        self.store
            .replace_recovery_codes(user.id, &[], &Journal::default())
            .await?;
        Ok(())
    }

    fn require_admin(principal: &Principal) -> AppResult<()> {
        if principal.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden("only site admins may do this"))
        }
    }

    /// A site admin resets a user's second factor (lost device); the user's sessions end.
    pub async fn admin_reset_mfa(&self, principal: &Principal, user_id: UserId) -> AppResult<()> {
        Self::require_admin(principal)?;
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.clear_mfa(principal, user, Action::Reset).await?;
        self.end_user_sessions(user_id, None).await?;
        Ok(())
    }

    /// Creates an account. `actor` is `None` only for the command line (`createsuperuser`,
    /// `demo`), which runs with the operator's authority.
    pub async fn create_user(
        &self,
        actor: Option<&Principal>,
        email: &str,
        display_name: &str,
        password: &str,
        is_admin: bool,
    ) -> AppResult<User> {
        if let Some(p) = actor {
            Self::require_admin(p)?;
        }
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(email));
        let name = errors.check("display_name", parse_display_name(display_name));
        errors.check("password", check_password(password, email.as_ref()));
        errors.into_result()?;
        let (Some(email), Some(display_name)) = (email, name) else {
            return Err(AppError::Internal("validated fields missing".into()));
        };
        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(AppError::field("email", "is already registered"));
        }
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            email,
            display_name,
            password_hash: crypto::hash_password_off_thread(password)
                .await
                .map_err(AppError::Internal)?,
            is_admin,
            is_active: true,
            totp_secret: None,
            totp_enabled_at: None,
            totp_last_step: None,
            created_at: now,
            updated_at: now,
        };
        let actor_pair = actor.map(|p| (p.user.id, p.label()));
        let event = EventBuilder::new(self, actor_pair, Action::Create, "user", user.id)
            .changes(&serde_json::Value::Null, &user.snapshot())
            .build();
        self.store
            .insert_user(&user, &Journal::event(event))
            .await
            .map_err(|e| match e {
                crate::ports::StoreError::Conflict(_) => {
                    AppError::field("email", "is already registered")
                }
                other => other.into(),
            })?;
        Ok(user)
    }

    pub async fn list_users(&self, principal: &Principal) -> AppResult<Vec<User>> {
        Self::require_admin(principal)?;
        Ok(self.store.list_users().await?)
    }

    /// A site admin enables or disables an account, or grants or takes the admin flag.
    /// Disabling ends the user's sessions. Admins cannot lock themselves out.
    pub async fn admin_update_user(
        &self,
        principal: &Principal,
        user_id: UserId,
        active: Option<bool>,
        admin: Option<bool>,
    ) -> AppResult<User> {
        Self::require_admin(principal)?;
        if user_id == principal.user.id && (active == Some(false) || admin == Some(false)) {
            return Err(AppError::forbidden(
                "you cannot disable or demote your own account",
            ));
        }
        let mut user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let before = user.snapshot();
        if let Some(a) = active {
            user.is_active = a;
        }
        if let Some(a) = admin {
            user.is_admin = a;
        }
        user.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Update, "user", user.id)
            .changes(&before, &user.snapshot())
            .build();
        self.store
            .update_user(&user, &Journal::event(event))
            .await?;
        if !user.is_active {
            self.end_user_sessions(user.id, None).await?;
        }
        Ok(user)
    }

    /// Creates a personal API token; the plain value is returned once and never stored.
    pub async fn create_api_token(
        &self,
        principal: &Principal,
        name: &str,
    ) -> AppResult<(String, ApiToken)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::field(
                "name",
                "is required (at most 100 characters)",
            ));
        }
        let plain = format!("{TOKEN_PREFIX}{}", crypto::random_token(25));
        let token = ApiToken {
            id: TokenId::new(),
            user_id: principal.user.id,
            name: name.to_owned(),
            prefix: plain.chars().take(10).collect(),
            token_hash: crypto::sha256_hex(&plain),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let event = EventBuilder::by(self, principal, Action::Create, "api_token", token.id)
            .change("name", serde_json::Value::Null, name.into())
            .build();
        self.store
            .insert_token(&token, &Journal::event(event))
            .await?;
        Ok((plain, token))
    }

    pub async fn list_api_tokens(&self, principal: &Principal) -> AppResult<Vec<ApiToken>> {
        Ok(self.store.list_tokens(principal.user.id).await?)
    }

    pub async fn revoke_api_token(&self, principal: &Principal, id: TokenId) -> AppResult<()> {
        let event = EventBuilder::by(self, principal, Action::Revoke, "api_token", id).build();
        if self
            .store
            .revoke_token(
                id,
                principal.user.id,
                self.clock.now(),
                &Journal::event(event),
            )
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The user behind a bearer token, when the token is known, not revoked and the account
    /// is active and meets the MFA policy.
    pub async fn resolve_api_token(&self, plain: &str) -> AppResult<Option<User>> {
        if !plain.starts_with(TOKEN_PREFIX) || plain.len() > 100 {
            return Ok(None);
        }
        let Some(token) = self
            .store
            .find_token_by_hash(&crypto::sha256_hex(plain))
            .await?
        else {
            return Ok(None);
        };
        if token.revoked_at.is_some() {
            return Ok(None);
        }
        let Some(user) = self.store.find_user(token.user_id).await? else {
            return Ok(None);
        };
        if !user.is_active || (self.mfa_required_for(&user) && !user.mfa_enabled()) {
            return Ok(None);
        }
        let now = self.clock.now();
        if token
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECS)
        {
            self.store.touch_token(token.id, now).await?;
        }
        Ok(Some(user))
    }

    /// Periodic maintenance: expired sessions and old authentication failures.
    pub async fn prune_auth_state(&self) -> AppResult<(u64, u64)> {
        let now = self.clock.now();
        let sessions = self.store.delete_expired_sessions(now).await?;
        let failures = self
            .store
            .prune_auth_failures(now - chrono::Duration::days(1))
            .await?;
        Ok((sessions, failures))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
