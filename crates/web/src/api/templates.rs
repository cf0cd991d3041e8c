//! The programme's recommended plan (R7) as data: admins read and replace the whole template set.

use axum::extract::State;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::engagement::TemplateSet;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_programme};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_templates, put_templates))
}

fn as_json(set: &TemplateSet) -> ApiResult<Json<Value>> {
    serde_json::to_value(set)
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("template set: {e}")))
}

/// The template set: one template per track (core, each service or `*`, migration, adoption),
/// with tasks, phases, owner sides, guidance, links, dependencies and day offsets.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates",
    responses((status = 200, body = Object)))]
async fn get_templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    let set = state
        .store
        .template_set_or(TemplateSet::recommended())
        .await?;
    as_json(&set)
}

/// Replaces the template set (programme admins); an invalid set is refused field by field (422)
/// and changes nothing. Engagements already open keep their tasks.
#[utoipa::path(put, path = "/api/v1/templates", tag = "templates", request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn put_templates(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(set): ApiJson<TemplateSet>,
) -> ApiResult<Json<Value>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    set.validate()?;
    state
        .store
        .put_template_set(&set, &audit_ctx(&state, &caller, &grant))
        .await?;
    as_json(&set)
}
