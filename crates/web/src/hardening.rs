//! Answers for hostile clients and the security headers: our own accept loop (so that a client
//! that sends its headers slowly is cut off), every error the framework produces rewritten as a
//! problem document, and HSTS, CSP and frame options on every answer.

use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::error::{ApiError, Problem};
use crate::proxy::Origin;
use crate::state::AppState;

/// The CSP of every answer that sets none of its own: nothing from elsewhere, no framing.
pub const DEFAULT_CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// HSTS as sent over TLS: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The most of a plain-text error body kept as the problem's detail.
const MAX_DETAIL_BYTES: usize = 2048;

/// Serves `app` on `listener` until `shutdown` completes, cutting off clients that take longer
/// than `header_timeout` to send a request's headers (slowloris); requests in flight finish.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Each connection holds a receiver of `closed`; when all are gone, every connection is done.
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(v) => v,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin, keep serving.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move {
                let req = req.map(Body::new);
                tower::Service::call(&mut app, req).await
            }
        });
        let mut stop = stop_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, peer = %peer, "connection ended with an error");
                    }
                }
                // The guard `wait_for` returns must not live across the await below.
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
    Ok(())
}

/// The problem document for an error status the framework (not a handler) produced.
pub fn status_problem(status: StatusCode, detail: &str) -> ApiError {
    let detail = detail.trim();
    match status {
        StatusCode::BAD_REQUEST => ApiError::Malformed(if detail.is_empty() {
            "the request is malformed".into()
        } else {
            detail.to_string()
        }),
        StatusCode::UNPROCESSABLE_ENTITY if !detail.is_empty() => {
            ApiError::Invalid(fasttrack_core::Invalid::one("body", detail))
        }
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType(if detail.is_empty() {
                "this content type is not accepted here".into()
            } else {
                detail.to_string()
            })
        }
        s if s.is_client_error() => ApiError::Rejected {
            status: s.as_u16(),
            detail: if detail.is_empty() {
                s.canonical_reason().unwrap_or("bad request").to_string()
            } else {
                detail.to_string()
            },
        },
        _ => ApiError::Internal(format!("status {status}: {detail}")),
    }
}

/// Rewrites every error answer that is neither a problem document nor a page (the framework's
/// plain-text rejections, the timeout's empty 408) as an RFC 9457 problem document.
pub async fn problem_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/problem+json") || content_type.starts_with("text/html")
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    let detail = if content_type.starts_with("text/plain") {
        match axum::body::to_bytes(body, MAX_DETAIL_BYTES * 4).await {
            Ok(b) => {
                let text = String::from_utf8_lossy(&b);
                text.chars().take(MAX_DETAIL_BYTES).collect::<String>()
            }
            Err(_) => String::new(),
        }
    } else {
        String::new()
    };
    let mut out = status_problem(status, &detail).into_response();
    // Keep what the framework said besides the body (`Allow` on a 405, for example).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    *out.status_mut() = status;
    out
}

/// Refuses a request whose path or query holds an encoded NUL (`%00`): no page or identifier
/// has one, and PostgreSQL could not compare against it (it would be a 500 there, not here).
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return ApiError::Malformed("the address must not contain NUL characters (%00)".into())
            .into_response();
    }
    next.run(req).await
}

/// Whether `csp` lets any page frame this one.
fn frameable(csp: &str) -> bool {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("frame-ancestors"))
        .is_some_and(|sources| sources.trim() != "'none'")
}

/// Security headers on every answer: the strict CSP unless the handler set its own (the widget's
/// form names the admin-center origins that may frame it), `X-Frame-Options: DENY` unless the CSP
/// allows framing, and HSTS when the client reached us over TLS.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = Origin::of(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip()),
        req.headers(),
        &state.config.trusted_proxies,
    );
    let over_tls = origin.forwarded_https || state.config.public_https();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    let may_be_framed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(frameable);
    if may_be_framed {
        // frame-ancestors decides; an X-Frame-Options here would contradict it in old browsers.
        h.remove(header::X_FRAME_OPTIONS);
    } else if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    if over_tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    } else {
        // Browsers ignore HSTS over plain HTTP anyway; never sending it there keeps a
        // misconfigured proxy from pinning a host that does not speak TLS.
        h.remove(header::STRICT_TRANSPORT_SECURITY);
    }
    res
}

/// The problem document a framework status turns into, for tests and the OpenAPI document.
pub fn problem_for(status: StatusCode, detail: &str) -> Problem {
    status_problem(status, detail).to_problem()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_statuses_become_problems_with_their_own_status() {
        for code in [400u16, 404, 405, 408, 411, 413, 415, 422, 431] {
            let status = StatusCode::from_u16(code).unwrap();
            let p = problem_for(status, "Failed to parse the request body as JSON");
            assert_eq!(p.status, code, "{code}");
            assert!(p.kind.starts_with("https://"), "{code}");
        }
    }

    #[test]
    fn only_a_frame_ancestors_other_than_none_allows_framing() {
        assert!(!frameable(DEFAULT_CSP));
        assert!(!frameable("default-src 'none'"));
        assert!(frameable(
            "default-src 'none'; frame-ancestors https://admin.example"
        ));
    }
}
