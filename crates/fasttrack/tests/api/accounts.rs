//! Sign-in, sessions, CSRF, rate limiting and API tokens.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_problem, email, TestApp, PASSWORD};
use crate::on_both;

async fn sign_in_with_the_right_password_starts_a_session(app: &TestApp) {
    let c = app.sign_in(&email("customer")).await;
    let me = c.get("/api/v1/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], email("customer"));
    assert!(
        me.body.get("password_hash").is_none(),
        "the hash never leaves the server"
    );
}
on_both!(sign_in_with_the_right_password_starts_a_session);

async fn wrong_password_is_refused_without_saying_which_part_was_wrong(app: &TestApp) {
    let c = app.anonymous();
    let wrong = c
        .post(
            "/api/v1/auth/sign-in",
            json!({"email": email("customer"), "password": "not the password"}),
        )
        .await;
    assert_problem(&wrong, 401);
    let unknown = c
        .post(
            "/api/v1/auth/sign-in",
            json!({"email": "nobody@seed.example", "password": PASSWORD}),
        )
        .await;
    assert_problem(&unknown, 401);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
}
on_both!(wrong_password_is_refused_without_saying_which_part_was_wrong);

async fn repeated_failed_sign_ins_are_rate_limited_and_the_lockout_audited(app: &TestApp) {
    let c = app.anonymous();
    for _ in 0..5 {
        let r = c
            .post(
                "/api/v1/auth/sign-in",
                json!({"email": email("customer"), "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let locked = c
        .post(
            "/api/v1/auth/sign-in",
            json!({"email": email("customer"), "password": PASSWORD}),
        )
        .await;
    assert_problem(&locked, 429);
    let admin = app.sign_in(&email("programme_admin")).await;
    let audit = admin.get("/api/v1/audit?entity=user&limit=200").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["action"].as_str())
        .collect();
    assert!(actions.contains(&"user.sign_in_locked"), "{actions:?}");
}
on_both!(repeated_failed_sign_ins_are_rate_limited_and_the_lockout_audited);

async fn cookie_sessions_need_the_csrf_token_for_changes(app: &TestApp) {
    let mut c = app.sign_in(&email("customer")).await;
    let token = c.csrf.take();
    let r = c
        .patch(
            &format!("/api/v1/organizations/{}", app.seed.cust_a),
            json!({"name": "Contoso SpA"}),
        )
        .await;
    assert_problem(&r, 403);
    assert!(r.body["type"].as_str().unwrap().ends_with("csrf"));
    c.csrf = token;
    let r = c
        .patch(
            &format!("/api/v1/organizations/{}", app.seed.cust_a),
            json!({"name": "Contoso SpA"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
on_both!(cookie_sessions_need_the_csrf_token_for_changes);

async fn sign_out_ends_the_session(app: &TestApp) {
    let c = app.sign_in(&email("customer")).await;
    assert_eq!(
        c.send(Method::POST, "/api/v1/auth/sign-out", None)
            .await
            .status,
        204
    );
    assert_problem(&c.get("/api/v1/me").await, 401);
}
on_both!(sign_out_ends_the_session);

async fn api_tokens_are_shown_once_work_as_bearer_and_stop_when_revoked(app: &TestApp) {
    let c = app.sign_in(&email("partner")).await;
    let created = c
        .post("/api/v1/me/tokens", json!({"name": "automation"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["token"]
        .as_str()
        .expect("token shown at creation")
        .to_string();
    let listed = c.get("/api/v1/me/tokens").await;
    assert!(
        listed.body[0].get("token").is_none(),
        "the secret is never shown again"
    );

    let mut bearer = app.anonymous();
    bearer.bearer = Some(secret);
    assert_eq!(
        bearer.get("/api/v1/me").await.body["email"],
        email("partner")
    );
    // Bearer calls need no CSRF token: no cookie is involved.
    let r = bearer
        .post("/api/v1/relationships", json!({"customer_org_id": app.seed.cust_b, "scopes": {"actions": ["view"]}, "term_days": 30}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        c.send(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None)
            .await
            .status,
        204
    );
    assert_problem(&bearer.get("/api/v1/me").await, 401);
}
on_both!(api_tokens_are_shown_once_work_as_bearer_and_stop_when_revoked);

async fn disabling_a_user_ends_their_sessions_at_once(app: &TestApp) {
    let victim = app.sign_in(&email("customer_b")).await;
    let admin = app.sign_in(&email("programme_admin")).await;
    let me = victim.get("/api/v1/me").await;
    let id = me.body["id"].as_str().unwrap();
    let r = admin
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_problem(&victim.get("/api/v1/me").await, 401);
}
on_both!(disabling_a_user_ends_their_sessions_at_once);

async fn first_programme_admin_is_created_from_the_command_line(app: &TestApp) {
    let id = fasttrack::cli::create_user(
        &app.store,
        "Root@Seed.Example",
        "Root",
        "programme_admin",
        None,
        "a long enough password",
    )
    .await
    .expect("create");
    let u = app.store.get_user(&id).await.unwrap();
    assert_eq!(
        (u.email.as_str(), u.role.as_str()),
        ("root@seed.example", "programme_admin")
    );
    assert!(u.password_hash.unwrap().starts_with("$argon2id$"));
    let short = fasttrack::cli::create_user(
        &app.store,
        "x@seed.example",
        "X",
        "programme_admin",
        None,
        "short",
    )
    .await;
    assert!(short.is_err());
}
on_both!(first_programme_admin_is_created_from_the_command_line);
