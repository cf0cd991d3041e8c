//! The authorization matrix over HTTP: every role × every resource × own/other tenant × partner
//! with a live, expired or revoked relationship (R9). The same policy is unit-tested in the core.

use serde_json::json;

use crate::helpers::{email, Client, TestApp};
use crate::on_both;

const OPS: [&str; 7] = [
    "read_org",
    "update_org",
    "list_subscriptions",
    "list_users",
    "read_audit",
    "create_user",
    "create_subscription",
];

async fn run(c: &Client, op: &str, org: &str, n: usize) -> u16 {
    let r = match op {
        "read_org" => c.get(&format!("/api/v1/organizations/{org}")).await,
        "update_org" => c.patch(&format!("/api/v1/organizations/{org}"), json!({"language": "it"})).await,
        "list_subscriptions" => c.get(&format!("/api/v1/subscriptions?org_id={org}")).await,
        "list_users" => c.get(&format!("/api/v1/users?org_id={org}")).await,
        "read_audit" => c.get(&format!("/api/v1/audit?tenant_org_id={org}")).await,
        "create_user" => {
            c.post(
                "/api/v1/users",
                json!({"org_id": org, "email": format!("matrix-{n}@matrix.example"), "name": "Matrix", "role": "customer_admin"}),
            )
            .await
        }
        "create_subscription" => {
            c.post(
                "/api/v1/subscriptions",
                json!({"org_id": org, "plan_id": "business", "seats": 200, "state": "active", "starts_at": "2026-01-01T00:00:00Z"}),
            )
            .await
        }
        other => panic!("unknown op {other}"),
    };
    if r.status.as_u16() >= 400 {
        assert!(
            r.content_type.starts_with("application/problem+json"),
            "{op}: {}",
            r.body
        );
    }
    r.status.as_u16()
}

async fn authorization_matrix_over_http(app: &TestApp) {
    let s = &app.seed;
    // Targets: the customer's own tenant (the partner's live link), another tenant, an expired link, a revoked link.
    let targets = [
        ("own_or_live", &s.cust_a),
        ("other", &s.cust_b),
        ("expired", &s.cust_expired),
        ("revoked", &s.cust_revoked),
    ];
    let all_ok = [200, 200, 200, 200, 200, 201, 201];
    let staff = [200, 403, 200, 200, 403, 403, 403];
    let hidden = [404, 404, 404, 404, 404, 404, 403];
    let expected: Vec<(&str, [[u16; 7]; 4])> = vec![
        ("programme_admin", [all_ok; 4]),
        ("fasttrack_manager", [staff; 4]),
        ("fasttrack_specialist", [staff; 4]),
        ("center_engineer", [staff; 4]),
        (
            "customer",
            [[200, 200, 200, 200, 200, 201, 403], hidden, hidden, hidden],
        ),
        (
            "partner",
            [[200, 403, 200, 403, 404, 403, 403], hidden, hidden, hidden],
        ),
    ];
    let mut failures = Vec::new();
    let mut n = 0;
    for (who, rows) in expected {
        let c = app.sign_in(&email(who)).await;
        for (t, (standing, org)) in targets.iter().enumerate() {
            for (i, op) in OPS.iter().enumerate() {
                n += 1;
                let got = run(&c, op, org, n).await;
                if got != rows[t][i] {
                    failures.push(format!(
                        "{who} {op} on {standing}: expected {} got {got}",
                        rows[t][i]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
on_both!(authorization_matrix_over_http);

async fn lists_show_each_caller_only_what_it_may_see(app: &TestApp) {
    let s = &app.seed;
    let ids = |r: crate::helpers::Res| crate::helpers::item_ids(&r);
    let partner = app.sign_in(&email("partner")).await;
    assert_eq!(
        ids(partner.get("/api/v1/organizations").await),
        vec![s.cust_a.clone()],
        "R9: live links only"
    );
    let customer = app.sign_in(&email("customer")).await;
    assert_eq!(
        ids(customer.get("/api/v1/organizations").await),
        vec![s.cust_a.clone()]
    );
    let directory = ids(customer.get("/api/v1/organizations?kind=partner").await);
    assert_eq!(
        directory,
        vec![s.partner.clone()],
        "partners are a public directory"
    );
    let subs = ids(customer.get("/api/v1/subscriptions").await);
    assert_eq!(subs, vec![s.sub_a.clone()]);
    let users = customer.get("/api/v1/users").await;
    assert!(users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["org_id"] == s.cust_a.as_str()));
    let rels = customer.get("/api/v1/relationships").await;
    assert!(rels.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["customer_org_id"] == s.cust_a.as_str()));
    assert!(
        partner.get("/api/v1/subscriptions").await.status == 422,
        "partners name the customer"
    );
    let unauthenticated = app.anonymous().get("/api/v1/organizations").await;
    assert_eq!(unauthenticated.status, 401);
}
on_both!(lists_show_each_caller_only_what_it_may_see);
