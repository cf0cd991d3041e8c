//! Work cut in two by a crash or a lost race is completed, never left half done: an acceptance is
//! the request's transition and then its engagement step (two transactions); the template set is
//! seeded on first use, possibly by several requests or processes at once.

use fasttrack_store::{AuditCtx, Store, Transition};
use serde_json::json;

use crate::helpers::{email, test_worker_config, TestApp};
use crate::on_both;

/// Files a request as the customer and moves it to `accepted` in the store alone, as a process
/// that died right after the transition's commit would leave it: no engagement yet.
async fn half_accepted(app: &TestApp) -> String {
    let customer = app.sign_in(&email("customer")).await;
    let filed = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["mail"], "language": "it",
                   "contact": {"name": "Ada", "email": "ada@contoso.example"}}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let id = filed.body["id"].as_str().expect("id").to_string();
    let manager = app
        .store
        .get_user_by_email(&email("fasttrack_manager"))
        .await
        .expect("manager");
    let r = app.store.get_request(&id).await.expect("request");
    app.store
        .transition_request(
            &r,
            &Transition {
                from_state: r.state.clone(),
                from_awaiting: r.awaiting_requester,
                to_state: "accepted".into(),
                awaiting_requester: false,
                event: "accept".into(),
                note: None,
                reason: None,
                manager_id: Some(manager.id),
                first_response: true,
            },
            &[],
            &AuditCtx {
                at: jiff::Timestamp::now().as_second(),
                ..AuditCtx::default()
            },
        )
        .await
        .expect("transition");
    assert_eq!(app.store.engagement_of_request(&id).await.unwrap(), None);
    id
}

async fn accepting_again_completes_an_acceptance_a_crash_cut_in_two(app: &TestApp) {
    let id = half_accepted(app).await;
    let manager = app.sign_in(&email("fasttrack_manager")).await;
    let again = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["state"], "accepted");
    assert!(
        app.store
            .engagement_of_request(&id)
            .await
            .unwrap()
            .is_some(),
        "the engagement step ran"
    );
    // Once complete, accepting again is the lifecycle's ordinary refusal.
    let third = manager
        .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
        .await;
    assert_eq!(third.status, 409, "{}", third.body);
}
on_both!(accepting_again_completes_an_acceptance_a_crash_cut_in_two);

async fn a_restart_completes_acceptances_a_crash_cut_in_two(app: &TestApp) {
    let id = half_accepted(app).await;
    // A second server on the same database stands for the restarted process.
    let restarted = fasttrack::start(
        &app.database_url,
        "127.0.0.1:0",
        fasttrack_web::WebConfig::default(),
        test_worker_config(),
    )
    .await
    .expect("restart");
    // The engagement step, then the meeting plan, run in the background after the start.
    let mut done = (None, None);
    for _ in 0..100 {
        done = (
            app.store.engagement_of_request(&id).await.unwrap(),
            app.store.meeting_plan(&id).await.unwrap(),
        );
        if done.0.is_some() && done.1.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done.0.is_some(), "the restart completed the acceptance");
    assert!(done.1.is_some(), "with its meeting plan proposed");
    restarted.stop().await;
}
on_both!(a_restart_completes_acceptances_a_crash_cut_in_two);

async fn the_template_set_is_seeded_once_when_first_used_concurrently(app: &TestApp) {
    // Another connection pool stands for another process.
    let other = Store::connect(&app.database_url).await.expect("connect");
    let mut uses = Vec::new();
    for i in 0..16 {
        let s = if i % 2 == 0 {
            app.store.clone()
        } else {
            other.clone()
        };
        uses.push(tokio::spawn(async move {
            s.template_set_or(fasttrack_core::rules::engagement::TemplateSet::recommended())
                .await
        }));
    }
    let mut sets = Vec::new();
    for u in uses {
        sets.push(u.await.expect("task").expect("every first use succeeds"));
    }
    assert!(sets.windows(2).all(|w| w[0] == w[1]), "one set for all");
    other.close().await;
}
on_both!(the_template_set_is_seeded_once_when_first_used_concurrently);
