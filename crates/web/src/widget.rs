//! The admin center's "Need help?" widget (R8a): its script, the request form it opens, and the
//! endpoint that files with a tenant-bound widget token.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fasttrack_core::policy::Grant;
use fasttrack_core::rules::request::{Channel, Filer};
use fasttrack_core::{Invalid, Language};
use fasttrack_store::WidgetToken;
use serde::Deserialize;

use crate::api::requests::{file, RequestCreate, RequestDoc};
use crate::error::{ApiError, ApiResult};
use crate::extract::{hash_secret, ApiJson};
use crate::site::i18n;
use crate::state::AppState;

/// The header that carries a widget token.
pub const TOKEN_HEADER: &str = "x-widget-token";

const WIDGET_JS: &str = include_str!("../assets/widget.js");
const FORM_JS: &str = include_str!("../assets/widget-form.js");
const FORM_CSS: &str = include_str!("../assets/widget-form.css");

/// The widget's routes (outside the OpenAPI router: the filing endpoint is documented there).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(widget_js))
        .route(
            "/widget/form.js",
            get(|| async { asset("application/javascript; charset=utf-8", FORM_JS) }),
        )
        .route(
            "/widget/form.css",
            get(|| async { asset("text/css; charset=utf-8", FORM_CSS) }),
        )
        .route("/widget/form", get(form))
        .route("/api/v1/widget/requests", axum::routing::options(preflight))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The widget script: any admin center may load it (what it can do needs a token).
async fn widget_js() -> Response {
    let mut res = asset("application/javascript; charset=utf-8", WIDGET_JS);
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    res
}

/// Finds the live widget token and the customer admin it files as.
async fn token_user(
    state: &AppState,
    secret: &str,
) -> ApiResult<(WidgetToken, fasttrack_store::User)> {
    let t = state
        .store
        .find_widget_token(&hash_secret(secret.trim()))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = state.store.get_user(&t.created_by).await?;
    if user.disabled || user.org_id != t.org_id {
        return Err(ApiError::Unauthenticated);
    }
    Ok((t, user))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The form page's query.
#[derive(Debug, Deserialize)]
pub struct FormQuery {
    token: String,
    lang: Option<String>,
}

/// The request form shown inside the widget's dialog; embeddable only by the token's origins.
async fn form(State(state): State<AppState>, Query(q): Query<FormQuery>) -> Response {
    let (t, _) = match token_user(&state, &q.token).await {
        Ok(v) => v,
        Err(_) => {
            return (
                StatusCode::UNAUTHORIZED,
                Html("<!doctype html><meta charset=utf-8><title>Widget unavailable</title><p>This help widget is not (or no longer) enabled for this tenant.</p>"),
            )
                .into_response()
        }
    };
    let org = match state.store.get_org(&t.org_id).await {
        Ok(o) => o,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let services = match state
        .store
        .eligible_services(&org.id, state.clock.now_secs())
        .await
    {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let catalogue = state.store.list_services().await.unwrap_or_default();
    let lang = q
        .lang
        .as_deref()
        .and_then(|l| Language::parse(l).ok())
        .or_else(|| Language::parse(&org.language).ok())
        .unwrap_or(Language::English);
    let service_boxes: String = services
        .iter()
        .map(|id| {
            let name = catalogue
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.name.as_str())
                .unwrap_or(id);
            format!(
                "<label><input type=checkbox name=services value=\"{}\"> {}</label>",
                escape(id),
                escape(name)
            )
        })
        .collect();
    let tr = |key: &str| escape(&i18n::text(lang, key, &[]));
    let kind_boxes: String = fasttrack_core::rules::engagement::HelpKind::ALL
        .iter()
        .map(|k| {
            format!(
                "<label><input type=checkbox name=kinds value={}> {}</label>",
                k.as_str(),
                tr(&format!("kind-{}", k.as_str().replace('_', "-")))
            )
        })
        .collect();
    let lang_options: String = Language::ALL
        .iter()
        .map(|l| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                l.tag(),
                if *l == lang { " selected" } else { "" },
                l.native_name()
            )
        })
        .collect();
    let body = format!(
        r#"<!doctype html>
<html lang="{lang_tag}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — FastTrack</title><link rel="stylesheet" href="/widget/form.css"></head>
<body>
<h1>{title}</h1>
<p class="lead">{lead}</p>
<form id="request-form" data-token="{token}" data-sending="{sending}" data-done="{done}" data-failed="{failed}">
<fieldset><legend>{kinds_legend}</legend>{kind_boxes}<span class="field-error" id="error-kinds"></span></fieldset>
<fieldset><legend>{services_legend}</legend>{service_boxes}<span class="field-error" id="error-services"></span></fieldset>
<label for="name">{name_label}</label><input id="name" name="name" type="text" autocomplete="name" required><span class="field-error" id="error-name"></span>
<label for="email">{email_label}</label><input id="email" name="email" type="email" autocomplete="email" required><span class="field-error" id="error-email"></span>
<label for="phone">{phone_label}</label><input id="phone" name="phone" type="tel" autocomplete="tel"><span class="field-error" id="error-phone"></span>
<label for="language">{language_label}</label><select id="language" name="language">{lang_options}</select><span class="field-error" id="error-language"></span>
<label for="description">{goal_label}</label><textarea id="description" name="description"></textarea><span class="field-error" id="error-description"></span>
<span class="field-error" id="error-tenant"></span>
<button type="submit">{submit}</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
<script src="/widget/form.js"></script>
</body></html>"#,
        lang_tag = lang.tag(),
        title = tr("widget-title"),
        lead = escape(&i18n::text(lang, "widget-lead", &[("tenant", &org.name)])),
        sending = tr("widget-sending"),
        done = tr("widget-done"),
        failed = tr("widget-failed"),
        kinds_legend = tr("field-kinds"),
        services_legend = tr("field-services"),
        name_label = tr("widget-name"),
        email_label = tr("field-email"),
        phone_label = tr("widget-phone"),
        language_label = tr("widget-language"),
        goal_label = tr("widget-goal"),
        submit = tr("request-assistance"),
        token = escape(&q.token),
    );
    let ancestors = t.origins().join(" ");
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {}",
        if ancestors.is_empty() { "'none'".to_string() } else { ancestors }
    );
    let mut res = Html(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

/// CORS preflight for admin centers that call the filing endpoint directly.
async fn preflight(headers: HeaderMap) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    if let Some(origin) = headers.get(header::ORIGIN) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-widget-token"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}

/// R8a: files a request through the admin center widget, for the widget token's tenant.
#[utoipa::path(post, path = "/api/v1/widget/requests", tag = "requests", request_body = RequestCreate,
    params(("x-widget-token" = String, Header, description = "The tenant's widget token")), security(()),
    responses((status = 201, body = RequestDoc), (status = 401, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn file_via_widget(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RequestCreate>,
) -> ApiResult<Response> {
    let secret = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated)?;
    let (t, user) = token_user(&state, secret).await?;
    if body.org_id.as_ref().is_some_and(|o| *o != t.org_id) {
        return Err(Invalid::one("org_id", "the widget files for its own tenant only").into());
    }
    if body
        .channel
        .is_some_and(|c| c != Channel::AdminCenterWidget)
    {
        return Err(Invalid::one("channel", "the widget's channel is admin_center_widget").into());
    }
    let org = state.store.get_org(&t.org_id).await?;
    let r = file(
        &state,
        &org,
        &user,
        Filer::Customer,
        Channel::AdminCenterWidget,
        &Grant { acting_for: None },
        body,
    )
    .await?;
    let mut res = (StatusCode::CREATED, Json(RequestDoc::from_row(r))).into_response();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .map(|o| t.origins().iter().any(|a| a == o))
            .unwrap_or(false);
        if allowed {
            res.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    Ok(res)
}
