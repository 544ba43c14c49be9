//! Programs, projects, phases, organisations and memberships.

use crate::rows::*;
use crate::{db_err, read, transaction, Db};
use async_trait::async_trait;
use opensesa_app::ports::{
    Journal, MemberRow, PortfolioStore, ProjectWithRole, StoreError, StoreResult,
};
use opensesa_domain::access::Role;
use opensesa_domain::ids::{OrganisationId, PhaseId, ProgramId, ProjectId, UserId};
use opensesa_domain::portfolio::{Membership, Organisation, Phase, Program, Project};

#[async_trait]
impl PortfolioStore for Db {
    async fn list_programs(&self) -> StoreResult<Vec<Program>> {
        let sql = format!("SELECT {PROGRAM_COLS} FROM programs ORDER BY code");
        let rows: Vec<ProgramRow> = read!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Program::from).collect())
    }

    async fn find_program_by_code(&self, code: &str) -> StoreResult<Option<Program>> {
        let sql = format!("SELECT {PROGRAM_COLS} FROM programs WHERE code = $1");
        let row: Option<ProgramRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(code)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Program::from))
    }

    async fn find_program(&self, id: ProgramId) -> StoreResult<Option<Program>> {
        let sql = format!("SELECT {PROGRAM_COLS} FROM programs WHERE id = $1");
        let row: Option<ProgramRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Program::from))
    }

    async fn insert_program(&self, g: &Program, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO programs ({PROGRAM_COLS}) VALUES ($1, $2, $3, $4, $5)"
            ))
            .bind(g.id.0)
            .bind(&g.code)
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects ORDER BY code");
        let rows: Vec<ProjectRow> = read!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        convert(rows)
    }

    async fn list_projects_for_user(&self, user: UserId) -> StoreResult<Vec<ProjectWithRole>> {
        let sql = format!(
            "SELECT {cols}, m.role AS member_role FROM projects p JOIN memberships m ON m.project_id = p.id \
             WHERE m.user_id = $1 ORDER BY p.code",
            cols = PROJECT_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            project: ProjectRow,
            member_role: String,
        }
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(&sql)
            .bind(user.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter()
            .map(|r| {
                let role =
                    Role::parse(&r.member_role).map_err(|e| StoreError::Backend(e.into()))?;
                Ok(ProjectWithRole {
                    project: Project::try_from(r.project)?,
                    role: Some(role),
                })
            })
            .collect()
    }

    async fn find_project_by_code(&self, code: &str) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE code = $1");
        let row: Option<ProjectRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(code)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Project::try_from).transpose()
    }

    async fn find_project_for_user(
        &self,
        code: &str,
        user: UserId,
    ) -> StoreResult<Option<(Project, Option<Role>)>> {
        let sql = format!(
            "SELECT {}, m.role AS member_role FROM projects p \
             LEFT JOIN memberships m ON m.project_id = p.id AND m.user_id = $2 WHERE p.code = $1",
            PROJECT_COLS
                .split(", ")
                .map(|c| format!("p.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            project: ProjectRow,
            member_role: Option<String>,
        }
        let row: Option<Row> = read!(self, |p| sqlx::query_as(&sql)
            .bind(code)
            .bind(user.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        let Some(row) = row else { return Ok(None) };
        let role = match row.member_role {
            Some(r) => Some(Role::parse(&r).map_err(|e| StoreError::Backend(e.into()))?),
            None => None,
        };
        Ok(Some((Project::try_from(row.project)?, role)))
    }

    async fn find_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
        let row: Option<ProjectRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Project::try_from).transpose()
    }

    async fn insert_project(&self, g: &Project, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO projects ({PROJECT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(g.id.0)
            .bind(&g.code)
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.program_id.map(|i| i.0))
            .bind(g.status.as_str())
            .bind(g.revision)
            .bind(g.created_at)
            .bind(g.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn update_project(&self, g: &Project, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE projects SET code = $2, name = $3, description = $4, program_id = $5, status = $6, revision = $7, \
                 updated_at = $8 WHERE id = $1 AND revision = $7 - 1",
            )
            .bind(g.id.0)
            .bind(&g.code)
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.program_id.map(|i| i.0))
            .bind(g.status.as_str())
            .bind(g.revision)
            .bind(g.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(
                    "the project was changed by someone else; reload and retry".into(),
                ));
            }
        })
    }

    async fn list_phases(&self, project: ProjectId) -> StoreResult<Vec<Phase>> {
        let sql = format!("SELECT {PHASE_COLS} FROM phases WHERE project_id = $1 ORDER BY ordinal");
        let rows: Vec<PhaseRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Phase::from).collect())
    }

    async fn find_phase(&self, project: ProjectId, id: PhaseId) -> StoreResult<Option<Phase>> {
        let sql = format!("SELECT {PHASE_COLS} FROM phases WHERE project_id = $1 AND id = $2");
        let row: Option<PhaseRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Phase::from))
    }

    async fn insert_phase(&self, f: &Phase, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO phases ({PHASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(f.id.0)
            .bind(f.project_id.0)
            .bind(f.ordinal)
            .bind(&f.name)
            .bind(f.starts_on)
            .bind(f.ends_on)
            .bind(f.revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn update_phase(&self, f: &Phase, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE phases SET ordinal = $3, name = $4, starts_on = $5, ends_on = $6, revision = $7 \
                 WHERE project_id = $1 AND id = $2 AND revision = $7 - 1",
            )
            .bind(f.project_id.0)
            .bind(f.id.0)
            .bind(f.ordinal)
            .bind(&f.name)
            .bind(f.starts_on)
            .bind(f.ends_on)
            .bind(f.revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(
                    "the phase was changed by someone else; reload and retry".into(),
                ));
            }
        })
    }

    async fn delete_phase(
        &self,
        project: ProjectId,
        id: PhaseId,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query("DELETE FROM phases WHERE project_id = $1 AND id = $2")
                .bind(project.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        })
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations ORDER BY code");
        let rows: Vec<OrgRow> = read!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Organisation::from).collect())
    }

    async fn find_organisation(&self, id: OrganisationId) -> StoreResult<Option<Organisation>> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE id = $1");
        let row: Option<OrgRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Organisation::from))
    }

    async fn find_organisation_by_code(&self, code: &str) -> StoreResult<Option<Organisation>> {
        let sql = format!("SELECT {ORG_COLS} FROM organisations WHERE code = $1");
        let row: Option<OrgRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(code)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Organisation::from))
    }

    async fn insert_organisation(&self, o: &Organisation, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO organisations ({ORG_COLS}) VALUES ($1, $2, $3, $4)"
            ))
            .bind(o.id.0)
            .bind(&o.code)
            .bind(&o.name)
            .bind(o.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn list_members(&self, project: ProjectId) -> StoreResult<Vec<MemberRow>> {
        let sql = format!(
            "SELECT {}, m.project_id AS m_project_id, m.role AS m_role, m.organisation_id AS m_organisation_id, \
             m.created_at AS m_created_at, o.code AS o_code, o.name AS o_name, o.created_at AS o_created_at \
             FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN organisations o ON o.id = m.organisation_id \
             WHERE m.project_id = $1",
            USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows: Vec<MemberJoinRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        let mut out: Vec<MemberRow> = convert(rows)?;
        // Leads first, then by email.
        out.sort_by(|a, b| {
            b.membership
                .role
                .cmp(&a.membership.role)
                .then_with(|| a.user.email.as_str().cmp(b.user.email.as_str()))
        });
        Ok(out)
    }

    async fn find_membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        let sql = format!(
            "SELECT {MEMBERSHIP_COLS} FROM memberships WHERE project_id = $1 AND user_id = $2"
        );
        let row: Option<MembershipRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(user.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Membership::try_from).transpose()
    }

    async fn upsert_membership(&self, m: &Membership, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO memberships ({MEMBERSHIP_COLS}) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, organisation_id = excluded.organisation_id"
            ))
            .bind(m.project_id.0)
            .bind(m.user_id.0)
            .bind(m.role.as_str())
            .bind(m.organisation_id.map(|o| o.0))
            .bind(m.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn delete_membership(
        &self,
        project: ProjectId,
        user: UserId,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done =
                sqlx::query("DELETE FROM memberships WHERE project_id = $1 AND user_id = $2")
                    .bind(project.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        })
    }
}
