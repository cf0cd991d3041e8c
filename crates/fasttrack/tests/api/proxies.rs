//! Trusted proxies: `X-Forwarded-For` / `X-Forwarded-Proto` change the client address (seen by
//! the sign-in limiter and the audit log) and the cookies' `Secure` flag only when the TCP peer is
//! a configured proxy.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{email, spawn_app_configured, test_worker_config, Db, TestApp, PASSWORD};
use crate::on_both_dbs;

/// A client of its own for each call (no cookie jar in between).
fn http() -> reqwest::Client {
    // The webhook client installs the TLS provider reqwest needs; it follows no redirects.
    fasttrack::webhooks::client().expect("http client")
}

/// Starts a server that trusts the proxies in `trusted` (the tests connect from 127.0.0.1).
async fn app_trusting(db: Db, trusted: &[&str]) -> Option<TestApp> {
    let web = fasttrack_web::WebConfig {
        trusted_proxies: trusted
            .iter()
            .map(|s| fasttrack_web::proxy::parse_net(s).expect("cidr"))
            .collect(),
        ..fasttrack_web::WebConfig::default()
    };
    spawn_app_configured(db, web, None, test_worker_config()).await
}

/// Signs in as `who` with `password`, the request carrying `headers`; the status and cookies set.
async fn sign_in_via(
    app: &TestApp,
    who: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Vec<String>) {
    let mut req = http()
        .post(format!("{}/api/v1/auth/sign-in", app.base))
        .json(&json!({"email": email(who), "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("sign-in request");
    let cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    (res.status(), cookies)
}

/// The `client` recorded in the lockout entries of the audit log.
async fn lockout_clients(app: &TestApp) -> Vec<String> {
    let admin = app.sign_in(&email("programme_admin")).await;
    let audit = admin.get("/api/v1/audit?entity=user&limit=200").await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    audit.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|i| i["action"] == "user.sign_in_locked")
        .filter_map(|i: &Value| i["changes"]["client"].as_str().map(String::from))
        .collect()
}

async fn forwarded_headers_from_an_untrusted_peer_are_ignored(db: Db) {
    // The proxies trusted are elsewhere: the test's own connection (127.0.0.1) is not one.
    let Some(app) = app_trusting(db, &["10.0.0.0/8"]).await else {
        return;
    };
    // Each guess claims another client address: the limiter must not be fooled into a fresh budget.
    for i in 0..5 {
        let (status, _) = sign_in_via(
            &app,
            "customer",
            "guess guess guess",
            &[("x-forwarded-for", &format!("203.0.113.{i}"))],
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _) = sign_in_via(
        &app,
        "customer",
        PASSWORD,
        &[("x-forwarded-for", "198.51.100.99")],
    )
    .await;
    assert_eq!(
        status, 429,
        "a spoofed X-Forwarded-For does not escape the lockout"
    );
    assert_eq!(lockout_clients(&app).await, vec!["127.0.0.1".to_string()]);

    // Nor does a spoofed X-Forwarded-Proto make the cookie Secure.
    let (status, cookies) =
        sign_in_via(&app, "partner", PASSWORD, &[("x-forwarded-proto", "https")]).await;
    assert_eq!(status, 200);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("ft_session="))
        .expect("session cookie");
    assert!(!session.contains("Secure"), "{session}");
    app.stop().await;
}

async fn forwarded_headers_from_a_trusted_proxy_name_the_client_and_scheme(db: Db) {
    let Some(app) = app_trusting(db, &["127.0.0.1/32", "::1"]).await else {
        return;
    };
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    for _ in 0..5 {
        let (status, _) =
            sign_in_via(&app, "customer", "guess guess guess", &from("203.0.113.7")).await;
        assert_eq!(status, 401);
    }
    let (locked, _) = sign_in_via(&app, "customer", PASSWORD, &from("203.0.113.7")).await;
    assert_eq!(locked, 429, "the forwarded client is locked out");
    // Another client behind the same proxy keeps its own budget.
    let (other, _) = sign_in_via(&app, "customer", PASSWORD, &from("203.0.113.8")).await;
    assert_eq!(other, 200, "the lockout is per client, not per proxy");
    assert_eq!(lockout_clients(&app).await, vec!["203.0.113.7".to_string()]);

    // HTTPS at the proxy makes every cookie Secure; plain HTTP at the proxy does not.
    let (status, cookies) = sign_in_via(
        &app,
        "partner",
        PASSWORD,
        &[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(c.ends_with("; Secure"), "{c}");
    }
    let (_, cookies) =
        sign_in_via(&app, "partner", PASSWORD, &[("x-forwarded-proto", "http")]).await;
    assert!(cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");

    // The pages' sign-in form sets its cookie Secure as well.
    let res = http()
        .get(format!("{}/sign-in", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("sign-in page");
    assert_eq!(res.status(), 200);
    let form_cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    assert!(
        !form_cookies.is_empty() && form_cookies.iter().all(|c| c.ends_with("; Secure")),
        "{form_cookies:?}"
    );
    app.stop().await;
}

on_both_dbs!(forwarded_headers_from_an_untrusted_peer_are_ignored);

on_both_dbs!(forwarded_headers_from_a_trusted_proxy_name_the_client_and_scheme);
