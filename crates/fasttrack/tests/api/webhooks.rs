//! Webhooks: signed JSON events on request state changes, delivered by the worker through the job
//! queue to a real HTTP receiver, and retried until it answers 2xx.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{email, TestApp};
use crate::on_both;

/// What the receiver got: event type, delivery id, signature, body.
type Received = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

/// A webhook receiver on a free port that fails its first `fail_first` deliveries with 503.
async fn receiver(fail_first: usize) -> (String, Received) {
    let got: Received = Arc::default();
    let failures = Arc::new(Mutex::new(fail_first));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            let failures = failures.clone();
            async move {
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                {
                    let mut left = failures.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
                sink.lock().unwrap().push((
                    h("x-fasttrack-event"),
                    h("x-fasttrack-delivery"),
                    h("x-fasttrack-signature"),
                    body.to_vec(),
                ));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

async fn wait_for(got: &Received, n: usize) -> Vec<(String, String, String, Vec<u8>)> {
    for _ in 0..300 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got.lock().unwrap().clone()
}

async fn webhooks_deliver_signed_events_on_request_changes_and_retry(app: &TestApp) {
    let (url, got) = receiver(2).await;
    let customer = app.sign_in(&email("customer")).await;
    let hook = customer
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["request.submitted", "request.accepted"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let secret = hook.body["secret"].as_str().unwrap().to_string();
    let bad = customer
        .post(
            "/api/v1/webhooks",
            json!({"url": "ftp://x", "events": ["nope"]}),
        )
        .await;
    assert_eq!(bad.status, 422);

    let filed = customer
        .post(
            "/api/v1/requests",
            json!({"kinds": ["service_onboarding"], "services": ["mail"], "language": "it",
                   "contact": {"name": "Ada", "email": "ada@contoso.example"}}),
        )
        .await;
    let id = filed.body["id"].as_str().unwrap().to_string();
    let staff = app.sign_in(&email("fasttrack_manager")).await;
    assert_eq!(
        staff
            .post(&format!("/api/v1/requests/{id}/accept"), json!({}))
            .await
            .status,
        200
    );

    // The receiver refuses the first two attempts; the worker retries until both arrive.
    let deliveries = wait_for(&got, 2).await;
    assert_eq!(
        deliveries.len(),
        2,
        "both events arrive despite the receiver's failures"
    );
    let mut types: Vec<&str> = deliveries.iter().map(|d| d.0.as_str()).collect();
    types.sort();
    assert_eq!(types, vec!["request.accepted", "request.submitted"]);
    for (_, delivery, sig, body) in &deliveries {
        assert_eq!(
            sig,
            &fasttrack::webhooks::signature(&secret, body),
            "HMAC-SHA256 over the exact body"
        );
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(&event["id"], delivery);
        assert_eq!(event["data"]["id"], id.as_str());
    }
    // Another tenant's webhooks see nothing of this tenant.
    let other = app.sign_in(&email("customer_b")).await;
    let list = other.get("/api/v1/webhooks").await;
    assert_eq!(list.body.as_array().unwrap().len(), 0);
}
on_both!(webhooks_deliver_signed_events_on_request_changes_and_retry);
