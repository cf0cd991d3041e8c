//! Security over HTTP: the headers (strict CSP and no framing on pages, the widget's form framed
//! only by its admin-center origins, HSTS only over TLS), sessions and tokens revocable at once
//! (sign out everywhere, an admin signing a user out), sign-in lockouts audited, and no secret in
//! the server's logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, email, spawn_app_configured, test_worker_config, Db, TestApp, PASSWORD,
};
use crate::{on_both, on_both_dbs};

/// The answer's headers for a GET of `path`, sent with `headers`.
async fn headers_of(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::header::HeaderMap {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request").headers().clone()
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn app_with(db: Db, web: fasttrack_web::WebConfig) -> Option<TestApp> {
    spawn_app_configured(db, web, None, test_worker_config()).await
}

async fn hsts_is_sent_only_when_the_client_came_over_tls(db: Db) {
    // Plain HTTP, nobody trusted: a client's own X-Forwarded-Proto changes nothing.
    let Some(app) = app_with(db, fasttrack_web::WebConfig::default()).await else {
        return;
    };
    for h in [vec![], vec![("x-forwarded-proto", "https")]] {
        let got = headers_of(&app, "/healthz", &h).await;
        assert_eq!(header(&got, "strict-transport-security"), None, "{h:?}");
    }
    app.stop().await;

    // Behind a trusted proxy: HSTS when the proxy says the client spoke HTTPS, not otherwise.
    let web = fasttrack_web::WebConfig {
        trusted_proxies: vec![fasttrack_web::proxy::parse_net("127.0.0.1").expect("net")],
        ..fasttrack_web::WebConfig::default()
    };
    let app = app_with(db, web).await.expect("server");
    let got = headers_of(&app, "/sign-in", &[("x-forwarded-proto", "https")]).await;
    assert_eq!(
        header(&got, "strict-transport-security"),
        Some(fasttrack_web::hardening::HSTS)
    );
    let got = headers_of(&app, "/sign-in", &[("x-forwarded-proto", "http")]).await;
    assert_eq!(header(&got, "strict-transport-security"), None);
    app.stop().await;

    // A public https:// address: every answer.
    let web = fasttrack_web::WebConfig {
        public_url: Some("https://ft.example.com".into()),
        ..fasttrack_web::WebConfig::default()
    };
    let app = app_with(db, web).await.expect("server");
    let got = headers_of(&app, "/api/v1/openapi.json", &[]).await;
    assert_eq!(
        header(&got, "strict-transport-security"),
        Some(fasttrack_web::hardening::HSTS)
    );
    app.stop().await;
}
on_both_dbs!(hsts_is_sent_only_when_the_client_came_over_tls);

async fn pages_and_answers_carry_a_strict_csp_and_refuse_framing(app: &TestApp) {
    for path in ["/sign-in", "/healthz", "/api/v1/nothing-here", "/requests"] {
        let h = headers_of(app, path, &[]).await;
        let csp = header(&h, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header(&h, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            header(&h, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&h, "referrer-policy"), Some("same-origin"), "{path}");
    }
}
on_both!(pages_and_answers_carry_a_strict_csp_and_refuse_framing);

async fn the_widget_form_may_be_framed_only_by_its_admin_center_origins(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post(
            &format!("/api/v1/organizations/{}/widget-tokens", app.seed.cust_a),
            json!({"name": "Admin center", "allowed_origins": ["https://admin.contoso.example", "https://portal.contoso.example:8443"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().expect("token").to_string();
    let h = headers_of(app, &format!("/widget/form?token={token}"), &[]).await;
    let csp = header(&h, "content-security-policy").unwrap_or_default();
    assert!(
        csp.contains(
            "frame-ancestors https://admin.contoso.example https://portal.contoso.example:8443"
        ),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(
        header(&h, "x-frame-options"),
        None,
        "X-Frame-Options: DENY would contradict frame-ancestors"
    );
    // A wrong token: nobody may frame the answer.
    let h = headers_of(app, "/widget/form?token=not-a-token", &[]).await;
    let csp = header(&h, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&h, "x-frame-options"), Some("DENY"));
}
on_both!(the_widget_form_may_be_framed_only_by_its_admin_center_origins);

/// The audit entries with `action`, as the programme admin reads them.
async fn audit_entries(app: &TestApp, action: &str) -> Vec<Value> {
    let admin = app.sign_in(&email("programme_admin")).await;
    let r = admin.get("/api/v1/audit?entity=user&limit=200").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

async fn signing_out_everywhere_ends_every_session_of_the_user(app: &TestApp) {
    let laptop = app.sign_in(&email("customer")).await;
    let phone = app.sign_in(&email("customer")).await;
    let other = app.sign_in(&email("partner")).await;
    assert_eq!(phone.get("/api/v1/me").await.status, 200);
    let r = laptop
        .send(Method::DELETE, "/api/v1/me/sessions", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ended"], 2);
    assert_problem(&laptop.get("/api/v1/me").await, 401);
    assert_problem(&phone.get("/api/v1/me").await, 401);
    assert_eq!(
        other.get("/api/v1/me").await.status,
        200,
        "other users stay signed in"
    );
    let entries = audit_entries(app, "user.sessions_revoke").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["changes"]["sessions"], 2);
    // Signing in again works.
    assert_eq!(
        app.sign_in(&email("customer"))
            .await
            .get("/api/v1/me")
            .await
            .status,
        200
    );
}
on_both!(signing_out_everywhere_ends_every_session_of_the_user);

async fn user_id(app: &TestApp, who: &str) -> String {
    app.store
        .get_user_by_email(&email(who))
        .await
        .expect("user")
        .id
}

async fn an_admin_signs_a_user_out_only_within_their_authority(app: &TestApp) {
    let customer_b = user_id(app, "customer_b").await;
    let engineer = user_id(app, "center_engineer").await;
    let b_session = app.sign_in(&email("customer_b")).await;
    let eng_session = app.sign_in(&email("center_engineer")).await;
    let path = |id: &str| format!("/api/v1/users/{id}/sessions");
    // Another tenant's admin and the partner cannot even see the user; staff may not change users.
    for (who, status) in [
        ("customer", 404),
        ("partner", 404),
        ("fasttrack_manager", 403),
    ] {
        let c = app.sign_in(&email(who)).await;
        assert_problem(
            &c.send(Method::DELETE, &path(&customer_b), None).await,
            status,
        );
    }
    // Programme staff are signed out by a programme admin only.
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    assert_problem(
        &manager.send(Method::DELETE, &path(&engineer), None).await,
        403,
    );
    assert_eq!(
        b_session.get("/api/v1/me").await.status,
        200,
        "still signed in"
    );
    assert_eq!(eng_session.get("/api/v1/me").await.status, 200);
    let admin = app.sign_in(&email("programme_admin")).await;
    for (id, session) in [(&customer_b, &b_session), (&engineer, &eng_session)] {
        let r = admin.send(Method::DELETE, &path(id), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body["ended"].as_u64().unwrap_or(0) >= 1);
        assert_problem(&session.get("/api/v1/me").await, 401);
    }
    let entries = audit_entries(app, "user.sessions_revoke").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e["actor_user_id"].is_string()));
}
on_both!(an_admin_signs_a_user_out_only_within_their_authority);

async fn api_tokens_stop_working_when_revoked(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post("/api/v1/me/tokens", json!({"name": "ci"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["token"].as_str().expect("token").to_string();
    let id = r.body["id"].as_str().expect("id").to_string();
    let mut bearer = app.anonymous();
    bearer.bearer = Some(secret);
    assert_eq!(bearer.get("/api/v1/me").await.status, 200);
    let listed = customer.get("/api/v1/me/tokens").await;
    assert!(
        !listed
            .body
            .to_string()
            .contains(bearer.bearer.as_deref().unwrap_or("?")),
        "a token's secret is shown once"
    );
    let r = customer
        .send(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_problem(&bearer.get("/api/v1/me").await, 401);
    // Another user cannot revoke (or learn of) it.
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(
        &other
            .send(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None)
            .await,
        404,
    );
}
on_both!(api_tokens_stop_working_when_revoked);

async fn repeated_failed_sign_ins_are_rate_limited_and_the_lockout_audited(app: &TestApp) {
    let anon = app.anonymous();
    let attempts = fasttrack_web::WebConfig::default().login_attempts;
    for _ in 0..attempts {
        let r = anon
            .post(
                "/api/v1/auth/sign-in",
                json!({"email": email("customer"), "password": "wrong password"}),
            )
            .await;
        assert_problem(&r, 401);
    }
    // Locked: even the right password waits.
    let r = anon
        .post(
            "/api/v1/auth/sign-in",
            json!({"email": email("customer"), "password": PASSWORD}),
        )
        .await;
    assert_problem(&r, 429);
    let entries = audit_entries(app, "user.sign_in_locked").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["changes"]["client"], "127.0.0.1");
    assert!(
        !entries[0].to_string().contains("wrong password"),
        "the audit keeps no password"
    );
}
on_both!(repeated_failed_sign_ins_are_rate_limited_and_the_lockout_audited);

/// Kills the server process this test started when the test ends, even on failure.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// Runs the real binary with the most verbose logs (JSON and `RUST_LOG=trace`), signs in, fails
/// a sign-in, changes a password, creates and uses an API token, a webhook and a widget token,
/// then searches everything the process wrote for each secret and its SHA-256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_the_logs() {
    let db = std::env::temp_dir().join(format!("fasttrack-logs-{}.db", uuid::Uuid::new_v4()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fasttrack"));
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let mut child = cmd
        .env("RUST_LOG", "trace")
        .args([
            "--log-format",
            "json",
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args([
            "--worker-poll-ms",
            "50",
            "--worker-backoff-base-seconds",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fasttrack");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let child = Child(child);
    let logs = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let (base, admin_email, out_lines) = tokio::task::spawn_blocking(move || {
        let mut base = None;
        let mut admin = None;
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("fasttrack is serving on ") {
                base = Some(a.trim().to_string());
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() == Some(&"programme_admin") && admin.is_none() {
                admin = words.get(1).map(|s| s.to_string());
            }
            lines.push(line);
            if base.is_some() {
                break;
            }
        }
        (base, admin, lines)
    })
    .await
    .expect("read stdout");
    let base = base.unwrap_or_else(|| panic!("no address in {out_lines:?}"));
    let admin_email = admin_email.unwrap_or_else(|| panic!("no admin in {out_lines:?}"));
    let demo_password = fasttrack::demo::DEMO_PASSWORD;
    let http = fasttrack::webhooks::client().expect("http client");

    let mut secrets: Vec<(&str, String)> = Vec::new();
    // A failed sign-in with a password that looks like a secret.
    let wrong = "wrong-Secret-Passw0rd-1";
    let r = http
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": admin_email, "password": wrong}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(r.status(), 401);
    secrets.push(("failed password", wrong.into()));
    // A real sign-in: the session cookie and the CSRF token.
    let r = http
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": admin_email, "password": demo_password}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(r.status(), 200);
    let cookie = crate::helpers::session_cookie(r.headers()).expect("session cookie");
    let body: Value = r.json().await.expect("body");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    let me = body["user"]["id"].as_str().expect("id").to_string();
    secrets.push(("demo password", demo_password.into()));
    secrets.push((
        "session cookie",
        cookie.trim_start_matches("ft_session=").to_string(),
    ));
    secrets.push(("csrf token", csrf.clone()));
    let send = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    // A password change.
    let new_password = "new-Secret-Passw0rd-2";
    let r = send(
        reqwest::Method::PATCH,
        &format!("/api/v1/users/{me}"),
        json!({"password": new_password}),
    )
    .await
    .expect("patch");
    assert_eq!(r.status(), 200);
    secrets.push(("new password", new_password.into()));
    // Sign in again with it (the change ended the session).
    let r = http
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": admin_email, "password": new_password}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(r.status(), 200);
    let cookie = crate::helpers::session_cookie(r.headers()).expect("session cookie");
    let body: Value = r.json().await.expect("body");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    secrets.push((
        "second session cookie",
        cookie.trim_start_matches("ft_session=").to_string(),
    ));
    secrets.push(("second csrf token", csrf.clone()));
    let send = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    // An API token, used once.
    let r: Value = send(
        reqwest::Method::POST,
        "/api/v1/me/tokens",
        json!({"name": "logs"}),
    )
    .await
    .expect("token")
    .json()
    .await
    .expect("token body");
    let token = r["token"].as_str().expect("token").to_string();
    let used = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(used.status(), 200);
    secrets.push(("api token", token));
    // A webhook whose deliveries fail (nothing listens there), so the worker logs its attempts.
    let r: Value = send(
        reqwest::Method::POST,
        "/api/v1/webhooks",
        json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
    )
    .await
    .expect("webhook")
    .json()
    .await
    .expect("webhook body");
    let hook_secret = r["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    secrets.push(("webhook secret", hook_secret));
    // A widget token for a customer of the demo, and a request filed through it.
    let orgs: Value = send(
        reqwest::Method::GET,
        "/api/v1/organizations?kind=customer",
        json!({}),
    )
    .await
    .expect("orgs")
    .json()
    .await
    .expect("orgs body");
    let org = orgs["items"][0]["id"].as_str().expect("org").to_string();
    let r: Value = send(
        reqwest::Method::POST,
        &format!("/api/v1/organizations/{org}/widget-tokens"),
        json!({"name": "logs", "allowed_origins": ["https://admin.example"]}),
    )
    .await
    .expect("widget token")
    .json()
    .await
    .expect("widget body");
    if let Some(w) = r["token"].as_str() {
        let form = http
            .get(format!("{base}/widget/form?token={w}"))
            .send()
            .await
            .expect("form");
        assert_eq!(form.status(), 200);
        secrets.push(("widget token", w.to_string()));
    }
    // Sign out everywhere, then let the worker try the webhook a few times.
    let r = send(reqwest::Method::DELETE, "/api/v1/me/sessions", json!({}))
        .await
        .expect("sign out");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    drop(child);
    let logs = logs.join().expect("logs").join("\n");
    let _ = std::fs::remove_file(&db);
    assert!(
        logs.lines().count() > 50,
        "trace logging is on: {} lines",
        logs.lines().count()
    );
    assert!(logs.contains("/api/v1/auth/sign-in"), "requests are logged");
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        if logs.contains(secret.as_str()) {
            leaks.push(format!("{what} in the logs"));
        }
        if logs.contains(&sha256_hex(secret)) {
            leaks.push(format!("the SHA-256 of the {what} in the logs"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
