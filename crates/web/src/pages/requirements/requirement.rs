//! The requirement page (fields, edit with optimistic concurrency, workflow, links in both
//! directions with suspect flags, quality findings, parent and children, discussion threads,
//! review rounds, revisions, audit trail) and the word-level diff of two revisions.

use super::forms::{self, ReqForm};
use super::{
    label, layout, lines, opts, recoverable, render_status, Errs, Failure, Fields, Opt, PageResult,
};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{CommentId, LinkId};
use opensesa_domain::requirements::attributes::AttributeDef;
use opensesa_domain::requirements::{LinkKind, ReqStatus, Transition};
use opensesa_domain::textdiff::DiffKind;
use opensesa_domain::FieldErrors;

fn req_url(code: &str, hid: &str) -> String {
    let hid = hid.trim().to_uppercase();
    // Verification cases share trace links; their human ids have a reserved prefix.
    if hid.starts_with("VC-") {
        format!("/p/{}/vv/cases/{hid}", code.to_uppercase())
    } else {
        format!("/p/{}/requirements/r/{hid}", code.to_uppercase())
    }
}

pub struct FieldView {
    label: String,
    lines: Vec<String>,
}

pub struct ReasonView {
    text: String,
    href: String,
}

pub struct LinkRow {
    id: String,
    phrase: &'static str,
    other_hid: String,
    other_href: String,
    other_title: String,
    suspect: bool,
    reasons: Vec<ReasonView>,
    clear_error: String,
}

pub struct FindingView {
    rule: &'static str,
    severity: &'static str,
    message: String,
}

pub struct RelView {
    hid: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
}

pub struct CommentView {
    author: String,
    at: String,
    revision: i64,
    body: Vec<String>,
}

pub struct ThreadView {
    id: String,
    first: CommentView,
    replies: Vec<CommentView>,
    resolved: Option<String>,
    reply_error: String,
    resolve_error: String,
}

pub struct RoundRef {
    id: String,
    title: String,
    status: String,
}

pub struct RevisionView {
    number: i64,
    at: String,
    current: bool,
    approved: bool,
    from_checked: bool,
    to_checked: bool,
}

pub struct AuditView {
    at: String,
    actor: String,
    action: &'static str,
    what: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "requirements/requirement.html")]
struct RequirementPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    prefix: String,
    module_name: String,
    status: &'static str,
    status_label: &'static str,
    revision: i64,
    approved_notice: Option<(i64, bool)>,
    has_rich_text: bool,
    fields: Vec<FieldView>,
    can_write: bool,
    /// Obsolete requirements are reinstated before they are edited.
    editable: bool,
    steps: Vec<Opt>,
    step_errs: Errs,
    form: ReqForm,
    errs: Errs,
    edit_open: bool,
    form_revision: i64,
    links: Vec<LinkRow>,
    link_kinds: Vec<Opt>,
    link_direction_target: bool,
    link_other: String,
    link_errs: Errs,
    findings: Vec<FindingView>,
    parent: Option<RelView>,
    children: Vec<RelView>,
    threads: Vec<ThreadView>,
    comment_body: String,
    comment_errs: Errs,
    rounds: Vec<RoundRef>,
    revisions: Vec<RevisionView>,
    audit: Vec<AuditView>,
}

/// A form of the page that was refused, to show again in place.
enum Refused {
    None,
    Edit(Fields, Failure),
    Step(Failure),
    Link(Fields, Failure),
    Clear(LinkId, Failure),
    Comment(Fields, Failure),
    Resolve(CommentId, Failure),
}

fn rel(r: &opensesa_domain::requirements::Requirement) -> RelView {
    RelView {
        hid: r.human_id.clone(),
        title: r.title.clone(),
        status: r.status.as_str(),
        status_label: r.status.label(),
    }
}

fn comment_view(c: &opensesa_app::ports::Comment) -> CommentView {
    CommentView {
        author: c.author.clone(),
        at: when(&c.created_at),
        revision: c.revision,
        body: lines(&c.body),
    }
}

async fn requirement_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    refused: Refused,
) -> PageResult {
    let d = st.app.requirement_detail(p, code, hid).await?;
    let code = d.ctx.project.code.clone();
    let req = &d.req;
    let can_write = d.ctx.can(Permission::Write);
    let parent_hid = d
        .parent
        .as_ref()
        .map(|r| r.human_id.clone())
        .unwrap_or_default();

    let mut status = StatusCode::OK;
    let mut error = None;
    let mut take = |f: Failure| -> FieldErrors {
        status = f.status;
        error = Some(f.message);
        f.errors
    };
    let (mut form, mut errs, mut edit_open) = (
        ReqForm::of(req, &d.module, &parent_hid),
        Errs::default(),
        false,
    );
    let mut step_errs = Errs::default();
    let (mut link_errs, mut link_other, mut link_kind, mut link_target) =
        (Errs::default(), String::new(), String::new(), false);
    let mut clear_errs: Option<(LinkId, String)> = None;
    let (mut comment_errs, mut comment_body, mut reply_errs) =
        (Errs::default(), String::new(), None::<(String, String)>);
    let mut resolve_errs: Option<(CommentId, String)> = None;
    match refused {
        Refused::None => {}
        Refused::Edit(f, failure) => {
            form = ReqForm::typed(&f, &d.module);
            errs = Errs::new(take(failure));
            edit_open = true;
        }
        Refused::Step(failure) => step_errs = Errs::new(take(failure)),
        Refused::Link(f, failure) => {
            link_errs = Errs::new(take(failure));
            link_other = f.text("other");
            link_kind = f.text("kind");
            link_target = f.text("direction") == "target";
        }
        Refused::Clear(id, failure) => {
            let e = take(failure);
            let msg = e
                .iter()
                .flat_map(|(_, r)| r.iter().cloned())
                .collect::<Vec<_>>()
                .join("; ");
            clear_errs = Some((id, msg));
        }
        Refused::Comment(f, failure) => {
            let e = Errs::new(take(failure));
            let thread = f.text("thread");
            if thread.is_empty() {
                comment_body = f.text("body");
                comment_errs = e;
            } else {
                let msg = [e.of("body"), e.of("thread")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ");
                reply_errs = Some((thread, msg));
            }
        }
        Refused::Resolve(id, failure) => {
            let e = take(failure);
            let msg = e
                .iter()
                .flat_map(|(_, r)| r.iter().cloned())
                .collect::<Vec<_>>()
                .join("; ");
            resolve_errs = Some((id, msg));
        }
    }

    let mut fields = vec![
        FieldView {
            label: "Statement".into(),
            lines: lines(&req.statement),
        },
        FieldView {
            label: "Rationale".into(),
            lines: lines(&req.rationale),
        },
        FieldView {
            label: "Kind".into(),
            lines: vec![label(req.kind.as_str())],
        },
        FieldView {
            label: "Priority".into(),
            lines: vec![req.priority.as_str().to_owned()],
        },
        FieldView {
            label: "Verification".into(),
            lines: vec![req.verification_text()],
        },
        FieldView {
            label: "Source".into(),
            lines: vec![req.source.clone()],
        },
        FieldView {
            label: "Owner".into(),
            lines: vec![req.owner.clone()],
        },
        FieldView {
            label: "Tags".into(),
            lines: vec![req.tags_text()],
        },
    ];
    for def in &d.module.attributes {
        fields.push(FieldView {
            label: def.name.clone(),
            lines: vec![req
                .attributes
                .get(&def.name)
                .map(AttributeDef::display)
                .unwrap_or_default()],
        });
    }
    if let Some(x) = &req.external_id {
        fields.push(FieldView {
            label: "Imported identifier".into(),
            lines: vec![x.clone()],
        });
    }
    fields.push(FieldView {
        label: "Created / updated".into(),
        lines: vec![format!(
            "{} / {}",
            when(&req.created_at),
            when(&req.updated_at)
        )],
    });

    let links = d
        .links
        .iter()
        .map(|lv| {
            let outgoing = lv.link.source_id == req.id.0;
            let (phrase, other_hid, other_title) = if outgoing {
                (
                    lv.link.kind.label(),
                    lv.target_human_id.clone(),
                    lv.target_title.clone(),
                )
            } else {
                (
                    lv.link.kind.inverse_label(),
                    lv.source_human_id.clone(),
                    lv.source_title.clone(),
                )
            };
            LinkRow {
                id: lv.link.id.to_string(),
                phrase,
                other_href: req_url(&code, &other_hid),
                other_hid,
                other_title,
                suspect: lv.link.suspect,
                reasons: lv
                    .link
                    .suspect_reasons
                    .iter()
                    .map(|r| ReasonView {
                        text: format!(
                            "{} ({} end) changed from revision {} to {}{}",
                            r.changed,
                            r.end,
                            r.from_revision,
                            r.to_revision,
                            if r.propagated {
                                ", propagated along the trace"
                            } else {
                                ""
                            }
                        ),
                        href: format!(
                            "{}/diff?from={}&to={}",
                            req_url(&code, &r.changed),
                            r.from_revision,
                            r.to_revision
                        ),
                    })
                    .collect(),
                clear_error: clear_errs
                    .as_ref()
                    .filter(|(id, _)| *id == lv.link.id)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();

    let mut threads: Vec<ThreadView> = d
        .comments
        .iter()
        .filter(|c| c.thread_id.is_none())
        .map(|t| ThreadView {
            id: t.id.to_string(),
            first: comment_view(t),
            replies: d
                .comments
                .iter()
                .filter(|r| r.thread_id == Some(t.id))
                .map(comment_view)
                .collect(),
            resolved: t.resolved_at.map(|at| {
                format!(
                    "Resolved by {} on {}",
                    t.resolved_by.clone().unwrap_or_default(),
                    when(&at)
                )
            }),
            reply_error: reply_errs
                .as_ref()
                .filter(|(id, _)| *id == t.id.to_string())
                .map(|(_, m)| m.clone())
                .unwrap_or_default(),
            resolve_error: resolve_errs
                .as_ref()
                .filter(|(id, _)| *id == t.id)
                .map(|(_, m)| m.clone())
                .unwrap_or_default(),
        })
        .collect();
    // Open threads first, each group oldest first.
    threads.sort_by_key(|t| t.resolved.is_some());

    let mut revisions: Vec<RevisionView> = d
        .revisions
        .iter()
        .map(|r| RevisionView {
            number: r.number,
            at: when(&r.at),
            current: r.number == req.revision,
            approved: req.approved_revision == Some(r.number),
            from_checked: r.number == (req.revision - 1).max(1),
            to_checked: r.number == req.revision,
        })
        .collect();
    revisions.sort_by_key(|r| std::cmp::Reverse(r.number));

    let audit = d
        .audit
        .iter()
        .map(|e| AuditView {
            at: when(&e.at),
            actor: e.actor.clone(),
            action: e.action.as_str(),
            what: e
                .changes
                .iter()
                .map(|ch| forms::field_label(&ch.field))
                .collect::<Vec<_>>()
                .join(", "),
            reason: e.reason.clone().unwrap_or_default(),
        })
        .collect();

    let approved_notice = match req.approved_revision {
        Some(a) if a != req.revision => Some((a, true)),
        Some(a) => Some((a, false)),
        None => None,
    };
    let t = RequirementPage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} · {}", req.human_id, req.title),
            "requirements",
        )
        .with_error(error),
        hid: req.human_id.clone(),
        title: req.title.clone(),
        prefix: d.module.prefix.clone(),
        module_name: d.module.name.clone(),
        status: req.status.as_str(),
        status_label: req.status.label(),
        revision: req.revision,
        approved_notice,
        has_rich_text: req.statement_xhtml.is_some(),
        fields,
        can_write,
        editable: can_write && req.status != ReqStatus::Obsolete,
        steps: d
            .transitions
            .iter()
            .map(|s| Opt::new(s.as_str(), s.label(), false))
            .collect(),
        step_errs,
        form,
        errs,
        edit_open,
        form_revision: req.revision,
        links,
        link_kinds: {
            let sel = if link_kind.is_empty() {
                LinkKind::Derives.as_str().to_owned()
            } else {
                link_kind
            };
            LinkKind::ALL
                .iter()
                .map(|k| Opt::new(k.as_str(), k.label(), k.as_str() == sel))
                .collect()
        },
        link_direction_target: link_target,
        link_other,
        link_errs,
        findings: d
            .findings
            .iter()
            .map(|f| FindingView {
                rule: f.rule.title(),
                severity: f.severity.as_str(),
                // Some messages open with the rule's own title; say it once.
                message: f
                    .message
                    .strip_prefix(f.rule.title())
                    .map(|rest| rest.trim_start_matches([':', ' ']).to_owned())
                    .unwrap_or_else(|| f.message.clone()),
            })
            .collect(),
        parent: d.parent.as_ref().map(rel),
        children: d.children.iter().map(rel).collect(),
        threads,
        comment_body,
        comment_errs,
        rounds: d
            .rounds
            .iter()
            .map(|r| RoundRef {
                id: r.id.to_string(),
                title: r.title.clone(),
                status: r.status.clone(),
            })
            .collect(),
        revisions,
        audit,
        code,
    };
    render_status(&t, status)
}

/// `/p/{code}/requirements/r/{hid}`.
pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    requirement_page(&st, &p, &c, &code, &hid, Refused::None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let (_, req) = st
        .app
        .requirement(&p, &code, &hid, Permission::Write)
        .await?;
    let (_, modules) = st.app.list_modules(&p, &code).await?;
    let module = modules
        .into_iter()
        .map(|m| m.module)
        .find(|m| m.id == req.module_id)
        .ok_or(AppError::NotFound)?;
    let expected = match f.get("revision").map(str::trim) {
        None | Some("") => None,
        Some(r) => match r.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let failure = Failure::field("revision", format!("{r:?} is not a revision number"));
                return requirement_page(&st, &p, &c, &code, &hid, Refused::Edit(f, failure)).await;
            }
        },
    };
    let input = forms::input(&f, &module);
    let r = st
        .app
        .update_requirement(&p, &code, &hid, &input, expected)
        .await;
    match recoverable(r, None)? {
        Ok(after) => {
            let msg = if after.revision == req.revision {
                "Nothing changed.".to_owned()
            } else {
                format!("Saved as revision {}.", after.revision)
            };
            Ok(redirect_with_flash(&st, &req_url(&code, &hid), &msg))
        }
        Err(mut failure) => {
            if failure.status == StatusCode::CONFLICT {
                let why = failure.message.replace("; reload and retry", "");
                failure.message = format!(
                    "{why} Your text is kept below: compare the revisions, then save again to replace the newer one."
                );
            }
            requirement_page(&st, &p, &c, &code, &hid, Refused::Edit(f, failure)).await
        }
    }
}

pub async fn transition(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let step = match Transition::parse(&f.text("step")) {
        Ok(s) => s,
        Err(why) => {
            // The lowest right first: a viewer learns they may not, not that the step is odd.
            st.app
                .requirement(&p, &code, &hid, Permission::Write)
                .await?;
            return requirement_page(
                &st,
                &p,
                &c,
                &code,
                &hid,
                Refused::Step(Failure::field("step", why)),
            )
            .await;
        }
    };
    let r = st
        .app
        .transition(&p, &code, &hid, step, f.non_empty("comment"))
        .await;
    match recoverable(r, Some("step"))? {
        Ok(req) => Ok(redirect_with_flash(
            &st,
            &req_url(&code, &hid),
            &format!("{}: {}.", req.human_id, req.status.label()),
        )),
        Err(failure) => requirement_page(&st, &p, &c, &code, &hid, Refused::Step(failure)).await,
    }
}

pub async fn add_link(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let other = f.text("other");
    let kind = f.text("kind");
    let r = match f.text("direction").as_str() {
        "" | "source" => st.app.create_link(&p, &code, &hid, &kind, &other).await,
        "target" => st.app.create_link(&p, &code, &other, &kind, &hid).await,
        d => Err(AppError::field(
            "direction",
            format!("{d:?} is not source or target"),
        )),
    };
    // The ends' errors concern the requirement typed in "other" (this one exists).
    let r = r.map_err(|e| match e {
        AppError::Validation(errs) => {
            let mut out = FieldErrors::new();
            for (field, reasons) in errs.iter() {
                let field = if field == "source" || field == "target" {
                    "other"
                } else {
                    field.as_str()
                };
                for reason in reasons {
                    out.add(field, reason.clone());
                }
            }
            AppError::Validation(out)
        }
        other => other,
    });
    match recoverable(r, Some("other"))? {
        Ok(_) => Ok(redirect_with_flash(
            &st,
            &req_url(&code, &hid),
            "Link added.",
        )),
        Err(failure) => requirement_page(&st, &p, &c, &code, &hid, Refused::Link(f, failure)).await,
    }
}

pub async fn delete_link(
    State(st): State<AppState>,
    Path((code, hid, id)): Path<(String, String, LinkId)>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    st.app.delete_link(&p, &code, id).await?;
    Ok(redirect_with_flash(
        &st,
        &req_url(&code, &hid),
        "Link deleted.",
    ))
}

pub async fn clear_link(
    State(st): State<AppState>,
    Path((code, hid, id)): Path<(String, String, LinkId)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .clear_suspect(&p, &code, &[id], &f.text("reason"))
        .await;
    match recoverable(r, Some("reason"))? {
        Ok(n) => Ok(redirect_with_flash(
            &st,
            &req_url(&code, &hid),
            if n == 0 {
                "The link was not suspect."
            } else {
                "Suspect flag cleared."
            },
        )),
        Err(failure) => {
            requirement_page(&st, &p, &c, &code, &hid, Refused::Clear(id, failure)).await
        }
    }
}

pub async fn comment(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let thread = match f.non_empty("thread") {
        None => Ok(None),
        Some(t) => t
            .parse::<CommentId>()
            .map(Some)
            .map_err(|_| AppError::field("thread", "no such thread on this requirement")),
    };
    let r = match thread {
        Ok(thread) => {
            st.app
                .add_comment(&p, &code, &hid, &f.text("body"), thread)
                .await
        }
        Err(e) => Err(e),
    };
    match recoverable(r, Some("body"))? {
        Ok(_) => Ok(redirect_with_flash(
            &st,
            &format!("{}#discussion", req_url(&code, &hid)),
            "Comment added.",
        )),
        Err(failure) => {
            requirement_page(&st, &p, &c, &code, &hid, Refused::Comment(f, failure)).await
        }
    }
}

pub async fn resolve(
    State(st): State<AppState>,
    Path((code, hid, id)): Path<(String, String, CommentId)>,
    CsrfForm(PageUser(p, c), _): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let r = st.app.resolve_thread(&p, &code, &hid, id).await;
    match recoverable(r, Some("thread"))? {
        Ok(()) => Ok(redirect_with_flash(
            &st,
            &format!("{}#discussion", req_url(&code, &hid)),
            "Thread resolved.",
        )),
        Err(failure) => {
            requirement_page(&st, &p, &c, &code, &hid, Refused::Resolve(id, failure)).await
        }
    }
}

pub struct SpanView {
    tag: &'static str,
    text: String,
}

pub struct DiffView {
    label: String,
    spans: Vec<SpanView>,
}

#[derive(Template)]
#[template(path = "requirements/diff.html")]
struct DiffPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    from: i64,
    to: i64,
    froms: Vec<Opt>,
    tos: Vec<Opt>,
    errs: Errs,
    diffs: Vec<DiffView>,
    shown: bool,
}

/// `/p/{code}/requirements/r/{hid}/diff?from=&to=`: word-level differences of two
/// revisions, field by field.
pub async fn diff(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let (ctx, req) = st
        .app
        .requirement(&p, &code, &hid, Permission::Read)
        .await?;
    let mut errors = FieldErrors::new();
    let mut num = |field: &str, default: i64| match q.get(field).map(str::trim) {
        None | Some("") => default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.add(field, format!("{v:?} is not a revision number"));
                default
            }
        },
    };
    let to = num("to", req.revision);
    let from = num("from", (to - 1).max(1));
    let mut diffs = Vec::new();
    let mut shown = false;
    if errors.is_empty() {
        match recoverable(
            st.app.requirement_diff(&p, &code, &hid, from, to).await,
            None,
        )? {
            Ok((_, fields)) => {
                shown = true;
                diffs = fields
                    .into_iter()
                    .map(|fd| DiffView {
                        label: forms::field_label(&fd.field),
                        spans: fd
                            .spans
                            .into_iter()
                            .map(|s| SpanView {
                                tag: match s.kind {
                                    DiffKind::Equal => "span",
                                    DiffKind::Insert => "ins",
                                    DiffKind::Delete => "del",
                                },
                                text: s.text,
                            })
                            .collect(),
                    })
                    .collect();
            }
            Err(failure) => errors = failure.errors,
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = (!errors.is_empty()).then(|| format!("Cannot compare: {errors}."));
    let numbers: Vec<String> = (1..=req.revision).rev().map(|n| n.to_string()).collect();
    let t = DiffPage {
        l: layout(
            &st,
            &p,
            &c,
            &ctx,
            format!("{} · revisions {from} → {to}", req.human_id),
            "requirements",
        )
        .with_error(error),
        code: ctx.project.code.clone(),
        hid: req.human_id.clone(),
        title: req.title.clone(),
        from,
        to,
        froms: opts(numbers.iter().map(String::as_str), &from.to_string()),
        tos: opts(numbers.iter().map(String::as_str), &to.to_string()),
        errs: Errs::new(errors),
        diffs,
        shown,
    };
    render_status(&t, status)
}
