//! Several servers on one PostgreSQL database (issue 8, point 2): two `fasttrack serve` processes
//! under concurrent load. Racing bookings of the same slots through both processes book each
//! slot once; jobs enqueued through both are each run once by one of the two workers; a session
//! signed in on one process is valid on the other, and signing out on one ends it on both.
//!
//! PostgreSQL only (SQLite allows one process): skipped with a note unless
//! `FASTTRACK_TEST_POSTGRES` is set.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[allow(dead_code)]
mod process;
#[path = "api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use fasttrack_store::{Job, Store};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use helpers::{email, Db, PASSWORD};
use process::{fresh_database, Bearer, Receiver, ServerSpec};
use smtp::SmtpSink;

/// Slots raced for, and racers per slot.
const SLOTS: usize = 4;
const RACERS_PER_SLOT: usize = 16;
/// Requests filed through the two processes (each enqueues two mails and a webhook).
const FILINGS: usize = 40;

/// A cookie-keeping client signed in at `base`, with its CSRF token.
async fn session(base: &str, who: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r: Value = http
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": email(who), "password": PASSWORD}))
        .send()
        .await
        .expect("sign-in")
        .json()
        .await
        .expect("sign-in body");
    let csrf = r["csrf_token"].as_str().expect("csrf").to_string();
    (http, csrf)
}

fn request_body(n: usize) -> Value {
    json!({
        "kinds": ["service_onboarding"],
        "services": ["mail"],
        "contact": {"name": format!("Cluster {n}"), "email": format!("cluster.{n}@contoso.example")},
        "language": "it",
        "description": format!("cluster test request {n}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgres_book_once_run_jobs_once_and_share_sessions() {
    let Some(url) = fresh_database(Db::Postgres).await else {
        return;
    };
    let store = Store::connect(&url).await.expect("database");
    helpers::seed(&store).await;
    store.close().await;
    let mut sink = SmtpSink::reserve();
    sink.start().await;
    let receiver = Receiver::start().await;
    let dir = process::scratch_dir("cluster");
    let spec = |name: &str| ServerSpec {
        database_url: url.clone(),
        smtp_url: sink.url(),
        log: dir.join(format!("{name}.log")),
    };
    let a = spec("a").start().await;
    let b = spec("b").start().await;
    let bases = [a.base.clone(), b.base.clone()];

    // Sessions: signed in on A, valid on B (reads and CSRF-checked writes).
    let (staff, csrf) = session(&a.base, "fasttrack_specialist").await;
    let me = |base: &str| staff.get(format!("{base}/api/v1/me")).send();
    let on_b: Value = me(&b.base)
        .await
        .expect("me on B")
        .json()
        .await
        .expect("me");
    assert_eq!(
        on_b["email"],
        email("fasttrack_specialist"),
        "A's session on B"
    );

    // Jobs: requests filed through both processes, at once.
    let customer = Bearer::create(&a.base, &email("customer")).await;
    let (status, hook) = customer
        .send(
            &b.base,
            Method::POST,
            "/api/v1/webhooks",
            Some(&json!({"url": receiver.url, "events": ["*"]})),
        )
        .await
        .expect("webhook");
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let mut filings = Vec::new();
    for n in 0..FILINGS {
        let c = customer.clone();
        let base = bases[n % 2].clone();
        filings.push(tokio::spawn(async move {
            c.send(
                &base,
                Method::POST,
                "/api/v1/requests",
                Some(&request_body(n)),
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    for f in filings {
        let (status, doc) = f.await.expect("task").expect("answer");
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        ids.push(doc["id"].as_str().expect("id").to_string());
    }

    // Bookings: the manager accepts SLOTS requests; racers book slot s for request s through
    // both processes with the specialist's one session.
    let manager = Bearer::create(&b.base, &email("fasttrack_manager")).await;
    for id in &ids[..SLOTS] {
        let (status, doc) = manager
            .send(
                &a.base,
                Method::POST,
                &format!("/api/v1/requests/{id}/accept"),
                Some(&json!({})),
            )
            .await
            .expect("accept");
        assert_eq!(status, StatusCode::OK, "{doc}");
    }
    let offered: Value = staff
        .get(format!(
            "{}/api/v1/requests/{}/slots?limit=100",
            b.base, ids[0]
        ))
        .send()
        .await
        .expect("slots")
        .json()
        .await
        .expect("slots body");
    let slots = offered["slots"].as_array().cloned().unwrap_or_default();
    let staff_id = slots
        .first()
        .unwrap_or_else(|| panic!("no slot offered: {offered}"))["staff_id"]
        .clone();
    let offered = slots;
    // Slots of one expert, two hours apart: the races are for the same person's time.
    let mut chosen: Vec<Value> = Vec::new();
    for s in offered.iter().filter(|s| s["staff_id"] == staff_id) {
        let start: jiff::Timestamp = s["start"]
            .as_str()
            .expect("start")
            .parse()
            .expect("instant");
        if chosen.iter().all(|c| {
            let t: jiff::Timestamp = c["start"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .unwrap_or(start);
            (t.as_second() - start.as_second()).abs() >= 2 * 3600
        }) {
            chosen.push(s.clone());
        }
        if chosen.len() == SLOTS {
            break;
        }
    }
    assert_eq!(
        chosen.len(),
        SLOTS,
        "enough separate slots offered: {offered:?}"
    );
    let mut racers = Vec::new();
    for (s, slot) in chosen.iter().enumerate() {
        for r in 0..RACERS_PER_SLOT {
            let http = staff.clone();
            let csrf = csrf.clone();
            let base = bases[r % 2].clone();
            let body = json!({"request_id": ids[s], "staff_id": slot["staff_id"], "start": slot["start"],
                              "length_minutes": 60, "purpose": "kick-off"});
            racers.push(tokio::spawn(async move {
                let res = http
                    .post(format!("{base}/api/v1/meetings"))
                    .header("x-csrf-token", csrf)
                    .json(&body)
                    .send()
                    .await
                    .expect("booking answer");
                (s, res.status())
            }));
        }
    }
    let mut won: BTreeMap<usize, usize> = BTreeMap::new();
    let mut lost = 0;
    for r in racers {
        let (s, status) = r.await.expect("racer");
        match status {
            StatusCode::CREATED => *won.entry(s).or_default() += 1,
            StatusCode::CONFLICT => lost += 1,
            other => panic!("booking answered {other}"),
        }
    }
    assert_eq!(
        won.values().copied().collect::<Vec<_>>(),
        vec![1; SLOTS],
        "each slot booked exactly once"
    );
    assert_eq!(lost, SLOTS * (RACERS_PER_SLOT - 1));
    let pool = sqlx::PgPool::connect(&url).await.expect("database");
    let booked: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT starts_at, ends_at FROM meetings WHERE state = 'booked' AND staff_id = $1 ORDER BY starts_at",
    )
    .bind(staff_id.as_str().unwrap_or_default())
    .fetch_all(&pool)
    .await
    .expect("meetings");
    assert_eq!(booked.len(), SLOTS, "booked meetings in the database");
    for w in booked.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping booked meetings {w:?}");
    }

    // Every job due (mail, invites, webhooks) runs exactly once, spread over both workers. A
    // meeting more than a day ahead also has its reminder queued for later: it must wait, unclaimed.
    let due_by = jiff::Timestamp::now().as_second();
    let deadline = Instant::now() + Duration::from_secs(90);
    let (jobs, later): (Vec<Job>, Vec<Job>) = loop {
        let all: Vec<Job> = sqlx::query_as(
            "SELECT id, kind, dedupe_key, payload, state, attempts, run_at, locked_until, locked_by, last_error, created_at, done_at FROM jobs ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .expect("jobs");
        let (jobs, later): (Vec<Job>, Vec<Job>) = all.into_iter().partition(|j| j.run_at <= due_by);
        if jobs.iter().all(|j| j.state == "done") || Instant::now() >= deadline {
            break (jobs, later);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for j in &later {
        assert!(
            j.dedupe_key
                .as_deref()
                .is_some_and(|k| k.ends_with(":reminder"))
                && j.state == "pending"
                && j.attempts == 0,
            "only reminders wait, unclaimed: {j:?}"
        );
    }
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for j in &jobs {
        assert_eq!(
            j.state, "done",
            "job {} ({}): {:?}",
            j.id, j.kind, j.last_error
        );
        assert_eq!(
            j.attempts, 1,
            "job {} was claimed {} times",
            j.id, j.attempts
        );
        *per_worker
            .entry(j.locked_by.clone().unwrap_or_default())
            .or_default() += 1;
    }
    // Worker ids carry their process id: two processes, two workers.
    let processes: std::collections::BTreeSet<&str> = per_worker
        .keys()
        .filter_map(|w| w.split('-').nth(1))
        .collect();
    assert_eq!(
        processes.len(),
        2,
        "both processes ran jobs: {per_worker:?}"
    );
    let mails = sink
        .wait_for(
            jobs.iter().filter(|j| j.kind == "mail").count(),
            Duration::from_secs(10),
        )
        .await;
    let mut by_message_id: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        *by_message_id
            .entry(m["message_id"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let mail_jobs = jobs.iter().filter(|j| j.kind == "mail").count();
    assert_eq!(mails.len(), mail_jobs, "one mail per mail job");
    for j in jobs.iter().filter(|j| j.kind == "mail") {
        let prefix = format!("<fasttrack-job-{}-{}@", j.id, j.created_at);
        let n: usize = by_message_id
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, n)| *n)
            .sum();
        assert_eq!(n, 1, "mail job {} sent {n} times", j.id);
    }
    let deliveries = receiver.deliveries();
    let webhook_jobs = jobs.iter().filter(|j| j.kind == "webhook").count();
    let mut by_delivery: HashMap<String, usize> = HashMap::new();
    for d in &deliveries {
        *by_delivery.entry(d.delivery_id.clone()).or_default() += 1;
    }
    assert_eq!(
        deliveries.len(),
        webhook_jobs,
        "one delivery per webhook job"
    );
    assert!(
        by_delivery.values().all(|n| *n == 1),
        "no event delivered twice"
    );

    // Signing out on B ends the session on A too.
    let out = staff
        .post(format!("{}/api/v1/auth/sign-out", b.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("sign-out");
    assert!(out.status().is_success(), "{}", out.status());
    let after = me(&a.base).await.expect("me on A");
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "signed out on B, still in on A"
    );

    let report = json!({
        "processes": 2,
        "slots": SLOTS,
        "booking_attempts": SLOTS * RACERS_PER_SLOT,
        "bookings_won": won.values().sum::<usize>(),
        "bookings_refused_409": lost,
        "requests_filed": FILINGS,
        "jobs": jobs.len(),
        "mail_jobs": mail_jobs,
        "mails_received": mails.len(),
        "webhook_jobs": webhook_jobs,
        "deliveries": deliveries.len(),
        "jobs_per_worker": per_worker,
    });
    println!("CLUSTER REPORT {report}");
    eprintln!("CLUSTER REPORT {report}");
    pool.close().await;
    a.terminate();
    b.terminate();
    let _ = std::fs::remove_dir_all(&dir);
    process::drop_database(&url).await;
}
