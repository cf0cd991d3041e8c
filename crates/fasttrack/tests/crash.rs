//! Crash safety (issue 8, point 1): concurrent clients file and accept requests against the real
//! `fasttrack serve` process while it is killed with SIGKILL at random moments (at least 20
//! times per database) and restarted on the same database. At the end every change acknowledged
//! with a 2xx must be in the database, intact, every job it enqueued (mail, webhooks) must have
//! been delivered, and duplicates may only be the ones the at-least-once contract allows: a job
//! whose worker died after the receiver took it and before the completion was recorded (see
//! RELIABILITY.md).
//!
//! `FASTTRACK_CRASH_SEED` replays a run (the seed is printed); `FASTTRACK_CRASH_KILLS` changes the
//! number of kills (default 20).

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[allow(dead_code)]
mod process;
#[path = "api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use fasttrack_store::{Job, Store};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use helpers::{email, Db};
use process::{fresh_database, Bearer, Receiver, ServerSpec};
use smtp::SmtpSink;

/// The worker's default batch: the most jobs one process holds at the moment it dies.
const WORKER_BATCH: usize = 8;
/// Concurrent clients filing requests.
const CLIENTS: usize = 6;

/// A small deterministic generator (SplitMix64): the kill moments replay from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// What the clients were told.
#[derive(Default)]
struct Ledger {
    /// Requests acknowledged with 201: id → the body sent.
    filed: BTreeMap<String, Value>,
    /// Filings that got no answer (the server died): descriptions that may or may not exist.
    unanswered_filings: BTreeSet<String>,
    /// Accepts acknowledged with 200.
    accepted: BTreeSet<String>,
    /// Accepts that got no answer at first (and were then tried again until answered).
    unanswered_accepts: BTreeSet<String>,
    /// Answers that are neither success nor "no answer": each is a failure of the test.
    unexpected: Vec<String>,
}

/// A request body unique to client `c`'s `n`th filing.
fn request_body(c: usize, n: u64, salt: u64) -> Value {
    json!({
        "kinds": ["service_onboarding"],
        "services": if n.is_multiple_of(2) { json!(["mail"]) } else { json!(["mail", "files"]) },
        "contact": {"name": format!("Client {c} n{n}"), "email": format!("c{c}.n{n}@contoso.example")},
        "language": if n.is_multiple_of(3) { "en" } else { "it" },
        "description": format!("crash test client {c} request {n} ({salt:x}) — àèìòù ✓"),
    })
}

/// Accepts request `id` as the manager, as a person would: again after "try again" (all requests
/// are one tenant's, so concurrent accepts race for its one open engagement) and again after no
/// answer (the server died), until answered.
async fn accept(id: &str, base: &RwLock<String>, manager: &Bearer, ledger: &Mutex<Ledger>) {
    let path = format!("/api/v1/requests/{id}/accept");
    let mut unanswered = false;
    for _ in 0..200 {
        let at = base.read().expect("base").clone();
        match manager
            .send(&at, Method::POST, &path, Some(&json!({})))
            .await
        {
            Ok((StatusCode::OK, _)) => {
                ledger
                    .lock()
                    .expect("ledger")
                    .accepted
                    .insert(id.to_string());
                return;
            }
            Ok((StatusCode::CONFLICT, doc)) if doc["errors"][0]["field"] == "engagement" => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Refused as already accepted: an earlier attempt that got no answer did it all.
            Ok((StatusCode::CONFLICT, doc))
                if unanswered
                    && doc["type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("/illegal-transition")) =>
            {
                ledger
                    .lock()
                    .expect("ledger")
                    .accepted
                    .insert(id.to_string());
                return;
            }
            Ok((status, doc)) => {
                ledger
                    .lock()
                    .expect("ledger")
                    .unexpected
                    .push(format!("accept {id}: {status} {doc}"));
                return;
            }
            Err(_) => {
                // Perhaps committed, perhaps half done, perhaps not at all: accepting again
                // completes it, as a person would by pressing the button again.
                if !unanswered {
                    unanswered = true;
                    ledger
                        .lock()
                        .expect("ledger")
                        .unanswered_accepts
                        .insert(id.to_string());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    ledger
        .lock()
        .expect("ledger")
        .unexpected
        .push(format!("accept {id}: no success after 200 tries"));
}

/// One client: files requests until `stop`, and accepts every other one as the manager.
async fn client(
    c: usize,
    base: Arc<RwLock<String>>,
    customer: Bearer,
    manager: Bearer,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    salt: u64,
) {
    let mut n = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let body = request_body(c, n, salt);
        let at = base.read().expect("base").clone();
        match customer
            .send(&at, Method::POST, "/api/v1/requests", Some(&body))
            .await
        {
            Ok((StatusCode::CREATED, doc)) => {
                let Some(id) = doc["id"].as_str().map(String::from) else {
                    ledger
                        .lock()
                        .expect("ledger")
                        .unexpected
                        .push(format!("201 without an id: {doc}"));
                    continue;
                };
                ledger
                    .lock()
                    .expect("ledger")
                    .filed
                    .insert(id.clone(), body);
                if n.is_multiple_of(2) {
                    accept(&id, &base, &manager, &ledger).await;
                }
            }
            Ok((status, doc)) => ledger
                .lock()
                .expect("ledger")
                .unexpected
                .push(format!("file: {status} {doc}")),
            Err(_) => {
                let d = body["description"].as_str().unwrap_or_default().to_string();
                ledger.lock().expect("ledger").unanswered_filings.insert(d);
                // The server is down or restarting: try again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Every job in the database, and every request's (id, state, description, contact, services).
/// Every job, every request's (id, state, description, contact, services), and the accepted
/// requests without their engagement.
type Rows = (
    Vec<Job>,
    Vec<(String, String, String, String, String)>,
    Vec<String>,
);

async fn read_database(url: &str) -> Rows {
    const JOBS: &str = "SELECT id, kind, dedupe_key, payload, state, attempts, run_at, locked_until, locked_by, last_error, created_at, done_at FROM jobs ORDER BY id";
    const REQUESTS: &str =
        "SELECT id, state, description, contact, services FROM requests ORDER BY id";
    const UNLINKED: &str = "SELECT r.id FROM requests r WHERE r.state = 'accepted'
         AND NOT EXISTS (SELECT 1 FROM engagement_requests er WHERE er.request_id = r.id)";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("database");
        let jobs = sqlx::query_as(JOBS).fetch_all(&pool).await.expect("jobs");
        let requests = sqlx::query_as(REQUESTS)
            .fetch_all(&pool)
            .await
            .expect("requests");
        let unlinked = sqlx::query_scalar(UNLINKED)
            .fetch_all(&pool)
            .await
            .expect("unlinked");
        pool.close().await;
        (jobs, requests, unlinked)
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.expect("database");
        let jobs = sqlx::query_as(JOBS).fetch_all(&pool).await.expect("jobs");
        let requests = sqlx::query_as(REQUESTS)
            .fetch_all(&pool)
            .await
            .expect("requests");
        let unlinked = sqlx::query_scalar(UNLINKED)
            .fetch_all(&pool)
            .await
            .expect("unlinked");
        pool.close().await;
        (jobs, requests, unlinked)
    }
}

/// `text` without terminal colour sequences (the server's log is coloured).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Waits (at most `limit`) until no job is pending or running.
async fn wait_for_quiet_queue(url: &str, limit: Duration) -> Vec<(String, i64)> {
    let store = Store::connect(url).await.expect("database");
    let deadline = Instant::now() + limit;
    let counts = loop {
        let counts = store.job_counts().await.expect("job counts");
        let busy = counts
            .iter()
            .any(|(s, n)| (s == "pending" || s == "running") && *n > 0);
        if !busy || Instant::now() >= deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    store.close().await;
    counts
}

async fn acknowledged_work_survives_sigkill_and_every_job_is_delivered(db: Db) {
    let Some(url) = fresh_database(db).await else {
        return;
    };
    let seed_value = std::env::var("FASTTRACK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let kills: usize = std::env::var("FASTTRACK_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(20);
    eprintln!("crash test on {db:?}: seed {seed_value}, {kills} kills (FASTTRACK_CRASH_SEED={seed_value} replays the kill moments)");
    let mut rng = Rng(seed_value);
    let started = Instant::now();

    let store = Store::connect(&url).await.expect("database");
    helpers::seed(&store).await;
    store.close().await;

    let mut sink = SmtpSink::reserve();
    sink.start().await;
    let receiver = Receiver::start().await;
    let dir = process::scratch_dir("crash");
    let spec = ServerSpec {
        database_url: url.clone(),
        smtp_url: sink.url(),
        log: dir.join("server.log"),
    };
    let mut server = spec.start().await;
    let base = Arc::new(RwLock::new(server.base.clone()));
    let customer = Bearer::create(&server.base, &email("customer")).await;
    let manager = Bearer::create(&server.base, &email("fasttrack_manager")).await;
    let (status, hook) = customer
        .send(
            &server.base,
            Method::POST,
            "/api/v1/webhooks",
            Some(
                &json!({"url": receiver.url, "events": ["request.submitted", "request.accepted"]}),
            ),
        )
        .await
        .expect("webhook");
    assert_eq!(status, StatusCode::CREATED, "{hook}");

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let salt = rng.next();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        clients.push(tokio::spawn(client(
            c,
            base.clone(),
            customer.clone(),
            manager.clone(),
            ledger.clone(),
            stop.clone(),
            salt,
        )));
    }
    for _ in 0..kills {
        // Random moments: mid-request, mid-transaction, mid-SMTP exchange, mid-delivery.
        tokio::time::sleep(Duration::from_millis(rng.between(150, 1200))).await;
        server.kill();
        server = spec.start().await;
        *base.write().expect("base") = server.base.clone();
    }
    // Load for a moment on the last process, then stop the clients.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client task");
    }
    // Jobs held by killed workers come back when their 10 s lease runs out.
    let counts = wait_for_quiet_queue(&url, Duration::from_secs(60)).await;

    // Acknowledged requests read back intact through the API.
    let ledger = Arc::try_unwrap(ledger)
        .ok()
        .expect("clients stopped")
        .into_inner()
        .expect("ledger");
    assert!(
        ledger.unexpected.is_empty(),
        "{} answers other than success or no answer, the first: {:?}",
        ledger.unexpected.len(),
        ledger.unexpected.iter().take(3).collect::<Vec<_>>()
    );
    for (id, sent) in &ledger.filed {
        let (status, doc) = manager
            .send(
                &server.base,
                Method::GET,
                &format!("/api/v1/requests/{id}"),
                None,
            )
            .await
            .expect("read back");
        assert_eq!(status, StatusCode::OK, "acknowledged request {id}: {doc}");
        for field in ["kinds", "services", "language", "description"] {
            assert_eq!(doc[field], sent[field], "{id}.{field}");
        }
        assert_eq!(doc["contact"]["name"], sent["contact"]["name"], "{id}");
        assert_eq!(doc["contact"]["email"], sent["contact"]["email"], "{id}");
        if ledger.accepted.contains(id) {
            assert_eq!(doc["state"], "accepted", "acknowledged accept of {id}");
        }
    }
    server.terminate();

    // The same, in the database itself; and nothing there that no client sent.
    let (jobs, requests, unlinked) = read_database(&url).await;
    // An acceptance is a request's transition and then its engagement step: one a crash cut in
    // two is completed by the next start (or by accepting again), never left half done.
    assert!(
        unlinked.is_empty(),
        "accepted requests without their engagement: {unlinked:?}"
    );
    let log = strip_ansi(&std::fs::read_to_string(dir.join("server.log")).unwrap_or_default());
    let completed_at_start: usize = log
        .lines()
        .filter(|l| l.contains("completed acceptances a crash interrupted"))
        .filter_map(|l| {
            l.split("requests=")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok())
        })
        .sum();
    let by_id: HashMap<&str, &(String, String, String, String, String)> =
        requests.iter().map(|r| (r.0.as_str(), r)).collect();
    for (id, sent) in &ledger.filed {
        let row = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("acknowledged request {id} is not in the database"));
        assert_eq!(row.2, sent["description"].as_str().unwrap_or_default());
        let contact: Value = serde_json::from_str(&row.3).expect("contact JSON");
        assert_eq!(contact["email"], sent["contact"]["email"]);
        let services: Value = serde_json::from_str(&row.4).expect("services JSON");
        assert_eq!(services, sent["services"]);
        if ledger.accepted.contains(id) {
            assert_eq!(row.1, "accepted");
        }
    }
    let mut unanswered_committed = 0;
    for (id, _, description, _, _) in &requests {
        if !ledger.filed.contains_key(id) {
            assert!(
                ledger.unanswered_filings.contains(description),
                "request {id} ({description}) is in the database but no client filed it"
            );
            unanswered_committed += 1;
        }
    }

    // Every committed request has its jobs, written in the same transaction.
    let keys: BTreeSet<&str> = jobs
        .iter()
        .filter_map(|j| j.dedupe_key.as_deref())
        .collect();
    let webhook_events: BTreeSet<(String, String)> = jobs
        .iter()
        .filter(|j| j.kind == "webhook")
        .filter_map(|j| j.payload_json().ok())
        .map(|p| {
            (
                p["event"]["type"].as_str().unwrap_or_default().to_string(),
                p["event"]["data"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for (id, state, ..) in &requests {
        for template in ["request_acknowledged", "request_received_staff"] {
            assert!(
                keys.contains(format!("{id}:{template}:filed").as_str()),
                "request {id} has no {template} mail job"
            );
        }
        assert!(
            webhook_events.contains(&("request.submitted".into(), id.clone())),
            "request {id} has no request.submitted webhook job"
        );
        if state == "accepted" {
            assert!(
                webhook_events.contains(&("request.accepted".into(), id.clone())),
                "accepted request {id} has no request.accepted webhook job"
            );
        }
    }

    // Every job ran to completion; mail reached the SMTP server and webhooks the receiver.
    for j in &jobs {
        assert_eq!(
            j.state, "done",
            "job {} ({}) ended {}: {:?} (counts {counts:?})",
            j.id, j.kind, j.state, j.last_error
        );
    }
    let mails = sink.messages();
    let mut by_message_id: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        *by_message_id
            .entry(m["message_id"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let mut mail_jobs = 0;
    let mut mail_duplicates = 0;
    let mut known_message_ids = BTreeSet::new();
    for j in jobs.iter().filter(|j| j.kind == "mail") {
        mail_jobs += 1;
        let prefix = format!("<fasttrack-job-{}-{}@", j.id, j.created_at);
        let (mid, n) = by_message_id
            .iter()
            .find(|(k, _)| k.starts_with(&prefix))
            .map(|(k, n)| (k.clone(), *n))
            .unwrap_or_else(|| {
                panic!(
                    "mail job {} ({}) never reached the SMTP server",
                    j.id, j.payload
                )
            });
        if n > 1 {
            // A second copy only comes from a second claim: the first worker died after the
            // SMTP server took the mail, before the job was marked done.
            assert!(
                j.attempts >= 2,
                "mail job {} arrived {n} times after one attempt",
                j.id
            );
            mail_duplicates += n - 1;
        }
        known_message_ids.insert(mid);
    }
    for mid in by_message_id.keys() {
        assert!(
            known_message_ids.contains(mid),
            "a mail arrived that no job sent: {mid}"
        );
    }
    let deliveries = receiver.deliveries();
    let mut by_delivery: HashMap<&str, usize> = HashMap::new();
    for d in &deliveries {
        *by_delivery.entry(d.delivery_id.as_str()).or_default() += 1;
        assert_eq!(d.body["id"].as_str(), Some(d.delivery_id.as_str()));
        assert_eq!(d.body["type"].as_str(), Some(d.event.as_str()));
    }
    let mut webhook_jobs = 0;
    let mut webhook_duplicates = 0;
    for j in jobs.iter().filter(|j| j.kind == "webhook") {
        webhook_jobs += 1;
        let p = j.payload_json().expect("webhook payload");
        let event_id = p["event"]["id"].as_str().unwrap_or_default();
        let n = by_delivery.get(event_id).copied().unwrap_or(0);
        assert!(
            n >= 1,
            "webhook job {} (event {event_id}) was never delivered",
            j.id
        );
        if n > 1 {
            assert!(
                j.attempts >= 2,
                "webhook job {} delivered {n} times after one attempt",
                j.id
            );
            webhook_duplicates += n - 1;
        }
    }
    assert_eq!(
        by_delivery.len(),
        webhook_jobs,
        "every delivery belongs to a webhook job"
    );
    // Each kill can repeat at most the jobs the dead worker held.
    assert!(
        mail_duplicates + webhook_duplicates <= kills * WORKER_BATCH,
        "{mail_duplicates} mail and {webhook_duplicates} webhook duplicates for {kills} kills"
    );

    let report = json!({
        "database": format!("{db:?}"),
        "seed": seed_value,
        "kills_survived": kills,
        "requests_acknowledged_and_checked": ledger.filed.len(),
        "accepts_acknowledged_and_checked": ledger.accepted.len(),
        "unanswered_filings": ledger.unanswered_filings.len(),
        "unanswered_filings_committed": unanswered_committed,
        "unanswered_accepts_retried": ledger.unanswered_accepts.len(),
        "acceptances_completed_at_restart": completed_at_start,
        "requests_in_database": requests.len(),
        "mail_jobs_delivered": mail_jobs,
        "mail_duplicates": mail_duplicates,
        "webhook_jobs_delivered": webhook_jobs,
        "webhook_duplicates": webhook_duplicates,
        "lost": 0,
        "seconds": started.elapsed().as_secs(),
    });
    println!("CRASH REPORT {report}");
    eprintln!("CRASH REPORT {report}");
    assert!(
        ledger.filed.len() >= kills,
        "too little load to mean anything: {report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    process::drop_database(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_acknowledged_work_survives_sigkill() {
    acknowledged_work_survives_sigkill_and_every_job_is_delivered(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_acknowledged_work_survives_sigkill() {
    acknowledged_work_survives_sigkill_and_every_job_is_delivered(Db::Postgres).await;
}
