//! The meeting plan of an engagement over HTTP (R5, R10): proposed when a request is accepted,
//! confirmed by the customer or its partner, booked with every check of a single booking.

use jiff::Timestamp;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, email, TestApp};
use crate::on_both;

/// Files a request as the customer (core and mail onboarding, in Italian) and has the manager
/// accept it; returns its id.
async fn accepted(app: &TestApp) -> String {
    let customer = app.sign_in(&email("customer")).await;
    let r = customer
        .post(
            "/api/v1/requests",
            json!({
                "kinds": ["core_onboarding", "service_onboarding"],
                "services": ["mail"],
                "contact": {"name": "Ada Rossi", "email": "ada@contoso.example"},
                "language": "it",
                "description": "Tenant setup and mail"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let a = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    id
}

fn instant(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

async fn r10_accepting_a_request_proposes_a_kick_off_then_one_meeting_per_phase(app: &TestApp) {
    let id = accepted(app).await;
    let customer = app.sign_in(&email("customer")).await;
    let plan = customer
        .get(&format!("/api/v1/requests/{id}/meeting-plan"))
        .await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.body["state"], "proposed");
    assert_eq!(plan.body["time_zone"], "Europe/Rome");
    let meetings = plan.body["meetings"].as_array().unwrap();
    let phases: Vec<&str> = meetings
        .iter()
        .map(|m| m["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        vec!["initiate", "assess", "remediate", "enable"],
        "no migration was asked for: {}",
        plan.body
    );
    assert_eq!(meetings[0]["purpose"], "kick-off");
    let now = app.running.state.clock.now();
    let mut previous_end = now;
    for m in meetings {
        assert_eq!(m["status"], "proposed", "{m}");
        let (start, end) = (instant(&m["start"]), instant(&m["end"]));
        assert!(start >= previous_end, "meetings follow each other: {m}");
        assert!(start >= instant(&m["not_before"]), "{m}");
        assert_eq!((end - start).as_secs(), 3600);
        // Shown in the customer's zone too: Rome is UTC+1 or UTC+2.
        let local = m["start_local"].as_str().unwrap();
        assert!(
            local.ends_with("+01:00") || local.ends_with("+02:00"),
            "{local}"
        );
        // R12: the seeded region works on Mondays and Tuesdays only, in Rome.
        let wd = start
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
            .weekday();
        assert!(
            matches!(
                wd,
                jiff::civil::Weekday::Monday | jiff::civil::Weekday::Tuesday
            ),
            "{m}"
        );
        previous_end = end;
    }
    // Continuity: one staff member holds the whole plan where their calendar allows.
    assert!(meetings
        .iter()
        .all(|m| m["staff_id"] == meetings[0]["staff_id"]));
    // Another tenant sees nothing of it.
    let other = app.sign_in(&email("customer_b")).await;
    assert_problem(
        &other
            .get(&format!("/api/v1/requests/{id}/meeting-plan"))
            .await,
        404,
    );
}
on_both!(r10_accepting_a_request_proposes_a_kick_off_then_one_meeting_per_phase);

async fn r10_the_customer_confirms_the_plan_and_every_meeting_is_booked(app: &TestApp) {
    let id = accepted(app).await;
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    // Staff propose; the customer or partner confirms.
    assert_problem(
        &manager
            .post(
                &format!("/api/v1/requests/{id}/meeting-plan/confirm"),
                json!({}),
            )
            .await,
        403,
    );
    let customer = app.sign_in(&email("customer")).await;
    let c = customer
        .post(
            &format!("/api/v1/requests/{id}/meeting-plan/confirm"),
            json!({}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["state"], "confirmed");
    let planned = c.body["meetings"].as_array().unwrap();
    assert!(
        planned.iter().all(|m| m["status"] == "booked"),
        "{}",
        c.body
    );
    let list = manager
        .get(&format!("/api/v1/meetings?request_id={id}"))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let booked = list.body["items"].as_array().unwrap();
    assert_eq!(booked.len(), planned.len());
    for m in planned {
        let b = booked
            .iter()
            .find(|b| b["id"] == m["meeting_id"])
            .unwrap_or_else(|| panic!("{m} not booked"));
        assert_eq!(instant(&b["start"]), instant(&m["start"]));
        assert_eq!(b["purpose"], m["purpose"]);
    }
    // The first booking moved the request on.
    let r = customer.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(r.body["state"], "scheduled");
    // Nothing is left to confirm.
    assert_problem(
        &customer
            .post(
                &format!("/api/v1/requests/{id}/meeting-plan/confirm"),
                json!({}),
            )
            .await,
        409,
    );
}
on_both!(r10_the_customer_confirms_the_plan_and_every_meeting_is_booked);

async fn r10_a_time_taken_before_confirmation_is_proposed_anew(app: &TestApp) {
    let id = accepted(app).await;
    let customer = app.sign_in(&email("customer")).await;
    let plan = customer
        .get(&format!("/api/v1/requests/{id}/meeting-plan"))
        .await;
    let kick_off = plan.body["meetings"][0].clone();
    // Staff book the kick-off's hour by hand first.
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let b = manager
        .post(
            "/api/v1/meetings",
            json!({"request_id": id, "staff_id": kick_off["staff_id"], "start": kick_off["start"],
                   "purpose": "first call"}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.body);
    // The partner of record confirms on the customer's behalf (R9).
    let partner = app.sign_in(&email("partner")).await;
    let c = partner
        .post(
            &format!("/api/v1/requests/{id}/meeting-plan/confirm"),
            json!({}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["state"], "proposed", "{}", c.body);
    let meetings = c.body["meetings"].as_array().unwrap();
    let again = &meetings[0];
    assert_eq!(again["phase"], "initiate");
    assert_eq!(again["status"], "proposed");
    // The customer already meets staff at that hour: the new kick-off is at another time.
    assert_ne!(again["start"], kick_off["start"], "a new time is proposed");
    assert!(
        again["note"]
            .as_str()
            .unwrap()
            .contains("could not be booked"),
        "{again}"
    );
    assert!(
        meetings[1..].iter().all(|m| m["status"] == "booked"),
        "{}",
        c.body
    );
    // The new time does not clash with anything booked meanwhile.
    let booked = manager
        .get(&format!("/api/v1/meetings?request_id={id}&state=booked"))
        .await;
    let (a, z) = (instant(&again["start"]), instant(&again["end"]));
    for m in booked.body["items"].as_array().unwrap() {
        if m["staff_id"] == again["staff_id"] {
            assert!(instant(&m["end"]) <= a || z <= instant(&m["start"]), "{m}");
        }
    }
    // Confirming again books the new kick-off.
    let c = customer
        .post(
            &format!("/api/v1/requests/{id}/meeting-plan/confirm"),
            json!({}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["state"], "confirmed", "{}", c.body);
}
on_both!(r10_a_time_taken_before_confirmation_is_proposed_anew);

async fn r10_staff_can_propose_the_plan_again_keeping_what_is_booked(app: &TestApp) {
    let id = accepted(app).await;
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let p = manager
        .post(
            &format!("/api/v1/requests/{id}/meeting-plan/propose"),
            json!({}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["meetings"].as_array().unwrap().len(), 4);
    // A request that was never accepted has no plan to propose.
    let customer = app.sign_in(&email("customer")).await;
    let fresh = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["mail"],
                   "contact": {"name": "Ada", "email": "ada@contoso.example"},
                   "language": "it", "description": "Mail"}),
        )
        .await;
    let fresh_id = fresh.body["id"].as_str().unwrap();
    assert_problem(
        &manager
            .get(&format!("/api/v1/requests/{fresh_id}/meeting-plan"))
            .await,
        404,
    );
    assert_problem(
        &manager
            .post(
                &format!("/api/v1/requests/{fresh_id}/meeting-plan/propose"),
                json!({}),
            )
            .await,
        409,
    );
}
on_both!(r10_staff_can_propose_the_plan_again_keeping_what_is_booked);
