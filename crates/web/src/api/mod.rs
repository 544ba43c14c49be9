//! The JSON API under `/api/v1`: the same use cases as the pages, with the same permission
//! checks. Every route is registered through `OpenApiRouter`, so the OpenAPI document at
//! `/api/v1/openapi.json` is generated from the code and cannot miss a route.

mod baselines;
mod operations;
mod portfolio;
mod requirements;
pub mod system;
mod vv;

use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "OpenSESA API", description = "Systems engineering and safety assurance: the governed engineering model over HTTP. \
        Authenticate with a personal API token (`Authorization: Bearer osa_…`, created on the account page). \
        Errors share one shape: `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    modifiers(&Security),
    components(schemas(ErrorBody, ErrorDetail)),
    tags((name = "account"), (name = "portfolio"), (name = "projects"), (name = "audit"), (name = "system"),
        (name = "requirements", description = "Requirements management: modules, requirements and their review workflow, revisions, trace links, comments, review rounds, search, quality, coverage and the RVTM"),
        (name = "baselines", description = "Baselines and release governance: draft and frozen baselines with their content hash and items, comparisons (two baselines, or a baseline and the working state) with field-level drill-down, release packs with the live readiness checklist, lock and unlock with reasons, governance decisions and adoption actions"),
        (name = "vv", description = "Verification and validation: plans and activities, cases and their `verifies` links, sets and runs, immutable results with evidence files and corrections, defects and their closing rule, snapshots, JUnit imports, the dashboard and reports"),
        (name = "operations", description = "Operations readiness: readiness items and their workflow, milestones with gating items and the gating rule, finish-to-start dependencies with cycle detection, critical paths, late items, the dashboard and the dependency diagram (SVG)"))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("osa_session"))),
        );
    }
}

/// The API router and its OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(portfolio::me))
        .routes(routes!(portfolio::list_programs, portfolio::create_program))
        .routes(routes!(
            portfolio::list_organisations,
            portfolio::create_organisation
        ))
        .routes(routes!(portfolio::list_projects, portfolio::create_project))
        .routes(routes!(portfolio::get_project, portfolio::update_project))
        .routes(routes!(portfolio::list_phases, portfolio::create_phase))
        .routes(routes!(portfolio::update_phase, portfolio::delete_phase))
        .routes(routes!(portfolio::list_members, portfolio::set_member))
        .routes(routes!(portfolio::remove_member))
        .routes(routes!(portfolio::list_audit))
        .routes(routes!(system::ping_job))
        .routes(routes!(system::get_job))
        .routes(routes!(system::retry_job))
        .routes(routes!(system::discard_job))
        .routes(routes!(system::status))
        .routes(routes!(
            requirements::list_modules,
            requirements::create_module
        ))
        .routes(routes!(
            requirements::get_module,
            requirements::update_module
        ))
        .routes(routes!(requirements::create_requirement))
        .routes(routes!(requirements::list_requirements))
        .routes(routes!(requirements::bulk_edit))
        .routes(routes!(
            requirements::get_requirement,
            requirements::update_requirement
        ))
        .routes(routes!(requirements::transition))
        .routes(routes!(requirements::list_revisions))
        .routes(routes!(requirements::diff))
        .routes(routes!(
            requirements::list_comments,
            requirements::add_comment
        ))
        .routes(routes!(requirements::resolve_thread))
        .routes(routes!(requirements::list_links, requirements::create_link))
        .routes(routes!(requirements::clear_links))
        .routes(routes!(requirements::delete_link))
        .routes(routes!(
            requirements::list_reviews,
            requirements::open_review
        ))
        .routes(routes!(requirements::get_review))
        .routes(routes!(requirements::record_decision))
        .routes(routes!(requirements::close_review))
        .routes(routes!(requirements::search))
        .routes(routes!(requirements::quality))
        .routes(routes!(requirements::set_quality_rules))
        .routes(routes!(requirements::coverage))
        .routes(routes!(requirements::rvtm))
        .routes(routes!(vv::list_plans, vv::create_plan))
        .routes(routes!(vv::get_plan, vv::update_plan))
        .routes(routes!(vv::move_plan))
        .routes(routes!(vv::add_activity))
        .routes(routes!(vv::update_activity))
        .routes(routes!(vv::plan_report, vv::plan_report_job))
        .routes(routes!(vv::list_cases, vv::create_case))
        .routes(routes!(vv::get_case, vv::update_case))
        .routes(routes!(vv::move_case))
        .routes(routes!(vv::case_diff))
        .routes(routes!(vv::record_result))
        .routes(routes!(vv::record_result_multipart).layer(vv::upload_limit()))
        .routes(routes!(vv::recent_results))
        .routes(routes!(vv::get_result))
        .routes(routes!(vv::evidence))
        .routes(routes!(vv::list_sets, vv::create_set))
        .routes(routes!(vv::get_set, vv::update_set))
        .routes(routes!(vv::run_set))
        .routes(routes!(vv::set_report, vv::set_report_job))
        .routes(routes!(vv::list_defects, vv::create_defect))
        .routes(routes!(vv::get_defect, vv::update_defect))
        .routes(routes!(vv::move_defect))
        .routes(routes!(vv::list_snapshots, vv::create_snapshot))
        .routes(routes!(vv::compare_snapshots))
        .routes(routes!(vv::get_snapshot))
        .routes(routes!(vv::junit_upload).layer(vv::upload_limit()))
        .routes(routes!(vv::get_junit))
        .routes(routes!(vv::apply_junit))
        .routes(routes!(vv::dashboard))
        .routes(routes!(
            baselines::list_baselines,
            baselines::create_baseline
        ))
        .routes(routes!(baselines::get_baseline, baselines::update_baseline))
        .routes(routes!(baselines::freeze_baseline))
        .routes(routes!(baselines::baseline_items))
        .routes(routes!(baselines::compare_baselines))
        .routes(routes!(baselines::artefact_diff))
        .routes(routes!(baselines::list_packs, baselines::create_pack))
        .routes(routes!(baselines::get_pack, baselines::update_pack))
        .routes(routes!(baselines::lock_pack))
        .routes(routes!(baselines::unlock_pack))
        .routes(routes!(baselines::decide_pack))
        .routes(routes!(baselines::add_action))
        .routes(routes!(baselines::update_action))
        .routes(routes!(baselines::move_action))
        .routes(routes!(operations::list_items, operations::create_item))
        .routes(routes!(operations::get_item, operations::update_item))
        .routes(routes!(operations::move_item))
        .routes(routes!(
            operations::list_milestones,
            operations::create_milestone
        ))
        .routes(routes!(
            operations::get_milestone,
            operations::update_milestone
        ))
        .routes(routes!(operations::move_milestone))
        .routes(routes!(
            operations::list_dependencies,
            operations::add_dependency
        ))
        .routes(routes!(operations::delete_dependency))
        .routes(routes!(operations::dashboard))
        .routes(routes!(operations::diagram));
    let doc = api.get_openapi().clone();
    api.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || async move { Json(doc) }),
    )
}

/// The OpenAPI document as JSON (for `opensesa` tooling and tests).
pub fn openapi_json() -> serde_json::Value {
    let (_, doc) = router().split_for_parts();
    serde_json::to_value(doc).unwrap_or_default()
}

/// A JSON body whose parse errors answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let status = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(ApiError::new(status, "invalid_body", rejection.body_text()))
            }
        }
    }
}
