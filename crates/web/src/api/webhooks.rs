//! Webhooks: an organization's endpoints receive signed JSON events on request state changes,
//! through the durable job queue (at least once; deliveries carry an id to deduplicate on).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::{error::Errors, Invalid};
use fasttrack_store::{JobSpec, Request, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::new_secret;
use super::{audit_ctx, authorize_org_id, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// The events a webhook can subscribe to.
pub const EVENTS: [&str; 9] = [
    "request.submitted",
    "request.accepted",
    "request.declined",
    "request.info_requested",
    "request.info_provided",
    "request.withdrawn",
    "request.scheduled",
    "request.started",
    "request.completed",
];

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
}

/// A webhook subscription (its secret only at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDoc {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: String,
    /// The HMAC-SHA256 key that signs deliveries (`X-Fasttrack-Signature: sha256=<hex>`); shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Webhook> for WebhookDoc {
    fn from(w: Webhook) -> Self {
        WebhookDoc {
            events: serde_json::from_str(&w.events).unwrap_or_default(),
            id: w.id,
            org_id: w.org_id,
            url: w.url,
            active: w.active,
            created_at: ts(w.created_at),
            secret: None,
        }
    }
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// The subscribing organization; the caller's own when absent.
    pub org_id: Option<String>,
    /// An http(s) URL that accepts POSTed JSON.
    pub url: String,
    /// Event types, or `["*"]` for all.
    pub events: Vec<String>,
}

/// Which organization's webhooks to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WebhookQuery {
    pub org_id: Option<String>,
}

fn check_url(u: &str) -> Result<String, String> {
    let u = u.trim();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or("a webhook URL starts with https:// (or http://)")?;
    if u.len() > 2000
        || rest.is_empty()
        || rest.starts_with('/')
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("not a valid URL".into());
    }
    Ok(u.to_string())
}

/// Webhooks of an organization the caller administers.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", params(WebhookQuery),
    responses((status = 200, body = Vec<WebhookDoc>), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WebhookQuery>,
) -> ApiResult<Json<Vec<WebhookDoc>>> {
    let org = q.org_id.unwrap_or_else(|| caller.user.org_id.clone());
    authorize_org_id(
        &state,
        &caller,
        Action::Update,
        Resource::Organization,
        &org,
    )
    .await?;
    Ok(Json(
        state
            .store
            .list_webhooks(Some(&org))
            .await?
            .into_iter()
            .map(WebhookDoc::from)
            .collect(),
    ))
}

/// Registers a webhook; its signing secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookCreate,
    responses((status = 201, body = WebhookDoc), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<WebhookCreate>,
) -> ApiResult<(StatusCode, Json<WebhookDoc>)> {
    let org = body
        .org_id
        .clone()
        .unwrap_or_else(|| caller.user.org_id.clone());
    let (_, grant) = authorize_org_id(
        &state,
        &caller,
        Action::Update,
        Resource::Organization,
        &org,
    )
    .await?;
    let mut errs = Errors::new();
    let url = errs.take("url", check_url(&body.url));
    if body.events.is_empty() {
        errs.add(
            "events",
            format!("name events, or \"*\"; one of: {}", EVENTS.join(", ")),
        );
    }
    for (i, e) in body.events.iter().enumerate() {
        if e != "*" && !EVENTS.contains(&e.as_str()) {
            errs.add(
                format!("events[{i}]"),
                format!("unknown event; one of: {}", EVENTS.join(", ")),
            );
        }
    }
    errs.finish()?;
    let url = url.ok_or_else(|| ApiError::Invalid(Invalid::one("url", "required")))?;
    let secret = format!("whsec_{}", new_secret()?);
    let w = state
        .store
        .create_webhook(
            &org,
            &url,
            &secret,
            &body.events,
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    let mut doc = WebhookDoc::from(w);
    doc.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Stops a webhook.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let w = state.store.get_webhook(&id).await?;
    let (_, grant) = authorize_org_id(
        &state,
        &caller,
        Action::Update,
        Resource::Organization,
        &w.org_id,
    )
    .await?;
    state
        .store
        .deactivate_webhook(&id, &w.org_id, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook jobs a request event owes: one per subscribed endpoint of the tenant, of the
/// organization that filed it (a partner) and of the programme.
pub async fn jobs_for(
    state: &AppState,
    r: &Request,
    event: &str,
    data: serde_json::Value,
) -> ApiResult<Vec<JobSpec>> {
    jobs_at(&state.store, state.clock.now(), r, event, data).await
}

/// [`jobs_for`] with the store and the instant given (for callers outside a handler).
pub async fn jobs_at(
    store: &fasttrack_store::Store,
    at: jiff::Timestamp,
    r: &Request,
    event: &str,
    data: serde_json::Value,
) -> ApiResult<Vec<JobSpec>> {
    let hooks = store.webhooks_for(&r.org_id, &r.filed_by_org_id).await?;
    let event_id = format!("{}:{event}:{}", r.id, at.as_millisecond());
    Ok(hooks
        .into_iter()
        .filter(|h| h.wants(event))
        .map(|h| JobSpec {
            kind: "webhook".into(),
            dedupe_key: format!("webhook:{}:{event_id}", h.id),
            payload: json!({
                "webhook_id": h.id,
                "event": {"id": event_id, "type": event, "created_at": at.to_string(), "data": data},
            }),
        })
        .collect())
}
