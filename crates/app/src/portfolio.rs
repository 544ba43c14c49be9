//! Portfolio: programs, projects, phases, delivery organisations and memberships, and the
//! project access rule every project-scoped use case goes through.

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::ports::{Journal, MemberRow, ProjectWithRole, StoreError};
use crate::{App, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::accounts::Email;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{OrganisationId, PhaseId, ProgramId, ProjectId, UserId};
use opensesa_domain::portfolio::{
    parse_code, parse_description, parse_name, Membership, Organisation, Phase, PhaseInput,
    Program, Project, ProjectInput, ProjectStatus,
};
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::FieldErrors;
use serde_json::Value;

/// A project the caller may act on, with the caller's role (`None`: a site admin who is not
/// a member, who may do everything).
#[derive(Debug, Clone)]
pub struct ProjectCtx {
    pub project: Project,
    pub role: Option<Role>,
}

impl ProjectCtx {
    pub fn can(&self, permission: Permission) -> bool {
        self.role.is_none_or(|r| r.allows(permission))
    }
}

fn conflict_on(field: &'static str, reason: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::Conflict(_) => AppError::field(field, reason),
        other => other.into(),
    }
}

/// What a project's dashboard shows, gathered after one access check.
pub struct ProjectOverview {
    pub ctx: ProjectCtx,
    pub program: Option<Program>,
    pub phases: Vec<Phase>,
    pub members: Vec<MemberRow>,
    pub recent: Vec<opensesa_domain::audit::AuditEvent>,
}

impl App {
    pub async fn project_overview(
        &self,
        principal: &Principal,
        code: &str,
        recent: i64,
    ) -> AppResult<ProjectOverview> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let program = match ctx.project.program_id {
            Some(id) => self.store.find_program(id).await?,
            None => None,
        };
        let phases = self.store.list_phases(ctx.project.id).await?;
        let members = self.store.list_members(ctx.project.id).await?;
        let query = crate::ports::AuditQuery {
            project_id: Some(ctx.project.id),
            limit: recent,
            ..Default::default()
        };
        let recent = self.store.list_audit(&query).await?;
        Ok(ProjectOverview {
            ctx,
            program,
            phases,
            members,
            recent,
        })
    }

    /// The access rule: a project the caller is not a member of does not exist for them
    /// (404, never 403, so ids of other projects leak nothing); a member whose role is too
    /// low gets 403.
    pub async fn project_access(
        &self,
        principal: &Principal,
        code: &str,
        needed: Permission,
    ) -> AppResult<ProjectCtx> {
        let code = code.trim().to_uppercase();
        let (project, role) = self
            .store
            .find_project_for_user(&code, principal.user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let ctx = match role {
            Some(role) => ProjectCtx {
                project,
                role: Some(role),
            },
            None if principal.is_admin() => ProjectCtx {
                project,
                role: None,
            },
            None => return Err(AppError::NotFound),
        };
        if !ctx.can(needed) {
            return Err(AppError::forbidden(format!(
                "your role in {} is {}; this needs {}",
                ctx.project.code,
                ctx.role.map_or("none", Role::as_str),
                match needed {
                    Permission::Read => "viewer",
                    Permission::Write => "editor",
                    Permission::Lead => "lead",
                }
            )));
        }
        if needed != Permission::Read
            && ctx.project.status == ProjectStatus::Archived
            && needed != Permission::Lead
        {
            return Err(AppError::Conflict(format!(
                "project {} is archived; a lead can reactivate it",
                ctx.project.code
            )));
        }
        Ok(ctx)
    }

    pub async fn visible_projects(&self, principal: &Principal) -> AppResult<Vec<ProjectWithRole>> {
        let mut mine = self.store.list_projects_for_user(principal.user.id).await?;
        if principal.is_admin() {
            let all = self.store.list_projects().await?;
            for p in all {
                if !mine.iter().any(|m| m.project.id == p.id) {
                    mine.push(ProjectWithRole {
                        project: p,
                        role: None,
                    });
                }
            }
            mine.sort_by(|a, b| a.project.code.cmp(&b.project.code));
        }
        Ok(mine)
    }

    pub async fn list_programs(&self) -> AppResult<Vec<Program>> {
        Ok(self.store.list_programs().await?)
    }

    pub async fn create_program(
        &self,
        principal: Option<&Principal>,
        code: &str,
        name: &str,
        description: &str,
    ) -> AppResult<Program> {
        if let Some(p) = principal {
            if !p.is_admin() {
                return Err(AppError::forbidden("only site admins may create programs"));
            }
        }
        let mut errors = FieldErrors::new();
        let code = errors.check("code", parse_code(code));
        let name = errors.check("name", parse_name(name));
        let description = errors.check("description", parse_description(description));
        errors.into_result()?;
        let program = Program {
            id: ProgramId::new(),
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            created_at: self.clock.now(),
        };
        let actor = principal.map(|p| (p.user.id, p.label()));
        let event = EventBuilder::new(self, actor, Action::Create, "program", program.id)
            .change("code", Value::Null, program.code.clone().into())
            .change("name", Value::Null, program.name.clone().into())
            .build();
        self.store
            .insert_program(&program, &Journal::event(event))
            .await
            .map_err(conflict_on("code", "is already used by another program"))?;
        Ok(program)
    }

    async fn resolve_program(
        &self,
        code: Option<&str>,
        errors: &mut FieldErrors,
    ) -> AppResult<Option<ProgramId>> {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        match self
            .store
            .find_program_by_code(&code.to_uppercase())
            .await?
        {
            Some(p) => Ok(Some(p.id)),
            None => {
                errors.add("program", format!("no program has the code {code:?}"));
                Ok(None)
            }
        }
    }

    /// Creates a project; the creator (when a person) becomes its lead.
    pub async fn create_project(
        &self,
        principal: Option<&Principal>,
        input: &ProjectInput,
    ) -> AppResult<Project> {
        if let Some(p) = principal {
            if !p.is_admin() {
                return Err(AppError::forbidden("only site admins may create projects"));
            }
        }
        let mut errors = FieldErrors::new();
        let code = errors.check(
            "code",
            parse_code(input.code.as_deref().unwrap_or_default()),
        );
        let name = errors.check(
            "name",
            parse_name(input.name.as_deref().unwrap_or_default()),
        );
        let description = errors.check(
            "description",
            parse_description(input.description.as_deref().unwrap_or_default()),
        );
        let status = match input.status.as_deref() {
            Some(s) if !s.is_empty() => errors.check("status", ProjectStatus::parse(s)),
            _ => Some(ProjectStatus::Active),
        };
        let program_id = self
            .resolve_program(input.program.as_deref(), &mut errors)
            .await?;
        errors.into_result()?;
        let now = self.clock.now();
        let project = Project {
            id: ProjectId::new(),
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            program_id,
            status: status.unwrap_or(ProjectStatus::Active),
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let actor = principal.map(|p| (p.user.id, p.label()));
        let author = principal.map(|p| p.user.id);
        let event = EventBuilder::new(self, actor, Action::Create, "project", project.id)
            .project(project.id)
            .changes(&Value::Null, &project.snapshot())
            .build();
        let journal = Journal::event(event).with_revision(Revision::of(&project, author, now));
        self.store
            .insert_project(&project, &journal)
            .await
            .map_err(conflict_on("code", "is already used by another project"))?;
        if let Some(p) = principal {
            self.put_membership(p, &project, p.user.id, Role::Lead, None)
                .await?;
        }
        Ok(project)
    }

    /// Updates the fields given (a lead's action); every save is a new revision.
    pub async fn update_project(
        &self,
        principal: &Principal,
        code: &str,
        input: &ProjectInput,
    ) -> AppResult<Project> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let mut project = ctx.project;
        let before = project.snapshot();
        let mut errors = FieldErrors::new();
        if let Some(c) = &input.code {
            if let Some(c) = errors.check("code", parse_code(c)) {
                project.code = c;
            }
        }
        if let Some(n) = &input.name {
            if let Some(n) = errors.check("name", parse_name(n)) {
                project.name = n;
            }
        }
        if let Some(d) = &input.description {
            if let Some(d) = errors.check("description", parse_description(d)) {
                project.description = d;
            }
        }
        if let Some(s) = &input.status {
            if let Some(s) = errors.check("status", ProjectStatus::parse(s)) {
                project.status = s;
            }
        }
        if input.program.is_some() {
            project.program_id = self
                .resolve_program(input.program.as_deref(), &mut errors)
                .await?;
        }
        errors.into_result()?;
        if project.snapshot() == before {
            return Ok(project);
        }
        project.revision += 1;
        project.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Update, "project", project.id)
            .project(project.id)
            .changes(&before, &project.snapshot())
            .build();
        let journal = Journal::event(event).with_revision(Revision::of(
            &project,
            Some(principal.user.id),
            project.updated_at,
        ));
        self.store
            .update_project(&project, &journal)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(what) if what.contains("code") => {
                    AppError::field("code", "is already used by another project")
                }
                other => other.into(),
            })?;
        Ok(project)
    }

    pub async fn list_phases(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<Phase>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let phases = self.store.list_phases(ctx.project.id).await?;
        Ok((ctx, phases))
    }

    pub async fn create_phase(
        &self,
        principal: &Principal,
        code: &str,
        input: &PhaseInput,
    ) -> AppResult<Phase> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let fields = input.parse()?;
        let existing = self.store.list_phases(ctx.project.id).await?;
        let ordinal = fields
            .ordinal
            .unwrap_or_else(|| existing.iter().map(|p| p.ordinal).max().unwrap_or(0) + 1);
        let phase = Phase {
            id: PhaseId::new(),
            project_id: ctx.project.id,
            ordinal,
            name: fields.name,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            revision: 1,
        };
        check_phase_order(&existing, &phase)?;
        let now = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Create, "phase", phase.id)
            .project(ctx.project.id)
            .changes(&Value::Null, &phase.snapshot())
            .build();
        let journal =
            Journal::event(event).with_revision(Revision::of(&phase, Some(principal.user.id), now));
        self.store
            .insert_phase(&phase, &journal)
            .await
            .map_err(conflict_on(
                "ordinal",
                "is already used by another phase of this project",
            ))?;
        Ok(phase)
    }

    pub async fn update_phase(
        &self,
        principal: &Principal,
        code: &str,
        id: PhaseId,
        input: &PhaseInput,
    ) -> AppResult<Phase> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let mut phase = self
            .store
            .find_phase(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fields = input.parse()?;
        let before = phase.snapshot();
        phase.name = fields.name;
        phase.starts_on = fields.starts_on;
        phase.ends_on = fields.ends_on;
        if let Some(o) = fields.ordinal {
            phase.ordinal = o;
        }
        let existing = self.store.list_phases(ctx.project.id).await?;
        check_phase_order(&existing, &phase)?;
        if phase.snapshot() == before {
            return Ok(phase);
        }
        phase.revision += 1;
        let event = EventBuilder::by(self, principal, Action::Update, "phase", phase.id)
            .project(ctx.project.id)
            .changes(&before, &phase.snapshot())
            .build();
        let journal = Journal::event(event).with_revision(Revision::of(
            &phase,
            Some(principal.user.id),
            self.clock.now(),
        ));
        self.store
            .update_phase(&phase, &journal)
            .await
            .map_err(conflict_on(
                "ordinal",
                "is already used by another phase of this project",
            ))?;
        Ok(phase)
    }

    pub async fn delete_phase(
        &self,
        principal: &Principal,
        code: &str,
        id: PhaseId,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let phase = self
            .store
            .find_phase(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let event = EventBuilder::by(self, principal, Action::Delete, "phase", phase.id)
            .project(ctx.project.id)
            .changes(&phase.snapshot(), &Value::Null)
            .build();
        self.store
            .delete_phase(ctx.project.id, id, &Journal::event(event))
            .await?;
        Ok(())
    }

    pub async fn list_organisations(&self) -> AppResult<Vec<Organisation>> {
        Ok(self.store.list_organisations().await?)
    }

    pub async fn create_organisation(
        &self,
        principal: Option<&Principal>,
        code: &str,
        name: &str,
    ) -> AppResult<Organisation> {
        if let Some(p) = principal {
            if !p.is_admin() {
                return Err(AppError::forbidden(
                    "only site admins may create organisations",
                ));
            }
        }
        let mut errors = FieldErrors::new();
        let code = errors.check("code", parse_code(code));
        let name = errors.check("name", parse_name(name));
        errors.into_result()?;
        let org = Organisation {
            id: OrganisationId::new(),
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            created_at: self.clock.now(),
        };
        let event = EventBuilder::new(
            self,
            principal.map(|p| (p.user.id, p.label())),
            Action::Create,
            "organisation",
            org.id,
        )
        .change("code", Value::Null, org.code.clone().into())
        .change("name", Value::Null, org.name.clone().into())
        .build();
        self.store
            .insert_organisation(&org, &Journal::event(event))
            .await
            .map_err(conflict_on(
                "code",
                "is already used by another organisation",
            ))?;
        Ok(org)
    }

    pub async fn list_members(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<MemberRow>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let members = self.store.list_members(ctx.project.id).await?;
        Ok((ctx, members))
    }

    /// Adds a member or changes a member's role (a lead's action).
    pub async fn set_member(
        &self,
        principal: &Principal,
        code: &str,
        email: &str,
        role: &str,
        organisation: Option<&str>,
    ) -> AppResult<Membership> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(email));
        let role = errors.check("role", Role::parse(role));
        let mut org_id = None;
        if let Some(org) = organisation.map(str::trim).filter(|o| !o.is_empty()) {
            match self
                .store
                .find_organisation_by_code(&org.to_uppercase())
                .await?
            {
                Some(o) => org_id = Some(o.id),
                None => errors.add(
                    "organisation",
                    format!("no organisation has the code {org:?}"),
                ),
            }
        }
        let user = match &email {
            Some(e) => {
                let u = self.store.find_user_by_email(e).await?;
                if u.is_none() {
                    errors.add(
                        "email",
                        "no account has this email; a site admin creates accounts",
                    );
                }
                u
            }
            None => None,
        };
        errors.into_result()?;
        let (Some(user), Some(role)) = (user, role) else {
            return Err(AppError::Internal("validated fields missing".into()));
        };
        self.put_membership(principal, &ctx.project, user.id, role, org_id)
            .await
    }

    async fn put_membership(
        &self,
        principal: &Principal,
        project: &Project,
        user: UserId,
        role: Role,
        organisation_id: Option<OrganisationId>,
    ) -> AppResult<Membership> {
        let existing = self.store.find_membership(project.id, user).await?;
        let membership = Membership {
            project_id: project.id,
            user_id: user,
            role,
            organisation_id,
            created_at: existing
                .as_ref()
                .map_or_else(|| self.clock.now(), |m| m.created_at),
        };
        if let Some(old) = &existing {
            if old.role == Role::Lead && role != Role::Lead {
                self.ensure_another_lead(project.id, user).await?;
            }
        }
        let before = existing.as_ref().map_or(Value::Null, Membership::snapshot);
        let action = if existing.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        let event = EventBuilder::by(self, principal, action, "membership", user)
            .project(project.id)
            .changes(&before, &membership.snapshot())
            .build();
        self.store
            .upsert_membership(&membership, &Journal::event(event))
            .await?;
        Ok(membership)
    }

    async fn ensure_another_lead(&self, project: ProjectId, leaving: UserId) -> AppResult<()> {
        let members = self.store.list_members(project).await?;
        if members
            .iter()
            .any(|m| m.membership.role == Role::Lead && m.membership.user_id != leaving)
        {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "a project keeps at least one lead; make someone else lead first".into(),
            ))
        }
    }

    pub async fn remove_member(
        &self,
        principal: &Principal,
        code: &str,
        user: UserId,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let existing = self
            .store
            .find_membership(ctx.project.id, user)
            .await?
            .ok_or(AppError::NotFound)?;
        if existing.role == Role::Lead {
            self.ensure_another_lead(ctx.project.id, user).await?;
        }
        let event = EventBuilder::by(self, principal, Action::Delete, "membership", user)
            .project(ctx.project.id)
            .changes(&existing.snapshot(), &Value::Null)
            .build();
        self.store
            .delete_membership(ctx.project.id, user, &Journal::event(event))
            .await?;
        Ok(())
    }
}

/// Phases are ordered and their date ranges follow that order.
fn check_phase_order(existing: &[Phase], phase: &Phase) -> AppResult<()> {
    for other in existing.iter().filter(|p| p.id != phase.id) {
        if other.ordinal == phase.ordinal {
            return Err(AppError::field(
                "ordinal",
                format!(
                    "{} is already used by phase {:?}",
                    phase.ordinal, other.name
                ),
            ));
        }
        let (Some(start), Some(other_end)) = (phase.starts_on, other.ends_on) else {
            continue;
        };
        if other.ordinal < phase.ordinal && start < other_end {
            return Err(AppError::field(
                "starts_on",
                format!(
                    "must not be before the end of the earlier phase {:?} ({other_end})",
                    other.name
                ),
            ));
        }
    }
    for other in existing
        .iter()
        .filter(|p| p.id != phase.id && p.ordinal > phase.ordinal)
    {
        if let (Some(end), Some(other_start)) = (phase.ends_on, other.starts_on) {
            if end > other_start {
                return Err(AppError::field(
                    "ends_on",
                    format!(
                        "must not be after the start of the later phase {:?} ({other_start})",
                        other.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
