//! Accounts, sessions, authentication limits and API tokens.

use crate::rows::*;
use crate::{db_err, read, transaction, write, Db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_app::ports::{AccountStore, Journal, LimitScope, StoreResult};
use opensesa_domain::accounts::model::{ApiToken, Session, User};
use opensesa_domain::accounts::Email;
use opensesa_domain::ids::{ProjectId, TokenId, UserId};

#[async_trait]
impl AccountStore for Db {
    async fn count_users(&self) -> StoreResult<i64> {
        read!(self, |p| sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(p)
            .await
            .map_err(db_err))
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        let row: Option<UserRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(User::from))
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = $1");
        let row: Option<UserRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(email.as_str())
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(User::from))
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY email");
        let rows: Vec<UserRow> = read!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn insert_user(&self, u: &User, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!("INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                .bind(u.id.0)
                .bind(u.email.as_str())
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(u.is_admin)
                .bind(u.is_active)
                .bind(&u.totp_secret)
                .bind(u.totp_enabled_at)
                .bind(u.totp_last_step)
                .bind(u.created_at)
                .bind(u.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        })
    }

    async fn update_user(&self, u: &User, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE users SET email = $2, display_name = $3, password_hash = $4, is_admin = $5, is_active = $6, \
                 totp_secret = $7, totp_enabled_at = $8, totp_last_step = $9, updated_at = $10 WHERE id = $1",
            )
            .bind(u.id.0)
            .bind(u.email.as_str())
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(u.is_admin)
            .bind(u.is_active)
            .bind(&u.totp_secret)
            .bind(u.totp_enabled_at)
            .bind(u.totp_last_step)
            .bind(u.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(opensesa_app::ports::StoreError::NotFound);
            }
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            for h in hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user.0)
                    .bind(h)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
        })
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = write!(self, |p| {
            sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
        )
        .bind(user.0)
        .bind(hash)
        .bind(at)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()
        });
        Ok(done == 1)
    }

    async fn count_unused_recovery_codes(&self, user: UserId) -> StoreResult<i64> {
        read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL"
        )
        .bind(user.0)
        .fetch_one(p)
        .await
        .map_err(db_err))
    }

    async fn advance_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let done = write!(self, |p| {
            sqlx::query(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
        )
        .bind(user.0)
        .bind(step)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()
        });
        Ok(done == 1)
    }

    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        write!(self, |p| {
            sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(&s.id_hash)
            .bind(s.user_id.0)
            .bind(s.stage.as_str())
            .bind(&s.csrf_token)
            .bind(s.project_id.map(|p| p.0))
            .bind(&s.ip)
            .bind(&s.user_agent)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err)
        })?;
        Ok(())
    }

    async fn find_session_user(&self, id_hash: &str) -> StoreResult<Option<(Session, User)>> {
        let sql = format!(
            "SELECT s.id_hash AS s_id_hash, s.stage AS s_stage, s.csrf_token AS s_csrf_token, s.project_id AS s_project_id, \
             s.ip AS s_ip, s.user_agent AS s_user_agent, s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, \
             s.expires_at AS s_expires_at, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        let row: Option<SessionUserRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id_hash)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(SessionUserRow::split).transpose()
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1"
        )
        .bind(id_hash)
        .bind(at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }

    async fn set_session_project(
        &self,
        id_hash: &str,
        project: Option<ProjectId>,
    ) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "UPDATE sessions SET project_id = $2 WHERE id_hash = $1"
        )
        .bind(id_hash)
        .bind(project.map(|p| p.0))
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "DELETE FROM sessions WHERE id_hash = $1"
        )
        .bind(id_hash)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }

    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        write!(self, |p| {
            sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2) RETURNING id_hash"
        )
        .bind(user.0)
        .bind(keep)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })
    }

    async fn list_user_sessions(&self, user: UserId) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC"
        );
        let rows: Vec<SessionRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(user.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        convert(rows)
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        write!(self, |p| Ok(sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()))
    }

    async fn record_auth_failure(
        &self,
        scope: LimitScope,
        key: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "INSERT INTO auth_failures (scope, key, at) VALUES ($1, $2, $3)"
        )
        .bind(scope.as_str())
        .bind(key)
        .bind(at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }

    async fn auth_failures(
        &self,
        scope: LimitScope,
        key: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
        read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM auth_failures WHERE scope = $1 AND key = $2 AND at > $3"
        )
        .bind(scope.as_str())
        .bind(key)
        .bind(since)
        .fetch_one(p)
        .await
        .map_err(db_err))
    }

    async fn clear_auth_failures(&self, scope: LimitScope, key: &str) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "DELETE FROM auth_failures WHERE scope = $1 AND key = $2"
        )
        .bind(scope.as_str())
        .bind(key)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }

    async fn prune_auth_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        write!(self, |p| Ok(sqlx::query(
            "DELETE FROM auth_failures WHERE at < $1"
        )
        .bind(before)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()))
    }

    async fn insert_token(&self, t: &ApiToken, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO api_tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(t.id.0)
            .bind(t.user_id.0)
            .bind(&t.name)
            .bind(&t.prefix)
            .bind(&t.token_hash)
            .bind(t.created_at)
            .bind(t.last_used_at)
            .bind(t.revoked_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn find_token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1");
        let row: Option<TokenRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(hash)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(ApiToken::from))
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC"
        );
        let rows: Vec<TokenRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(user.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    async fn revoke_token(
        &self,
        id: TokenId,
        user: UserId,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .bind(id.0)
                .bind(user.0)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 0 {
                // Nothing to revoke: no event either (the early return rolls back).
                return Ok(false);
            }
            true
        })
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        write!(self, |p| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1"
        )
        .bind(id.0)
        .bind(at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
        Ok(())
    }
}
