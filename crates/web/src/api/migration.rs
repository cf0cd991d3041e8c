//! The migration batch planner (R14, R17): checks a proposed schedule against every limit and names
//! each one it breaks, and proposes a schedule that fits. The customer or partner runs it (R6).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::migration::{
    check_plan, propose_schedule, MigrationLimits, MigrationPlan,
};
use fasttrack_core::RuleViolation;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org_id, authorize_programme, parse_ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(propose))
        .routes(routes!(get_limits, put_limits))
}

/// A plan to check: the tenant, and its sources, volumes, batches and file waves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub org_id: String,
    /// `{seats, language, mail_service_onboarded, sources, volumes, batches, file_waves}`.
    #[schema(value_type = Object)]
    pub plan: MigrationPlan,
}

/// A plan that keeps every limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOk {
    pub ok: bool,
}

/// What to schedule: mailboxes from one source, the tenant's seats, and the earliest start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    pub org_id: String,
    pub mailboxes: u32,
    pub seats: i64,
    /// RFC 3339; batches start no earlier, and no earlier than the notice period from now.
    pub start: String,
}

/// One proposed batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedBatch {
    pub start: String,
    pub mailboxes: i64,
}

/// A schedule that passes the planner's check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Proposal {
    pub batches: Vec<ProposedBatch>,
    pub total: i64,
}

/// A 422 problem document that lists every broken limit, each with its rule, field and limit.
fn violations_problem(vs: &[RuleViolation]) -> Response {
    let first = vs.first().cloned().unwrap_or_else(|| {
        RuleViolation::new(fasttrack_core::Rule::R17, "the plan breaks a limit")
    });
    let mut doc = serde_json::to_value(ApiError::Rule(first).to_problem()).unwrap_or(Value::Null);
    let list: Vec<Value> = vs
        .iter()
        .map(|v| {
            let facts: serde_json::Map<String, Value> = v
                .detail
                .iter()
                .map(|(k, x)| (k.clone(), Value::String(x.clone())))
                .collect();
            json!({
                "rule": v.rule.to_string(),
                "field": v.field,
                "limit": v.detail.iter().find(|(k, _)| k == "limit").map(|(_, x)| x.clone()),
                "message": v.message,
                "facts": facts,
            })
        })
        .collect();
    doc["detail"] = json!(format!(
        "the plan breaks {} limit(s); nothing was saved",
        vs.len()
    ));
    doc["errors"] = Value::Array(
        vs.iter()
            .map(|v| json!({"field": v.field.clone().unwrap_or_else(|| "plan".into()), "message": v.message}))
            .collect(),
    );
    doc["violations"] = Value::Array(list);
    let mut res = (StatusCode::UNPROCESSABLE_ENTITY, doc.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

/// R17 (with R1 and R11): checks a batch schedule against every limit; 422 lists each broken one.
#[utoipa::path(post, path = "/api/v1/migration/check", tag = "migration", request_body = CheckBody,
    responses((status = 200, body = CheckOk), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<Response> {
    authorize_org_id(
        &state,
        &caller,
        Action::Read,
        Resource::Engagement,
        &body.org_id,
    )
    .await?;
    let limits = limits(&state).await?;
    match check_plan(&body.plan, &limits, state.clock.now()) {
        Ok(()) => Ok(Json(CheckOk { ok: true }).into_response()),
        Err(vs) => Ok(violations_problem(&vs)),
    }
}

/// R17: proposes batches for a mailbox count from a start date that keep every limit.
#[utoipa::path(post, path = "/api/v1/migration/propose", tag = "migration", request_body = ProposeBody,
    responses((status = 200, body = Proposal), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ProposeBody>,
) -> ApiResult<Json<Proposal>> {
    authorize_org_id(
        &state,
        &caller,
        Action::Read,
        Resource::Engagement,
        &body.org_id,
    )
    .await?;
    let start = parse_ts("start", &body.start)?;
    let start =
        jiff::Timestamp::from_second(start).map_err(|e| ApiError::Internal(e.to_string()))?;
    let batches = propose_schedule(
        body.mailboxes,
        body.seats,
        start,
        state.clock.now(),
        &limits(&state).await?,
    )?;
    let out: Vec<ProposedBatch> = batches
        .iter()
        .map(|b| ProposedBatch {
            start: b.start.to_string(),
            mailboxes: b.count(),
        })
        .collect();
    Ok(Json(Proposal {
        total: out.iter().map(|b| b.mailboxes).sum(),
        batches: out,
    }))
}

/// The key under which the R17 limits are stored.
const LIMITS_KEY: &str = "migration_limits";

/// R17: the programme's migration limits: the stored setting, else the vendor's defaults.
pub async fn limits(state: &AppState) -> ApiResult<MigrationLimits> {
    match state.store.setting(LIMITS_KEY).await? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| ApiError::Internal(format!("stored migration limits: {e}"))),
        None => Ok(MigrationLimits::default()),
    }
}

/// R17: every limit the batch planner applies (the vendor's defaults until an admin changes them):
/// the weekly window, batches a day, notice, add and remove deadlines, the batch minimum, daily
/// caps by tenant size, the file size limit, the R1 seat threshold and the source versions.
#[utoipa::path(get, path = "/api/v1/settings/migration-limits", tag = "migration",
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem)))]
pub(crate) async fn get_limits(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    let l = limits(&state).await?;
    serde_json::to_value(&l)
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("migration limits: {e}")))
}

/// R17: replaces the migration limits (programme admins); invalid values are refused field by
/// field (422) and change nothing. The planner applies them from the next check on.
#[utoipa::path(put, path = "/api/v1/settings/migration-limits", tag = "migration", request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn put_limits(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(limits): ApiJson<MigrationLimits>,
) -> ApiResult<Json<Value>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    limits.validate()?;
    let value = serde_json::to_value(&limits)
        .map_err(|e| ApiError::Internal(format!("migration limits: {e}")))?;
    state
        .store
        .save_setting(LIMITS_KEY, &value, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(Json(value))
}
