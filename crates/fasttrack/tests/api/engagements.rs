//! Engagements over HTTP: opened on acceptance with their tracks (R3, R4), phases in order (R5),
//! advisory-only staff (R6), deviations as risks (R7), the R1 pause, templates, the R17 planner,
//! the SVG timeline and the programme dashboard.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, email, problem_fields, Client, TestApp};
use crate::on_both;

fn request_body(kinds: &[&str], services: &[&str]) -> Value {
    let mut b = json!({
        "kinds": kinds,
        "services": services,
        "contact": {"name": "Ada Rossi", "email": "ada@contoso.example", "phone": "+39 02 1234 5678"},
        "language": "it",
        "description": "Onboarding"
    });
    if kinds.contains(&"data_migration") {
        b["migration"] = json!({"sources": [{"kind": "imap", "name": "Dovecot", "version": null}],
                                "volumes": {"mailboxes": 250, "users": 260, "gigabytes": 800, "files": 0},
                                "waves": ["pilot: IT"]});
    }
    b
}

/// Files a request as the customer, accepts it as the manager and returns the tenant's engagement
/// (opened by the accept hook, or explicitly while the hook is not wired).
pub(crate) async fn accept_and_open(app: &TestApp, kinds: &[&str], services: &[&str]) -> Value {
    let customer = app.sign_in(&email("customer")).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let r = customer
        .post("/api/v1/requests", request_body(kinds, services))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let a = staff
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let list = staff
        .get(&format!("/api/v1/engagements?org_id={}", app.seed.cust_a))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let linked = match list.body["items"].as_array().and_then(|a| a.first()) {
        Some(e) => {
            let e = staff
                .get(&format!(
                    "/api/v1/engagements/{}",
                    e["id"].as_str().unwrap()
                ))
                .await
                .body;
            e["request_ids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == &json!(id))
                .then_some(e)
        }
        None => None,
    };
    match linked {
        Some(e) => e,
        None => {
            let o = staff
                .post(&format!("/api/v1/requests/{id}/engagement"), json!({}))
                .await;
            assert_eq!(o.status, 200, "{}", o.body);
            o.body
        }
    }
}

fn tasks(e: &Value) -> Vec<Value> {
    e["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["tasks"].as_array().unwrap().clone())
        .collect()
}

fn task<'a>(e: &'a Value, key: &str) -> &'a Value {
    e["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["tasks"].as_array().unwrap())
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no task {key}"))
}

/// The first task of `track_prefix` in `phase` owned by the customer and changing the tenant.
pub(crate) fn customer_task(e: &Value, track_prefix: &str, phase: &str) -> String {
    tasks(e)
        .iter()
        .find(|t| {
            t["key"].as_str().unwrap().starts_with(track_prefix)
                && t["phase"] == phase
                && t["owner"] == "customer"
                && t["kind"] == "tenant_change"
        })
        .unwrap_or_else(|| panic!("no customer task in {track_prefix} {phase}"))["key"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) fn path(e: &Value, key: &str, op: &str) -> String {
    format!(
        "/api/v1/engagements/{}/tasks/{key}/{op}",
        e["id"].as_str().unwrap()
    )
}

async fn r3_r4_accepting_opens_core_service_migration_and_adoption_tracks(app: &TestApp) {
    let e = accept_and_open(
        app,
        &[
            "core_onboarding",
            "service_onboarding",
            "data_migration",
            "user_adoption",
        ],
        &["mail", "files"],
    )
    .await;
    assert_eq!(e["org_id"], app.seed.cust_a);
    assert_eq!(e["state"], "active");
    let kinds: Vec<(String, Option<String>)> = e["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_string(),
                t["service"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("core_onboarding".into(), None),
            ("service_onboarding".into(), Some("mail".into())),
            ("service_onboarding".into(), Some("files".into())),
            ("data_migration".into(), None),
            ("user_adoption".into(), None),
        ]
    );
    // R5: tasks sit in the phases, dated from the start; R4: adoption starts on day one.
    let all = tasks(&e);
    assert!(all
        .iter()
        .all(|t| t["due_on"].as_str().unwrap() >= t["starts_on"].as_str().unwrap()));
    for phase in ["initiate", "assess", "remediate", "enable"] {
        assert!(all.iter().any(|t| t["phase"] == phase), "{phase}");
    }
    let adoption = &e["tracks"][4]["tasks"];
    assert!(adoption
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["starts_on"] == e["start_day"]));
    assert_eq!(e["progress"].as_array().unwrap().len(), 5);
    assert!(e["progress"][0]["phases"].as_array().unwrap().len() >= 4);
    // A later request extends the open engagement rather than opening another.
    let e2 = accept_and_open(app, &["service_onboarding"], &["files"]).await;
    assert_eq!(e2["id"], e["id"]);
    assert_eq!(e2["request_ids"].as_array().unwrap().len(), 2);
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let list = staff
        .get(&format!("/api/v1/engagements?org_id={}", app.seed.cust_a))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // Visibility: the partner with a live link sees it, another tenant does not.
    let partner = app.sign_in(&email("partner")).await;
    let seen = partner.get("/api/v1/engagements").await;
    assert_eq!(seen.body["items"][0]["id"], e["id"], "{}", seen.body);
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(
        &other
            .get(&format!(
                "/api/v1/engagements/{}",
                e["id"].as_str().unwrap()
            ))
            .await,
        404,
    );
    assert!(other.get("/api/v1/engagements").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}
on_both!(r3_r4_accepting_opens_core_service_migration_and_adoption_tracks);

async fn r6_staff_cannot_complete_tenant_task(app: &TestApp) {
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let customer = app.sign_in(&email("customer")).await;
    let tenant_task = customer_task(&e, "core.", "initiate");
    let r = staff
        .post(&path(&e, &tenant_task, "complete"), json!({}))
        .await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R6", "{}", r.body);
    // Nor may staff skip it on the customer's behalf.
    let r = staff
        .post(
            &path(&e, &tenant_task, "skip"),
            json!({"reason": "we did it for them"}),
        )
        .await;
    assert_eq!(r.body["rule"], "R6", "{}", r.body);
    // Each refusal is audited.
    let admin = app.sign_in(&email("programme_admin")).await;
    let audit = admin
        .get(&format!(
            "/api/v1/audit?entity=engagement&entity_id={}",
            e["id"].as_str().unwrap()
        ))
        .await;
    let refused: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "task.refused")
        .collect();
    assert_eq!(refused.len(), 2, "{}", audit.body);
    assert!(refused[0]["actor_user_id"].is_string());
    // Staff complete their own advisory work; the customer completes the tenant task.
    let advisory = tasks(&e)
        .into_iter()
        .find(|t| {
            t["owner"] == "programme"
                && t["kind"] == "advisory"
                && t["depends_on"].as_array().unwrap().is_empty()
        })
        .unwrap();
    let r = staff
        .post(
            &path(&e, advisory["key"].as_str().unwrap(), "complete"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        task(&r.body, advisory["key"].as_str().unwrap())["state"],
        "done"
    );
    let r = customer
        .post(&path(&e, &tenant_task, "complete"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = task(&r.body, &tenant_task);
    assert_eq!(t["state"], "done");
    assert_eq!(t["done_by_role"], "customer_admin");
    // Staff comment and attach guidance; the customer may comment but not attach guidance.
    let c = staff
        .post(
            &path(&e, &tenant_task, "comments"),
            json!({"body": "Remember the DNS TTL"}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let g = staff
        .post(
            &path(&e, &tenant_task, "guidance"),
            json!({"text": "See the DNS guide", "links": [{"title": "DNS", "url": "https://learn.example/dns"}]}),
        )
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    let t = task(&g.body, &tenant_task);
    assert_eq!(t["guidance"], "See the DNS guide");
    assert_eq!(t["links"][0]["url"], "https://learn.example/dns");
    assert_eq!(t["comments"][0]["body"], "Remember the DNS TTL");
    let g = customer
        .post(&path(&e, &tenant_task, "guidance"), json!({"text": "mine"}))
        .await;
    assert_eq!(g.body["rule"], "R6", "{}", g.body);
    // A partner without the own_tenant_tasks scope cannot complete tenant tasks at all.
    let partner = app.sign_in(&email("partner")).await;
    let other = customer_task(&e, "core.", "remediate");
    assert_problem(
        &partner.post(&path(&e, &other, "complete"), json!({})).await,
        403,
    );
}
on_both!(r6_staff_cannot_complete_tenant_task);

async fn r5_service_enable_waits_for_core_enable(app: &TestApp) {
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let customer = app.sign_in(&email("customer")).await;
    let key = customer_task(&e, "service.mail.", "enable");
    assert!(!task(&e, &key)["blocked_by"].as_array().unwrap().is_empty());
    let r = customer.post(&path(&e, &key, "complete"), json!({})).await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R5", "{}", r.body);
    assert_eq!(task(&e, &key)["state"], "open");
    // The customer may still do it out of order, with a reason: a recorded deviation.
    let r = customer
        .post(
            &path(&e, &key, "complete-out-of-order"),
            json!({"reason": ""}),
        )
        .await;
    assert_problem(&r, 422);
    assert!(
        problem_fields(&r).contains(&"reason".to_string()),
        "{}",
        r.body
    );
    let r = customer
        .post(
            &path(&e, &key, "complete-out-of-order"),
            json!({"reason": "mail cut-over date is fixed by the business"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(task(&r.body, &key)["state"], "done");
    let d = &r.body["deviations"][0];
    assert_eq!(d["kind"], "done_out_of_order");
    assert_eq!(d["task"], key.as_str());
    assert!(!d["detail"]["blocked_by"].as_array().unwrap().is_empty());
    assert_eq!(r.body["risks"].as_array().unwrap().len(), 1);
}
on_both!(r5_service_enable_waits_for_core_enable);

async fn r7_customer_deviation_is_recorded_as_a_risk(app: &TestApp) {
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let customer = app.sign_in(&email("customer")).await;
    let key = customer_task(&e, "core.", "remediate");
    let r = customer
        .post(&path(&e, &key, "skip"), json!({"reason": "  "}))
        .await;
    assert_problem(&r, 422);
    let r = customer
        .post(
            &path(&e, &key, "skip"),
            json!({"reason": "our network team already did this"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(task(&r.body, &key)["state"], "skipped");
    let d = &r.body["deviations"][0];
    assert_eq!(d["kind"], "skipped");
    assert_eq!(d["by_role"], "customer_admin");
    assert_eq!(d["reason"], "our network team already did this");
    assert!(d["by"].is_string() && d["at"].is_string());
    let risk = &r.body["risks"][0];
    assert_eq!(risk["task"], key.as_str());
    assert!(risk["message"]
        .as_str()
        .unwrap()
        .contains("may affect the onboarding"));
    // It stays on the engagement: a fresh read shows the same deviation and risk.
    let again = customer
        .get(&format!(
            "/api/v1/engagements/{}",
            e["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(again.body["deviations"], r.body["deviations"]);
    assert_eq!(again.body["risks"], r.body["risks"]);
    // A skipped task cannot be completed afterwards.
    assert_problem(
        &customer.post(&path(&e, &key, "complete"), json!({})).await,
        409,
    );
}
on_both!(r7_customer_deviation_is_recorded_as_a_risk);

async fn r1_lapsed_subscription_pauses_engagement_and_resumes(app: &TestApp) {
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let id = e["id"].as_str().unwrap();
    let total = tasks(&e).len();
    let admin = app.sign_in(&email("programme_admin")).await;
    let customer = app.sign_in(&email("customer")).await;
    let r = admin
        .patch(
            &format!("/api/v1/subscriptions/{}", app.seed.sub_a),
            json!({"state": "suspended"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let paused = customer.get(&format!("/api/v1/engagements/{id}")).await;
    assert_eq!(paused.body["state"], "paused");
    assert!(paused.body["paused_at"].is_string());
    assert_eq!(tasks(&paused.body).len(), total, "nothing is deleted");
    let key = customer_task(&e, "core.", "initiate");
    let r = customer.post(&path(&e, &key, "complete"), json!({})).await;
    assert_problem(&r, 422);
    assert_eq!(r.body["rule"], "R1", "{}", r.body);
    let listed = customer.get("/api/v1/engagements?state=paused").await;
    assert_eq!(listed.body["items"][0]["id"], id);
    admin
        .patch(
            &format!("/api/v1/subscriptions/{}", app.seed.sub_a),
            json!({"state": "active"}),
        )
        .await;
    let resumed = customer.get(&format!("/api/v1/engagements/{id}")).await;
    assert_eq!(resumed.body["state"], "active");
    let r = customer.post(&path(&e, &key, "complete"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let audit = admin
        .get(&format!("/api/v1/audit?entity=engagement&entity_id={id}"))
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"engagement.pause") && actions.contains(&"engagement.resume"),
        "{actions:?}"
    );
}
on_both!(r1_lapsed_subscription_pauses_engagement_and_resumes);

/// The next Monday 03:00 UTC at least `days` days from now, RFC 3339.
fn monday_after(days: i64) -> String {
    use jiff::civil::Weekday;
    let mut d = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(days))
        .unwrap();
    while d.weekday() != Weekday::Monday {
        d = d.tomorrow().unwrap();
    }
    format!("{d}T03:00:00Z")
}

async fn r17_planner_names_each_broken_limit(app: &TestApp) {
    let customer = app.sign_in(&email("customer")).await;
    let good = json!({
        "seats": 2000, "language": "en", "mail_service_onboarded": true,
        "sources": [{"kind": "exchange", "name": "Exchange 2016", "version": "2016"}],
        "volumes": {"mailboxes": 100, "users": 100, "gigabytes": 50, "files": 0},
        "batches": [{"source": 0, "start": monday_after(21), "scheduled_at": null,
                     "original_count": 100, "added": 0, "removed": 0, "inactive_targets": 0}]
    });
    let r = customer
        .post(
            "/api/v1/migration/check",
            json!({"org_id": app.seed.cust_a, "plan": good}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ok"], true);
    let saturday = {
        let m = monday_after(0);
        let d: jiff::civil::Date = m[..10].parse().unwrap();
        format!(
            "{}T10:00:00Z",
            d.checked_add(jiff::Span::new().days(5)).unwrap()
        )
    };
    let mut bad = good.clone();
    bad["seats"] = json!(100);
    bad["language"] = json!("ko");
    bad["mail_service_onboarded"] = json!(false);
    bad["batches"][0]["start"] = json!(saturday);
    bad["batches"][0]["original_count"] = json!(10);
    let r = customer
        .post(
            "/api/v1/migration/check",
            json!({"org_id": app.seed.cust_a, "plan": bad}),
        )
        .await;
    assert_problem(&r, 422);
    let limits: Vec<&str> = r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert!(v["rule"].is_string() && v["field"].is_string(), "{v}");
            v["limit"].as_str().unwrap()
        })
        .collect();
    for limit in [
        "min_migration_seats",
        "migration_language",
        "mail_after_mail_service",
        "window",
        "notice_days",
        "min_batch_mailboxes",
    ] {
        assert!(limits.contains(&limit), "{limit} not named in {limits:?}");
    }
    // The planner proposes a schedule that then passes the check.
    let p = customer
        .post(
            "/api/v1/migration/propose",
            json!({"org_id": app.seed.cust_a, "mailboxes": 1200, "seats": 2000, "start": monday_after(20)}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["total"], 1200);
    let batches: Vec<Value> = p.body["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| json!({"source": 0, "start": b["start"], "scheduled_at": null,
                        "original_count": b["mailboxes"], "added": 0, "removed": 0, "inactive_targets": 0}))
        .collect();
    let mut proposed = good.clone();
    proposed["batches"] = json!(batches);
    let r = customer
        .post(
            "/api/v1/migration/check",
            json!({"org_id": app.seed.cust_a, "plan": proposed}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another tenant's planner is not the caller's to run.
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(
        &other
            .post(
                "/api/v1/migration/check",
                json!({"org_id": app.seed.cust_a, "plan": good}),
            )
            .await,
        404,
    );
}
on_both!(r17_planner_names_each_broken_limit);

async fn svg(c: &Client, path: &str) -> (u16, String, String) {
    let res = c
        .http
        .get(format!("{}{path}", c.base))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, res.text().await.unwrap_or_default())
}

fn well_formed_xml(text: &str) -> bool {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import xml.dom.minidom,sys; xml.dom.minidom.parseString(sys.stdin.buffer.read())",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

async fn timeline_svg_parses_and_names_every_track(app: &TestApp) {
    let e = accept_and_open(
        app,
        &["service_onboarding", "data_migration"],
        &["mail", "files"],
    )
    .await;
    let id = e["id"].as_str().unwrap();
    let customer = app.sign_in(&email("customer")).await;
    for p in [
        format!("/api/v1/engagements/{id}/timeline.svg"),
        format!("/engagements/{id}/timeline.svg"),
    ] {
        let (status, ct, body) = svg(&customer, &p).await;
        assert_eq!(status, 200, "{p}: {body}");
        assert!(ct.starts_with("image/svg+xml"), "{ct}");
        assert!(well_formed_xml(&body), "not well-formed XML: {body}");
        for t in e["tracks"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            assert!(body.contains(name), "{name} missing");
        }
        assert!(body.contains("class=\"today\""));
    }
    // Later, open tasks are overdue and the chart flags them.
    app.advance_days(120);
    let customer = app.sign_in(&email("customer")).await;
    let (_, _, body) = svg(&customer, &format!("/engagements/{id}/timeline.svg")).await;
    assert!(body.contains("class=\"overdue\""));
    assert!(well_formed_xml(&body));
    let other = app.sign_in(&email("customer_b")).await;
    assert_eq!(
        svg(&other, &format!("/engagements/{id}/timeline.svg"))
            .await
            .0,
        404
    );
}
on_both!(timeline_svg_parses_and_names_every_track);

async fn dashboard_counts_requests_engagements_overdue_tasks_and_language_capacity(app: &TestApp) {
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    let customer = app.sign_in(&email("customer")).await;
    customer
        .post(
            "/api/v1/requests",
            request_body(&["service_onboarding"], &["files"]),
        )
        .await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let d = staff.get("/api/v1/dashboard").await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["requests_by_state"]["accepted"], 1, "{}", d.body);
    assert_eq!(d.body["requests_by_state"]["submitted"], 1);
    assert_eq!(d.body["requests_by_language"]["it"], 2);
    assert_eq!(d.body["requests_by_region"]["emea"], 2);
    assert!(d.body["median_hours_to_first_meeting"].is_null());
    assert_eq!(d.body["engagements_by_phase"]["initiate"], 1);
    assert_eq!(d.body["overdue_tasks"]["count"], 0);
    let italian = d.body["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["language"] == "italian")
        .unwrap();
    assert_eq!(italian["demand"], 2);
    assert_eq!(italian["staff"], 3);
    assert_eq!(italian["weekly_capacity"], 60);
    app.advance_days(90);
    // Sessions expire meanwhile: sign in again.
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let customer = app.sign_in(&email("customer")).await;
    let d = staff.get("/api/v1/dashboard").await;
    assert!(d.body["overdue_tasks"]["count"].as_i64().unwrap() > 0);
    assert_eq!(
        d.body["overdue_tasks"]["items"][0]["engagement_id"],
        e["id"]
    );
    assert_problem(&customer.get("/api/v1/dashboard").await, 403);
}
on_both!(dashboard_counts_requests_engagements_overdue_tasks_and_language_capacity);

async fn r7_templates_are_data_that_admins_replace_and_that_are_validated(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let set = staff.get("/api/v1/templates").await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert!(set.body["templates"].as_array().unwrap().len() >= 4);
    assert_problem(
        &staff
            .send(reqwest::Method::PUT, "/api/v1/templates", Some(&set.body))
            .await,
        403,
    );
    let mut broken = set.body.clone();
    broken["templates"] = json!([]);
    let r = admin
        .send(reqwest::Method::PUT, "/api/v1/templates", Some(&broken))
        .await;
    assert_problem(&r, 422);
    assert!(
        problem_fields(&r).contains(&"templates".to_string()),
        "{}",
        r.body
    );
    let mut renamed = set.body.clone();
    renamed["templates"][0]["name"] = json!("Tenant baseline");
    let r = admin
        .send(reqwest::Method::PUT, "/api/v1/templates", Some(&renamed))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // New engagements are planned from the stored set.
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    assert_eq!(e["tracks"][0]["name"], "Tenant baseline");
}
on_both!(r7_templates_are_data_that_admins_replace_and_that_are_validated);

async fn r7_template_sets_travel_as_yaml_as_well_as_json(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let get_yaml = admin
        .http
        .get(format!("{}/api/v1/templates?format=yaml", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get_yaml.status(), 200);
    assert_eq!(
        get_yaml.headers()["content-type"].to_str().unwrap(),
        "application/yaml"
    );
    let yaml = get_yaml.text().await.unwrap();
    assert!(yaml.contains("templates:"), "{yaml}");
    // `Accept: application/yaml` asks for the same.
    let by_accept = admin
        .http
        .get(format!("{}/api/v1/templates", app.base))
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(by_accept.text().await.unwrap(), yaml);
    let put = |body: String, content_type: &'static str| {
        let req = admin
            .http
            .put(format!("{}/api/v1/templates", app.base))
            .header("content-type", content_type)
            .header("x-csrf-token", admin.csrf.clone().unwrap())
            .body(body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    // A renamed core track, sent as YAML, is stored and plans the next engagement.
    let first_name = {
        let j = admin.get("/api/v1/templates").await;
        j.body["templates"][0]["name"].as_str().unwrap().to_string()
    };
    let renamed = yaml.replacen(&first_name, "Baseline from YAML", 1);
    assert_ne!(renamed, yaml, "the YAML names the first template");
    let (status, body) = put(renamed, "application/yaml").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Baseline from YAML"));
    let e = accept_and_open(app, &["service_onboarding"], &["mail"]).await;
    assert_eq!(e["tracks"][0]["name"], "Baseline from YAML");
    // A YAML set that is not one is refused, naming the body, and nothing changes.
    let (status, body) = put("version: 1\ntemplates: 7\n".into(), "application/yaml").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"body\""), "{body}");
    let (status, _) = put("templates = 1".into(), "text/plain").await;
    assert_eq!(status, 415);
    let still = admin.get("/api/v1/templates").await;
    assert_eq!(still.body["templates"][0]["name"], "Baseline from YAML");
}
on_both!(r7_template_sets_travel_as_yaml_as_well_as_json);

async fn r17_migration_limits_are_programme_settings_the_planner_applies(app: &TestApp) {
    let admin = app.sign_in(&email("programme_admin")).await;
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    let customer = app.sign_in(&email("customer")).await;
    let limits = staff.get("/api/v1/settings/migration-limits").await;
    assert_eq!(limits.status, 200, "{}", limits.body);
    assert_eq!(limits.body["min_batch_mailboxes"], 35);
    assert_eq!(limits.body["max_batches_per_day"], 3);
    assert_eq!(limits.body["notice_days"], 14);
    let plan = json!({
        "seats": 2000, "language": "en", "mail_service_onboarded": true,
        "sources": [{"kind": "exchange", "name": "Exchange 2016", "version": "2016"}],
        "volumes": {"mailboxes": 40, "users": 40, "gigabytes": 20, "files": 0},
        "batches": [{"source": 0, "start": monday_after(21), "scheduled_at": null,
                     "original_count": 40, "added": 0, "removed": 0, "inactive_targets": 0}]
    });
    let check = || {
        customer.post(
            "/api/v1/migration/check",
            json!({"org_id": app.seed.cust_a, "plan": plan.clone()}),
        )
    };
    assert_eq!(
        check().await.status,
        200,
        "40 mailboxes pass the default minimum of 35"
    );
    // Only programme admins change the limits.
    let mut raised = limits.body.clone();
    raised["min_batch_mailboxes"] = json!(50);
    assert_problem(
        &staff
            .send(
                reqwest::Method::PUT,
                "/api/v1/settings/migration-limits",
                Some(&raised),
            )
            .await,
        403,
    );
    let r = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/migration-limits",
            Some(&raised),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["min_batch_mailboxes"], 50);
    // The planner applies the stored limit from the next check on, and names it.
    let r = check().await;
    assert_problem(&r, 422);
    assert!(
        r.body["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["limit"] == "min_batch_mailboxes"),
        "{}",
        r.body
    );
    // Invalid or unknown settings are refused field by field and change nothing.
    let mut bad = limits.body.clone();
    bad["max_batches_per_day"] = json!(0);
    let r = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/migration-limits",
            Some(&bad),
        )
        .await;
    assert_problem(&r, 422);
    assert_eq!(problem_fields(&r), vec!["max_batches_per_day"]);
    let mut unknown = limits.body.clone();
    unknown["batches_per_fortnight"] = json!(9);
    assert_problem(
        &admin
            .send(
                reqwest::Method::PUT,
                "/api/v1/settings/migration-limits",
                Some(&unknown),
            )
            .await,
        422,
    );
    let now = staff.get("/api/v1/settings/migration-limits").await;
    assert_eq!(now.body["min_batch_mailboxes"], 50);
    assert_eq!(now.body["max_batches_per_day"], 3);
}
on_both!(r17_migration_limits_are_programme_settings_the_planner_applies);
