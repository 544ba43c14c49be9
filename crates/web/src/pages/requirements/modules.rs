//! The module tree of a project (with the new-module form) and a module's settings: its
//! fields and its custom attribute definitions.

use super::{layout, recoverable, render_status, Errs, Failure, Fields, Opt, PageResult};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use opensesa_app::Principal;
use opensesa_domain::access::Permission;
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::ModuleInput;
use opensesa_domain::FieldErrors;

pub struct ModuleRow {
    prefix: String,
    name: String,
    description: String,
    count: i64,
    depth: usize,
}

/// What the new-module form shows.
#[derive(Default)]
pub struct ModuleForm {
    prefix: String,
    name: String,
    description: String,
    parent: String,
}

#[derive(Template)]
#[template(path = "requirements/index.html")]
struct IndexPage {
    l: Layout,
    code: String,
    modules: Vec<ModuleRow>,
    total: i64,
    can_lead: bool,
    can_write: bool,
    form: ModuleForm,
    parents: Vec<Opt>,
    errs: Errs,
}

async fn index_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    form: ModuleForm,
    failure: Option<Failure>,
) -> PageResult {
    let (ctx, modules) = st.app.list_modules(p, code).await?;
    let parents = modules
        .iter()
        .map(|m| {
            Opt::new(
                m.module.prefix.clone(),
                format!("{} · {}", m.module.prefix, m.module.name),
                m.module.prefix == form.parent,
            )
        })
        .collect();
    let (status, errs, error) = match failure {
        Some(f) => (f.status, Errs::new(f.errors), Some(f.message)),
        None => (StatusCode::OK, Errs::default(), None),
    };
    let page = IndexPage {
        l: layout(st, p, c, &ctx, "Requirements", "requirements").with_error(error),
        code: ctx.project.code.clone(),
        total: modules.iter().map(|m| m.count).sum(),
        modules: modules
            .into_iter()
            .map(|m| ModuleRow {
                prefix: m.module.prefix,
                name: m.module.name,
                description: m.module.description,
                count: m.count,
                depth: m.depth.min(6),
            })
            .collect(),
        can_lead: ctx.can(Permission::Lead),
        can_write: ctx.can(Permission::Write),
        form,
        parents,
        errs,
    };
    render_status(&page, status)
}

/// `/p/{code}/requirements`: the module tree.
pub async fn index(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    index_page(&st, &p, &c, &code, ModuleForm::default(), None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let input = ModuleInput {
        prefix: Some(f.text("prefix")),
        name: Some(f.text("name")),
        description: Some(f.text("description")),
        parent: Some(f.text("parent")),
        attributes: None,
    };
    match recoverable(
        st.app.create_module(&p, &code, &input).await,
        Some("prefix"),
    )? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/requirements/m/{}", code.to_uppercase(), m.prefix),
            &format!("Module {} created.", m.prefix),
        )),
        Err(failure) => {
            let form = ModuleForm {
                prefix: f.text("prefix"),
                name: f.text("name"),
                description: f.text("description"),
                parent: f.text("parent"),
            };
            index_page(&st, &p, &c, &code, form, Some(failure)).await
        }
    }
}

/// One row of the attribute definition editor.
pub struct AttrRow {
    index: usize,
    name: String,
    kinds: Vec<Opt>,
    options: String,
    required: bool,
    /// An empty row for a new definition.
    new: bool,
}

fn attr_rows(defs: &[(String, String, String, bool)], blanks: usize) -> Vec<AttrRow> {
    let kind_opts = |sel: &str| {
        AttributeKind::ALL
            .iter()
            .map(|k| Opt::new(k.as_str(), k.as_str(), k.as_str() == sel))
            .collect()
    };
    let mut rows: Vec<AttrRow> = defs
        .iter()
        .enumerate()
        .map(|(i, (name, kind, options, required))| AttrRow {
            index: i,
            name: name.clone(),
            kinds: kind_opts(kind),
            options: options.clone(),
            required: *required,
            new: false,
        })
        .collect();
    for i in 0..blanks {
        rows.push(AttrRow {
            index: defs.len() + i,
            name: String::new(),
            kinds: kind_opts("text"),
            options: String::new(),
            required: false,
            new: true,
        });
    }
    rows
}

#[derive(Template)]
#[template(path = "requirements/settings.html")]
struct SettingsPage {
    l: Layout,
    code: String,
    prefix: String,
    form: ModuleForm,
    parents: Vec<Opt>,
    attrs: Vec<AttrRow>,
    errs: Errs,
    attr_errs: Errs,
}

/// The settings form as stored, or as typed after a refusal.
enum Typed {
    Stored,
    Module(ModuleForm, Failure),
    Attributes(Vec<(String, String, String, bool)>, Failure),
}

async fn settings_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    prefix: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, module) = st.app.module(p, code, prefix, Permission::Lead).await?;
    let (_, all) = st.app.list_modules(p, code).await?;
    let parent_prefix = module
        .parent_id
        .and_then(|id| all.iter().find(|m| m.module.id == id))
        .map(|m| m.module.prefix.clone())
        .unwrap_or_default();
    let stored_form = ModuleForm {
        prefix: module.prefix.clone(),
        name: module.name.clone(),
        description: module.description.clone(),
        parent: parent_prefix,
    };
    let stored_defs: Vec<(String, String, String, bool)> = module
        .attributes
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.kind.as_str().to_owned(),
                d.options.join(", "),
                d.required,
            )
        })
        .collect();
    let (form, defs, errs, attr_errs, error, status) = match typed {
        Typed::Stored => (
            stored_form,
            stored_defs,
            Errs::default(),
            Errs::default(),
            None,
            StatusCode::OK,
        ),
        Typed::Module(form, f) => (
            form,
            stored_defs,
            Errs::new(f.errors),
            Errs::default(),
            Some(f.message),
            f.status,
        ),
        Typed::Attributes(defs, f) => (
            stored_form,
            defs,
            Errs::default(),
            Errs::new(f.errors),
            Some(f.message),
            f.status,
        ),
    };
    let parents = all
        .iter()
        .filter(|m| m.module.id != module.id)
        .map(|m| {
            Opt::new(
                m.module.prefix.clone(),
                format!("{} · {}", m.module.prefix, m.module.name),
                m.module.prefix == form.parent,
            )
        })
        .collect();
    let page = SettingsPage {
        l: layout(
            st,
            p,
            c,
            &ctx,
            format!("{} settings", module.prefix),
            "requirements",
        )
        .with_error(error),
        code: ctx.project.code.clone(),
        prefix: module.prefix.clone(),
        form,
        parents,
        attrs: attr_rows(&defs, 2),
        errs,
        attr_errs,
    };
    render_status(&page, status)
}

/// `/p/{code}/requirements/m/{prefix}/settings` (leads).
pub async fn settings(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, prefix)): Path<(String, String)>,
) -> PageResult {
    settings_page(&st, &p, &c, &code, &prefix, Typed::Stored).await
}

pub async fn update(
    State(st): State<AppState>,
    Path((code, prefix)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let input = ModuleInput {
        prefix: Some(f.text("prefix")),
        name: Some(f.text("name")),
        description: Some(f.text("description")),
        parent: Some(f.text("parent")),
        attributes: None,
    };
    let r = st.app.update_module(&p, &code, &prefix, &input).await;
    match recoverable(r, Some("prefix"))? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/requirements/m/{}/settings",
                code.to_uppercase(),
                m.prefix
            ),
            "Module saved.",
        )),
        Err(failure) => {
            let form = ModuleForm {
                prefix: f.text("prefix"),
                name: f.text("name"),
                description: f.text("description"),
                parent: f.text("parent"),
            };
            settings_page(&st, &p, &c, &code, &prefix, Typed::Module(form, failure)).await
        }
    }
}

/// Reads the definition editor: rows `attr_name_N`, `attr_kind_N`, `attr_options_N`,
/// `attr_required_N`, `attr_remove_N`; rows without a name are skipped.
fn typed_defs(f: &Fields) -> Vec<(usize, String, String, String, bool, bool)> {
    let count: usize = f
        .get("attr_count")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
        .min(500);
    (0..count)
        .map(|i| {
            (
                i,
                f.text(&format!("attr_name_{i}")).trim().to_owned(),
                f.text(&format!("attr_kind_{i}")),
                f.text(&format!("attr_options_{i}")),
                f.flag(&format!("attr_required_{i}")),
                f.flag(&format!("attr_remove_{i}")),
            )
        })
        .filter(|(_, name, ..)| !name.is_empty())
        .collect()
}

pub async fn update_attributes(
    State(st): State<AppState>,
    Path((code, prefix)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let rows = typed_defs(&f);
    let mut errors = FieldErrors::new();
    let mut defs = Vec::new();
    for (_, name, kind, options, required, remove) in &rows {
        if *remove {
            continue;
        }
        let kind = match AttributeKind::parse(kind) {
            Ok(k) => k,
            Err(why) => {
                errors.add("attributes", format!("{name}: {why}"));
                continue;
            }
        };
        defs.push(AttributeDef {
            name: name.clone(),
            kind,
            options: options
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            required: *required,
        });
    }
    let kept: Vec<(String, String, String, bool)> = rows
        .iter()
        .filter(|r| !r.5)
        .map(|(_, name, kind, options, required, _)| {
            (name.clone(), kind.clone(), options.clone(), *required)
        })
        .collect();
    if !errors.is_empty() {
        return settings_page(
            &st,
            &p,
            &c,
            &code,
            &prefix,
            Typed::Attributes(kept, Failure::fields(errors)),
        )
        .await;
    }
    let input = ModuleInput {
        attributes: Some(defs),
        ..Default::default()
    };
    let r = st.app.update_module(&p, &code, &prefix, &input).await;
    match recoverable(r, Some("attributes"))? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/requirements/m/{}/settings",
                code.to_uppercase(),
                m.prefix
            ),
            "Attributes saved.",
        )),
        Err(failure) => {
            settings_page(
                &st,
                &p,
                &c,
                &code,
                &prefix,
                Typed::Attributes(kept, failure),
            )
            .await
        }
    }
}
