//! Reachability and schema level, for `/readyz`, `serve`'s start-up refusal and `check`.

use crate::{db_err, migrate, read, Db};
use async_trait::async_trait;
use opensesa_app::ports::{HealthStore, SchemaStatus, StoreResult};

#[async_trait]
impl HealthStore for Db {
    async fn ping(&self) -> StoreResult<()> {
        read!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ())
            .map_err(db_err))?;
        Ok(())
    }

    async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        migrate::status(self).await
    }

    fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }
}
