//! Bad input gets a 4xx problem document naming the field, and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_problem, email, problem_fields, TestApp};
use crate::on_both;

async fn count_orgs(app: &TestApp) -> usize {
    app.store
        .list_orgs(&Default::default(), &fasttrack_store::Page::new(None, 200))
        .await
        .unwrap()
        .items
        .len()
}

async fn audit_len(app: &TestApp) -> i64 {
    app.store
        .list_audit(&fasttrack_store::AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .first()
        .map(|r| r.id)
        .unwrap_or(0)
}

async fn bad_input_is_refused_with_a_problem_document_and_changes_nothing(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let before = (count_orgs(app).await, audit_len(app).await);
    let good = json!({"kind": "customer", "name": "Valid", "tenant_id": uuid::Uuid::new_v4().to_string(),
                      "country": "IT", "time_zone": "Europe/Rome", "language": "it"});

    // Malformed JSON: 400.
    let raw = admin
        .http
        .post(format!("{}/api/v1/organizations", admin.base))
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body("{\"kind\": \"customer\",")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["content-type"], "application/problem+json");

    // Wrong content type: 415.
    let form = admin
        .http
        .post(format!("{}/api/v1/organizations", admin.base))
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("kind=customer")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);

    // An unknown enumeration value, an unknown field, a too-long string: 422 naming the field.
    let mut v = good.clone();
    v["kind"] = json!("alien");
    let r = admin.post("/api/v1/organizations", v).await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["kind"]);

    let mut v = good.clone();
    v["colour"] = json!("blue");
    let r = admin.post("/api/v1/organizations", v).await;
    assert_problem(&r, 422);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{}",
        r.body
    );

    let mut v = good.clone();
    v["name"] = json!("x".repeat(201));
    let r = admin.post("/api/v1/organizations", v).await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["name"]);

    // Several bad fields are all reported at once.
    let r = admin
        .post(
            "/api/v1/organizations",
            json!({"kind": "customer", "name": "", "tenant_id": "not-a-uuid", "country": "Italy",
                   "time_zone": "Mars/Base", "language": "nl", "domains": ["bad domain"]}),
        )
        .await;
    assert_problem(&r, 422);
    let mut fields = problem_fields(&r);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "country",
            "domains[0]",
            "language",
            "name",
            "tenant_id",
            "time_zone"
        ]
    );

    // A body over the limit: 413.
    let big = admin
        .http
        .post(format!("{}/api/v1/organizations", admin.base))
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);

    // Deeply nested JSON and invalid UTF-8: 400, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = admin
        .http
        .post(format!("{}/api/v1/organizations", admin.base))
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = admin
        .http
        .post(format!("{}/api/v1/organizations", admin.base))
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A bad query parameter: 422 naming it.
    let r = admin.get("/api/v1/organizations?limit=9999").await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["limit"]);
    let r = admin.get("/api/v1/organizations?kind=alien").await;
    assert_problem(&r, 422);

    assert_eq!(
        (count_orgs(app).await, audit_len(app).await),
        before,
        "nothing was written"
    );
    assert_eq!(admin.send(Method::GET, "/healthz", None).await.status, 200);
}
on_both!(bad_input_is_refused_with_a_problem_document_and_changes_nothing);
