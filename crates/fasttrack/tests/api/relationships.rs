//! R16 over HTTP: ask, approve, lapse, expiry, extension and revocation, and R9 visibility.

use serde_json::json;

use crate::helpers::{assert_problem, customer_ids, email, TestApp};
use crate::on_both;

async fn r16_partner_asks_customer_approves_and_the_partner_sees_the_customer(app: &TestApp) {
    let s = &app.seed;
    let partner = app.sign_in(&email("partner")).await;
    assert_problem(
        &partner
            .get(&format!("/api/v1/organizations/{}", s.cust_b))
            .await,
        404,
    );
    let ask = partner
        .post("/api/v1/relationships", json!({"customer_org_id": s.cust_b, "scopes": {"actions": ["view", "file_requests"], "services": ["mail"]}, "term_days": 365}))
        .await;
    assert_eq!(ask.status, 201, "{}", ask.body);
    assert_eq!(ask.body["status"], "requested");
    let id = ask.body["id"].as_str().unwrap();
    assert_problem(
        &partner
            .get(&format!("/api/v1/organizations/{}", s.cust_b))
            .await,
        404,
    );
    assert_problem(
        &partner
            .post(&format!("/api/v1/relationships/{id}/approve"), json!({}))
            .await,
        403,
    );

    let customer_b = app.sign_in(&email("customer_b")).await;
    let ok = customer_b
        .post(
            &format!("/api/v1/relationships/{id}/approve"),
            json!({"term_days": 180}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["status"], "active");
    assert_eq!(
        partner
            .get(&format!("/api/v1/organizations/{}", s.cust_b))
            .await
            .status,
        200
    );
    let audit = customer_b
        .get(&format!("/api/v1/audit?entity=relationship&entity_id={id}"))
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["relationship.approve", "relationship.ask"]);
}
on_both!(r16_partner_asks_customer_approves_and_the_partner_sees_the_customer);

async fn r16_an_unapproved_ask_lapses_after_90_days(app: &TestApp) {
    let partner = app.sign_in(&email("partner")).await;
    let ask = partner
        .post("/api/v1/relationships", json!({"customer_org_id": app.seed.cust_b, "scopes": {"actions": ["view"]}, "term_days": 30}))
        .await;
    let id = ask.body["id"].as_str().unwrap().to_string();
    app.advance_days(89);
    // Sessions last hours: sign in again after travelling in time.
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(
        partner
            .get(&format!("/api/v1/relationships/{id}"))
            .await
            .body["status"],
        "requested"
    );
    app.advance_days(1);
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(
        partner
            .get(&format!("/api/v1/relationships/{id}"))
            .await
            .body["status"],
        "lapsed"
    );
    let customer_b = app.sign_in(&email("customer_b")).await;
    let late = customer_b
        .post(&format!("/api/v1/relationships/{id}/approve"), json!({}))
        .await;
    assert_problem(&late, 409);
    assert_eq!(late.body["rule"], "R16");
}
on_both!(r16_an_unapproved_ask_lapses_after_90_days);

async fn r16_relationship_expires_and_can_be_extended_before(app: &TestApp) {
    let s = &app.seed;
    let partner = app.sign_in(&email("partner")).await;
    let customer = app.sign_in(&email("customer")).await;
    let org = format!("/api/v1/organizations/{}", s.cust_a);
    assert_eq!(partner.get(&org).await.status, 200);
    let too_long = customer
        .post(
            &format!("/api/v1/relationships/{}/extend", s.live_link),
            json!({"term_days": 731}),
        )
        .await;
    assert_problem(&too_long, 409);
    assert_eq!(too_long.body["rule"], "R16");
    let ext = customer
        .post(
            &format!("/api/v1/relationships/{}/extend", s.live_link),
            json!({"term_days": 400}),
        )
        .await;
    assert_eq!(ext.status, 200, "{}", ext.body);
    app.advance_days(399);
    // Sessions last hours, not a year: sign in again after travelling in time.
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(partner.get(&org).await.status, 200);
    app.advance_days(1);
    let partner = app.sign_in(&email("partner")).await;
    assert_problem(&partner.get(&org).await, 404);
}
on_both!(r16_relationship_expires_and_can_be_extended_before);

async fn r16_revocation_takes_effect_on_the_next_call(app: &TestApp) {
    let s = &app.seed;
    let partner = app.sign_in(&email("partner")).await;
    let customer = app.sign_in(&email("customer")).await;
    let org = format!("/api/v1/organizations/{}", s.cust_a);
    assert_eq!(partner.get(&org).await.status, 200);
    let end = customer
        .post(
            &format!("/api/v1/relationships/{}/end", s.live_link),
            json!({}),
        )
        .await;
    assert_eq!(end.status, 200, "{}", end.body);
    assert_eq!(end.body["status"], "ended");
    assert_problem(&partner.get(&org).await, 404);
    let again = customer
        .post(
            &format!("/api/v1/relationships/{}/end", s.live_link),
            json!({}),
        )
        .await;
    assert_problem(&again, 409);
}
on_both!(r16_revocation_takes_effect_on_the_next_call);

async fn r16_a_term_over_two_years_is_refused_naming_the_field(app: &TestApp) {
    let partner = app.sign_in(&email("partner")).await;
    let r = partner
        .post("/api/v1/relationships", json!({"customer_org_id": app.seed.cust_b, "scopes": {"actions": ["view"]}, "term_days": 731}))
        .await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R16");
    assert_eq!(crate::helpers::problem_fields(&r), vec!["term_days"]);
}
on_both!(r16_a_term_over_two_years_is_refused_naming_the_field);

async fn r16_expiry_warnings_are_queued_for_both_sides_at_30_and_7_days_once_each(app: &TestApp) {
    let before = crate::helpers::pending_jobs(&app.store).await;
    // The seeded live link expires in 100 days: nothing is due yet.
    let now = jiff::Timestamp::now();
    assert_eq!(
        fasttrack::sweeps::relationship_expiry_warnings(&app.store, now)
            .await
            .unwrap(),
        0
    );
    let day = jiff::SignedDuration::from_hours(24);
    // 71 days on, 29 days are left: the 30-day warning goes to the partner and to the customer.
    let at30 = now + day * 71;
    assert_eq!(
        fasttrack::sweeps::relationship_expiry_warnings(&app.store, at30)
            .await
            .unwrap(),
        2
    );
    assert_eq!(crate::helpers::pending_jobs(&app.store).await, before + 2);
    // Sweeping again the same day queues nothing new.
    fasttrack::sweeps::relationship_expiry_warnings(&app.store, at30)
        .await
        .unwrap();
    assert_eq!(crate::helpers::pending_jobs(&app.store).await, before + 2);
    // 7 days before the end: the second warning, again to both sides.
    let at7 = now + day * 94;
    assert_eq!(
        fasttrack::sweeps::relationship_expiry_warnings(&app.store, at7)
            .await
            .unwrap(),
        2
    );
    assert_eq!(crate::helpers::pending_jobs(&app.store).await, before + 4);
}
on_both!(r16_expiry_warnings_are_queued_for_both_sides_at_30_and_7_days_once_each);

/// "My customers" is served from a copy the server keeps (crates/store/src/directory.rs): every
/// change under it (a customer renamed, a relationship approved or ended, one expiring) must show
/// on the partner's very next search.
async fn r9_my_customers_follows_renames_approvals_ends_and_expiry(app: &TestApp) {
    let s = &app.seed;
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(
        customer_ids(&partner, "contoso").await,
        vec![s.cust_a.clone()]
    );

    let customer = app.sign_in(&email("customer")).await;
    let renamed = customer
        .patch(
            &format!("/api/v1/organizations/{}", s.cust_a),
            json!({"name": "Adatum Italia"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(
        customer_ids(&partner, "adatum").await,
        vec![s.cust_a.clone()]
    );
    assert_eq!(
        customer_ids(&partner, "ad").await,
        vec![s.cust_a.clone()],
        "a prefix"
    );

    let ask = partner
        .post(
            "/api/v1/relationships",
            json!({"customer_org_id": s.cust_b, "scopes": {"actions": ["view"]}, "term_days": 30}),
        )
        .await;
    assert_eq!(ask.status, 201, "{}", ask.body);
    assert!(
        customer_ids(&partner, "fabrikam").await.is_empty(),
        "asked, not approved"
    );
    let id = ask.body["id"].as_str().unwrap();
    let customer_b = app.sign_in(&email("customer_b")).await;
    let ok = customer_b
        .post(
            &format!("/api/v1/relationships/{id}/approve"),
            json!({"term_days": 10}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        customer_ids(&partner, "fabrikam").await,
        vec![s.cust_b.clone()]
    );
    // Both customers now, a page at a time, in id order.
    let mut both = [s.cust_a.clone(), s.cust_b.clone()];
    both.sort();
    let first = partner.get("/api/v1/organizations?limit=1").await;
    assert_eq!(first.body["items"][0]["id"], both[0], "{}", first.body);
    let next = first.body["next"].as_str().unwrap().to_string();
    let second = partner
        .get(&format!("/api/v1/organizations?limit=1&after={next}"))
        .await;
    assert_eq!(second.body["items"][0]["id"], both[1], "{}", second.body);
    assert!(second.body["next"].is_null(), "{}", second.body);

    let end = customer
        .post(
            &format!("/api/v1/relationships/{}/end", s.live_link),
            json!({}),
        )
        .await;
    assert_eq!(end.status, 200, "{}", end.body);
    assert!(customer_ids(&partner, "adatum").await.is_empty(), "ended");
    assert_eq!(customer_ids(&partner, "").await, vec![s.cust_b.clone()]);

    app.advance_days(9);
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(customer_ids(&partner, "").await, vec![s.cust_b.clone()]);
    app.advance_days(1);
    let partner = app.sign_in(&email("partner")).await;
    assert!(customer_ids(&partner, "").await.is_empty(), "expired");
}
on_both!(r9_my_customers_follows_renames_approvals_ends_and_expiry);
