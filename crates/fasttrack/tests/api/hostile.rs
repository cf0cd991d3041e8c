//! Hostile clients get clear 4xx problem documents, never a 5xx or a bare framework error:
//! oversized bodies (413), deeply nested JSON and invalid UTF-8 (400), slow clients (the
//! connection closed after `header_timeout_seconds`, a slow body 408 after
//! `request_timeout_seconds`), unknown routes and methods (404, 405), wrong content types (415).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    assert_problem, email, spawn_app, spawn_app_configured, test_worker_config, Db, Res, TestApp,
};
use crate::{on_both, on_both_dbs};

/// Sends `body` with `content_type` as the signed-in `who` (or anonymously) and reads the answer.
async fn raw(
    app: &TestApp,
    who: Option<&str>,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Res {
    let c = match who {
        Some(w) => app.sign_in(&email(w)).await,
        None => app.anonymous(),
    };
    let mut req = c
        .http
        .request(method, format!("{}{path}", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = &c.csrf {
        req = req.header("x-csrf-token", t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = res.text().await.unwrap_or_default();
    Res {
        status,
        content_type,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn oversized_bodies_are_refused_413_as_problems(app: &TestApp) {
    let big = json!({"description": "x".repeat(2 * 1024 * 1024)}).to_string();
    let r = raw(
        app,
        Some("customer"),
        Method::POST,
        "/api/v1/requests",
        "application/json",
        big.clone().into_bytes(),
    )
    .await;
    assert_problem(&r, 413);
    let r = raw(
        app,
        None,
        Method::POST,
        "/api/v1/auth/sign-in",
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_problem(&r, 413);
    // The pages' forms read their bodies through the same limit.
    let form = format!("csrf_token=x&description={}", "y".repeat(2 * 1024 * 1024));
    let r = raw(
        app,
        Some("customer"),
        Method::POST,
        "/requests",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
    )
    .await;
    assert_problem(&r, 413);
    // The template import reads its body itself; the same limit holds.
    let r = raw(
        app,
        Some("programme_admin"),
        Method::PUT,
        "/api/v1/templates",
        "application/yaml",
        vec![b'#'; 2 * 1024 * 1024],
    )
    .await;
    assert_problem(&r, 413);
}
on_both!(oversized_bodies_are_refused_413_as_problems);

async fn deeply_nested_json_and_invalid_utf8_are_refused_400(app: &TestApp) {
    // `migration` is free-form JSON: only the parser's recursion limit stands in the way.
    let depth = 50_000;
    let deep = format!(
        "{{\"kinds\":[\"service_onboarding\"],\"services\":[\"mail\"],\"migration\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let r = raw(
        app,
        Some("customer"),
        Method::POST,
        "/api/v1/requests",
        "application/json",
        deep.into_bytes(),
    )
    .await;
    assert_problem(&r, 400);
    let mut bad = br#"{"email": "customer@seed.example", "password": ""#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    bad.extend_from_slice(br#""}"#);
    let r = raw(
        app,
        None,
        Method::POST,
        "/api/v1/auth/sign-in",
        "application/json",
        bad,
    )
    .await;
    assert_problem(&r, 400);
    // A path segment that is not UTF-8 once decoded.
    let customer = app.sign_in(&email("customer")).await;
    assert_problem(&customer.get("/api/v1/users/%FF%FE").await, 400);
    // A query that is not UTF-8 is read lossily: no crash, a clean answer.
    let r = customer.get("/api/v1/users?org_id=%FF%FE").await;
    assert!(r.status.is_client_error(), "{:?}", r.status);
    assert!(r.content_type.starts_with("application/problem+json"));
    // NUL characters: PostgreSQL cannot store or compare them, so both stores refuse them as 400.
    let admin = app.sign_in(&email("programme_admin")).await;
    assert_problem(&admin.get("/api/v1/audit?tenant_org_id=a%00b").await, 400);
    assert_problem(&admin.get("/api/v1/organizations/a%00b").await, 400);
    let r = admin
        .post(
            "/api/v1/services",
            json!({"id": "nul", "name": "a\u{0}b", "category": "Core", "description": ""}),
        )
        .await;
    assert_problem(&r, 400);
    // An Authorization header that is not text is simply not a credential.
    let r = app
        .anonymous()
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("header"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
}
on_both!(deeply_nested_json_and_invalid_utf8_are_refused_400);

async fn unknown_routes_methods_and_types_answer_problem_documents(app: &TestApp) {
    let anon = app.anonymous();
    assert_problem(&anon.get("/api/v1/no-such-thing").await, 404);
    assert_problem(&anon.get("/no/such/page").await, 404);
    assert_problem(&anon.send(Method::PUT, "/healthz", None).await, 405);
    let customer = app.sign_in(&email("customer")).await;
    assert_problem(
        &customer.send(Method::DELETE, "/api/v1/me", None).await,
        405,
    );
    let r = raw(
        app,
        Some("customer"),
        Method::POST,
        "/api/v1/requests",
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    assert_problem(&r, 415);
    // The widget's form without its token: the framework's query rejection, as a problem.
    assert_problem(&anon.get("/widget/form").await, 400);
    // The site's language switcher with a broken query still lands on a page.
    assert_eq!(anon.get("/language?to=%&back=%ZZ").await.status, 200);
}
on_both!(unknown_routes_methods_and_types_answer_problem_documents);

/// A server with `header_timeout_seconds` and `request_timeout_seconds` of 1.
async fn impatient(db: Db) -> Option<TestApp> {
    let web = fasttrack_web::WebConfig {
        header_timeout_seconds: 1,
        request_timeout_seconds: 1,
        ..fasttrack_web::WebConfig::default()
    };
    spawn_app_configured(db, web, None, test_worker_config()).await
}

/// Reads what the server sends until it closes the connection (or `limit` passes).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration, bool) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, started.elapsed(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, started.elapsed(), false),
        }
    }
}

async fn slow_clients_are_cut_off(db: Db) {
    let Some(app) = impatient(db).await else {
        return;
    };
    let addr = app.running.addr;
    // Slowloris: the headers trickle in and never end.
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let writer = async {
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            if s.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    };
    writer.await;
    let (_, waited, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection stayed open");
    assert!(
        waited < Duration::from_secs(5),
        "closed only after {waited:?}"
    );

    // A request whose headers arrive but whose body never does: 408 after the request timeout.
    let (cookie, csrf) = sign_in_raw(&app, "customer").await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\nX-CSRF-Token: {csrf}\r\nCookie: {cookie}\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let (got, _, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    // The server still answers everyone else.
    let health = app.anonymous().get("/healthz").await;
    assert_eq!(health.status, 200);
    app.stop().await;
}
on_both_dbs!(slow_clients_are_cut_off);

/// Signs `who` in and returns the session cookie (as a `Cookie` header value) and CSRF token.
pub async fn sign_in_raw(app: &TestApp, who: &str) -> (String, String) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", app.base))
        .json(&json!({"email": email(who), "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .expect("sign in");
    let cookie = crate::helpers::session_cookie(res.headers()).expect("session cookie");
    let body: Value = res.json().await.expect("sign-in body");
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    (cookie, csrf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_requests_leaves_the_server_answering() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let anon = app.anonymous();
    for i in 0..200 {
        let path = format!("/api/v1/requests/{}%ZZ?limit={}", "a".repeat(i % 50), i);
        let r = anon.get(&path).await;
        assert!(r.status.is_client_error(), "{path}: {:?}", r.status);
    }
    assert_eq!(anon.get("/healthz").await.status, 200);
    app.stop().await;
}
