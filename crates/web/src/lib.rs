//! fasttrack's HTTP layer: the JSON API with its OpenAPI document, authentication, pages and health.
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod extract;
pub mod fuzzing;
pub mod hardening;
pub mod ics;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod password;
pub mod proxy;
pub mod scheduler;
pub mod site;
pub mod state;
pub mod timeline;
pub mod widget;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, Clock, Shared, WebConfig};

/// The largest request body accepted (1 MiB): enough for any form, small enough to refuse floods.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Health: 200 only when the database answers.
async fn healthz(State(state): State<AppState>) -> axum::response::Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ok",
            "database": match state.store.backend() {
                fasttrack_store::Backend::Sqlite => "sqlite",
                fasttrack_store::Backend::Postgres => "postgres",
            }
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            ApiError::Unavailable.into_response()
        }
    }
}

/// The benchmark's ceiling: the full middleware stack and nothing behind it (BENCHMARKS.md).
#[cfg(feature = "bench")]
async fn bench_noop() -> &'static str {
    "ok"
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The whole application: API, OpenAPI document, health, with its middleware.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi_json = openapi_document(&openapi);
    let router = Router::new();
    #[cfg(feature = "bench")]
    let router = router.route("/bench/noop", get(bench_noop));
    router
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::main_listener_scrape))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(api)
        .merge(widget::routes())
        .merge(site::routes())
        .merge(oidc::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            proxy::secure_cookies,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(hardening::refuse_nul))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.request_timeout_seconds.max(1)),
        ))
        // Outside the timeout, so that its bare 408 becomes a problem document too.
        .layer(axum::middleware::from_fn(hardening::problem_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document as served: every response gets a description (OpenAPI requires one),
/// taken from its status's reason phrase where the handler gave none.
pub fn openapi_document(openapi: &utoipa::openapi::OpenApi) -> String {
    let mut doc = serde_json::to_value(openapi).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for item in paths.values_mut().filter_map(|i| i.as_object_mut()) {
            for op in item.values_mut().filter_map(|o| o.as_object_mut()) {
                let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut())
                else {
                    continue;
                };
                for (status, resp) in responses.iter_mut() {
                    if let Some(r) = resp.as_object_mut() {
                        if !r.contains_key("description") && !r.contains_key("$ref") {
                            let reason = status
                                .parse::<u16>()
                                .ok()
                                .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
                                .and_then(|c| c.canonical_reason())
                                .unwrap_or("Response");
                            r.insert(
                                "description".into(),
                                serde_json::Value::String(reason.into()),
                            );
                        }
                    }
                }
            }
        }
    }
    doc.to_string()
}

/// Serves the application on `listener` until `shutdown` completes; requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = Duration::from_secs(state.config.header_timeout_seconds.max(1));
    hardening::serve_app(listener, app(state), header_timeout, shutdown).await
}
