//! The document view: a module read in order, headings as section titles, printable.
//! Imported rich text (`statement_xhtml`) is never rendered as markup: the plain statement
//! is shown with its line breaks.

use super::{layout, lines, PageResult};
use crate::auth::PageUser;
use crate::pages::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use opensesa_domain::ids::RequirementId;
use opensesa_domain::requirements::{ReqKind, Requirement};
use std::collections::HashMap;

pub struct Item {
    hid: String,
    title: String,
    heading: bool,
    /// 2 or 3 for headings (by depth); the nesting depth (0–6) for requirements.
    level: usize,
    depth: usize,
    statement: Vec<String>,
    rationale: Vec<String>,
    status: &'static str,
    status_label: &'static str,
    info: bool,
}

#[derive(Template)]
#[template(path = "requirements/document.html")]
struct DocumentPage {
    l: Layout,
    code: String,
    prefix: String,
    name: String,
    description: String,
    items: Vec<Item>,
}

/// Nesting depth of each requirement within the module (parents outside the module count
/// as the top).
fn depths(reqs: &[Requirement]) -> HashMap<RequirementId, usize> {
    let parent: HashMap<RequirementId, Option<RequirementId>> =
        reqs.iter().map(|r| (r.id, r.parent_id)).collect();
    reqs.iter()
        .map(|r| {
            let mut d = 0;
            let mut cursor = r.parent_id;
            while let Some(p) = cursor {
                match parent.get(&p) {
                    Some(next) if d < 50 => {
                        d += 1;
                        cursor = *next;
                    }
                    _ => break,
                }
            }
            (r.id, d)
        })
        .collect()
}

/// `/p/{code}/requirements/m/{prefix}/document`.
pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, prefix)): Path<(String, String)>,
) -> PageResult {
    let (ctx, module, reqs) = st.app.module_document(&p, &code, &prefix).await?;
    let depth = depths(&reqs);
    let items = reqs
        .iter()
        .map(|r| {
            let d = depth.get(&r.id).copied().unwrap_or(0);
            let heading = r.kind == ReqKind::Heading;
            Item {
                hid: r.human_id.clone(),
                title: r.title.clone(),
                heading,
                level: if heading { (d + 2).min(4) } else { d.min(6) },
                depth: d.min(6),
                statement: lines(&r.statement),
                rationale: lines(&r.rationale),
                status: r.status.as_str(),
                status_label: r.status.label(),
                info: r.kind == ReqKind::Information,
            }
        })
        .collect();
    let t = DocumentPage {
        l: layout(
            &st,
            &p,
            &c,
            &ctx,
            format!("{} · {} (document)", module.prefix, module.name),
            "requirements",
        ),
        code: ctx.project.code.clone(),
        prefix: module.prefix,
        name: module.name,
        description: module.description,
        items,
    };
    render(&t)
}
