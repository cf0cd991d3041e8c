//! The background worker: claims due jobs from the durable queue and runs them (mail through
//! SMTP, webhook deliveries), retrying with exponential backoff, so nothing is lost while a mail
//! server or a webhook receiver is down; and runs the periodic sweeps (R16 expiry warnings, R15 near-breach alerts).
//!
//! Several workers (in one process or many sharing a PostgreSQL database) can run at once: the
//! database hands each job to one worker at a time (`Store::claim_jobs_except`).

use std::sync::Arc;
use std::time::Duration;

use fasttrack_core::Language;
use fasttrack_store::{Job, Store};
use fasttrack_web::Clock;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The worker's settings.
#[derive(Clone)]
pub struct WorkerConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS) or
    /// `smtps://host:port` (TLS from the start), with optional `user:password@`. `None`: mail
    /// waits in the queue until a server is configured.
    pub smtp_url: Option<String>,
    /// The `From` of every mail, for example `FastTrack <fasttrack@example.com>`.
    pub mail_from: String,
    /// How often the queue is polled when it is idle.
    pub poll: Duration,
    /// How long a claimed job is held before another worker may take it over.
    pub lease_seconds: i64,
    /// Attempts before a job that keeps failing is given up as `failed`.
    pub max_attempts: i64,
    /// The first retry waits this long (whole seconds, at least 1); each further one twice as long…
    pub backoff_base: Duration,
    /// …up to this.
    pub backoff_cap: Duration,
    /// Jobs claimed at once and run concurrently.
    pub batch: i64,
    /// The longest one SMTP exchange may take; well below the lease, so a stalled server cannot
    /// make a job look abandoned while it is still being sent.
    pub smtp_timeout: Duration,
    /// How often the periodic sweeps run (they are idempotent, so every worker may run them).
    pub sweep_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: "FastTrack <fasttrack@localhost>".into(),
            poll: Duration::from_secs(1),
            lease_seconds: 300,
            // With a one-hour cap, 72 attempts keep retrying through an outage of about three days.
            max_attempts: 72,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(3600),
            batch: 8,
            smtp_timeout: Duration::from_secs(30),
            sweep_every: Duration::from_secs(300),
        }
    }
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL may carry a password: show only where it points.
        let smtp = self.smtp_url.as_deref().map(redact_url);
        f.debug_struct("WorkerConfig")
            .field("smtp_url", &smtp)
            .field("mail_from", &self.mail_from)
            .field("poll", &self.poll)
            .field("lease_seconds", &self.lease_seconds)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("batch", &self.batch)
            .field("smtp_timeout", &self.smtp_timeout)
            .field("sweep_every", &self.sweep_every)
            .finish()
    }
}

/// `url` without its user and password, for logs.
fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://…{}", &url[at..]),
        _ => url.to_string(),
    }
}

impl WorkerConfig {
    /// Checks the sender address and the SMTP URL, so a typo stops the server at start rather
    /// than leaving every mail failing in the queue.
    pub fn check(&self) -> Result<(), String> {
        Mailer::new(self).map(|_| ())
    }

    /// The wait before the attempt after `attempts` failed ones: base·2^(attempts−1), capped.
    pub fn backoff_seconds(&self, attempts: i64) -> i64 {
        let base = i64::try_from(self.backoff_base.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        let cap = i64::try_from(self.backoff_cap.as_secs())
            .unwrap_or(i64::MAX)
            .max(base);
        let doublings = u32::try_from((attempts - 1).clamp(0, 62)).unwrap_or(62);
        base.saturating_mul(1_i64.checked_shl(doublings).unwrap_or(i64::MAX))
            .min(cap)
    }
}

/// The SMTP side: a transport and the sender.
struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `Ok(None)` when no SMTP server is configured.
    fn new(cfg: &WorkerConfig) -> Result<Option<Mailer>, String> {
        let from: Mailbox = cfg
            .mail_from
            .parse()
            .map_err(|e| format!("the sender address '{}' is not valid: {e}", cfg.mail_from))?;
        let Some(url) = cfg.smtp_url.as_deref() else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL '{}' is not usable: {e}", redact_url(url)))?
            .timeout(Some(cfg.smtp_timeout))
            .build();
        Ok(Some(Mailer { transport, from }))
    }
}

/// The payload of a `mail` job.
#[derive(Debug, Deserialize)]
struct MailPayload {
    template: String,
    to: Vec<String>,
    language: String,
    #[serde(default)]
    vars: serde_json::Value,
    /// A calendar invitation or cancellation (R10) sent with the mail.
    #[serde(default)]
    ics: Option<Invite>,
}

/// An RFC 5545 calendar object and its iTIP method (`REQUEST`, `CANCEL`).
#[derive(Debug, Deserialize)]
struct Invite {
    method: String,
    content: String,
}

impl Invite {
    /// The mail's body with the invitation: the text and the calendar as alternatives (how
    /// calendar clients recognise an invitation), plus the same calendar as an `.ics` file for
    /// clients that only offer attachments.
    fn with_text(&self, text: String) -> Result<MultiPart, String> {
        let method = self.method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!("'{}' is not an iTIP method", self.method));
        }
        let calendar =
            ContentType::parse(&format!("text/calendar; method={method}; charset=UTF-8"))
                .map_err(|e| format!("calendar content type: {e}"))?;
        let file = ContentType::parse("application/ics")
            .map_err(|e| format!("calendar file content type: {e}"))?;
        Ok(MultiPart::mixed()
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(
                        SinglePart::builder()
                            .header(calendar)
                            .body(self.content.clone()),
                    ),
            )
            .singlepart(Attachment::new("invite.ics".into()).body(self.content.clone(), file)))
    }
}

/// Why a job did not succeed, and whether trying again can help.
#[derive(Debug)]
enum Failure {
    /// The mail server is down or busy: try again later.
    Transient(String),
    /// Bad payload, unknown kind, refused recipient: trying again cannot help.
    Permanent(String),
}

struct Worker {
    id: String,
    store: Store,
    clock: Clock,
    cfg: WorkerConfig,
    mailer: Option<Mailer>,
    http: Option<reqwest::Client>,
}

/// Runs the worker until `stop` turns `true` (or its sender is dropped). Jobs being run when
/// asked to stop are finished first; jobs not started stay in the queue for the next start.
pub async fn run(store: Store, clock: Clock, cfg: WorkerConfig, mut stop: watch::Receiver<bool>) {
    let id = format!(
        "worker-{}-{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mailer = match Mailer::new(&cfg) {
        Ok(Some(m)) => Some(m),
        Ok(None) => {
            tracing::warn!(
                "no SMTP server configured (--smtp-url): mail stays queued until one is"
            );
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "mail cannot be sent: it stays queued until the SMTP settings are fixed");
            None
        }
    };
    let http = match crate::webhooks::client() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "webhooks cannot be delivered: they stay queued");
            None
        }
    };
    // Jobs nothing here can run are left alone (pending, attempts untouched) rather than claimed
    // and put back every poll.
    let mut skip = Vec::new();
    if mailer.is_none() {
        skip.push("mail");
    }
    if http.is_none() {
        skip.push("webhook");
    }
    let worker = Arc::new(Worker {
        id,
        store,
        clock,
        cfg,
        mailer,
        http,
    });
    tracing::info!(worker = %worker.id, "the job worker is running");
    let mut next_sweep = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        if tokio::time::Instant::now() >= next_sweep {
            worker.sweep().await;
            next_sweep = tokio::time::Instant::now() + worker.cfg.sweep_every;
        }
        let claimed = worker
            .store
            .claim_jobs_except(
                &worker.id,
                worker.clock.now_secs(),
                worker.cfg.lease_seconds,
                worker.cfg.batch,
                &skip,
            )
            .await;
        let mut full = false;
        match claimed {
            Ok(jobs) => {
                full = i64::try_from(jobs.len()).unwrap_or(i64::MAX) >= worker.cfg.batch;
                let mut running = JoinSet::new();
                for job in jobs {
                    let w = Arc::clone(&worker);
                    running.spawn(async move { w.process(job).await });
                }
                while let Some(done) = running.join_next().await {
                    if let Err(e) = done {
                        // The job stays claimed; its lease expires and it is retried.
                        tracing::error!(error = %e, "a job's task panicked");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim jobs; trying again shortly");
            }
        }
        // A full batch means more may be due: go on at once. Otherwise wait for the next poll.
        if full {
            continue;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep(worker.cfg.poll) => {}
        }
    }
    tracing::info!(worker = %worker.id, "the job worker stopped");
}

impl Worker {
    /// Runs the periodic sweeps; a failure is logged and tried again at the next sweep.
    #[tracing::instrument(name = "Running the periodic sweeps", skip_all)]
    async fn sweep(&self) {
        match crate::sweeps::relationship_expiry_warnings(&self.store, self.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(warnings = n, "relationship expiry warnings queued"),
            Err(e) => tracing::warn!(error = %e, "could not queue relationship expiry warnings"),
        }
        match crate::sweeps::sla_near_breach_alerts(&self.store, self.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(alerts = n, "service-level near-breach alerts queued"),
            Err(e) => tracing::warn!(error = %e, "could not queue service-level alerts"),
        }
    }

    /// Runs one claimed job and records the outcome.
    #[tracing::instrument(name = "Running a job", skip_all, fields(job = job.id, kind = %job.kind, attempt = job.attempts))]
    async fn process(&self, job: Job) {
        let outcome = if job.attempts > self.cfg.max_attempts {
            // Claimed again after its lease expired, more often than allowed: whatever runs it
            // keeps dying, so stop.
            Err(Failure::Permanent(format!(
                "abandoned by its worker too often ({} attempts)",
                job.attempts - 1
            )))
        } else {
            match job.kind.as_str() {
                "mail" => self.send_mail(&job).await,
                "webhook" => self.deliver_webhook(&job).await,
                other => Err(Failure::Permanent(format!(
                    "unknown job kind '{other}': no worker handles it"
                ))),
            }
        };
        let now = self.clock.now_secs();
        let (error, retry_at) = match outcome {
            Ok(()) => {
                tracing::info!("job done");
                self.record(&job, None, None, now).await;
                return;
            }
            Err(Failure::Transient(e)) if job.attempts < self.cfg.max_attempts => {
                let wait = self.cfg.backoff_seconds(job.attempts);
                tracing::warn!(error = %e, retry_in_seconds = wait, "job failed; it will be retried");
                (e, Some(now.saturating_add(wait)))
            }
            Err(Failure::Transient(e)) => {
                let e = format!("gave up after {} attempts: {e}", job.attempts);
                tracing::error!(error = %e, "job failed for good");
                (e, None)
            }
            Err(Failure::Permanent(e)) => {
                tracing::error!(error = %e, "job failed for good");
                (e, None)
            }
        };
        self.record(&job, Some(&error), retry_at, now).await;
    }

    /// Records a job's outcome (`error` `None`: done), trying a few times: a lost record means
    /// the job runs again once its lease expires, and a mail would go out twice.
    async fn record(&self, job: &Job, error: Option<&str>, retry_at: Option<i64>, now: i64) {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=5 {
            let saved = match error {
                None => self.store.complete_job(job.id, &self.id, now).await,
                Some(e) => {
                    self.store
                        .fail_job(job.id, &self.id, e, retry_at, now)
                        .await
                }
            };
            match saved {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(
                        "the job's lease expired and another worker took it over; outcome not recorded"
                    );
                    return;
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(error = %e, "could not record the job's outcome; trying again");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not record the job's outcome; it runs again when its lease expires");
                }
            }
        }
    }

    /// Delivers a `webhook` job; any failure (receiver down, non-2xx answer) is retried.
    async fn deliver_webhook(&self, job: &Job) -> Result<(), Failure> {
        let Some(http) = &self.http else {
            return Err(Failure::Transient("no HTTP client for webhooks".into()));
        };
        let payload = job
            .payload_json()
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        crate::webhooks::deliver(&self.store, http, &payload)
            .await
            .map_err(Failure::Transient)
    }

    /// Renders a `mail` job in its language and sends it.
    async fn send_mail(&self, job: &Job) -> Result<(), Failure> {
        let Some(mailer) = &self.mailer else {
            // Not claimed without a mailer; kept safe should that change.
            return Err(Failure::Transient("no SMTP server configured".into()));
        };
        let payload: MailPayload = serde_json::from_str(&job.payload)
            .map_err(|e| Failure::Permanent(format!("the mail job's payload is not valid: {e}")))?;
        let language = Language::parse(&payload.language)
            .map_err(|e| Failure::Permanent(format!("the mail's language: {}", e.message)))?;
        let rendered = fasttrack_web::mail::render(&payload.template, language, &payload.vars)
            .map_err(Failure::Permanent)?;
        if payload.to.is_empty() {
            return Err(Failure::Permanent("the mail has no recipient".into()));
        }
        // The same Message-ID on every attempt: should a retry follow a send whose success was
        // never recorded, the receiving side can tell it is the same message.
        let domain = mailer.from.email.domain().to_string();
        let mut builder = Message::builder()
            .from(mailer.from.clone())
            .subject(rendered.subject)
            .message_id(Some(format!(
                "<fasttrack-job-{}-{}@{domain}>",
                job.id, job.created_at
            )))
            .date_now();
        if let Ok(name) = HeaderName::new_from_ascii("Content-Language".into()) {
            builder = builder.raw_header(HeaderValue::new(name, language.tag().into()));
        }
        for to in &payload.to {
            let mailbox: Mailbox = to.parse().map_err(|e| {
                Failure::Permanent(format!("the recipient '{to}' is not a valid address: {e}"))
            })?;
            builder = builder.to(mailbox);
        }
        let message = match &payload.ics {
            None => builder.header(ContentType::TEXT_PLAIN).body(rendered.text),
            Some(invite) => builder.multipart(
                invite
                    .with_text(rendered.text)
                    .map_err(|e| Failure::Permanent(format!("the mail's invitation: {e}")))?,
            ),
        }
        .map_err(|e| Failure::Permanent(format!("the mail cannot be built: {e}")))?;
        mailer.transport.send(message).await.map_err(|e| {
            if e.is_permanent() {
                Failure::Permanent(format!("the mail server refused the mail: {e}"))
            } else {
                Failure::Transient(format!("sending through SMTP: {e}"))
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let cfg = WorkerConfig::default();
        let waits: Vec<i64> = (1..=12).map(|a| cfg.backoff_seconds(a)).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(cfg.backoff_seconds(10_000), 3600);
        assert_eq!(cfg.backoff_seconds(0), 5);
    }

    #[test]
    fn smtp_passwords_never_reach_the_logs() {
        let cfg = WorkerConfig {
            smtp_url: Some("smtps://user:s3cret@mail.example.com:465".into()),
            ..WorkerConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("mail.example.com"), "{shown}");
    }

    #[test]
    fn bad_smtp_settings_are_refused_at_start() {
        let bad_url = WorkerConfig {
            smtp_url: Some("imap://mail.example.com".into()),
            ..WorkerConfig::default()
        };
        assert!(bad_url.check().is_err());
        let bad_from = WorkerConfig {
            mail_from: "not an address".into(),
            ..WorkerConfig::default()
        };
        assert!(bad_from.check().is_err());
        let good = WorkerConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            ..WorkerConfig::default()
        };
        assert!(good.check().is_ok());
        let starttls = WorkerConfig {
            smtp_url: Some("smtp://mail.example.com:587?tls=required".into()),
            ..WorkerConfig::default()
        };
        assert!(starttls.check().is_ok());
    }
}
