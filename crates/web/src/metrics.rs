//! `GET /metrics` in the Prometheus text format: HTTP requests per route template, the job queue,
//! service levels, bookings and the database pools; and who may read it.
//!
//! Requests are labelled with the route *template* (`/api/v1/requests/{id}`), never the raw path,
//! and paths that match no route share the label `unmatched`, so the number of series stays bounded
//! whatever clients send.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::proxy::{contains, Origin};
use crate::state::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Service-level figures are recomputed at most this often: each computation walks every open request.
const SLA_REFRESH: Duration = Duration::from_secs(60);

/// Who may read `/metrics` on the main listener.
#[derive(Clone)]
pub struct MetricsAccess {
    /// Serve `/metrics` on the main listener; off when it has a listener of its own.
    pub on_main_listener: bool,
    /// Clients (after trusted proxies) that may read it without a token.
    pub allow: Vec<IpNet>,
    /// The SHA-256 of a bearer token that may read it from anywhere.
    pub token_sha256: Option<[u8; 32]>,
}

impl MetricsAccess {
    /// Sets the bearer token (kept only as its hash).
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token_sha256 = token.map(|t| Sha256::digest(t.as_bytes()).into());
        self
    }

    /// Loopback only: readable by a Prometheus on the same host, not through a proxy.
    pub fn loopback() -> Vec<IpNet> {
        ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect()
    }

    /// Whether a request may read the metrics.
    fn allows(&self, origin: &Origin, headers: &HeaderMap) -> bool {
        if let Some(expected) = &self.token_sha256 {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                });
            if let Some(sent) = sent {
                let got: [u8; 32] = Sha256::digest(sent.trim().as_bytes()).into();
                // Compares hashes without an early exit, so timing does not reveal the token.
                if got
                    .iter()
                    .zip(expected)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
                {
                    return true;
                }
            }
        }
        // Forwarding headers from a peer we do not trust mean a proxy we do not know stands in
        // front: its own (perhaps local) address says nothing about the real client.
        !origin.untrusted_forwarding && origin.client.is_some_and(|ip| contains(&self.allow, ip))
    }
}

impl Default for MetricsAccess {
    fn default() -> Self {
        Self {
            on_main_listener: true,
            allow: Self::loopback(),
            token_sha256: None,
        }
    }
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("on_main_listener", &self.on_main_listener)
            .field("allow", &self.allow)
            .field("token", &self.token_sha256.map(|_| "…"))
            .finish()
    }
}

/// One series of the request histogram.
#[derive(Debug, Default, Clone)]
struct Series {
    /// Requests per bucket (not cumulative: the bucket each request fell in first).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Open requests with a clock at or near its target, per clock.
#[derive(Debug, Default, Clone, Copy)]
struct SlaCounts {
    breached: [u64; 2],
    near_breach: [u64; 2],
}

/// The process's own counters; the rest is read from the database at scrape time.
#[derive(Debug)]
pub struct Metrics {
    http: Mutex<BTreeMap<(&'static str, String, &'static str), Series>>,
    sla: tokio::sync::Mutex<Option<(Instant, SlaCounts)>>,
    started_at: i64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            http: Mutex::new(BTreeMap::new()),
            sla: tokio::sync::Mutex::new(None),
            started_at: jiff::Timestamp::now().as_second(),
        }
    }
}

/// A method label from a fixed set, so odd methods cannot add series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_class(s: StatusCode) -> &'static str {
    match s.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let secs = took.as_secs_f64();
        let mut map = self.http.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((
                method_label(method),
                route.to_string(),
                status_class(status),
            ))
            .or_default();
        if let Some(i) = BUCKETS.iter().position(|le| secs <= *le) {
            s.buckets[i] += 1;
        }
        s.count += 1;
        s.sum += secs;
    }

    fn http_snapshot(&self) -> Vec<((&'static str, String, &'static str), Series)> {
        let map = self.http.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Middleware: times every request and counts it under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let start = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, res.status(), start.elapsed());
    res
}

/// Escapes a label value for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The SLA figures, recomputed when older than [`SLA_REFRESH`]; `None` when they cannot be computed.
async fn sla_counts(state: &AppState) -> Option<SlaCounts> {
    let mut cached = state.metrics.sla.lock().await;
    if let Some((at, counts)) = *cached {
        if at.elapsed() < SLA_REFRESH {
            return Some(counts);
        }
    }
    match crate::api::sla::open_clocks(&state.store, state.clock.now(), None).await {
        Ok(clocks) => {
            let mut c = SlaCounts::default();
            for (doc, _) in clocks {
                for (i, clock) in [&doc.first_response, &doc.first_meeting]
                    .into_iter()
                    .enumerate()
                {
                    c.breached[i] += u64::from(clock.breached);
                    c.near_breach[i] += u64::from(clock.near_breach);
                }
            }
            *cached = Some((Instant::now(), c));
            Some(c)
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: service levels could not be computed");
            None
        }
    }
}

/// The whole exposition, in the Prometheus text format 0.0.4.
pub async fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(8 * 1024);
    family(
        &mut out,
        "fasttrack_build_info",
        "gauge",
        "The running version (always 1).",
    );
    let _ = writeln!(
        out,
        "fasttrack_build_info{{version=\"{}\"}} 1",
        label(env!("CARGO_PKG_VERSION"))
    );
    family(
        &mut out,
        "fasttrack_start_time_seconds",
        "gauge",
        "When this process started (Unix seconds).",
    );
    let _ = writeln!(
        out,
        "fasttrack_start_time_seconds {}",
        state.metrics.started_at
    );

    let http = state.metrics.http_snapshot();
    family(
        &mut out,
        "fasttrack_http_requests_total",
        "counter",
        "HTTP requests answered, by method, route template and status class.",
    );
    for ((method, route, class), s) in &http {
        let _ = writeln!(
            out,
            "fasttrack_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {}",
            label(route),
            s.count
        );
    }
    family(
        &mut out,
        "fasttrack_http_request_duration_seconds",
        "histogram",
        "Time to answer HTTP requests, by method, route template and status class.",
    );
    for ((method, route, class), s) in &http {
        let labels = format!(
            "method=\"{method}\",route=\"{}\",status=\"{class}\"",
            label(route)
        );
        let mut cumulative = 0;
        for (le, n) in BUCKETS.iter().zip(s.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "fasttrack_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "fasttrack_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(
            out,
            "fasttrack_http_request_duration_seconds_sum{{{labels}}} {}",
            s.sum
        );
        let _ = writeln!(
            out,
            "fasttrack_http_request_duration_seconds_count{{{labels}}} {}",
            s.count
        );
    }

    family(
        &mut out,
        "fasttrack_db_pool_connections",
        "gauge",
        "Open database connections (idle or in use), per pool.",
    );
    let pools = state.store.pool_use();
    for p in &pools {
        let _ = writeln!(
            out,
            "fasttrack_db_pool_connections{{pool=\"{}\"}} {}",
            p.pool, p.open
        );
    }
    family(
        &mut out,
        "fasttrack_db_pool_idle_connections",
        "gauge",
        "Idle database connections, per pool.",
    );
    for p in &pools {
        let _ = writeln!(
            out,
            "fasttrack_db_pool_idle_connections{{pool=\"{}\"}} {}",
            p.pool, p.idle
        );
    }
    family(
        &mut out,
        "fasttrack_db_pool_max_connections",
        "gauge",
        "The most connections each pool opens.",
    );
    for p in &pools {
        let _ = writeln!(
            out,
            "fasttrack_db_pool_max_connections{{pool=\"{}\"}} {}",
            p.pool, p.max
        );
    }

    let now = state.clock.now_secs();
    let mut database_up = true;
    match state.store.job_queue(now).await {
        Ok(rows) => {
            family(
                &mut out,
                "fasttrack_jobs",
                "gauge",
                "Unfinished jobs in the durable queue, by kind and state (pending, running, failed).",
            );
            for r in &rows {
                let _ = writeln!(
                    out,
                    "fasttrack_jobs{{kind=\"{}\",state=\"{}\"}} {}",
                    label(&r.kind),
                    label(&r.state),
                    r.count
                );
            }
            family(
                &mut out,
                "fasttrack_job_oldest_due_age_seconds",
                "gauge",
                "How long the longest-waiting due pending job has waited since it became due, by kind.",
            );
            let mut ages: BTreeMap<&str, i64> = BTreeMap::new();
            for r in rows.iter().filter(|r| r.state == "pending") {
                let age = r.oldest_due.map(|at| (now - at).max(0)).unwrap_or(0);
                let e = ages.entry(r.kind.as_str()).or_insert(0);
                *e = (*e).max(age);
            }
            for (kind, age) in ages {
                let _ = writeln!(
                    out,
                    "fasttrack_job_oldest_due_age_seconds{{kind=\"{}\"}} {age}",
                    label(kind)
                );
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the job queue could not be read");
            database_up = false;
        }
    }
    match state.store.meeting_counts().await {
        Ok(rows) => {
            family(
                &mut out,
                "fasttrack_bookings_total",
                "counter",
                "Meetings booked so far (every reschedule books one more), in the whole database.",
            );
            let total: i64 = rows.iter().map(|(_, n)| n).sum();
            let _ = writeln!(out, "fasttrack_bookings_total {total}");
            family(
                &mut out,
                "fasttrack_meetings",
                "gauge",
                "Meetings in the database, by state.",
            );
            for (st, n) in &rows {
                let _ = writeln!(out, "fasttrack_meetings{{state=\"{}\"}} {n}", label(st));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: meetings could not be counted");
            database_up = false;
        }
    }
    if let Some(c) = sla_counts(state).await {
        for (name, help, v) in [
            (
                "fasttrack_sla_breached_requests",
                "Open requests whose service-level clock is past its target (R15), by clock.",
                c.breached,
            ),
            (
                "fasttrack_sla_near_breach_requests",
                "Open requests whose running clock is near its target (R15), by clock.",
                c.near_breach,
            ),
        ] {
            family(&mut out, name, "gauge", help);
            for (clock, n) in ["first_response", "first_meeting"].iter().zip(v) {
                let _ = writeln!(out, "{name}{{clock=\"{clock}\"}} {n}");
            }
        }
    } else {
        database_up = false;
    }
    family(
        &mut out,
        "fasttrack_database_up",
        "gauge",
        "1 when every database figure of this scrape could be read.",
    );
    let _ = writeln!(out, "fasttrack_database_up {}", u8::from(database_up));
    out
}

fn exposition(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/metrics` on the main listener: only for allowed clients or the token holder; absent when
/// the metrics have a listener of their own.
pub(crate) async fn main_listener_scrape(
    State(state): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
) -> Response {
    let access = &state.config.metrics;
    if !access.on_main_listener {
        return ApiError::NotFound.into_response();
    }
    if !access.allows(&origin, &headers) {
        return ApiError::Forbidden(
            "the metrics are readable only from the configured addresses or with the metrics token"
                .into(),
        )
        .into_response();
    }
    exposition(render(&state).await)
}

async fn open_scrape(State(state): State<AppState>) -> Response {
    exposition(render(&state).await)
}

/// The router of the separate metrics listener: `/metrics` for whoever reaches that address.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(open_scrape))
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}

/// Serves the metrics on their own listener until `shutdown` completes.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The same accept loop as the main listener, so a slow client cannot hold it open either.
    let header_timeout = std::time::Duration::from_secs(state.config.header_timeout_seconds.max(1));
    crate::hardening::serve_app(listener, metrics_router(state), header_timeout, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_lands_in_one_bucket_and_the_count() {
        let m = Metrics::default();
        m.observe(
            &Method::GET,
            "/a/{id}",
            StatusCode::OK,
            Duration::from_millis(3),
        );
        m.observe(
            &Method::GET,
            "/a/{id}",
            StatusCode::OK,
            Duration::from_secs(60),
        );
        let snap = m.http_snapshot();
        assert_eq!(snap.len(), 1);
        let s = &snap[0].1;
        assert_eq!(s.count, 2);
        assert_eq!(s.buckets[0], 1, "3 ms is within the first bucket");
        assert_eq!(
            s.buckets.iter().sum::<u64>(),
            1,
            "a minute is past every bucket"
        );
    }

    #[test]
    fn odd_methods_and_statuses_share_labels() {
        assert_eq!(
            method_label(&Method::from_bytes(b"BREW").unwrap_or(Method::GET)),
            "OTHER"
        );
        assert_eq!(status_class(StatusCode::IM_A_TEAPOT), "4xx");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
