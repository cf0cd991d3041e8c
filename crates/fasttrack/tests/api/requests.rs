//! Requests for assistance over HTTP: every way in (R8, R9), every refusal (R1, R2, R8, R9, R11,
//! R17), triage through the lifecycle, and the "Need help?" widget.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, customer_ids, email, problem_fields, TestApp};
use crate::on_both;

fn body(services: &[&str]) -> Value {
    json!({
        "kinds": ["service_onboarding"],
        "services": services,
        "contact": {"name": "Ada Rossi", "email": "ada@contoso.example", "phone": "+39 02 1234 5678"},
        "language": "it",
        "preferred_windows": [["2026-12-01T08:00:00Z", "2026-12-01T11:00:00Z"]],
        "description": "Onboarding della posta"
    })
}

async fn request_count(app: &TestApp) -> usize {
    app.store
        .list_requests(&Default::default(), &fasttrack_store::Page::new(None, 200))
        .await
        .unwrap()
        .items
        .len()
}

async fn r8_every_site_channel_is_recorded_on_the_request(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    for channel in [
        "site_quick_action",
        "site_deployment_card",
        "site_services_list",
        "api",
    ] {
        let mut b = body(&["mail"]);
        b["channel"] = json!(channel);
        let r = customer.post("/api/v1/requests", b).await;
        assert_eq!(r.status, 201, "{channel}: {}", r.body);
        assert_eq!(r.body["channel"], channel);
        assert_eq!(r.body["org_id"], app.seed.cust_a);
        assert_eq!(r.body["filed_by_org_id"], app.seed.cust_a);
        assert_eq!(r.body["state"], "submitted");
        assert_eq!(
            r.body["time_zone"], "Europe/Rome",
            "the tenant's zone by default"
        );
    }
    let mut b = body(&["mail"]);
    b["channel"] = json!("partner_portal");
    assert_problem(&customer.post("/api/v1/requests", b).await, 422);
}
on_both!(r8_every_site_channel_is_recorded_on_the_request);

async fn r9_partner_files_for_a_customer_and_the_audit_records_both(app: &TestApp) {
    let partner = app.sign_in(&email("partner")).await;
    let mut b = body(&["mail"]);
    b["org_id"] = json!(app.seed.cust_a);
    let r = partner.post("/api/v1/requests", b).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["channel"], "partner_portal");
    assert_eq!(r.body["filed_by_org_id"], app.seed.partner);
    let id = r.body["id"].as_str().unwrap();
    let admin = app.sign_in(&email("programme_admin")).await;
    let audit = admin
        .get(&format!("/api/v1/audit?entity=request&entity_id={id}"))
        .await;
    let rec = &audit.body["items"][0];
    assert_eq!(rec["actor_org_id"], app.seed.partner);
    assert_eq!(rec["acting_for_org_id"], app.seed.cust_a);
    assert_eq!(rec["tenant_org_id"], app.seed.cust_a);
    // The partner sees it in its list; the customer too.
    let mine = partner.get("/api/v1/requests").await;
    assert!(mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == id));
}
on_both!(r9_partner_files_for_a_customer_and_the_audit_records_both);

async fn r9_partner_without_a_live_relationship_cannot_file_and_nothing_is_written(app: &TestApp) {
    let partner = app.sign_in(&email("partner")).await;
    let before = request_count(app).await;
    for org in [
        &app.seed.cust_b,
        &app.seed.cust_expired,
        &app.seed.cust_revoked,
    ] {
        let mut b = body(&["mail"]);
        b["org_id"] = json!(org);
        assert_problem(&partner.post("/api/v1/requests", b).await, 404);
    }
    assert_eq!(request_count(app).await, before);
}
on_both!(r9_partner_without_a_live_relationship_cannot_file_and_nothing_is_written);

async fn r1_request_from_a_lapsed_subscription_is_refused_with_the_reason(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let r = admin
        .patch(
            &format!("/api/v1/subscriptions/{}", app.seed.sub_b),
            json!({"state": "suspended"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let customer_b = app.sign_in(&email("customer_b")).await;
    let before = request_count(app).await;
    let r = customer_b.post("/api/v1/requests", body(&["mail"])).await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R1");
    assert!(
        r.body["detail"].as_str().unwrap().contains("suspended"),
        "{}",
        r.body
    );
    assert_eq!(request_count(app).await, before);
}
on_both!(r1_request_from_a_lapsed_subscription_is_refused_with_the_reason);

async fn r2_service_the_plan_does_not_cover_is_refused_by_name(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post("/api/v1/requests", body(&["mail", "device-management"]))
        .await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R2");
    assert_eq!(problem_fields(&r), vec!["services"]);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("device-management"));
    assert_eq!(r.body["facts"]["not_eligible"], "device-management");
}
on_both!(r2_service_the_plan_does_not_cover_is_refused_by_name);

/// A service the catalogue does not have is named as unknown, not as one the plan lacks: filing
/// reads the catalogue only when a requested service is not eligible, and this is that case.
async fn a_service_missing_from_the_catalogue_is_refused_as_unknown(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let before = request_count(app).await;
    let r = customer
        .post("/api/v1/requests", body(&["mail", "teleportation"]))
        .await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["services[1]"]);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no such service 'teleportation'"),
        "{}",
        r.body
    );
    assert_eq!(request_count(app).await, before);
}
on_both!(a_service_missing_from_the_catalogue_is_refused_as_unknown);

async fn r11_unsupported_language_is_refused_with_the_supported_list(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let mut b = body(&["mail"]);
    b["language"] = json!("nl");
    let r = customer.post("/api/v1/requests", b).await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R11");
    assert_eq!(problem_fields(&r), vec!["language"]);
    assert!(r.body["facts"]["supported"]
        .as_str()
        .unwrap()
        .contains("zh-Hant"));
    let mut b = body(&["mail"]);
    b["language"] = json!("zh-TW");
    let ok = customer.post("/api/v1/requests", b).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["language"], "zh-Hant");
}
on_both!(r11_unsupported_language_is_refused_with_the_supported_list);

async fn r8_a_tenant_with_a_partner_of_record_is_sent_to_its_partner(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let r = admin
        .patch(
            &format!("/api/v1/organizations/{}", app.seed.cust_a),
            json!({"partner_of_record": app.seed.partner}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let customer = app.sign_in(&email("customer")).await;
    let refused = customer.post("/api/v1/requests", body(&["mail"])).await;
    assert_problem(&refused, 422);
    assert_eq!(refused.body["rule"], "R8");
    assert_eq!(refused.body["facts"]["partner_of_record"], app.seed.partner);
    let partner = app.sign_in(&email("partner")).await;
    let mut b = body(&["mail"]);
    b["org_id"] = json!(app.seed.cust_a);
    assert_eq!(partner.post("/api/v1/requests", b).await.status, 201);
}
on_both!(r8_a_tenant_with_a_partner_of_record_is_sent_to_its_partner);

async fn r14_migration_sources_and_volumes_are_recorded(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let mut b = body(&["mail"]);
    b["kinds"] = json!(["data_migration"]);
    b["migration"] = json!({"sources": [{"kind": "imap", "name": "Dovecot", "version": null}],
                            "volumes": {"mailboxes": 250, "users": 260, "gigabytes": 800, "files": 0},
                            "waves": ["pilot: IT", "wave 1: sales"]});
    let r = customer.post("/api/v1/requests", b).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["migration"]["volumes"]["mailboxes"], 250);
    assert_eq!(
        r.body["migration_level"], "guidance_only",
        "R1: 300 seats is below the 500-seat migration threshold"
    );
}
on_both!(r14_migration_sources_and_volumes_are_recorded);

async fn triage_accepts_declines_asks_and_the_lifecycle_refuses_illegal_moves(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let a = customer
        .post("/api/v1/requests", body(&["mail"]))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut other = body(&["files"]);
    other["language"] = json!("en");
    let b = customer.post("/api/v1/requests", other).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let queue = staff
        .get("/api/v1/requests?state=submitted&language=it&service=mail")
        .await;
    let ids: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(
        ids.contains(&a.as_str()) && !ids.contains(&b.as_str()),
        "{ids:?}"
    );
    let young = staff.get("/api/v1/requests?older_than_hours=1").await;
    assert!(
        young.body["items"].as_array().unwrap().is_empty(),
        "nothing is an hour old yet"
    );

    let asked = staff
        .post(
            &format!("/api/v1/requests/{a}/ask-info"),
            json!({"message": "Quante caselle?"}),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(asked.body["awaiting_requester"], true);
    assert!(
        asked.body["first_response_at"].is_string(),
        "R15: the first response is recorded"
    );
    let answered = customer
        .post(
            &format!("/api/v1/requests/{a}/respond"),
            json!({"message": "Circa 250"}),
        )
        .await;
    assert_eq!(answered.body["awaiting_requester"], false);

    let no_manager = app.sign_in(&email("center_engineer")).await;
    let r = no_manager
        .post(&format!("/api/v1/requests/{a}/accept"), json!({}))
        .await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["manager_id"]);
    assert_problem(
        &customer
            .post(&format!("/api/v1/requests/{a}/accept"), json!({}))
            .await,
        409,
    );
    let accepted = staff
        .post(&format!("/api/v1/requests/{a}/accept"), json!({}))
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["state"], "accepted");
    let engagements = staff
        .get(&format!("/api/v1/engagements?org_id={}", app.seed.cust_a))
        .await;
    assert_eq!(
        engagements.body["items"].as_array().map(Vec::len),
        Some(1),
        "R3: accepting opens the engagement: {}",
        engagements.body
    );
    assert!(accepted.body["manager_id"].is_string());

    let declined = staff
        .post(
            &format!("/api/v1/requests/{b}/decline"),
            json!({"reason": "Out of scope"}),
        )
        .await;
    assert_eq!(declined.body["state"], "declined");
    assert_eq!(declined.body["state_reason"], "Out of scope");
    let again = staff
        .post(&format!("/api/v1/requests/{b}/accept"), json!({}))
        .await;
    assert_problem(&again, 409);

    let withdrawn = customer
        .post(
            &format!("/api/v1/requests/{a}/withdraw"),
            json!({"reason": "Done ourselves"}),
        )
        .await;
    assert_eq!(withdrawn.body["state"], "withdrawn");
    let full = customer.get(&format!("/api/v1/requests/{a}")).await;
    let states: Vec<&str> = full.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["to_state"].as_str())
        .collect();
    assert_eq!(
        states,
        vec![
            "submitted",
            "submitted",
            "submitted",
            "accepted",
            "withdrawn"
        ]
    );
}
on_both!(triage_accepts_declines_asks_and_the_lifecycle_refuses_illegal_moves);

async fn another_tenant_cannot_see_or_touch_a_request(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let id = customer
        .post("/api/v1/requests", body(&["mail"]))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(&other.get(&format!("/api/v1/requests/{id}")).await, 404);
    assert_problem(
        &other
            .post(
                &format!("/api/v1/requests/{id}/withdraw"),
                json!({"reason": ""}),
            )
            .await,
        404,
    );
    let list = other.get("/api/v1/requests").await;
    assert!(list.body["items"].as_array().unwrap().is_empty());
}
on_both!(another_tenant_cannot_see_or_touch_a_request);

async fn r8_need_help_widget_files_for_its_tenant_through_its_token(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let t = customer
        .post(
            &format!("/api/v1/organizations/{}/widget-tokens", app.seed.cust_a),
            json!({"name": "Admin center", "allowed_origins": ["http://127.0.0.1:9999"]}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let token = t.body["token"].as_str().unwrap().to_string();

    let anon = app.anonymous();
    let js = anon
        .http
        .get(format!("{}/widget.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.headers()["access-control-allow-origin"], "*");
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let form = anon
        .http
        .get(format!("{}/widget/form?token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors http://127.0.0.1:9999"),
        "{csp}"
    );
    let html = form.text().await.unwrap();
    assert!(
        html.contains("value=\"mail\"") && !html.contains("value=\"device-management\""),
        "eligible services only"
    );

    let res = anon
        .http
        .post(format!("{}/api/v1/widget/requests", app.base))
        .header("x-widget-token", &token)
        .header("origin", "http://127.0.0.1:9999")
        .json(&body(&["mail"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://127.0.0.1:9999"
    );
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["channel"], "admin_center_widget");
    assert_eq!(doc["org_id"], app.seed.cust_a);

    let id = t.body["id"].as_str().unwrap();
    let del = customer
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/organizations/{}/widget-tokens/{id}",
                app.seed.cust_a
            ),
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    let after = anon
        .http
        .post(format!("{}/api/v1/widget/requests", app.base))
        .header("x-widget-token", &token)
        .json(&body(&["mail"]))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}
on_both!(r8_need_help_widget_files_for_its_tenant_through_its_token);

async fn r9_partner_search_matches_case_blind_substrings_and_takes_wildcards_literally(
    app: &TestApp,
) {
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(
        customer_ids(&partner, "CONTOSO").await,
        vec![app.seed.cust_a.clone()]
    );
    assert_eq!(
        customer_ids(&partner, "ntos").await,
        vec![app.seed.cust_a.clone()],
        "inside a word"
    );
    // `%` and `_` are characters to find, not patterns: nothing is named like that.
    assert!(customer_ids(&partner, "%25%25%25").await.is_empty());
    assert!(customer_ids(&partner, "c_ntoso").await.is_empty());
    // Fabrikam has no relationship with the partner: found by nobody's search here.
    assert!(customer_ids(&partner, "fabrikam").await.is_empty());
    // One or two characters match a name or domain prefix, among the partner's customers only.
    assert_eq!(
        customer_ids(&partner, "cO").await,
        vec![app.seed.cust_a.clone()]
    );
    assert!(customer_ids(&partner, "fa").await.is_empty());
    assert!(customer_ids(&partner, "_").await.is_empty());
}
on_both!(r9_partner_search_matches_case_blind_substrings_and_takes_wildcards_literally);

async fn r9_partner_sees_a_customers_services_and_their_onboarding_state(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    customer.post("/api/v1/requests", body(&["mail"])).await;
    let partner = app.sign_in(&email("partner")).await;
    let found = partner.get("/api/v1/organizations?q=contoso").await;
    assert_eq!(
        found.body["items"][0]["id"], app.seed.cust_a,
        "search by name"
    );
    let found = partner.get("/api/v1/organizations?q=contoso-1.exa").await;
    assert_eq!(
        found.body["items"][0]["id"], app.seed.cust_a,
        "search by domain"
    );
    let services = partner
        .get(&format!(
            "/api/v1/organizations/{}/services",
            app.seed.cust_a
        ))
        .await;
    assert_eq!(services.status, 200, "{}", services.body);
    let states: Vec<(String, String)> = services
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service_id"].as_str().unwrap().into(),
                s["onboarding"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("files".into(), "not_started".into()),
            ("mail".into(), "requested".into())
        ]
    );
    assert_problem(
        &partner
            .get(&format!(
                "/api/v1/organizations/{}/services",
                app.seed.cust_b
            ))
            .await,
        404,
    );
}
on_both!(r9_partner_sees_a_customers_services_and_their_onboarding_state);

/// Many filings at once (SQLite commits them in groups): every acknowledged one is stored with
/// its history and its mail, and one that cannot be written fails alone.
async fn concurrent_filings_are_each_acknowledged_only_once_stored(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let filed: Vec<crate::helpers::Res> = futures_util::future::join_all(
        (0..40)
            .map(|i| {
                let customer = &customer;
                async move {
                    let mut b = body(&["mail"]);
                    b["description"] = json!(format!("Concurrent filing {i}"));
                    customer.post("/api/v1/requests", b).await
                }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    let mut ids = Vec::new();
    for r in &filed {
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let stored = app.store.get_request(id).await.unwrap();
        assert!(stored.description.starts_with("Concurrent filing"));
        assert_eq!(app.store.request_events(id).await.unwrap().len(), 1);
    }

    // The same id twice in one burst: the second is refused, the others are stored.
    let template = app.store.get_request(&ids[0]).await.unwrap();
    let ctx = fasttrack_store::AuditCtx {
        at: template.created_at,
        ..Default::default()
    };
    let mut rows: Vec<fasttrack_store::Request> = (0..6)
        .map(|_| fasttrack_store::Request {
            id: fasttrack_store::new_id(),
            ..template.clone()
        })
        .collect();
    rows[3].id = ids[0].clone();
    let outcomes: Vec<Result<fasttrack_store::Request, fasttrack_store::StoreError>> =
        futures_util::future::join_all(
            rows.iter()
                .map(|r| app.store.create_request(r, &[], &ctx))
                .collect::<Vec<_>>(),
        )
        .await;
    for (i, o) in outcomes.iter().enumerate() {
        if i == 3 {
            assert!(
                matches!(o, Err(fasttrack_store::StoreError::Conflict { .. })),
                "{o:?}"
            );
        } else {
            let filed = o.as_ref().unwrap();
            assert_eq!(filed.id, rows[i].id);
            // What filing answers is what a read returns.
            let stored = app.store.get_request(&filed.id).await.unwrap();
            assert_eq!(format!("{filed:?}"), format!("{stored:?}"));
        }
    }

    // Written together (the first burst) or one by one (the burst with the clash), a filing
    // leaves the same history entry and audit record.
    let audit_of = |id: String| {
        let store = app.store.clone();
        async move {
            let page = store
                .list_audit(&fasttrack_store::AuditFilter {
                    entity_id: Some(id),
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(page.items.len(), 1);
            page.items.into_iter().next().unwrap()
        }
    };
    let (together, alone) = (ids[0].clone(), rows[0].id.clone());
    let (a, b) = (
        audit_of(together.clone()).await,
        audit_of(alone.clone()).await,
    );
    assert_eq!(
        (&a.action, &a.entity, &a.tenant_org_id, &a.changes),
        (&b.action, &b.entity, &b.tenant_org_id, &b.changes)
    );
    assert_eq!(a.action, "request.create");
    let (a, b) = (
        app.store.request_events(&together).await.unwrap(),
        app.store.request_events(&alone).await.unwrap(),
    );
    assert_eq!(
        (&a[0].from_state, &a[0].to_state, &a[0].note),
        (&b[0].from_state, &b[0].to_state, &b[0].note)
    );
}
on_both!(concurrent_filings_are_each_acknowledged_only_once_stored);
