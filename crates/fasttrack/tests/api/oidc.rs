//! OpenID Connect sign-in, end to end against a real provider: the certified `oidc-provider`
//! package run with Node from `tests/oidc/provider.mjs` (installed by `.ci/run`). The tests play
//! the browser: they follow the redirects from fasttrack to the provider and back, and drive the
//! provider's control endpoints to pick the account, rotate keys or make a token wrong.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{email, spawn_app_configured, test_worker_config, Db, TestApp, PASSWORD};
use crate::on_both_dbs;

const CLIENT_ID: &str = "fasttrack-e2e";
const CLIENT_SECRET: &str = "e2e-client-secret-0123456789";
/// The seeded customer Contoso's domain (`cust_a`).
const CONTOSO: &str = "contoso-1.example";
/// The seeded programme organization's domain.
const CENTER: &str = "fasttrack-center-0.example";

/// The test provider, stopped when dropped.
struct Idp {
    child: Child,
    issuer: String,
    http: reqwest::Client,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
}

/// Whether Node and the provider's packages are here; prints why not, so a skipped run says so.
fn provider_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let modules = provider_dir().join("node_modules/oidc-provider").is_dir();
    if !node || !modules {
        // CI installs both and sets FASTTRACK_OIDC_TESTS: there a missing provider is a failure.
        assert!(
            std::env::var_os("FASTTRACK_OIDC_TESTS").is_none(),
            "FASTTRACK_OIDC_TESTS is set but node or tests/oidc/node_modules is missing"
        );
        eprintln!(
            "OIDC tests skipped: needs node and `npm ci --prefix tests/oidc` (.ci/run installs both)"
        );
    }
    node && modules
}

impl Idp {
    /// Starts the provider with our client registered for `redirect_uri`, authenticating at the
    /// token endpoint with `auth_method`.
    async fn start(redirect_uri: &str, auth_method: &str, id_token_claims: &str) -> Idp {
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(provider_dir())
            .env("AUTH_METHOD", auth_method)
            .env("ID_TOKEN_CLAIMS", id_token_claims)
            .env("PORT", "0")
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            // The provider stops when this pipe closes, even if the test process dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its warnings and errors show with a failing test's output.
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map(|_| line)
        })
        .await
        .expect("join")
        .expect("provider's first line");
        let v: Value = serde_json::from_str(&line).expect("provider prints its issuer");
        Idp {
            child,
            issuer: v["issuer"].as_str().expect("issuer").to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/control/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.expect("control answer")
    }

    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/control/stats", self.issuer))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json")
    }

    /// The account the provider signs in at the next authorization request.
    async fn login_as(&self, sub: &str, email: &str, verified: bool) {
        self.control(
            "login",
            json!({"sub": sub, "email": email, "email_verified": verified, "name": format!("User {sub}")}),
        )
        .await;
    }
}

/// A server that accepts http:// providers, and a provider that knows its callback.
async fn setup(db: Db) -> Option<(TestApp, Idp)> {
    setup_with(db, "client_secret_basic", "full").await
}

/// [`setup`] with the provider taking the client's secret by `auth_method`.
async fn setup_with(db: Db, auth_method: &str, id_token_claims: &str) -> Option<(TestApp, Idp)> {
    if !provider_available() {
        return None;
    }
    let web = fasttrack_web::WebConfig {
        oidc_allow_http: true,
        ..fasttrack_web::WebConfig::default()
    };
    let app = spawn_app_configured(db, web, None, test_worker_config()).await?;
    let idp = Idp::start(
        &format!("{}/auth/oidc/callback", app.base),
        auth_method,
        id_token_claims,
    )
    .await;
    Some((app, idp))
}

/// A browser: keeps cookies, follows no redirects (the test follows them, step by step).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(from: &str, res: &reqwest::Response) -> String {
    let loc = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{from} answered {} without a Location", res.status()));
    reqwest::Url::parse(from)
        .and_then(|u| u.join(loc))
        .expect("location")
        .to_string()
}

/// Follows the browser from `url` (fasttrack's start, or the provider) until the provider sends
/// it back to fasttrack's callback; returns that address.
async fn to_callback(app: &TestApp, b: &reqwest::Client, url: &str) -> String {
    let callback = format!("{}/auth/oidc/callback", app.base);
    let mut url = url.to_string();
    for _ in 0..10 {
        let res = b.get(&url).send().await.expect("browser step");
        assert!(
            res.status().is_redirection(),
            "{url} answered {}: {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        let next = location(&url, &res);
        if next.starts_with(&callback) {
            return next;
        }
        url = next;
    }
    panic!("never came back to the callback");
}

/// Signs in through the organization of `address` from start to callback; returns the
/// callback's answer.
async fn sso(app: &TestApp, b: &reqwest::Client, address: &str) -> reqwest::Response {
    let start = format!(
        "{}/auth/oidc/start?email={}&next=%2Frequests",
        app.base, address
    );
    let callback = to_callback(app, b, &start).await;
    b.get(&callback).send().await.expect("callback")
}

/// The refusal reason on the callback's error page.
async fn reason(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let page = res.text().await.unwrap_or_default();
    let reason = page
        .split("data-reason=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no reason on the page: {page}"))
        .to_string();
    (status, reason)
}

/// The signed-in user of a browser.
async fn me(app: &TestApp, b: &reqwest::Client) -> Value {
    let r = b
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .expect("me");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("me json")
}

fn provider_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/sign-in-provider")
}

/// Sets Contoso's provider as its admin, creating users with `role` on first sign-in.
async fn configure_contoso(app: &TestApp, idp: &Idp, role: Option<&str>) {
    let admin = app.sign_in(&email("customer")).await;
    let r = admin
        .send(
            Method::PUT,
            &provider_path(&app.seed.cust_a),
            Some(&json!({"issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                         "allowed_domains": [CONTOSO], "new_user_role": role})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn oidc_first_sign_in_from_the_sign_in_page_creates_the_user_with_the_role_the_admin_set(
    db: Db,
) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    idp.login_as("alice-sub", &format!("Alice@{CONTOSO}"), true)
        .await;
    // The sign-in page's "Sign in with your organization" form, with its CSRF token.
    let b = browser();
    let page = b
        .get(format!("{}/sign-in?next=%2Frequests", app.base))
        .send()
        .await
        .expect("sign-in page");
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(csp.contains("form-action 'self' https:"), "{csp}");
    let html = page.text().await.expect("html");
    assert!(html.contains("action=\"/sign-in/organization\""), "{html}");
    let token = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("csrf token")
        .to_string();
    // A forged form (no matching cookie) is refused; it would also replace the form's token.
    let forged = browser()
        .post(format!("{}/sign-in/organization", app.base))
        .form(&[
            ("csrf_token", "forged"),
            ("email", &format!("alice@{CONTOSO}")),
        ])
        .send()
        .await
        .expect("forged form");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let url = format!("{}/sign-in/organization", app.base);
    let res = b
        .post(&url)
        .form(&[
            ("csrf_token", token.as_str()),
            ("next", "/requests"),
            ("email", &format!("alice@{CONTOSO}")),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to_provider = location(&url, &res);
    assert!(
        to_provider.starts_with(&format!("{}/auth?", idp.issuer)),
        "{to_provider}"
    );
    for p in [
        "code_challenge_method=S256",
        "code_challenge=",
        "nonce=",
        "state=",
    ] {
        assert!(to_provider.contains(p), "{p} missing from {to_provider}");
    }
    let callback = to_callback(&app, &b, &to_provider).await;
    let done = b.get(&callback).send().await.expect("callback");
    if done.status() != StatusCode::SEE_OTHER {
        panic!(
            "{}: {}",
            done.status(),
            done.text().await.unwrap_or_default()
        );
    }
    assert_eq!(location(&callback, &done), format!("{}/requests", app.base));
    let user = me(&app, &b).await;
    assert_eq!(user["email"], format!("alice@{CONTOSO}"));
    assert_eq!(user["org_id"], app.seed.cust_a.as_str());
    assert_eq!(user["role"], "customer_admin");
    assert_eq!(user["name"], "User alice-sub");
    // Audited with the issuer, never a token.
    let admin = app.sign_in(&email("customer")).await;
    let audit = admin
        .get(&format!(
            "/api/v1/audit?tenant_org_id={}&limit=200",
            app.seed.cust_a
        ))
        .await;
    let text = audit.body.to_string();
    assert!(text.contains("user.sign_in_provider"), "{text}");
    assert!(!text.contains("eyJ"), "a JWT in the audit log: {text}");
    app.stop().await;
}
on_both_dbs!(oidc_first_sign_in_from_the_sign_in_page_creates_the_user_with_the_role_the_admin_set);

async fn oidc_matches_an_existing_user_by_verified_email_and_the_domain_loses_password_sign_in(
    db: Db,
) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    let admin = app.sign_in(&email("customer")).await;
    let bob_email = format!("bob@{CONTOSO}");
    let bob = admin
        .post(
            "/api/v1/users",
            json!({"org_id": app.seed.cust_a, "email": bob_email, "name": "Bob",
                   "role": "customer_admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(bob.status, StatusCode::CREATED, "{}", bob.body);
    let password = |who: String| {
        let app = &app;
        async move {
            app.anonymous()
                .post(
                    "/api/v1/auth/sign-in",
                    json!({"email": who, "password": PASSWORD}),
                )
                .await
                .status
        }
    };
    assert_eq!(password(bob_email.clone()).await, StatusCode::OK);
    // Only existing users: nobody is created.
    configure_contoso(&app, &idp, None).await;
    idp.login_as("bob-sub", &bob_email, true).await;
    let b = browser();
    let res = sso(&app, &b, &bob_email).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &b).await["id"], bob.body["id"]);
    // The domain now signs in through the provider; other organizations keep passwords.
    assert_eq!(password(bob_email.clone()).await, StatusCode::FORBIDDEN);
    // The sign-in page says so, in the viewer's language, and points to the organization form.
    let page_browser = browser();
    let form = page_browser
        .get(format!("{}/sign-in", app.base))
        .header("accept-language", "fr")
        .send()
        .await
        .expect("sign-in page")
        .text()
        .await
        .unwrap_or_default();
    let token = form
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("csrf token")
        .to_string();
    let refused = page_browser
        .post(format!("{}/sign-in", app.base))
        .header("accept-language", "fr")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", bob_email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("password form");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let text = refused.text().await.unwrap_or_default();
    assert!(
        text.contains("Se connecter avec votre organisation"),
        "{text}"
    );
    assert_eq!(password(email("customer_b")).await, StatusCode::OK);
    assert_eq!(password(email("customer")).await, StatusCode::OK);
    idp.login_as("carol-sub", &format!("carol@{CONTOSO}"), true)
        .await;
    let (status, why) = reason(sso(&app, &browser(), &format!("carol@{CONTOSO}")).await).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "no-account")
    );
    // Turning the provider off gives the domain its passwords back, and starts no sign-in.
    let off = admin
        .send(
            Method::PUT,
            &provider_path(&app.seed.cust_a),
            Some(&json!({"issuer": idp.issuer, "client_id": CLIENT_ID,
                         "allowed_domains": [CONTOSO], "enabled": false})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(password(bob_email.clone()).await, StatusCode::OK);
    let start = browser()
        .get(format!("{}/auth/oidc/start?email={bob_email}", app.base))
        .send()
        .await
        .expect("start");
    assert_eq!(reason(start).await.1, "no-provider");
    // Removing the provider altogether.
    let gone = admin
        .send(Method::DELETE, &provider_path(&app.seed.cust_a), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(password(bob_email).await, StatusCode::OK);
    app.stop().await;
}
on_both_dbs!(oidc_matches_an_existing_user_by_verified_email_and_the_domain_loses_password_sign_in);

async fn oidc_refuses_unverified_addresses_and_domains_the_organization_does_not_allow(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    idp.login_as("dave-sub", &format!("dave@{CONTOSO}"), false)
        .await;
    let (status, why) = reason(sso(&app, &browser(), &format!("dave@{CONTOSO}")).await).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "email-unverified")
    );
    // The provider vouches for an address of another organization's domain.
    idp.login_as("eve-sub", "eve@fabrikam-2.example", true)
        .await;
    let (status, why) = reason(sso(&app, &browser(), &format!("eve@{CONTOSO}")).await).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "domain-not-allowed")
    );
    let admin = app.sign_in(&email("programme_admin")).await;
    for who in ["dave", "eve"] {
        let found = admin.get(&format!("/api/v1/users?q={who}")).await;
        assert_eq!(found.body["items"], json!([]), "{who} was created");
    }
    // The page speaks the viewer's language.
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(
                reqwest::header::ACCEPT_LANGUAGE,
                reqwest::header::HeaderValue::from_static("de"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("client");
    idp.login_as("dave-sub", &format!("dave@{CONTOSO}"), false)
        .await;
    let page = sso(&app, &b, &format!("dave@{CONTOSO}"))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.contains("Ihre E-Mail-Adresse nicht bestätigt"),
        "{page}"
    );
    // An address whose organization has no provider is told to use its password.
    let none = browser()
        .get(format!(
            "{}/auth/oidc/start?email=someone%40fabrikam-2.example",
            app.base
        ))
        .send()
        .await
        .expect("start");
    let (status, why) = reason(none).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::NOT_FOUND, "no-provider")
    );
    app.stop().await;
}
on_both_dbs!(oidc_refuses_unverified_addresses_and_domains_the_organization_does_not_allow);

async fn oidc_refuses_an_id_token_for_another_audience_or_with_another_nonce(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    idp.login_as("alice-sub", &format!("alice@{CONTOSO}"), true)
        .await;
    idp.control("tamper", json!({"mode": "audience"})).await;
    let (status, why) = reason(sso(&app, &browser(), &format!("alice@{CONTOSO}")).await).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "token-audience")
    );
    idp.control("tamper", json!({"mode": "nonce"})).await;
    let (_, why) = reason(sso(&app, &browser(), &format!("alice@{CONTOSO}")).await).await;
    assert_eq!(why, "token-nonce");
    // The same provider, untampered, signs in: the refusals were the tokens' fault.
    idp.control("tamper", json!({"mode": "none"})).await;
    let b = browser();
    assert_eq!(
        sso(&app, &b, &format!("alice@{CONTOSO}")).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(me(&app, &b).await["email"], format!("alice@{CONTOSO}"));
    let admin = app.sign_in(&email("customer")).await;
    let audit = admin
        .get(&format!(
            "/api/v1/audit?tenant_org_id={}&limit=200",
            app.seed.cust_a
        ))
        .await
        .body
        .to_string();
    assert!(
        audit.contains("token-audience") && audit.contains("token-nonce"),
        "{audit}"
    );
    app.stop().await;
}
on_both_dbs!(oidc_refuses_an_id_token_for_another_audience_or_with_another_nonce);

async fn oidc_refuses_an_expired_id_token_by_the_servers_clock(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    idp.login_as("alice-sub", &format!("alice@{CONTOSO}"), true)
        .await;
    // A one-minute ID token, handed in five minutes later (the sign-in itself lasts ten).
    idp.control("ttl", json!({"id_token": 60})).await;
    let b = browser();
    let start = format!("{}/auth/oidc/start?email=alice%40{CONTOSO}", app.base);
    let callback = to_callback(&app, &b, &start).await;
    app.running.state.clock.advance(300);
    let (status, why) = reason(b.get(&callback).send().await.expect("callback")).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "token-expired")
    );
    app.stop().await;
}
on_both_dbs!(oidc_refuses_an_expired_id_token_by_the_servers_clock);

async fn oidc_state_is_single_use_and_bound_to_the_browser_that_started(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    idp.login_as("alice-sub", &format!("alice@{CONTOSO}"), true)
        .await;
    let b = browser();
    let start = format!("{}/auth/oidc/start?email=alice%40{CONTOSO}", app.base);
    let callback = to_callback(&app, &b, &start).await;
    let state = reqwest::Url::parse(&callback)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .expect("state");
    // Another browser (an attacker's link) cannot finish it: login CSRF.
    let (status, why) = reason(browser().get(&callback).send().await.expect("other")).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::BAD_REQUEST, "state-mismatch")
    );
    let ok = b.get(&callback).send().await.expect("callback");
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // Replayed with the browser's own cookie: the state is spent.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(&callback)
        .header("cookie", format!("ft_oidc={state}"))
        .send()
        .await
        .expect("replay");
    let (status, why) = reason(replay).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::BAD_REQUEST, "state-used")
    );
    // A made-up state is unknown.
    let made_up = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/auth/oidc/callback?code=x&state=abc", app.base))
        .header("cookie", "ft_oidc=abc")
        .send()
        .await
        .expect("made up");
    assert_eq!(reason(made_up).await.1, "state-unknown");
    app.stop().await;
}
on_both_dbs!(oidc_state_is_single_use_and_bound_to_the_browser_that_started);

async fn oidc_key_rotation_is_picked_up_by_fetching_the_keys_again_at_most_once_per_cooldown(
    db: Db,
) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    let alice = format!("alice@{CONTOSO}");
    idp.login_as("alice-sub", &alice, true).await;
    assert_eq!(
        sso(&app, &browser(), &alice).await.status(),
        StatusCode::SEE_OTHER
    );
    let fetched = idp.stats().await["jwks"].as_i64().unwrap_or(0);
    // The provider replaces its RSA key with an EC one: the next sign-in still works.
    idp.control("rotate", json!({"alg": "ES256"})).await;
    let b = browser();
    assert_eq!(sso(&app, &b, &alice).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &b).await["email"], alice);
    assert_eq!(idp.stats().await["jwks"].as_i64(), Some(fetched + 1));
    assert_eq!(
        idp.stats().await["userinfo"],
        0,
        "the ID token had the e-mail"
    );
    // Another rotation at once: within the cool-down the keys are not fetched again…
    idp.control("rotate", json!({"alg": "RS256"})).await;
    let (status, why) = reason(sso(&app, &browser(), &alice).await).await;
    assert_eq!(
        (status, why.as_str()),
        (StatusCode::FORBIDDEN, "token-unknown-key")
    );
    assert_eq!(idp.stats().await["jwks"].as_i64(), Some(fetched + 1));
    // …and after it they are.
    app.running.state.clock.advance(60);
    assert_eq!(
        sso(&app, &browser(), &alice).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(idp.stats().await["jwks"].as_i64(), Some(fetched + 2));
    app.stop().await;
}
on_both_dbs!(oidc_key_rotation_is_picked_up_by_fetching_the_keys_again_at_most_once_per_cooldown);

async fn oidc_staff_sign_in_through_the_programme_organizations_provider(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    let admin = app.sign_in(&email("programme_admin")).await;
    let path = provider_path(&app.seed.programme);
    let body = |role: Value| {
        json!({"issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
               "allowed_domains": [CENTER], "new_user_role": role})
    };
    // A provider never mints programme users.
    for role in ["programme_admin", "fasttrack_manager"] {
        let r = admin
            .send(Method::PUT, &path, Some(&body(json!(role))))
            .await;
        crate::helpers::assert_problem(&r, 422);
        assert_eq!(crate::helpers::problem_fields(&r), vec!["new_user_role"]);
    }
    let r = admin
        .send(Method::PUT, &path, Some(&body(Value::Null)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sam_email = format!("sam@{CENTER}");
    let sam = admin
        .post(
            "/api/v1/users",
            json!({"org_id": app.seed.programme, "email": sam_email, "name": "Sam",
                   "role": "fasttrack_specialist",
                   "staff": {"region_id": app.seed.region, "weekly_capacity": 10, "languages": ["english"]}}),
        )
        .await;
    assert_eq!(sam.status, StatusCode::CREATED, "{}", sam.body);
    idp.login_as("sam-sub", &sam_email, true).await;
    let b = browser();
    assert_eq!(
        sso(&app, &b, &sam_email).await.status(),
        StatusCode::SEE_OTHER
    );
    let me = me(&app, &b).await;
    assert_eq!(me["id"], sam.body["id"]);
    assert_eq!(me["role"], "fasttrack_specialist");
    // Nobody new in the programme's organization, even with a verified address of its domain.
    idp.login_as("x-sub", &format!("newcomer@{CENTER}"), true)
        .await;
    let (_, why) = reason(sso(&app, &browser(), &format!("newcomer@{CENTER}")).await).await;
    assert_eq!(why, "no-account");
    app.stop().await;
}
on_both_dbs!(oidc_staff_sign_in_through_the_programme_organizations_provider);

async fn oidc_only_the_organizations_admin_configures_its_provider_and_the_secret_stays_hidden(
    db: Db,
) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    let path = provider_path(&app.seed.cust_a);
    let body = json!({"issuer": idp.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                      "allowed_domains": [CONTOSO], "new_user_role": "customer_admin"});
    for (who, status) in [
        ("customer_b", 404),
        ("partner", 404),
        ("fasttrack_manager", 403),
        ("center_engineer", 403),
    ] {
        let c = app.sign_in(&email(who)).await;
        let r = c.send(Method::PUT, &path, Some(&body)).await;
        crate::helpers::assert_problem(&r, status);
        assert_eq!(c.get(&path).await.status.as_u16(), status, "{who} reads");
    }
    let admin = app.sign_in(&email("customer")).await;
    assert_eq!(
        admin.get(&path).await.status,
        StatusCode::NOT_FOUND,
        "none yet"
    );
    // A first set-up without a secret, with another tenant's domain, a partner role, a bad issuer.
    let bad = admin
        .send(
            Method::PUT,
            &path,
            Some(&json!({"issuer": "ftp://id.example", "client_id": CLIENT_ID,
                         "allowed_domains": [CONTOSO, "fabrikam-2.example"], "new_user_role": "partner_user"})),
        )
        .await;
    crate::helpers::assert_problem(&bad, 422);
    let mut fields = crate::helpers::problem_fields(&bad);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "allowed_domains[1]",
            "client_secret",
            "issuer",
            "new_user_role"
        ]
    );
    let created = admin.send(Method::PUT, &path, Some(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let read = admin.get(&path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["client_secret_set"], true);
    assert!(read.body.get("client_secret").is_none(), "{}", read.body);
    assert_eq!(
        read.body["redirect_uri"],
        format!("{}/auth/oidc/callback", app.base)
    );
    // Leaving the secret out keeps it: sign-in still works after the change.
    let changed = admin
        .send(
            Method::PUT,
            &path,
            Some(&json!({"issuer": idp.issuer, "client_id": CLIENT_ID,
                         "allowed_domains": [CONTOSO], "new_user_role": "customer_admin"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    idp.login_as("alice-sub", &format!("alice@{CONTOSO}"), true)
        .await;
    assert_eq!(
        sso(&app, &browser(), &format!("alice@{CONTOSO}"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // A programme admin may read it; the secret appears in no answer and no audit record.
    let programme = app.sign_in(&email("programme_admin")).await;
    let by_admin = programme.get(&path).await;
    assert_eq!(by_admin.status, StatusCode::OK);
    let audit = programme
        .get(&format!(
            "/api/v1/audit?tenant_org_id={}&limit=200",
            app.seed.cust_a
        ))
        .await;
    for text in [
        read.body.to_string(),
        created.body.to_string(),
        by_admin.body.to_string(),
        audit.body.to_string(),
    ] {
        assert!(!text.contains(CLIENT_SECRET), "the secret leaked: {text}");
    }
    assert!(audit.body.to_string().contains("sign_in_provider.create"));
    // A provider whose discovery document cannot be read is refused at once.
    let wrong = admin
        .send(
            Method::PUT,
            &path,
            Some(
                &json!({"issuer": format!("{}/nowhere", idp.issuer), "client_id": CLIENT_ID,
                         "allowed_domains": [CONTOSO]}),
            ),
        )
        .await;
    crate::helpers::assert_problem(&wrong, 422);
    assert_eq!(crate::helpers::problem_fields(&wrong), vec!["issuer"]);
    app.stop().await;
}
on_both_dbs!(oidc_only_the_organizations_admin_configures_its_provider_and_the_secret_stays_hidden);

async fn oidc_a_sign_in_started_on_one_server_finishes_on_another_sharing_the_database(db: Db) {
    let Some((app, idp)) = setup(db).await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    let alice = format!("alice@{CONTOSO}");
    idp.login_as("alice-sub", &alice, true).await;
    // A second instance over the same database, as behind a load balancer.
    let web = fasttrack_web::WebConfig {
        oidc_allow_http: true,
        ..fasttrack_web::WebConfig::default()
    };
    let second = fasttrack::start(&app.database_url, "127.0.0.1:0", web, test_worker_config())
        .await
        .expect("second server");
    let second_base = format!("http://{}", second.addr);
    let b = browser();
    let start = format!("{}/auth/oidc/start?email=alice%40{CONTOSO}", app.base);
    let callback = to_callback(&app, &b, &start).await;
    let state = reqwest::Url::parse(&callback)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .expect("state");
    let there = callback.replace(&app.base, &second_base);
    let res = b.get(&there).send().await.expect("callback on the second");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let me_there = b
        .get(format!("{second_base}/api/v1/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(me_there.status(), StatusCode::OK);
    // The first instance knows the state is spent.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(&callback)
        .header("cookie", format!("ft_oidc={state}"))
        .send()
        .await
        .expect("replay");
    assert_eq!(reason(replay).await.1, "state-used");
    second.stop().await;
    app.stop().await;
}
on_both_dbs!(oidc_a_sign_in_started_on_one_server_finishes_on_another_sharing_the_database);

async fn oidc_a_provider_that_takes_the_secret_only_in_the_form_is_sent_it_there(db: Db) {
    let Some((app, idp)) = setup_with(db, "client_secret_post", "full").await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    let alice = format!("alice@{CONTOSO}");
    idp.login_as("alice-sub", &alice, true).await;
    let b = browser();
    let res = sso(&app, &b, &alice).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &b).await["email"], alice);
    app.stop().await;
}
on_both_dbs!(oidc_a_provider_that_takes_the_secret_only_in_the_form_is_sent_it_there);

async fn oidc_the_email_is_read_from_userinfo_when_the_id_token_carries_only_the_subject(db: Db) {
    let Some((app, idp)) = setup_with(db, "client_secret_basic", "minimal").await else {
        return;
    };
    configure_contoso(&app, &idp, Some("customer_admin")).await;
    let alice = format!("alice@{CONTOSO}");
    idp.login_as("alice-sub", &alice, true).await;
    let b = browser();
    let res = sso(&app, &b, &alice).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &b).await["email"], alice);
    assert_eq!(idp.stats().await["userinfo"], 1);
    // Unverified at userinfo is still unverified.
    idp.login_as("dave-sub", &format!("dave@{CONTOSO}"), false)
        .await;
    let (_, why) = reason(sso(&app, &browser(), &format!("dave@{CONTOSO}")).await).await;
    assert_eq!(why, "email-unverified");
    app.stop().await;
}
on_both_dbs!(oidc_the_email_is_read_from_userinfo_when_the_id_token_carries_only_the_subject);
