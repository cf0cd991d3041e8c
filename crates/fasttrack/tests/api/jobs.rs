//! The durable job queue and the worker: claims, leases and retries on both backends, and mail
//! delivered through a real SMTP server (aiosmtpd, installed by `.ci/run`), exactly once, even
//! across an outage of the mail server.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fasttrack::worker::WorkerConfig;
use fasttrack_core::Language;
use fasttrack_store::{Job, Store};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, test_worker_config, Db, TestApp};
use crate::smtp::SmtpSink;

/// Runs a scenario that starts its own app on SQLite, and on PostgreSQL when configured.
macro_rules! on_both_db {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::helpers::Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::helpers::Db::Postgres).await;
            }
        }
    };
}

/// Test worker settings that send to `sink`.
fn mail_config(sink: &SmtpSink) -> WorkerConfig {
    WorkerConfig {
        smtp_url: Some(sink.url()),
        ..test_worker_config()
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A request acknowledgement to `to` in `language`, for request `id`.
fn acknowledgement(id: &str, to: &str, language: &str) -> Value {
    json!({
        "template": "request_acknowledged",
        "to": [to],
        "language": language,
        "vars": {"request_id": id, "tenant": "Contoso", "services": ["Mail", "Files"], "channel": "site_quick_action"}
    })
}

/// A meeting invitation in French with its calendar object, as the scheduler queues it.
fn meeting_invite() -> Value {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fasttrack//test//EN\r\nMETHOD:REQUEST\r\n\
               BEGIN:VEVENT\r\nUID:m-1@fasttrack.test\r\nDTSTAMP:20260301T000000Z\r\n\
               DTSTART:20260302T090000Z\r\nDTEND:20260302T103000Z\r\nSUMMARY:FastTrack: Kick-off\r\n\
               END:VEVENT\r\nEND:VCALENDAR\r\n";
    json!({
        "template": "meeting_invite",
        "to": ["ada@contoso.example", "kenji@fasttrack.test"],
        "language": "fr",
        "vars": {"meeting_id": "m-1", "request_id": "REQ-M1", "tenant": "Contoso", "purpose": "Kick-off",
                 "start_local": "2026-03-02T10:00:00+01:00", "end_local": "2026-03-02T11:30:00+01:00",
                 "time_zone": "Europe/Rome", "staff_name": "Kenji Sato", "online_link": "https://meet.example/abc",
                 "sequence": 0, "cancel_reason": null},
        "ics": {"method": "REQUEST", "content": ics}
    })
}

/// Enqueues one acknowledgement per id, due now.
async fn enqueue_acknowledgements(store: &Store, ids: &[String], language: &str) -> Vec<i64> {
    let mut jobs = Vec::new();
    for id in ids {
        let job = store
            .enqueue_job(
                "mail",
                Some(&format!("test:{id}")),
                &acknowledgement(id, "ada@contoso.example", language),
                now(),
                now(),
            )
            .await
            .expect("enqueue")
            .expect("a new job");
        jobs.push(job);
    }
    jobs
}

/// Waits (at most `limit`) until every job in `ids` is in `state`; returns them as last read.
async fn wait_until_all(store: &Store, ids: &[i64], state: &str, limit: Duration) -> Vec<Job> {
    let deadline = Instant::now() + limit;
    loop {
        let mut jobs = Vec::new();
        for id in ids {
            jobs.push(store.get_job(*id).await.expect("job"));
        }
        if jobs.iter().all(|j| j.state == state) || Instant::now() >= deadline {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many messages name each of `ids` (fixed-width, so none is part of another) in their subject.
fn count_by_id(messages: &[Value], ids: &[String]) -> BTreeMap<String, usize> {
    ids.iter()
        .map(|id| {
            let n = messages
                .iter()
                .filter(|m| m["subject"].as_str().unwrap_or("").contains(id.as_str()))
                .count();
            (id.clone(), n)
        })
        .collect()
}

// ---- the queue itself (the app's worker leaves `mail` alone: it has no SMTP server) ----

async fn claimed_jobs_wait_for_their_time_and_are_held_until_their_lease_expires(app: &TestApp) {
    let s = &app.store;
    let t = 2_000_000_000;
    let a = s
        .enqueue_job("mail", None, &json!({"n": 1}), t, t)
        .await
        .unwrap()
        .unwrap();
    let b = s
        .enqueue_job("mail", None, &json!({"n": 2}), t + 100, t)
        .await
        .unwrap()
        .unwrap();

    let first = s.claim_jobs("w1", t, 60, 10).await.unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a]);
    assert_eq!(first[0].state, "running");
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].locked_by.as_deref(), Some("w1"));
    assert_eq!(first[0].locked_until, Some(t + 60));

    assert!(
        s.claim_jobs("w2", t + 59, 60, 10).await.unwrap().is_empty(),
        "a leased job and a job not yet due are not claimed"
    );

    // w1 stalls: once its lease is over, w2 takes the job over.
    let taken = s.claim_jobs("w2", t + 60, 60, 10).await.unwrap();
    assert_eq!(taken.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a]);
    assert_eq!(taken[0].attempts, 2);
    assert!(
        !s.complete_job(a, "w1", t + 61).await.unwrap(),
        "the worker that lost the lease cannot complete the job"
    );
    assert!(!s
        .fail_job(a, "w1", "late", Some(t + 100), t + 61)
        .await
        .unwrap());
    assert!(s.complete_job(a, "w2", t + 62).await.unwrap());
    let done = s.get_job(a).await.unwrap();
    assert_eq!(done.state, "done");
    assert_eq!(done.done_at, Some(t + 62));
    assert!(!s.complete_job(a, "w2", t + 63).await.unwrap(), "done once");

    let later = s.claim_jobs("w1", t + 100, 60, 10).await.unwrap();
    assert_eq!(later.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b]);
}
crate::on_both!(claimed_jobs_wait_for_their_time_and_are_held_until_their_lease_expires);

async fn a_failed_attempt_is_retried_at_its_time_or_given_up(app: &TestApp) {
    let s = &app.store;
    let t = 2_000_000_000;
    let a = s
        .enqueue_job("mail", None, &json!({}), t, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.claim_jobs("w1", t, 60, 10).await.unwrap().len(), 1);
    assert!(s
        .fail_job(a, "w1", "connection refused", Some(t + 30), t)
        .await
        .unwrap());
    let j = s.get_job(a).await.unwrap();
    assert_eq!(
        (j.state.as_str(), j.run_at, j.attempts),
        ("pending", t + 30, 1)
    );
    assert_eq!(j.last_error.as_deref(), Some("connection refused"));
    assert!(j.locked_until.is_none());

    assert!(s.claim_jobs("w1", t + 29, 60, 10).await.unwrap().is_empty());
    let again = s.claim_jobs("w1", t + 30, 60, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    assert!(
        !s.fail_job(a, "w2", "not mine", None, t + 31).await.unwrap(),
        "only the worker holding a job records its outcome"
    );
    assert!(s
        .fail_job(a, "w1", "mailbox unavailable", None, t + 31)
        .await
        .unwrap());
    let j = s.get_job(a).await.unwrap();
    assert_eq!(j.state, "failed");
    assert_eq!(j.done_at, Some(t + 31));
    assert_eq!(j.last_error.as_deref(), Some("mailbox unavailable"));
    assert!(
        s.claim_jobs("w1", t + 100_000, 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "a failed job is never claimed again"
    );
    assert!(!s.complete_job(a, "w1", t + 32).await.unwrap());
}
crate::on_both!(a_failed_attempt_is_retried_at_its_time_or_given_up);

async fn a_taken_dedupe_key_enqueues_nothing_and_the_backlog_is_measured(app: &TestApp) {
    let s = &app.store;
    let t = 2_000_000_000;
    let first = s
        .enqueue_job("mail", Some("warn:rel-1:30"), &json!({}), t, t)
        .await
        .unwrap();
    assert!(first.is_some());
    let again = s
        .enqueue_job("mail", Some("warn:rel-1:30"), &json!({}), t, t)
        .await
        .unwrap();
    assert_eq!(again, None, "one job per dedupe key");
    s.enqueue_job("mail", None, &json!({}), t + 500, t)
        .await
        .unwrap();

    let counts = s.job_counts().await.unwrap();
    assert_eq!(counts, vec![("pending".to_string(), 2)]);
    assert_eq!(s.oldest_pending_age(t - 1).await.unwrap(), None, "none due");
    assert_eq!(s.oldest_pending_age(t + 50).await.unwrap(), Some(50));

    // Claims skip the kinds asked to be skipped.
    assert!(s
        .claim_jobs_except("w1", t, 60, 10, &["mail"])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.claim_jobs("w1", t, 60, 10).await.unwrap().len(), 1);
    let counts = s.job_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![("pending".to_string(), 1), ("running".to_string(), 1)]
    );
}
crate::on_both!(a_taken_dedupe_key_enqueues_nothing_and_the_backlog_is_measured);

// ---- the worker ----

async fn mail_waits_in_the_queue_while_no_smtp_server_is_configured(app: &TestApp) {
    let ids = enqueue_acknowledgements(&app.store, &["WAIT-01".to_string()], "en").await;
    // Several polls of the worker (every 200 ms in the tests).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let j = app.store.get_job(ids[0]).await.unwrap();
    assert_eq!(j.state, "pending");
    assert_eq!(j.attempts, 0, "not even tried: nothing to send it through");
}
crate::on_both!(mail_waits_in_the_queue_while_no_smtp_server_is_configured);

async fn unknown_job_kinds_are_failed_with_a_clear_error(app: &TestApp) {
    let id = app
        .store
        .enqueue_job("teleport", None, &json!({}), now(), now())
        .await
        .unwrap()
        .unwrap();
    let jobs = wait_until_all(&app.store, &[id], "failed", Duration::from_secs(10)).await;
    assert_eq!(jobs[0].state, "failed");
    assert_eq!(jobs[0].attempts, 1, "not retried");
    let err = jobs[0].last_error.clone().unwrap_or_default();
    assert!(err.contains("unknown job kind 'teleport'"), "{err}");
}
crate::on_both!(unknown_job_kinds_are_failed_with_a_clear_error);

async fn mail_is_delivered_through_smtp_in_the_request_language(db: Db) {
    let mut sink = SmtpSink::reserve();
    let Some(app) = spawn_app_with(db, mail_config(&sink)).await else {
        return;
    };
    sink.start().await;
    let mut jobs = Vec::new();
    for (id, lang) in [
        ("LANG-JA", "ja"),
        ("LANG-PT", "pt-BR"),
        ("LANG-ZH", "zh-Hant"),
    ] {
        let job = app
            .store
            .enqueue_job(
                "mail",
                None,
                &acknowledgement(id, "ada@contoso.example", lang),
                now(),
                now(),
            )
            .await
            .unwrap()
            .unwrap();
        jobs.push((id, lang, job));
    }
    // A meeting invitation (R10): the text in French, the calendar object beside it.
    let invite = app
        .store
        .enqueue_job("mail", None, &meeting_invite(), now(), now())
        .await
        .unwrap()
        .unwrap();
    // A job no retry can fix: failed at once, nothing sent.
    let bad = app
        .store
        .enqueue_job(
            "mail",
            None,
            &json!({"template": "no_such_template", "to": ["ada@contoso.example"], "language": "en", "vars": {}}),
            now(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();

    let got = sink.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 4, "{got:#?}");
    for (id, lang, _) in &jobs {
        let language = Language::parse(lang).unwrap();
        let want = fasttrack_web::mail::render(
            "request_acknowledged",
            language,
            &acknowledgement(id, "x", lang)["vars"],
        )
        .unwrap();
        let m = got
            .iter()
            .find(|m| m["subject"].as_str().unwrap_or("").contains(id))
            .unwrap_or_else(|| panic!("no mail for {id}: {got:#?}"));
        assert_eq!(m["subject"], want.subject.as_str(), "subject in {lang}");
        let text = m["text"].as_str().unwrap_or("").replace("\r\n", "\n");
        assert_eq!(text.trim_end(), want.text.trim_end(), "body in {lang}");
        assert_eq!(m["content_type"], "text/plain");
        assert_eq!(m["charset"], "utf-8");
        assert_eq!(m["content_language"], *lang);
        assert_eq!(m["rcpt_tos"], json!(["ada@contoso.example"]));
        assert!(
            m["from"]
                .as_str()
                .unwrap_or("")
                .contains("fasttrack@test.example"),
            "{m}"
        );
    }
    let want = fasttrack_web::mail::render(
        "meeting_invite",
        Language::French,
        &meeting_invite()["vars"],
    )
    .unwrap();
    let m = got
        .iter()
        .find(|m| m["subject"] == want.subject.as_str())
        .unwrap_or_else(|| panic!("no invitation: {got:#?}"));
    assert_eq!(m["content_type"], "multipart/mixed");
    let text = m["text"].as_str().unwrap_or("").replace("\r\n", "\n");
    assert_eq!(text.trim_end(), want.text.trim_end());
    assert_eq!(m["calendar"]["method"], "REQUEST");
    let calendar = m["calendar"]["content"].as_str().unwrap_or("");
    assert!(
        calendar.contains("METHOD:REQUEST") && calendar.contains("UID:m-1@fasttrack.test"),
        "{calendar}"
    );
    assert_eq!(
        m["attachments"],
        json!([{"filename": "invite.ics", "content_type": "application/ics"}])
    );

    let mut ids: Vec<i64> = jobs.iter().map(|j| j.2).collect();
    ids.push(invite);
    let done = wait_until_all(&app.store, &ids, "done", Duration::from_secs(10)).await;
    assert!(done.iter().all(|j| j.state == "done"), "{done:#?}");
    let bad = wait_until_all(&app.store, &[bad], "failed", Duration::from_secs(10)).await;
    assert_eq!(bad[0].state, "failed");
    assert!(
        bad[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no_such_template"),
        "{:?}",
        bad[0].last_error
    );
    app.stop().await;
}
on_both_db!(mail_is_delivered_through_smtp_in_the_request_language);

async fn mail_survives_smtp_outage_and_is_delivered_exactly_once(db: Db) {
    // The mail server is down: the port is reserved, nothing listens on it yet.
    let mut sink = SmtpSink::reserve();
    let Some(app) = spawn_app_with(db, mail_config(&sink)).await else {
        return;
    };
    let ids: Vec<String> = (1..=10).map(|i| format!("OUT-{i:02}")).collect();
    let jobs = enqueue_acknowledgements(&app.store, &ids, "it").await;

    // Wait (at most 15 s) until the worker has tried and failed at least once.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut failed_once = false;
        for id in &jobs {
            let j = app.store.get_job(*id).await.unwrap();
            assert_ne!(j.state, "failed", "given up during an outage: {j:?}");
            failed_once |= j.state == "pending" && j.attempts >= 1 && j.last_error.is_some();
        }
        if failed_once {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no attempt failed while the SMTP server was down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sink.messages().is_empty());

    // The server comes back: every mail arrives (backoff is capped at 2 s in the tests).
    sink.start().await;
    let got = sink.wait_for(ids.len(), Duration::from_secs(30)).await;
    let done = wait_until_all(&app.store, &jobs, "done", Duration::from_secs(10)).await;
    assert!(done.iter().all(|j| j.state == "done"), "{done:#?}");
    // A few more polls: nothing is sent a second time.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let got_later = sink.messages();
    assert_eq!(got.len(), ids.len(), "{got:#?}");
    assert_eq!(got_later.len(), ids.len(), "{got_later:#?}");
    let counts = count_by_id(&got_later, &ids);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(
        app.store.oldest_pending_age(now()).await.unwrap(),
        None,
        "no backlog left"
    );
    app.stop().await;
}
on_both_db!(mail_survives_smtp_outage_and_is_delivered_exactly_once);

async fn two_workers_over_one_database_never_deliver_a_job_twice(db: Db) {
    let mut sink = SmtpSink::reserve();
    // Small batches, so that both workers keep coming back for more.
    let cfg = WorkerConfig {
        batch: 2,
        ..mail_config(&sink)
    };
    let Some(app) = spawn_app_with(db, cfg.clone()).await else {
        return;
    };
    sink.start().await;
    // A second worker with a connection pool of its own, as another process would have.
    let other_store = Store::connect(&app.database_url).await.unwrap();
    let (stop_other, other_stopped) = tokio::sync::watch::channel(false);
    let other = tokio::spawn(fasttrack::worker::run(
        other_store.clone(),
        fasttrack_web::Clock::default(),
        cfg,
        other_stopped,
    ));

    let ids: Vec<String> = (1..=50).map(|i| format!("TWO-{i:02}")).collect();
    let jobs = enqueue_acknowledgements(&app.store, &ids, "de").await;
    let got = sink.wait_for(ids.len(), Duration::from_secs(60)).await;
    let done = wait_until_all(&app.store, &jobs, "done", Duration::from_secs(10)).await;
    assert!(done.iter().all(|j| j.state == "done"), "{done:#?}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let got_later = sink.messages();
    assert_eq!(got.len(), ids.len());
    assert_eq!(got_later.len(), ids.len(), "a job was delivered twice");
    let counts = count_by_id(&got_later, &ids);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let mut by_worker: BTreeMap<String, usize> = BTreeMap::new();
    for j in &done {
        *by_worker
            .entry(j.locked_by.clone().unwrap_or_default())
            .or_default() += 1;
    }
    eprintln!("jobs per worker: {by_worker:?}");

    let _ = stop_other.send(true);
    let _ = other.await;
    other_store.close().await;
    app.stop().await;
}
on_both_db!(two_workers_over_one_database_never_deliver_a_job_twice);
