//! The authorization matrix over every endpoint and page: each route of the served OpenAPI
//! document and of the site's router (read from its source) has a row in [`ROWS`], and each row
//! says what each role gets. A route without a row, or a row without a route, fails the test, so
//! a new endpoint cannot ship without its line here.
//!
//! Roles, in column order: anonymous, `customer` (admin of tenant A), `customer_b` (admin of
//! tenant B), `partner` (live relationship with A, none with B), the three staff roles and the
//! programme admin. Paths name tenant A's data, so `customer_b` and the partner (for B) must never
//! be allowed what A's admin is. Expectations, one letter per role:
//!
//! | letter | meaning |
//! |---|---|
//! | `A` | allowed: past authorization (2xx, or 400/409/422 on the row's deliberately thin body) |
//! | `U` | 401 problem document |
//! | `F` | 403 problem document |
//! | `H` | 404 problem document (hidden: nothing about the data leaks) |
//! | `S` | a page that sends the browser to `/sign-in` |
//! | `*` | anything but a 5xx (order-dependent rows, said why) |
//!
//! API rows run with API tokens and page rows with session cookies (pages first, so that the
//! rows that end sessions cannot sign the page clients out). Every API error must be a problem
//! document; no answer may be a 5xx. `FASTTRACK_MATRIX_PRINT=1` prints the observed letters in
//! the table's format, for review when an endpoint is added.
//! Adding a row: `(method, route as the router writes it, concrete path, body, letters)`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{email, TestApp, PASSWORD};
use crate::on_both;

/// The roles of the columns (seeded users, see `helpers::seed`), anonymous first.
const ROLES: [&str; 8] = [
    "anonymous",
    "customer",
    "customer_b",
    "partner",
    "fasttrack_specialist",
    "center_engineer",
    "fasttrack_manager",
    "programme_admin",
];

/// One endpoint: method, route template, concrete path (placeholders below), body, expectations.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

// Placeholders of concrete paths: {cust_a} {cust_b} {sub_a} {link} {req_a} {user_b} {engineer}
// {region}; "missing" stands for an id that does not exist (the row then checks authentication,
// problem documents and the absence of 5xx, and that no role learns more than "not found").
#[rustfmt::skip]
const ROWS: &[Row] = &[
    // --- the API (every path and method of /api/v1/openapi.json) ---
    ("POST", "/api/v1/admin/schedule-backlog", "/api/v1/admin/schedule-backlog", Some("{}"), "UFFFFFFA"),
    ("GET", "/api/v1/audit", "/api/v1/audit", None, "UAAAFFFA"),
    ("POST", "/api/v1/auth/sign-in", "/api/v1/auth/sign-in", Some("{}"), "AAAAAAAA"),
    ("POST", "/api/v1/auth/sign-out", "/api/v1/auth/sign-out", None, "UAAAAAAA"),
    ("GET", "/api/v1/dashboard", "/api/v1/dashboard", None, "UFFFAAAA"),
    ("GET", "/api/v1/engagements", "/api/v1/engagements", None, "UAAAAAAA"),
    ("GET", "/api/v1/engagements/{id}", "/api/v1/engagements/missing", None, "UHHHHHHH"),
    ("POST", "/api/v1/engagements/{id}/tasks/{task}/comments", "/api/v1/engagements/missing/tasks/x/comments", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/engagements/{id}/tasks/{task}/complete", "/api/v1/engagements/missing/tasks/x/complete", Some("{}"), "UHHHHHHH"),
    ("POST", "/api/v1/engagements/{id}/tasks/{task}/complete-out-of-order", "/api/v1/engagements/missing/tasks/x/complete-out-of-order", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/engagements/{id}/tasks/{task}/guidance", "/api/v1/engagements/missing/tasks/x/guidance", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/engagements/{id}/tasks/{task}/skip", "/api/v1/engagements/missing/tasks/x/skip", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/engagements/{id}/timeline.svg", "/api/v1/engagements/missing/timeline.svg", None, "UHHHHHHH"),
    ("GET", "/api/v1/me", "/api/v1/me", None, "UAAAAAAA"),
    ("DELETE", "/api/v1/me/sessions", "/api/v1/me/sessions", None, "UAAAAAAA"),
    ("GET", "/api/v1/me/tokens", "/api/v1/me/tokens", None, "UAAAAAAA"),
    ("POST", "/api/v1/me/tokens", "/api/v1/me/tokens", Some("{}"), "UAAAAAAA"),
    ("DELETE", "/api/v1/me/tokens/{id}", "/api/v1/me/tokens/missing", None, "UHHHHHHH"),
    ("GET", "/api/v1/meetings", "/api/v1/meetings", None, "UAAAAAAA"),
    ("POST", "/api/v1/meetings", "/api/v1/meetings", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/meetings/{id}", "/api/v1/meetings/missing", None, "UHHHHHHH"),
    ("POST", "/api/v1/meetings/{id}/cancel", "/api/v1/meetings/missing/cancel", Some("{}"), "UHHHHHHH"),
    ("GET", "/api/v1/meetings/{id}/invite.ics", "/api/v1/meetings/missing/invite.ics", None, "UHHHHHHH"),
    ("POST", "/api/v1/meetings/{id}/reschedule", "/api/v1/meetings/missing/reschedule", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/migration/check", "/api/v1/migration/check", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/migration/propose", "/api/v1/migration/propose", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/organizations", "/api/v1/organizations", None, "UAAAAAAA"),
    ("POST", "/api/v1/organizations", "/api/v1/organizations", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/organizations/{id}", "/api/v1/organizations/{cust_a}", None, "UAHAAAAA"),
    ("PATCH", "/api/v1/organizations/{id}", "/api/v1/organizations/{cust_a}", Some(r#"{"language":"it"}"#), "UAHFFFFA"),
    ("GET", "/api/v1/organizations/{id}/services", "/api/v1/organizations/{cust_a}/services", None, "UAHAAAAA"),
    ("GET", "/api/v1/organizations/{id}/widget-tokens", "/api/v1/organizations/{cust_a}/widget-tokens", None, "UAHFFFFA"),
    ("POST", "/api/v1/organizations/{id}/widget-tokens", "/api/v1/organizations/{cust_a}/widget-tokens", Some(r#"{"name":"m","allowed_origins":["https://admin.example"]}"#), "UAHFFFFA"),
    // Sign-in provider (OIDC): the organization's own admin and programme admins; staff 403.
    // Tenant A has no provider: those who may see it get 404 too, staff 403, others 404.
    ("GET", "/api/v1/organizations/{id}/sign-in-provider", "/api/v1/organizations/{cust_a}/sign-in-provider", None, "UHHHFFFH"),
    ("PUT", "/api/v1/organizations/{id}/sign-in-provider", "/api/v1/organizations/{cust_a}/sign-in-provider", Some("{}"), "UAHHFFFA"),
    ("DELETE", "/api/v1/organizations/{id}/sign-in-provider", "/api/v1/organizations/{cust_a}/sign-in-provider", None, "UHHHFFFH"),
    ("DELETE", "/api/v1/organizations/{id}/widget-tokens/{token_id}", "/api/v1/organizations/{cust_a}/widget-tokens/missing", None, "UHHFFFFH"),
    ("GET", "/api/v1/plans", "/api/v1/plans", None, "UAAAAAAA"),
    ("POST", "/api/v1/plans", "/api/v1/plans", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/plans/{id}", "/api/v1/plans/business", None, "UAAAAAAA"),
    ("PATCH", "/api/v1/plans/{id}", "/api/v1/plans/business", Some("{}"), "UFFFFFFA"),
    ("GET", "/api/v1/regions", "/api/v1/regions", None, "UAAAAAAA"),
    ("POST", "/api/v1/regions", "/api/v1/regions", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/regions/{id}", "/api/v1/regions/{region}", None, "UAAAAAAA"),
    ("GET", "/api/v1/regions/{id}/holidays", "/api/v1/regions/{region}/holidays", None, "UAAAAAAA"),
    ("POST", "/api/v1/regions/{id}/holidays", "/api/v1/regions/{region}/holidays", Some("{}"), "UAAAAAAA"),
    ("POST", "/api/v1/regions/{id}/holidays.ics", "/api/v1/regions/{region}/holidays.ics", Some("{}"), "UFFFFFFA"),
    ("DELETE", "/api/v1/regions/{id}/holidays/{day}", "/api/v1/regions/{region}/holidays/2026-12-25", None, "UFFFFFFH"),
    ("GET", "/api/v1/relationships", "/api/v1/relationships", None, "UAAAAAAA"),
    ("POST", "/api/v1/relationships", "/api/v1/relationships", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/relationships/{id}", "/api/v1/relationships/{link}", None, "UAHAAAAA"),
    ("POST", "/api/v1/relationships/{id}/approve", "/api/v1/relationships/{link}/approve", Some("{}"), "UAHFFFFA"),
    ("POST", "/api/v1/relationships/{id}/decline", "/api/v1/relationships/{link}/decline", Some("{}"), "UAHFFFFA"),
    ("POST", "/api/v1/relationships/{id}/end", "/api/v1/relationships/{link}/end", Some("{}"), "UAHAFFFA"),
    ("POST", "/api/v1/relationships/{id}/extend", "/api/v1/relationships/{link}/extend", Some(r#"{"term_days":30}"#), "UAHFFFFA"),
    ("GET", "/api/v1/requests", "/api/v1/requests", None, "UAAAAAAA"),
    ("POST", "/api/v1/requests", "/api/v1/requests", Some("{}"), "UAAAAAAA"),
    // The partner's live link lets it see the tenant, not requests it did not file.
    ("GET", "/api/v1/requests/{id}", "/api/v1/requests/{req_a}", None, "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/accept", "/api/v1/requests/{req_a}/accept", Some("{}"), "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/ask-info", "/api/v1/requests/{req_a}/ask-info", Some(r#"{"message":"Which mailboxes?"}"#), "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/decline", "/api/v1/requests/{req_a}/decline", Some(r#"{"reason":"matrix"}"#), "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/engagement", "/api/v1/requests/{req_a}/engagement", Some("{}"), "UFHHAAAA"),
    ("GET", "/api/v1/requests/{id}/meeting-plan", "/api/v1/requests/{req_a}/meeting-plan", None, "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/meeting-plan/confirm", "/api/v1/requests/{req_a}/meeting-plan/confirm", Some("{}"), "UAHHFFFF"),
    ("POST", "/api/v1/requests/{id}/meeting-plan/propose", "/api/v1/requests/{req_a}/meeting-plan/propose", Some("{}"), "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/respond", "/api/v1/requests/{req_a}/respond", Some(r#"{"message":"All of them"}"#), "UAHHAAAA"),
    ("GET", "/api/v1/requests/{id}/sla", "/api/v1/requests/{req_a}/sla", None, "UAHHAAAA"),
    ("GET", "/api/v1/requests/{id}/slots", "/api/v1/requests/{req_a}/slots", None, "UAHHAAAA"),
    ("POST", "/api/v1/requests/{id}/withdraw", "/api/v1/requests/{req_a}/withdraw", Some(r#"{"reason":"matrix"}"#), "UAHHAAAA"),
    ("GET", "/api/v1/services", "/api/v1/services", None, "UAAAAAAA"),
    ("POST", "/api/v1/services", "/api/v1/services", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/services/{id}", "/api/v1/services/mail", None, "UAAAAAAA"),
    ("PATCH", "/api/v1/services/{id}", "/api/v1/services/mail", Some("{}"), "UFFFFFFA"),
    ("GET", "/api/v1/settings/migration-limits", "/api/v1/settings/migration-limits", None, "UAAAAAAA"),
    ("PUT", "/api/v1/settings/migration-limits", "/api/v1/settings/migration-limits", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/sla/queue", "/api/v1/sla/queue", None, "UFFFAAAA"),
    ("GET", "/api/v1/sla/settings", "/api/v1/sla/settings", None, "UAAAAAAA"),
    ("PUT", "/api/v1/sla/settings", "/api/v1/sla/settings", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/staff/{id}/availability", "/api/v1/staff/{engineer}/availability", None, "UFFFAAAA"),
    ("GET", "/api/v1/staff/{id}/time-off", "/api/v1/staff/{engineer}/time-off", None, "UFFFAAAA"),
    ("POST", "/api/v1/staff/{id}/time-off", "/api/v1/staff/{engineer}/time-off", Some("{}"), "UAAAAAAA"),
    ("DELETE", "/api/v1/staff/{id}/time-off/{time_off_id}", "/api/v1/staff/{engineer}/time-off/missing", None, "UFFFFHFH"),
    ("GET", "/api/v1/subscriptions", "/api/v1/subscriptions", None, "UAAAAAAA"),
    ("POST", "/api/v1/subscriptions", "/api/v1/subscriptions", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/subscriptions/{id}", "/api/v1/subscriptions/{sub_a}", None, "UAHHAAAA"),
    ("PATCH", "/api/v1/subscriptions/{id}", "/api/v1/subscriptions/{sub_a}", Some("{}"), "UFHHFFFA"),
    ("GET", "/api/v1/templates", "/api/v1/templates", None, "UAAAAAAA"),
    ("PUT", "/api/v1/templates", "/api/v1/templates", Some("{}"), "UFFFFFFA"),
    ("GET", "/api/v1/users", "/api/v1/users", None, "UAAAAAAA"),
    ("POST", "/api/v1/users", "/api/v1/users", Some("{}"), "UAAAAAAA"),
    ("GET", "/api/v1/users/{id}", "/api/v1/users/{user_b}", None, "UHAHAAAA"),
    ("PATCH", "/api/v1/users/{id}", "/api/v1/users/{user_b}", Some(r#"{"name":"Bea"}"#), "UHAHFFFA"),
    ("DELETE", "/api/v1/users/{id}/sessions", "/api/v1/users/{user_b}/sessions", None, "UHAHFFFA"),
    ("GET", "/api/v1/webhooks", "/api/v1/webhooks", None, "UAAAFFFA"),
    ("POST", "/api/v1/webhooks", "/api/v1/webhooks", Some("{}"), "UAAAAAAA"),
    ("DELETE", "/api/v1/webhooks/{id}", "/api/v1/webhooks/missing", None, "UHHHHHHH"),
    ("POST", "/api/v1/widget/requests", "/api/v1/widget/requests", Some(r#"{"kinds":["service_onboarding"],"services":["mail"],"contact":{"name":"Ada","email":"ada@contoso.example"},"language":"it"}"#), "UUUUUUUU"),
    // --- outside the OpenAPI document: health, metrics, the document, the widget ---
    ("GET", "/healthz", "/healthz", None, "AAAAAAAA"),
    ("GET", "/metrics", "/metrics", None, "AAAAAAAA"),
    ("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", None, "AAAAAAAA"),
    ("GET", "/widget.js", "/widget.js", None, "AAAAAAAA"),
    ("GET", "/widget/form.js", "/widget/form.js", None, "AAAAAAAA"),
    ("GET", "/widget/form.css", "/widget/form.css", None, "AAAAAAAA"),
    ("GET", "/widget/form", "/widget/form?token=missing", None, "UUUUUUUU"),
    ("OPTIONS", "/api/v1/widget/requests", "/api/v1/widget/requests", None, "AAAAAAAA"),
    ("GET", "/assets/site.css", "/assets/site.css", None, "AAAAAAAA"),
    // Compiled only into the load benchmark's build (feature `bench`): absent here.
    ("GET", "/bench/noop", "/bench/noop", None, "HHHHHHHH"),
    ("GET", "/assets/site.js", "/assets/site.js", None, "AAAAAAAA"),
    // --- the pages (every route of the site's router) ---
    ("GET", "/", "/", None, "SAAAAAAA"),
    ("GET", "/language", "/language?to=de&back=/home", None, "AAAAAAAA"),
    ("GET", "/sign-in", "/sign-in", None, "AAAAAAAA"),
    // Forms without their CSRF token are refused (403 page) for everyone.
    ("POST", "/sign-in", "/sign-in", Some("email=x"), "FFFFFFFF"),
    ("POST", "/sign-out", "/sign-out", Some(""), "SFFFFFFF"),
    ("POST", "/sign-in/organization", "/sign-in/organization", Some("email=x"), "FFFFFFFF"),
    // No provider for that domain: a 404 page for everyone; a callback without a started
    // sign-in: an error page (200) for everyone, and nobody is signed in.
    ("GET", "/auth/oidc/start", "/auth/oidc/start?email=x%40nobody.example", None, "HHHHHHHH"),
    ("GET", "/auth/oidc/callback", "/auth/oidc/callback?state=x&code=y", None, "AAAAAAAA"),
    ("GET", "/home", "/home", None, "SAAAAAAA"),
    ("GET", "/requests", "/requests", None, "SAAAAAAA"),
    ("POST", "/requests", "/requests", Some(""), "SFFFFFFF"),
    ("GET", "/requests/new", "/requests/new", None, "SAAAAAAA"),
    ("GET", "/requests/{id}", "/requests/{req_a}", None, "SAHAAAAA"),
    ("POST", "/requests/{id}/{action}", "/requests/{req_a}/withdraw", Some(""), "SFFFFFFF"),
    ("GET", "/customers", "/customers", None, "SAAAAAAA"),
    // A customer admin is shown its own tenant there whatever the id (customer_b sees B, not A).
    ("GET", "/customers/{id}", "/customers/{cust_a}", None, "SAAAAAAA"),
    ("GET", "/engagements", "/engagements", None, "SAAAAAAA"),
    ("GET", "/engagements/{id}", "/engagements/missing", None, "SHHHHHHH"),
    ("POST", "/engagements/{id}/tasks/{task}/complete", "/engagements/missing/tasks/x/complete", Some(""), "SFFFFFFF"),
    ("GET", "/dashboard", "/dashboard", None, "SFFFAAAA"),
    ("GET", "/relationships", "/relationships", None, "SAAAAAAA"),
    ("POST", "/relationships/{id}/{action}", "/relationships/{link}/approve", Some(""), "SFFFFFFF"),
    ("GET", "/audit", "/audit", None, "SAAAFFFA"),
    ("POST", "/engagements/{id}/tasks/{task}/{action}", "/engagements/missing/tasks/x/skip", Some(""), "SFFFFFFF"),
    ("POST", "/meetings/{id}/cancel", "/meetings/missing/cancel", Some(""), "SFFFFFFF"),
    ("POST", "/meetings/{id}/reschedule", "/meetings/missing/reschedule", Some(""), "SFFFFFFF"),
    ("GET", "/time-off", "/time-off", None, "SFFFAAAH"),
    ("POST", "/time-off", "/time-off", Some(""), "SFFFFFFF"),
    ("POST", "/time-off/{staff}/{id}/remove", "/time-off/{engineer}/missing/remove", Some(""), "SFFFFFFF"),
    ("GET", "/admin", "/admin", None, "SFFFFFFA"),
    ("POST", "/admin/services", "/admin/services", Some(""), "SFFFFFFF"),
    ("POST", "/admin/regions/{id}/holidays", "/admin/regions/{region}/holidays", Some(""), "SFFFFFFF"),
    ("POST", "/admin/templates", "/admin/templates", Some(""), "SFFFFFFF"),
    ("POST", "/admin/webhooks", "/admin/webhooks", Some(""), "SFFFFFFF"),
];

/// Every (method, route) of the served OpenAPI document.
async fn openapi_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app.anonymous().get("/api/v1/openapi.json").await.body;
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete", "options"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// Every (method, route) the router outside the API declares, read from the web crate's source:
/// each `.route("…", get(…).post(…))` of the site, the widget and the top-level router.
fn source_routes() -> BTreeSet<(String, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src");
    let mut files = vec![
        format!("{root}/lib.rs"),
        format!("{root}/widget.rs"),
        format!("{root}/oidc/mod.rs"),
    ];
    for entry in std::fs::read_dir(format!("{root}/site")).expect("site sources") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            files.push(path.display().to_string());
        }
    }
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for chunk in text.split(".route(").skip(1) {
            let Some(rest) = chunk.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some((path, handlers)) = rest.split_once('"') else {
                continue;
            };
            // The handlers run to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let end = handlers
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or(handlers.len());
            let handlers = &handlers[..end];
            for method in ["get", "post", "put", "patch", "delete", "options"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0
                        || !handlers[..i]
                            .chars()
                            .last()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if called {
                    out.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    out
}

/// The ids the concrete paths name.
async fn placeholders(app: &TestApp) -> Vec<(&'static str, String)> {
    let s = &app.seed;
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["mail"],
                   "contact": {"name": "Ada Rossi", "email": "ada@contoso.example"},
                   "language": "it", "description": "Matrix"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let req_a = r.body["id"].as_str().expect("id").to_string();
    let id_of = |who: &str| {
        let store = app.store.clone();
        let e = email(who);
        async move { store.get_user_by_email(&e).await.expect("user").id }
    };
    vec![
        ("{cust_a}", s.cust_a.clone()),
        ("{cust_b}", s.cust_b.clone()),
        ("{sub_a}", s.sub_a.clone()),
        ("{link}", s.live_link.clone()),
        ("{region}", s.region.clone()),
        ("{req_a}", req_a),
        ("{user_b}", id_of("customer_b").await),
        ("{engineer}", id_of("center_engineer").await),
    ]
}

/// One role's credentials: a session (cookie and CSRF token) for pages, an API token for the API.
#[derive(Default)]
struct Creds {
    cookie: Option<String>,
    bearer: Option<String>,
}

/// Credentials for every role, in column order (none for anonymous).
async fn credentials(app: &TestApp) -> Vec<Creds> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for role in ROLES {
        if role == "anonymous" {
            out.push(Creds::default());
            continue;
        }
        let res = http
            .post(format!("{}/api/v1/auth/sign-in", app.base))
            .json(&json!({"email": email(role), "password": PASSWORD}))
            .send()
            .await
            .expect("sign in");
        let cookie = crate::helpers::session_cookie(res.headers());
        let body: Value = res.json().await.expect("sign-in body");
        let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
        let token: Value = http
            .post(format!("{}/api/v1/me/tokens", app.base))
            .header("cookie", cookie.clone().unwrap_or_default())
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "matrix"}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token body");
        out.push(Creds {
            cookie,
            bearer: token["token"].as_str().map(String::from),
        });
    }
    out
}

/// The letter an answer earns.
fn letter(status: u16, location: Option<&str>) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'H',
        303 | 302 if location.is_some_and(|l| l.starts_with("/sign-in")) => 'S',
        _ => 'A',
    }
}

async fn call(
    base: &str,
    c: &Creds,
    method: &str,
    path: &str,
    body: Option<&str>,
    page: bool,
) -> (u16, String, Option<String>) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http.request(method, format!("{base}{path}"));
    if page {
        // The session cookie, as the browser sends it; forms carry no CSRF token on purpose.
        if let Some(cookie) = &c.cookie {
            req = req.header("cookie", cookie);
        }
    } else if let Some(t) = &c.bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        let ct = if page {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        req = req.header("content-type", ct).body(b.to_string());
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, ct, location)
}

async fn every_endpoint_and_page_answers_each_role_as_the_matrix_says(app: &TestApp) {
    // 1. The table covers exactly the routes there are.
    let mut routes = openapi_routes(app).await;
    routes.extend(source_routes());
    let rows: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|(m, r, ..)| (m.to_string(), r.to_string()))
        .collect();
    let missing: Vec<_> = routes.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a matrix row: {missing:?}\nrows without a route: {stale:?}"
    );
    assert_eq!(rows.len(), ROWS.len(), "a route has two rows");

    // 2. Each role gets what its letter says.
    let ids = placeholders(app).await;
    let creds = credentials(app).await;
    let print = std::env::var_os("FASTTRACK_MATRIX_PRINT").is_some();
    let mut failures = Vec::new();
    let mut answers = 0;
    // Pages first: API rows end sessions (DELETE /api/v1/me/sessions) the pages would need.
    let ordered = ROWS
        .iter()
        .filter(|r| !r.1.starts_with("/api/") && !r.1.starts_with("/healthz"))
        .chain(
            ROWS.iter()
                .filter(|r| r.1.starts_with("/api/") || r.1.starts_with("/healthz")),
        );
    for (method, route, path, body, expected) in ordered {
        let page = !route.starts_with("/api/") && !matches!(*route, "/healthz" | "/metrics");
        let mut path = path.to_string();
        for (k, v) in &ids {
            path = path.replace(k, v);
        }
        let mut got = String::new();
        for (i, c) in creds.iter().enumerate() {
            let (status, ct, location) = call(&app.base, c, method, &path, *body, page).await;
            answers += 1;
            if status >= 500 {
                failures.push(format!("{method} {path} as {}: {status}", ROLES[i]));
            }
            if status >= 400 && !page && !ct.starts_with("application/problem+json") {
                failures.push(format!(
                    "{method} {path} as {}: {status} answered as '{ct}'",
                    ROLES[i]
                ));
            }
            let l = letter(status, location.as_deref());
            got.push(l);
            let want = expected.chars().nth(i).unwrap_or('?');
            if want != '*' && want != l {
                failures.push(format!(
                    "{method} {path} as {}: expected {want}, got {l} ({status})",
                    ROLES[i]
                ));
            }
        }
        if print {
            println!("{method:7} {route:60} {got}");
        }
    }
    eprintln!(
        "endpoint matrix: {} rows × {} roles = {answers} answers checked",
        ROWS.len(),
        ROLES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
on_both!(every_endpoint_and_page_answers_each_role_as_the_matrix_says);
