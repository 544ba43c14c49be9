//! Discussion threads and review rounds. A lead opens a round on a set of requirements and
//! names reviewers; each reviewer records approve / reject / comment per requirement; the
//! lead closes the round, which approves the requirements every decision approved and
//! rejects those with a rejection. Decisions record the revision they were made on, so an
//! edit during the round shows as "changed since decided" instead of erasing the decision.

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::ports::{
    Comment, Journal, ReqBatch, ReqWrite, ReviewDecision, ReviewRound, RoundDetail,
};
use crate::{App, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{CommentId, ReviewRoundId, UserId};
use opensesa_domain::requirements::ReqStatus;
use serde_json::json;

const MAX_COMMENT: usize = 10_000;

fn parse_body(raw: &str, field: &str) -> AppResult<String> {
    let body = raw.trim().replace("\r\n", "\n");
    if body.is_empty() {
        return Err(AppError::field(field, "is required"));
    }
    if body.chars().count() > MAX_COMMENT {
        return Err(AppError::field(
            field,
            format!("is longer than {MAX_COMMENT} characters"),
        ));
    }
    Ok(body)
}

/// What a reviewer says about one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Comment,
}

impl Decision {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            "comment" => Ok(Self::Comment),
            other => Err(format!("{other:?} is not approve, reject or comment")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Comment => "comment",
        }
    }
}

impl App {
    /// A comment on a requirement: a new thread, or an answer in `thread`.
    pub async fn add_comment(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        body: &str,
        thread: Option<CommentId>,
    ) -> AppResult<Comment> {
        // Viewers may discuss: commenting is how a reader raises a question.
        let (ctx, req) = self
            .requirement(principal, code, human_id, Permission::Read)
            .await?;
        let body = parse_body(body, "body")?;
        if let Some(t) = thread {
            let comments = self.store.list_comments(req.id).await?;
            if !comments.iter().any(|c| c.id == t && c.thread_id.is_none()) {
                return Err(AppError::field(
                    "thread",
                    "no such thread on this requirement",
                ));
            }
        }
        let c = Comment {
            id: CommentId::new(),
            requirement_id: req.id,
            thread_id: thread,
            author_id: Some(principal.user.id),
            author: principal.user.display_name.clone(),
            body,
            revision: req.revision,
            resolved_at: None,
            resolved_by: None,
            created_at: self.clock.now(),
        };
        let event = EventBuilder::by(self, principal, Action::Comment, "requirement", req.id)
            .project(ctx.project.id)
            .change("comment", json!(null), json!(c.body))
            .build();
        self.store
            .insert_comment(&c, &Journal::event(event))
            .await?;
        Ok(c)
    }

    pub async fn resolve_thread(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        thread: CommentId,
    ) -> AppResult<()> {
        let (ctx, req) = self
            .requirement(principal, code, human_id, Permission::Write)
            .await?;
        let event = EventBuilder::by(self, principal, Action::Update, "comment", thread)
            .project(ctx.project.id)
            .change("resolved", json!(false), json!(true))
            .build();
        let done = self
            .store
            .resolve_thread(
                req.id,
                thread,
                &principal.user.display_name,
                self.clock.now(),
                &Journal::event(event),
            )
            .await?;
        if !done {
            return Err(AppError::field(
                "thread",
                "no open thread with this id on the requirement",
            ));
        }
        Ok(())
    }

    /// Opens a review round (leads). Draft and rejected requirements enter review; approved
    /// or obsolete ones are refused; reviewers must be project members.
    pub async fn open_round(
        &self,
        principal: &Principal,
        code: &str,
        title: &str,
        human_ids: &[String],
        reviewers: &[UserId],
    ) -> AppResult<ReviewRoundId> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let title = opensesa_domain::portfolio::parse_name(title)
            .map_err(|e| AppError::field("title", e))?;
        if human_ids.is_empty() {
            return Err(AppError::field(
                "requirements",
                "choose at least one requirement",
            ));
        }
        if reviewers.is_empty() {
            return Err(AppError::field("reviewers", "choose at least one reviewer"));
        }
        let members = self.store.list_members(ctx.project.id).await?;
        for r in reviewers {
            if !members.iter().any(|m| m.user.id == *r) {
                return Err(AppError::field(
                    "reviewers",
                    "every reviewer must be a member of the project",
                ));
            }
        }
        let ids: Vec<String> = human_ids.iter().map(|h| h.trim().to_uppercase()).collect();
        let found = self
            .store
            .find_requirements_by_human_ids(ctx.project.id, &ids)
            .await?;
        let now = self.clock.now();
        let mut batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            ..Default::default()
        };
        let mut journal = Journal::default();
        let mut items = Vec::new();
        for h in &ids {
            let r = found.iter().find(|r| &r.human_id == h).ok_or_else(|| {
                AppError::field(
                    "requirements",
                    format!("no requirement {h} in this project"),
                )
            })?;
            match r.status {
                ReqStatus::Draft | ReqStatus::Rejected | ReqStatus::InReview => {}
                s => {
                    return Err(AppError::field(
                        "requirements",
                        format!(
                        "{h} is {}; only draft, rejected or in-review requirements can be reviewed",
                        s.label().to_lowercase()
                    ),
                    ))
                }
            }
            items.push((r.id, r.revision));
            if r.status != ReqStatus::InReview {
                let mut next = r.clone();
                next.status = ReqStatus::InReview;
                next.updated_at = now;
                journal.events.push(
                    EventBuilder::by(self, principal, Action::Transition, "requirement", r.id)
                        .project(ctx.project.id)
                        .change("status", json!(r.status), json!(next.status))
                        .reason(Some(format!("review round: {title}")))
                        .build(),
                );
                batch.requirements.push(ReqWrite {
                    statement_key: String::new(),
                    findings: Vec::new(),
                    req: next,
                    create: false,
                    content_changed: false,
                });
            }
        }
        let round = ReviewRound {
            id: ReviewRoundId::new(),
            project_id: ctx.project.id,
            title,
            status: "open".into(),
            opened_by: principal.user.display_name.clone(),
            opened_at: now,
            closed_by: None,
            closed_at: None,
            summary: String::new(),
        };
        journal.events.push(
            EventBuilder::by(self, principal, Action::Create, "review_round", round.id)
                .project(ctx.project.id)
                .change("title", json!(null), json!(round.title))
                .change("requirements", json!(null), json!(ids))
                .build(),
        );
        self.store
            .insert_round(&round, &items, reviewers, &batch, &journal)
            .await
            .map_err(|e| match e {
                crate::ports::StoreError::Conflict(w) => AppError::Conflict(w),
                o => o.into(),
            })?;
        Ok(round.id)
    }

    pub async fn review_round(
        &self,
        principal: &Principal,
        code: &str,
        id: ReviewRoundId,
    ) -> AppResult<(crate::portfolio::ProjectCtx, RoundDetail)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let detail = self
            .store
            .find_round(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, detail))
    }

    pub async fn list_rounds(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(crate::portfolio::ProjectCtx, Vec<ReviewRound>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let rounds = self.store.list_rounds(ctx.project.id).await?;
        Ok((ctx, rounds))
    }

    /// A reviewer's decision on one requirement of an open round (replaces their earlier one).
    pub async fn record_decision(
        &self,
        principal: &Principal,
        code: &str,
        round: ReviewRoundId,
        human_id: &str,
        decision: &str,
        comment: &str,
    ) -> AppResult<()> {
        let (ctx, detail) = self.review_round(principal, code, round).await?;
        if detail.round.status != "open" {
            return Err(AppError::Conflict("the round is closed".into()));
        }
        if !detail
            .reviewers
            .iter()
            .any(|(u, _)| *u == principal.user.id)
        {
            return Err(AppError::forbidden("you are not a reviewer of this round"));
        }
        let decision = Decision::parse(decision).map_err(|e| AppError::field("decision", e))?;
        let comment = comment.trim().to_owned();
        if decision != Decision::Approve && comment.is_empty() {
            return Err(AppError::field(
                "comment",
                "say why (a rejection or a comment needs text)",
            ));
        }
        if comment.chars().count() > MAX_COMMENT {
            return Err(AppError::field(
                "comment",
                format!("is longer than {MAX_COMMENT} characters"),
            ));
        }
        let h = human_id.trim().to_uppercase();
        let item = detail
            .items
            .iter()
            .find(|i| i.human_id == h)
            .ok_or_else(|| AppError::field("requirement", format!("{h} is not in this round")))?;
        let d = ReviewDecision {
            requirement_id: item.requirement_id,
            reviewer_id: principal.user.id,
            reviewer: principal.user.display_name.clone(),
            decision: decision.as_str().into(),
            comment,
            revision: item.current_revision,
            at: self.clock.now(),
        };
        let event = EventBuilder::by(self, principal, Action::Update, "review_round", round)
            .project(ctx.project.id)
            .change(
                &format!("decision.{h}"),
                json!(null),
                json!({"decision": d.decision, "comment": d.comment, "revision": d.revision}),
            )
            .build();
        self.store
            .record_decision(round, &d, &Journal::event(event))
            .await?;
        Ok(())
    }

    /// Closes a round (leads). With `apply`, each requirement whose reviewers all approved
    /// its current revision is approved, one with a rejection is rejected, others stay in
    /// review; without, the round only closes.
    pub async fn close_round(
        &self,
        principal: &Principal,
        code: &str,
        round: ReviewRoundId,
        apply: bool,
        summary: &str,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        if ctx.role.is_some_and(|r| r < Role::Lead) {
            return Err(AppError::forbidden("only leads close review rounds"));
        }
        let detail = self
            .store
            .find_round(ctx.project.id, round)
            .await?
            .ok_or(AppError::NotFound)?;
        if detail.round.status != "open" {
            return Err(AppError::Conflict("the round is closed already".into()));
        }
        let now = self.clock.now();
        let ids: Vec<String> = detail.items.iter().map(|i| i.human_id.clone()).collect();
        let reqs = self
            .store
            .find_requirements_by_human_ids(ctx.project.id, &ids)
            .await?;
        let mut outcomes = Vec::new();
        let mut batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            ..Default::default()
        };
        let mut journal = Journal::default();
        for item in &detail.items {
            let mine: Vec<&ReviewDecision> = detail
                .decisions
                .iter()
                .filter(|d| {
                    d.requirement_id == item.requirement_id && d.revision == item.current_revision
                })
                .collect();
            let rejected = mine.iter().any(|d| d.decision == "reject");
            let all_approved = detail.reviewers.iter().all(|(u, _)| {
                mine.iter()
                    .any(|d| d.reviewer_id == *u && d.decision == "approve")
            });
            let outcome = if rejected {
                "rejected"
            } else if all_approved {
                "approved"
            } else {
                "undecided"
            };
            outcomes.push((item.requirement_id, outcome.to_owned()));
            let Some(r) = reqs.iter().find(|r| r.id == item.requirement_id) else {
                continue;
            };
            if !apply || r.status != ReqStatus::InReview || outcome == "undecided" {
                continue;
            }
            let mut next = r.clone();
            next.status = if rejected {
                ReqStatus::Rejected
            } else {
                ReqStatus::Approved
            };
            if next.status == ReqStatus::Approved {
                next.approved_revision = Some(r.revision);
            }
            next.updated_at = now;
            journal.events.push(
                EventBuilder::by(self, principal, Action::Transition, "requirement", r.id)
                    .project(ctx.project.id)
                    .change("status", json!(r.status), json!(next.status))
                    .reason(Some(format!("review round closed: {}", detail.round.title)))
                    .build(),
            );
            batch.requirements.push(ReqWrite {
                statement_key: String::new(),
                findings: Vec::new(),
                req: next,
                create: false,
                content_changed: false,
            });
        }
        let mut closed = detail.round.clone();
        closed.status = "closed".into();
        closed.closed_by = Some(principal.user.display_name.clone());
        closed.closed_at = Some(now);
        closed.summary = summary.trim().chars().take(MAX_COMMENT).collect();
        journal.events.push(
            EventBuilder::by(self, principal, Action::Update, "review_round", round)
                .project(ctx.project.id)
                .change("status", json!("open"), json!("closed"))
                .change(
                    "outcomes",
                    json!(null),
                    json!(outcomes.iter().map(|(_, o)| o).collect::<Vec<_>>()),
                )
                .reason(Some(closed.summary.clone()))
                .build(),
        );
        let done = self
            .store
            .close_round(&closed, &outcomes, &batch, &journal)
            .await
            .map_err(|e| match e {
                crate::ports::StoreError::Conflict(w) => AppError::Conflict(w),
                o => o.into(),
            })?;
        if !done {
            return Err(AppError::Conflict("the round is closed already".into()));
        }
        Ok(())
    }
}
