//! Organizations, subscriptions, the catalogue, users and the audit trail of their changes.

use serde_json::json;

use crate::helpers::{assert_problem, email, problem_fields, TestApp};
use crate::on_both;

async fn admin_creates_a_customer_and_the_audit_log_records_who(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let tenant = uuid::Uuid::new_v4().to_string();
    let r = admin
        .post(
            "/api/v1/organizations",
            json!({"kind": "customer", "name": "Tailspin Toys", "tenant_id": tenant, "region_id": "emea",
                   "country": "de", "time_zone": "Europe/Berlin", "language": "de-DE", "domains": ["Tailspin.example"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["country"], "DE");
    assert_eq!(r.body["language"], "de");
    assert_eq!(r.body["domains"], json!(["tailspin.example"]));
    let id = r.body["id"].as_str().unwrap();
    let audit = admin
        .get(&format!("/api/v1/audit?entity=organization&entity_id={id}"))
        .await;
    let rec = &audit.body["items"][0];
    assert_eq!(rec["action"], "organization.create");
    assert_eq!(rec["actor_org_id"], app.seed.programme);
    assert!(rec["actor_user_id"].is_string());
    assert_eq!(rec["changes"]["name"], "Tailspin Toys");
}
on_both!(admin_creates_a_customer_and_the_audit_log_records_who);

async fn a_domain_can_belong_to_one_organization_only(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let body = |t: &str| {
        json!({"kind": "customer", "name": "Dup", "tenant_id": t, "country": "IT", "time_zone": "Europe/Rome",
               "language": "it", "domains": ["contoso-1.example"]})
    };
    let r = admin
        .post(
            "/api/v1/organizations",
            body(&uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_problem(&r, 409);
    assert_eq!(problem_fields(&r), vec!["domains"]);
}
on_both!(a_domain_can_belong_to_one_organization_only);

async fn organizations_list_pages_with_a_cursor_and_filters(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let first = admin
        .get("/api/v1/organizations?kind=customer&limit=2")
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let next = first.body["next"].as_str().expect("a next cursor");
    let second = admin
        .get(&format!(
            "/api/v1/organizations?kind=customer&limit=2&after={next}"
        ))
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 2);
    assert!(second.body["next"].is_null());
    let by_domain = admin.get("/api/v1/organizations?q=fabrikam-2").await;
    assert_eq!(by_domain.body["items"][0]["id"], app.seed.cust_b);
    let by_name = admin.get("/api/v1/organizations?q=LITWARE").await;
    assert_eq!(by_name.body["items"][0]["id"], app.seed.cust_expired);
}
on_both!(organizations_list_pages_with_a_cursor_and_filters);

async fn admin_manages_the_catalogue_and_plans(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let s = admin
        .post(
            "/api/v1/services",
            json!({"id": "voice", "name": "Cloud phone system", "category": "Communication"}),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    let p = admin
        .post("/api/v1/plans", json!({"id": "premium", "name": "Premium", "paid": true, "eligible": true, "services": ["mail", "voice"]}))
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let bad = admin
        .post("/api/v1/plans", json!({"id": "x", "name": "X", "paid": true, "eligible": true, "services": ["telepathy"]}))
        .await;
    assert_problem(&bad, 422);
    assert_eq!(problem_fields(&bad), vec!["services[0]"]);
    let patched = admin
        .patch("/api/v1/plans/premium", json!({"services": ["mail"]}))
        .await;
    assert_eq!(patched.body["services"], json!(["mail"]));
    let customer = app.sign_in(&email("customer")).await;
    assert_eq!(customer.get("/api/v1/plans").await.status, 200);
    assert_problem(
        &customer
            .post(
                "/api/v1/services",
                json!({"id": "y", "name": "Y", "category": "Z"}),
            )
            .await,
        403,
    );
}
on_both!(admin_manages_the_catalogue_and_plans);

async fn subscriptions_are_recorded_and_changed_by_the_programme(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let r = admin
        .post(
            "/api/v1/subscriptions",
            json!({"org_id": app.seed.cust_b, "plan_id": "business", "seats": 1200, "state": "active",
                   "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    let lapsed = admin
        .patch(
            &format!("/api/v1/subscriptions/{id}"),
            json!({"state": "suspended"}),
        )
        .await;
    assert_eq!(lapsed.body["state"], "suspended");
    let backwards = admin
        .post(
            "/api/v1/subscriptions",
            json!({"org_id": app.seed.cust_b, "plan_id": "nope", "seats": -1, "state": "active",
                   "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_problem(&backwards, 422);
    let mut fields = problem_fields(&backwards);
    fields.sort();
    assert_eq!(fields, vec!["ends_at", "plan_id", "seats"]);
}
on_both!(subscriptions_are_recorded_and_changed_by_the_programme);

async fn users_get_roles_that_fit_their_organization(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let wrong = admin
        .post("/api/v1/users", json!({"org_id": app.seed.cust_a, "email": "x@contoso.example", "name": "X", "role": "partner_user"}))
        .await;
    assert_problem(&wrong, 422);
    assert_eq!(problem_fields(&wrong), vec!["role"]);
    let staff = admin
        .post(
            "/api/v1/users",
            json!({"org_id": app.seed.programme, "email": "ling@fasttrack.example", "name": "Ling", "role": "center_engineer",
                   "password": "long enough password", "staff": {"region_id": "emea", "weekly_capacity": 20, "languages": ["mandarin", "english"]}}),
        )
        .await;
    assert_eq!(staff.status, 201, "{}", staff.body);
    assert_eq!(
        staff.body["staff"]["languages"],
        json!(["english", "mandarin"])
    );
    let listed = admin
        .get(&format!(
            "/api/v1/users?org_id={}&limit=200",
            app.seed.programme
        ))
        .await;
    let items = listed.body["items"].as_array().unwrap().clone();
    let ling = items
        .iter()
        .find(|u| u["email"] == "ling@fasttrack.example")
        .unwrap();
    assert_eq!(
        ling["staff"]["languages"],
        json!(["english", "mandarin"]),
        "lists carry staff profiles"
    );
    let admin_row = items
        .iter()
        .find(|u| u["role"] == "programme_admin")
        .unwrap();
    assert!(admin_row.get("staff").is_none());
    let customer = app.sign_in(&email("customer")).await;
    let colleague = customer
        .post("/api/v1/users", json!({"org_id": app.seed.cust_a, "email": "second@contoso.example", "name": "Second", "role": "customer_admin"}))
        .await;
    assert_eq!(colleague.status, 201, "{}", colleague.body);
    let escalate = customer
        .post("/api/v1/users", json!({"org_id": app.seed.cust_a, "email": "boss@contoso.example", "name": "Boss", "role": "programme_admin"}))
        .await;
    assert_problem(&escalate, 403);
    let dup = customer
        .post("/api/v1/users", json!({"org_id": app.seed.cust_a, "email": "SECOND@contoso.example", "name": "Again", "role": "customer_admin"}))
        .await;
    assert_problem(&dup, 409);
    assert_eq!(problem_fields(&dup), vec!["email"]);
}
on_both!(users_get_roles_that_fit_their_organization);

async fn a_tenant_reads_only_its_own_audit_records(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    customer
        .patch(
            &format!("/api/v1/organizations/{}", app.seed.cust_a),
            json!({"name": "Contoso Italia"}),
        )
        .await;
    let own = customer.get("/api/v1/audit").await;
    assert_eq!(own.status, 200);
    let items = own.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|i| i["tenant_org_id"] == app.seed.cust_a),
        "{}",
        own.body
    );
    assert_problem(
        &customer
            .get(&format!("/api/v1/audit?tenant_org_id={}", app.seed.cust_b))
            .await,
        404,
    );
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    assert_problem(&staff.get("/api/v1/audit").await, 403);
}
on_both!(a_tenant_reads_only_its_own_audit_records);
