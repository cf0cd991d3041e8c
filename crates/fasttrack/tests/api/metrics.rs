//! `GET /metrics`: every family after real traffic, with values that add up, and who may read it.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{email, spawn_app_configured, test_worker_config, Client, Db, TestApp};
use crate::{on_both, on_both_dbs};

/// One sample: the metric's name, its labels and its value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: `# TYPE` per family and every sample.
#[derive(Debug, Default)]
struct Exposition {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    /// Parses the Prometheus text format (the subset a server writes: no timestamps).
    fn parse(text: &str) -> Exposition {
        let mut e = Exposition::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE line has a kind");
                e.types.insert(name.to_string(), kind.to_string());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let value: f64 = if value == "+Inf" {
                f64::INFINITY
            } else {
                value
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value: {line}"))
            };
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, parse_labels(l.strip_suffix('}').expect("closing brace"))),
                None => (series, BTreeMap::new()),
            };
            e.samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        e
    }

    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The value of the one sample of `name` whose labels include `want`.
    fn value(&self, name: &str, want: &[(&str, &str)]) -> Option<f64> {
        self.named(name)
            .find(|s| {
                want.iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }
}

/// `a="x",b="y\"z"` → map, undoing the format's escapes.
fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label value is quoted in {s}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        out.insert(key.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

async fn scrape(c: &Client, path_base: &str) -> (StatusCode, String, String) {
    let res = c
        .http
        .get(format!("{path_base}/metrics"))
        .send()
        .await
        .expect("scrape");
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, res.text().await.unwrap_or_default())
}

/// Files a request as the customer and has the manager accept it; returns its id.
async fn accepted_request(app: &TestApp) -> String {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["mail"],
                   "contact": {"name": "Ada Rossi", "email": "ada@contoso.example"},
                   "language": "it", "preferred_windows": [], "description": "Mail onboarding"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_string();
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let a = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    id
}

async fn metrics_report_every_family_after_traffic(app: &TestApp) {
    let anon = app.anonymous();
    for _ in 0..3 {
        assert_eq!(anon.get("/healthz").await.status, 200);
    }
    assert_eq!(anon.get("/api/v1/no-such-thing").await.status, 404);
    // A booking: a request accepted and its first slot booked by a specialist.
    let id = accepted_request(app).await;
    let staff = app.sign_in(&email("fasttrack_specialist")).await;
    for _ in 0..2 {
        assert_eq!(
            staff.get(&format!("/api/v1/requests/{id}")).await.status,
            200
        );
    }
    let slots = staff
        .get(&format!("/api/v1/requests/{id}/slots?limit=1"))
        .await;
    assert_eq!(slots.status, 200, "{}", slots.body);
    let slot = slots.body["slots"][0].clone();
    let booked = staff
        .post(
            "/api/v1/meetings",
            json!({"request_id": id, "staff_id": slot["staff_id"], "start": slot["start"],
                   "length_minutes": 60, "purpose": "kick-off"}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    // A request nobody answers, then a fortnight: its first-response clock is past its target.
    let customer = app.sign_in(&email("customer")).await;
    let late = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["files"],
                   "contact": {"name": "Ada Rossi", "email": "ada@contoso.example"},
                   "language": "it", "preferred_windows": [], "description": "Files"}),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.body);
    app.advance_days(14);

    let (status, content_type, text) = scrape(&anon, &app.base).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let e = Exposition::parse(&text);

    for (family, kind) in [
        ("fasttrack_http_requests_total", "counter"),
        ("fasttrack_http_request_duration_seconds", "histogram"),
        ("fasttrack_jobs", "gauge"),
        ("fasttrack_job_oldest_due_age_seconds", "gauge"),
        ("fasttrack_sla_breached_requests", "gauge"),
        ("fasttrack_sla_near_breach_requests", "gauge"),
        ("fasttrack_bookings_total", "counter"),
        ("fasttrack_meetings", "gauge"),
        ("fasttrack_db_pool_connections", "gauge"),
        ("fasttrack_db_pool_idle_connections", "gauge"),
        ("fasttrack_db_pool_max_connections", "gauge"),
        ("fasttrack_database_up", "gauge"),
    ] {
        assert_eq!(
            e.types.get(family).map(String::as_str),
            Some(kind),
            "family {family} missing or of the wrong type:\n{text}"
        );
    }

    // Requests, by route template: never the raw path with the request's id.
    let healthz = e
        .value(
            "fasttrack_http_requests_total",
            &[("route", "/healthz"), ("method", "GET"), ("status", "2xx")],
        )
        .unwrap_or(0.0);
    assert!(healthz >= 3.0, "healthz counted {healthz} times");
    let by_id = e
        .value(
            "fasttrack_http_requests_total",
            &[("route", "/api/v1/requests/{id}"), ("method", "GET")],
        )
        .unwrap_or(0.0);
    assert!(by_id >= 2.0, "request reads counted {by_id} times");
    assert!(
        e.value(
            "fasttrack_http_requests_total",
            &[
                ("route", "/api/v1/meetings"),
                ("method", "POST"),
                ("status", "2xx")
            ],
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        e.value(
            "fasttrack_http_requests_total",
            &[("route", "unmatched"), ("status", "4xx")],
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        !e.samples
            .iter()
            .any(|s| s.labels.values().any(|v| v.contains(&id))),
        "a raw id leaked into a label"
    );

    // Histograms: buckets never decrease, +Inf equals _count, and counters agree.
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for s in e.named("fasttrack_http_request_duration_seconds_bucket") {
        let mut labels = s.labels.clone();
        let le = labels.remove("le").expect("le label");
        let le: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().expect("numeric le")
        };
        series
            .entry(format!("{labels:?}"))
            .or_default()
            .push((le, s.value));
    }
    assert!(!series.is_empty());
    for s in e.named("fasttrack_http_request_duration_seconds_count") {
        let key = format!("{:?}", s.labels);
        let buckets = series.get(&key).expect("buckets for every _count");
        let mut sorted = buckets.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            sorted.windows(2).all(|w| w[0].1 <= w[1].1),
            "buckets decrease: {sorted:?}"
        );
        let inf = sorted.last().expect("a bucket");
        assert!(inf.0.is_infinite(), "the last bucket is +Inf");
        assert_eq!(inf.1, s.value, "+Inf bucket equals _count for {key}");
        let labels: Vec<(&str, &str)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            e.value("fasttrack_http_requests_total", &labels),
            Some(s.value),
            "counter and histogram agree for {key}"
        );
        assert!(e
            .value("fasttrack_http_request_duration_seconds_sum", &labels)
            .is_some_and(|v| v >= 0.0));
    }

    // The booking's invitation waits in the queue (no mail server in the tests), due for 14 days.
    let pending_mail = e
        .value("fasttrack_jobs", &[("kind", "mail"), ("state", "pending")])
        .unwrap_or(0.0);
    assert!(pending_mail >= 1.0, "pending mail jobs: {pending_mail}");
    let age = e
        .value("fasttrack_job_oldest_due_age_seconds", &[("kind", "mail")])
        .expect("age of the mail queue");
    assert!(
        (13.0 * 86_400.0..=15.0 * 86_400.0).contains(&age),
        "oldest due job waited {age} s"
    );
    assert!(e.value("fasttrack_bookings_total", &[]).unwrap_or(0.0) >= 1.0);
    assert!(
        e.value("fasttrack_meetings", &[("state", "booked")])
            .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        e.value(
            "fasttrack_sla_breached_requests",
            &[("clock", "first_response")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "the unanswered request breaches its first-response target"
    );
    let pools: Vec<&Sample> = e.named("fasttrack_db_pool_connections").collect();
    assert!(!pools.is_empty());
    for p in pools {
        let pool = p.labels["pool"].as_str();
        let idle = e
            .value("fasttrack_db_pool_idle_connections", &[("pool", pool)])
            .expect("idle");
        let max = e
            .value("fasttrack_db_pool_max_connections", &[("pool", pool)])
            .expect("max");
        assert!(p.value >= 1.0, "pool {pool} has no connection open");
        assert!(
            idle <= p.value && p.value <= max,
            "{pool}: {idle} idle, {} open, {max} max",
            p.value
        );
    }
    assert_eq!(e.value("fasttrack_database_up", &[]), Some(1.0));

    // A second scrape counts the first.
    let (_, _, again) = scrape(&anon, &app.base).await;
    let again = Exposition::parse(&again);
    assert!(
        again
            .value(
                "fasttrack_http_requests_total",
                &[("route", "/metrics"), ("status", "2xx")]
            )
            .unwrap_or(0.0)
            >= 1.0
    );
}
on_both!(metrics_report_every_family_after_traffic);

/// Starts a server whose `/metrics` wants a token (no address is allowed without one).
async fn token_only(db: Db) -> Option<TestApp> {
    let web = fasttrack_web::WebConfig {
        metrics: fasttrack_web::metrics::MetricsAccess {
            on_main_listener: true,
            allow: Vec::new(),
            token_sha256: None,
        }
        .with_token(Some("metrics-token-0123456789")),
        ..fasttrack_web::WebConfig::default()
    };
    spawn_app_configured(db, web, None, test_worker_config()).await
}

async fn metrics_on_the_main_listener_need_the_token_or_an_allowed_address(db: Db) {
    let Some(app) = token_only(db).await else {
        return;
    };
    let anon = app.anonymous();
    let (status, _, _) = scrape(&anon, &app.base).await;
    assert_eq!(status, 403, "no token, address not allowed");
    let r = anon
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth("metrics-token-wrong-wrong")
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 403);
    let r = anon
        .http
        .get(format!("{}/metrics", app.base))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap_or_default()
        .contains("fasttrack_http_requests_total"));
    // A user's session or API token is not the metrics token.
    let admin = app.sign_in(&email("programme_admin")).await;
    assert_eq!(admin.get("/metrics").await.status, 403);
    app.stop().await;

    // With the default allow list (loopback), a local proxy we were not told to trust does not
    // open the metrics to the clients it forwards.
    let Some(app) = crate::helpers::spawn_app(db).await else {
        return;
    };
    let anon = app.anonymous();
    assert_eq!(scrape(&anon, &app.base).await.0, 200, "loopback is allowed");
    let r = anon
        .http
        .get(format!("{}/metrics", app.base))
        .header("x-forwarded-for", "198.51.100.23")
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 403, "forwarded by an untrusted local proxy");
    app.stop().await;
}

on_both_dbs!(metrics_on_the_main_listener_need_the_token_or_an_allowed_address);

async fn metrics_listen_moves_metrics_off_the_main_listener(db: Db) {
    let Some(app) = spawn_app_configured(
        db,
        fasttrack_web::WebConfig {
            metrics: fasttrack_web::metrics::MetricsAccess {
                on_main_listener: false,
                ..Default::default()
            },
            ..Default::default()
        },
        Some("127.0.0.1:0"),
        test_worker_config(),
    )
    .await
    else {
        return;
    };
    let anon = app.anonymous();
    assert_eq!(anon.get("/healthz").await.status, 200);
    let (status, _, _) = scrape(&anon, &app.base).await;
    assert_eq!(status, 404, "not on the main listener");
    let addr = app.running.metrics_addr.expect("a metrics listener");
    let (status, _, text) = scrape(&anon, &format!("http://{addr}")).await;
    assert_eq!(status, 200);
    let e = Exposition::parse(&text);
    assert!(
        e.value(
            "fasttrack_http_requests_total",
            &[("route", "/healthz"), ("status", "2xx")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "the separate listener reports the main listener's traffic"
    );
    let other = anon
        .http
        .get(format!("http://{addr}/api/v1/me"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
    app.stop().await;
}

on_both_dbs!(metrics_listen_moves_metrics_off_the_main_listener);

#[test]
fn the_test_parser_reads_escaped_labels() {
    let e = Exposition::parse("# TYPE x counter\nx{a=\"b\\\"c\",d=\"e\"} 2\ny 1.5\n");
    assert_eq!(e.value("x", &[("a", "b\"c"), ("d", "e")]), Some(2.0));
    assert_eq!(e.value("y", &[]), Some(1.5));
}
