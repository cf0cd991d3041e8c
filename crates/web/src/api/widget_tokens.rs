//! Widget tokens (R8a): a tenant admin creates one per admin center that embeds the widget.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::types::text;
use fasttrack_core::{error::Errors, Invalid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::new_secret;
use super::{audit_ctx, authorize_org_id, ts, ts_opt};
use crate::error::ApiResult;
use crate::extract::{hash_secret, ApiJson, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_widget_tokens, create_widget_token))
        .routes(routes!(revoke_widget_token))
        .routes(routes!(crate::widget::file_via_widget))
}

/// A widget token (its secret only in the answer to its creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetTokenDoc {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// Origins whose pages may embed the widget's form.
    pub allowed_origins: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The tag to paste into the admin center page (only at creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl From<fasttrack_store::WidgetToken> for WidgetTokenDoc {
    fn from(t: fasttrack_store::WidgetToken) -> Self {
        WidgetTokenDoc {
            allowed_origins: t.origins(),
            id: t.id,
            org_id: t.org_id,
            name: t.name,
            created_by: t.created_by,
            created_at: ts(t.created_at),
            revoked_at: ts_opt(t.revoked_at),
            token: None,
            snippet: None,
        }
    }
}

/// A new widget token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetTokenCreate {
    pub name: String,
    /// Origins (`https://admin.contoso.example`) allowed to embed the widget's form.
    pub allowed_origins: Vec<String>,
}

/// Checks an origin: scheme, host and optional port, nothing else.
fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("an origin is scheme://host[:port]".into());
    };
    if !matches!(scheme, "http" | "https") {
        return Err("an origin's scheme is http or https".into());
    }
    let ok = !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' ', '*', '\'', '"', ';'])
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if ok {
        Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
    } else {
        Err(format!("'{s}' is not an origin (scheme://host[:port])"))
    }
}

/// A tenant's widget tokens.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/widget-tokens", tag = "widget", params(("id" = String, Path)),
    responses((status = 200, body = Vec<WidgetTokenDoc>), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn list_widget_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<WidgetTokenDoc>>> {
    authorize_org_id(&state, &caller, Action::Update, Resource::Organization, &id).await?;
    Ok(Json(
        state
            .store
            .list_widget_tokens(&id)
            .await?
            .into_iter()
            .map(WidgetTokenDoc::from)
            .collect(),
    ))
}

/// Creates a widget token for a customer tenant (its admins, or programme admins).
#[utoipa::path(post, path = "/api/v1/organizations/{id}/widget-tokens", tag = "widget", params(("id" = String, Path)), request_body = WidgetTokenCreate,
    responses((status = 201, body = WidgetTokenDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_widget_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WidgetTokenCreate>,
) -> ApiResult<(StatusCode, Json<WidgetTokenDoc>)> {
    let (org, grant) =
        authorize_org_id(&state, &caller, Action::Update, Resource::Organization, &id).await?;
    if org.kind != "customer" {
        return Err(Invalid::one("id", "widgets belong to customer tenants").into());
    }
    if caller.user.org_id != org.id {
        return Err(Invalid::one("id", "a tenant admin creates the widget tokens: requests filed through the widget are filed as them").into());
    }
    let mut errs = Errors::new();
    let name = errs.take("name", text(&body.name, 100, true));
    if body.allowed_origins.is_empty() || body.allowed_origins.len() > 10 {
        errs.add("allowed_origins", "one to ten origins");
    }
    let mut origins = Vec::new();
    for (i, o) in body.allowed_origins.iter().enumerate() {
        if let Some(o) = errs.take(&format!("allowed_origins[{i}]"), parse_origin(o)) {
            origins.push(o);
        }
    }
    errs.finish()?;
    let secret = format!("wt_{}", new_secret()?);
    let t = state
        .store
        .create_widget_token(
            &org.id,
            &name.unwrap_or_default(),
            &origins,
            &hash_secret(&secret),
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    let mut doc = WidgetTokenDoc::from(t);
    doc.snippet = Some(format!(
        "<script src=\"{{FASTTRACK_URL}}/widget.js\" data-token=\"{secret}\" async></script>"
    ));
    doc.token = Some(secret);
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Revokes a widget token; the widget stops working at once.
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/widget-tokens/{token_id}", tag = "widget",
    params(("id" = String, Path), ("token_id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn revoke_widget_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (_, grant) =
        authorize_org_id(&state, &caller, Action::Update, Resource::Organization, &id).await?;
    state
        .store
        .revoke_widget_token(&id, &token_id, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
