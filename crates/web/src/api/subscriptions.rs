//! Tenants' subscriptions (R1): recorded by the programme, read by the tenant and its partners.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::eligibility::SubscriptionState;
use fasttrack_core::{error::Errors, Invalid, Role};
use fasttrack_store::SubscriptionFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::orgs::double_option;
use super::{
    audit_ctx, authorize_org_id, authorize_programme, page, page_of, parse_ts, ts, ts_opt,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(get_subscription, update_subscription))
}

/// A subscription as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionDoc {
    pub id: String,
    pub org_id: String,
    pub plan_id: String,
    pub seats: i64,
    pub state: SubscriptionState,
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<fasttrack_store::Subscription> for SubscriptionDoc {
    fn from(s: fasttrack_store::Subscription) -> Self {
        SubscriptionDoc {
            state: SubscriptionState::parse(&s.state).unwrap_or(SubscriptionState::Expired),
            id: s.id,
            org_id: s.org_id,
            plan_id: s.plan_id,
            seats: s.seats,
            starts_at: ts(s.starts_at),
            ends_at: ts_opt(s.ends_at),
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

page_of!(SubscriptionPage, SubscriptionDoc);

/// Filters for the subscription list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionQuery {
    /// Required for partners: the customer whose subscriptions to list.
    pub org_id: Option<String>,
    pub state: Option<SubscriptionState>,
    pub plan_id: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCreate {
    pub org_id: String,
    pub plan_id: String,
    pub seats: i64,
    pub state: SubscriptionState,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339; absent for an open-ended term.
    pub ends_at: Option<String>,
}

/// Changes to a subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    pub plan_id: Option<String>,
    pub seats: Option<i64>,
    pub state: Option<SubscriptionState>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub ends_at: Option<Option<String>>,
}

const MAX_SEATS: i64 = 10_000_000;

/// Subscriptions the caller may see.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "subscriptions", params(SubscriptionQuery),
    responses((status = 200, body = SubscriptionPage), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SubscriptionQuery>,
) -> ApiResult<Json<SubscriptionPage>> {
    let org_id = if caller.role().is_programme() {
        authorize_programme(&state, &caller, Action::Read, Resource::Subscription)?;
        q.org_id
    } else {
        let org = match (caller.role(), q.org_id) {
            (Role::PartnerUser, None) => {
                return Err(Invalid::one(
                    "org_id",
                    "partners name the customer whose subscriptions they want",
                )
                .into())
            }
            (_, Some(o)) => o,
            (_, None) => caller.user.org_id.clone(),
        };
        authorize_org_id(&state, &caller, Action::Read, Resource::Subscription, &org).await?;
        Some(org)
    };
    let f = SubscriptionFilter {
        org_id,
        state: q.state.map(|s| s.as_str().to_string()),
        plan_id: q.plan_id,
    };
    let p = state
        .store
        .list_subscriptions(&f, &page(q.after, q.limit)?)
        .await?;
    Ok(Json(SubscriptionPage {
        items: p.items.into_iter().map(SubscriptionDoc::from).collect(),
        next: p.next,
    }))
}

/// Records a subscription (programme admins).
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "subscriptions", request_body = SubscriptionCreate,
    responses((status = 201, body = SubscriptionDoc), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_subscription(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SubscriptionCreate>,
) -> ApiResult<(StatusCode, Json<SubscriptionDoc>)> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::Subscription)?;
    let mut errs = Errors::new();
    match state.store.get_org(&body.org_id).await {
        Ok(o) if o.kind == "customer" => {}
        Ok(_) => errs.add("org_id", "only customer tenants have subscriptions"),
        Err(fasttrack_store::StoreError::NotFound) => errs.add("org_id", "no such organization"),
        Err(e) => return Err(e.into()),
    }
    if state.store.get_plan(&body.plan_id).await.is_err() {
        errs.add("plan_id", "no such plan");
    }
    if !(0..=MAX_SEATS).contains(&body.seats) {
        errs.add("seats", format!("between 0 and {MAX_SEATS}"));
    }
    let starts = errs.take(
        "starts_at",
        parse_ts("starts_at", &body.starts_at).map_err(|e| e.0[0].message.clone()),
    );
    let ends = match &body.ends_at {
        Some(e) => errs.take(
            "ends_at",
            parse_ts("ends_at", e).map_err(|e| e.0[0].message.clone()),
        ),
        None => None,
    };
    if let (Some(s), Some(e)) = (starts, ends) {
        if e <= s {
            errs.add("ends_at", "must be after starts_at");
        }
    }
    errs.finish()?;
    let starts = starts.ok_or_else(|| ApiError::Internal("validated field missing".into()))?;
    let s = state
        .store
        .create_subscription(
            &fasttrack_store::NewSubscription {
                org_id: body.org_id.to_string(),
                plan_id: body.plan_id.to_string(),
                seats: body.seats,
                state: (body.state.as_str()).to_string(),
                starts_at: starts,
                ends_at: ends,
            },
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}", tag = "subscriptions", params(("id" = String, Path)),
    responses((status = 200, body = SubscriptionDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SubscriptionDoc>> {
    let s = state.store.get_subscription(&id).await?;
    authorize_org_id(
        &state,
        &caller,
        Action::Read,
        Resource::Subscription,
        &s.org_id,
    )
    .await?;
    Ok(Json(s.into()))
}

/// Changes a subscription's plan, seats, state or end (programme admins). A lapse pauses the
/// tenant's engagements (R1).
#[utoipa::path(patch, path = "/api/v1/subscriptions/{id}", tag = "subscriptions", params(("id" = String, Path)), request_body = SubscriptionUpdate,
    responses((status = 200, body = SubscriptionDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn update_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubscriptionUpdate>,
) -> ApiResult<Json<SubscriptionDoc>> {
    let current = state.store.get_subscription(&id).await?;
    let (_, grant) = authorize_org_id(
        &state,
        &caller,
        Action::Update,
        Resource::Subscription,
        &current.org_id,
    )
    .await?;
    let mut errs = Errors::new();
    if let Some(p) = &body.plan_id {
        if state.store.get_plan(p).await.is_err() {
            errs.add("plan_id", "no such plan");
        }
    }
    if body.seats.is_some_and(|s| !(0..=MAX_SEATS).contains(&s)) {
        errs.add("seats", format!("between 0 and {MAX_SEATS}"));
    }
    let ends = match &body.ends_at {
        Some(Some(e)) => errs
            .take(
                "ends_at",
                parse_ts("ends_at", e).map_err(|e| e.0[0].message.clone()),
            )
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    if let Some(Some(e)) = ends {
        if e <= current.starts_at {
            errs.add("ends_at", "must be after the subscription's start");
        }
    }
    errs.finish()?;
    let s = state
        .store
        .update_subscription(
            &id,
            body.plan_id.as_deref(),
            body.seats,
            body.state.map(|s| s.as_str()),
            ends,
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    Ok(Json(s.into()))
}
