//! The service catalogue (R2): services, plans, and which plan makes which service eligible.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::error::Errors;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::types::{code, text};
use fasttrack_store::{Plan, Service};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_programme, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, update_service))
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan, update_plan))
}

/// A service of the cloud suite that the programme helps onboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDoc {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Service> for ServiceDoc {
    fn from(s: Service) -> Self {
        ServiceDoc {
            id: s.id,
            name: s.name,
            category: s.category,
            description: s.description,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

/// A new service; its id is a short code (`mail`, `files`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCreate {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
}

/// Changes to a service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceUpdate {
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
}

/// A plan and the services it makes eligible.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDoc {
    pub id: String,
    pub name: String,
    /// Free plans never count towards eligibility (R1).
    pub paid: bool,
    /// Whether seats of this plan count towards the programme's thresholds.
    pub eligible: bool,
    pub services: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Plan> for PlanDoc {
    fn from(p: Plan) -> Self {
        PlanDoc {
            id: p.id,
            name: p.name,
            paid: p.paid,
            eligible: p.eligible,
            services: p.services,
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        }
    }
}

/// A new plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCreate {
    pub id: String,
    pub name: String,
    pub paid: bool,
    pub eligible: bool,
    pub services: Vec<String>,
}

/// Changes to a plan; `services` replaces the whole set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanUpdate {
    pub name: Option<String>,
    pub paid: Option<bool>,
    pub eligible: Option<bool>,
    pub services: Option<Vec<String>>,
}

/// Every service.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalogue", responses((status = 200, body = Vec<ServiceDoc>)))]
pub(crate) async fn list_services(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ServiceDoc>>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Catalogue)?;
    Ok(Json(
        state
            .store
            .list_services()
            .await?
            .into_iter()
            .map(ServiceDoc::from)
            .collect(),
    ))
}

/// Adds a service (programme admins).
#[utoipa::path(post, path = "/api/v1/services", tag = "catalogue", request_body = ServiceCreate,
    responses((status = 201, body = ServiceDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ServiceCreate>,
) -> ApiResult<(StatusCode, Json<ServiceDoc>)> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::Catalogue)?;
    let mut errs = Errors::new();
    let id = errs.take("id", code(&body.id));
    let name = errs.take("name", text(&body.name, 200, true));
    let category = errs.take("category", text(&body.category, 100, true));
    let description = errs.take("description", text(&body.description, 4000, false));
    errs.finish()?;
    let (Some(id), Some(name), Some(category), Some(description)) =
        (id, name, category, description)
    else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    if state.store.get_service(&id).await.is_ok() {
        return Err(ApiError::Conflict {
            field: "id".into(),
            message: format!("a service '{id}' already exists"),
        });
    }
    let s = Service {
        id,
        name,
        category,
        description,
        created_at: 0,
        updated_at: 0,
    };
    let saved = state
        .store
        .upsert_service(&s, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "catalogue", params(("id" = String, Path)),
    responses((status = 200, body = ServiceDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ServiceDoc>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Catalogue)?;
    Ok(Json(state.store.get_service(&id).await?.into()))
}

/// Changes a service (programme admins).
#[utoipa::path(patch, path = "/api/v1/services/{id}", tag = "catalogue", params(("id" = String, Path)), request_body = ServiceUpdate,
    responses((status = 200, body = ServiceDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn update_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceUpdate>,
) -> ApiResult<Json<ServiceDoc>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::Catalogue)?;
    let mut s = state.store.get_service(&id).await?;
    let mut errs = Errors::new();
    if let Some(n) = &body.name {
        s.name = errs.take("name", text(n, 200, true)).unwrap_or_default();
    }
    if let Some(c) = &body.category {
        s.category = errs
            .take("category", text(c, 100, true))
            .unwrap_or_default();
    }
    if let Some(d) = &body.description {
        s.description = errs
            .take("description", text(d, 4000, false))
            .unwrap_or_default();
    }
    errs.finish()?;
    let saved = state
        .store
        .upsert_service(&s, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(Json(saved.into()))
}

pub(crate) async fn check_services(
    state: &AppState,
    errs: &mut Errors,
    services: &[String],
) -> ApiResult<Vec<String>> {
    let known: Vec<String> = state
        .store
        .list_services()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        if !known.contains(s) {
            errs.add(format!("services[{i}]"), format!("no such service '{s}'"));
        } else if !out.contains(s) {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// Every plan with its eligible services.
#[utoipa::path(get, path = "/api/v1/plans", tag = "catalogue", responses((status = 200, body = Vec<PlanDoc>)))]
pub(crate) async fn list_plans(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PlanDoc>>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Catalogue)?;
    Ok(Json(
        state
            .store
            .list_plans()
            .await?
            .into_iter()
            .map(PlanDoc::from)
            .collect(),
    ))
}

/// Adds a plan (programme admins).
#[utoipa::path(post, path = "/api/v1/plans", tag = "catalogue", request_body = PlanCreate,
    responses((status = 201, body = PlanDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PlanCreate>,
) -> ApiResult<(StatusCode, Json<PlanDoc>)> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::Catalogue)?;
    let mut errs = Errors::new();
    let id = errs.take("id", code(&body.id));
    let name = errs.take("name", text(&body.name, 200, true));
    let services = check_services(&state, &mut errs, &body.services).await?;
    errs.finish()?;
    let (Some(id), Some(name)) = (id, name) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    if state.store.get_plan(&id).await.is_ok() {
        return Err(ApiError::Conflict {
            field: "id".into(),
            message: format!("a plan '{id}' already exists"),
        });
    }
    let plan = Plan {
        id,
        name,
        paid: body.paid,
        eligible: body.eligible,
        services,
        created_at: 0,
        updated_at: 0,
    };
    let saved = state
        .store
        .upsert_plan(&plan, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// One plan.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "catalogue", params(("id" = String, Path)),
    responses((status = 200, body = PlanDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanDoc>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Catalogue)?;
    Ok(Json(state.store.get_plan(&id).await?.into()))
}

/// Changes a plan (programme admins).
#[utoipa::path(patch, path = "/api/v1/plans/{id}", tag = "catalogue", params(("id" = String, Path)), request_body = PlanUpdate,
    responses((status = 200, body = PlanDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn update_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlanUpdate>,
) -> ApiResult<Json<PlanDoc>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::Catalogue)?;
    let mut plan = state.store.get_plan(&id).await?;
    let mut errs = Errors::new();
    if let Some(n) = &body.name {
        plan.name = errs.take("name", text(n, 200, true)).unwrap_or_default();
    }
    if let Some(s) = &body.services {
        plan.services = check_services(&state, &mut errs, s).await?;
    }
    errs.finish()?;
    plan.paid = body.paid.unwrap_or(plan.paid);
    plan.eligible = body.eligible.unwrap_or(plan.eligible);
    let saved = state
        .store
        .upsert_plan(&plan, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(Json(saved.into()))
}
