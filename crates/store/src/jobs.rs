//! The durable job queue (mail, invites, webhooks): jobs are written in the same transaction as
//! the change that causes them, so an acknowledged change never loses its mail.

/// Enqueues a job inside the transaction `$tx`; a repeated `dedupe_key` is ignored (at most one job per key).
macro_rules! enqueue {
    ($tx:expr, $kind:expr, $dedupe:expr, $payload:expr, $run_at:expr, $now:expr) => {{
        let payload: serde_json::Value = $payload;
        let dedupe: Option<String> = $dedupe;
        sqlx::query(
            "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, created_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $5)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind($kind)
        .bind(dedupe)
        .bind(payload.to_string())
        .bind($run_at)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use enqueue;

use crate::{read, write_tx, Pool, Store, StoreError};

/// The columns of a job row, in [`Job`]'s order.
const COLUMNS: &str = "id, kind, dedupe_key, payload, state, attempts, run_at, locked_until, locked_by, last_error, created_at, done_at";

/// A job of the queue, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    /// What to do: `mail` (more kinds come with invites and webhooks).
    pub kind: String,
    /// At most one job exists per key (for example one expiry warning per relationship and day).
    pub dedupe_key: Option<String>,
    /// JSON text; its shape depends on `kind`.
    pub payload: String,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Attempts started so far, the current one included (a claim counts as an attempt).
    pub attempts: i64,
    /// Not run before this instant (UTC seconds).
    pub run_at: i64,
    /// While `running`: the claim holds until this instant; after it, another worker may take over.
    pub locked_until: Option<i64>,
    /// The worker that claimed the job last.
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

impl Job {
    /// The payload, decoded.
    pub fn payload_json(&self) -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("job {} payload: {e}", self.id)))
    }
}

impl Store {
    /// Claims up to `limit` due jobs of any kind for `worker`; see [`Store::claim_jobs_except`].
    #[tracing::instrument(name = "Claiming due jobs", skip_all)]
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: i64,
        lease_seconds: i64,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        self.claim_jobs_except(worker, now, lease_seconds, limit, &[])
            .await
    }

    /// Claims up to `limit` due jobs whose kind is not in `skip_kinds`, for `lease_seconds`.
    ///
    /// Due means pending with `run_at <= now`, or running with an expired lease (its worker died
    /// or stalled). Each claimed job counts one more attempt. Oldest first.
    #[tracing::instrument(name = "Claiming due jobs of some kinds", skip_all)]
    pub async fn claim_jobs_except(
        &self,
        worker: &str,
        now: i64,
        lease_seconds: i64,
        limit: i64,
        skip_kinds: &[&str],
    ) -> Result<Vec<Job>, StoreError> {
        let locked_until = now.saturating_add(lease_seconds.max(1));
        let mut skip: Vec<String> = skip_kinds.iter().map(|k| k.to_string()).collect();
        skip.sort();
        skip.dedup();
        let mut jobs: Vec<Job> = match &self.pool {
            // One write connection: this statement runs alone, so no other claim can interleave.
            Pool::Sqlite { write, .. } => {
                let due = due_jobs(&skip, 5);
                let sql = format!(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2
                     WHERE id IN (
                        SELECT id FROM ({due}) AS due
                        ORDER BY run_at, id
                        LIMIT CAST($4 AS BIGINT))
                     RETURNING {COLUMNS}"
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(locked_until)
                    .bind(now)
                    .bind(limit);
                for k in &skip {
                    q = q.bind(k.clone());
                }
                q.fetch_all(write).await?
            }
            // Several processes claim at once: SKIP LOCKED makes each pass over rows another is
            // claiming, and the re-check of the condition under the row lock stops a job that
            // was just claimed (and committed) elsewhere from being claimed again.
            Pool::Postgres(p) => {
                let due = due_jobs(&skip, 6);
                let sql = format!(
                    "WITH due AS MATERIALIZED (
                        SELECT id FROM jobs
                        WHERE ((state = 'pending' AND run_at <= $3) OR (state = 'running' AND locked_until <= $3))
                          AND NOT (kind = ANY($5))
                          AND id IN (SELECT id FROM ({due}) AS candidates)
                        ORDER BY run_at, id
                        LIMIT CAST($4 AS BIGINT)
                        FOR UPDATE SKIP LOCKED)
                     UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2
                     FROM due WHERE jobs.id = due.id
                     RETURNING {}",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("jobs.{}", c.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(locked_until)
                    .bind(now)
                    .bind(limit)
                    .bind(skip.clone());
                for k in &skip {
                    q = q.bind(k.clone());
                }
                q.fetch_all(p).await?
            }
        };
        // RETURNING gives no order; run them in the order they became due.
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Marks a job that `worker` holds as done; `false` when it no longer holds it (its lease
    /// expired and another worker took the job over).
    #[tracing::instrument(name = "Completing a job", skip_all, fields(job = id))]
    pub async fn complete_job(&self, id: i64, worker: &str, now: i64) -> Result<bool, StoreError> {
        let done = write_tx!(self, |tx| {
            let r = sqlx::query(
                "UPDATE jobs SET state = 'done', done_at = $3, locked_until = NULL, last_error = NULL
                 WHERE id = $1 AND locked_by = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(worker)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ok(r.rows_affected() == 1)
        })?;
        Ok(done)
    }

    /// Records a failed attempt of a job that `worker` holds: it runs again at `retry_at`, or,
    /// with `None`, is given up as `failed`. `false` when the worker no longer holds the job.
    #[tracing::instrument(name = "Recording a failed job attempt", skip_all, fields(job = id))]
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let held = write_tx!(self, |tx| {
            let r = match retry_at {
                Some(at) => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'pending', run_at = $4, last_error = $3, locked_until = NULL
                         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(error)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                }
                None => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'failed', done_at = $4, last_error = $3, locked_until = NULL
                         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(error)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                }
            };
            Ok(r.rows_affected() == 1)
        })?;
        Ok(held)
    }

    /// Enqueues a job in a transaction of its own; `None` when `dedupe_key` is already taken.
    ///
    /// Business changes enqueue their jobs inside their own transaction instead (`enqueue!`).
    #[tracing::instrument(name = "Enqueuing a job", skip_all)]
    pub async fn enqueue_job(
        &self,
        kind: &str,
        dedupe_key: Option<&str>,
        payload: &serde_json::Value,
        run_at: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let id = write_tx!(self, |tx| {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, created_at)
                 VALUES ($1, $2, $3, 'pending', 0, $4, $5)
                 ON CONFLICT (dedupe_key) DO NOTHING
                 RETURNING id",
            )
            .bind(kind)
            .bind(dedupe_key)
            .bind(payload.to_string())
            .bind(run_at)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            Ok(id)
        })?;
        Ok(id)
    }

    /// One job by id.
    #[tracing::instrument(name = "Reading a job", skip_all, fields(job = id))]
    pub async fn get_job(&self, id: i64) -> Result<Job, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let job = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(p)
            .await?);
        job.ok_or(StoreError::NotFound)
    }

    /// How many jobs are in each state (states with none are left out), for health and metrics.
    #[tracing::instrument(name = "Counting jobs by state", skip_all)]
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = read!(self, |p| sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state"
        )
        .fetch_all(p)
        .await?);
        Ok(rows)
    }

    /// Seconds the longest-waiting due pending job has waited since it became due, if any does:
    /// a growing figure means the worker is stuck or the mail server is down.
    #[tracing::instrument(name = "Measuring the job backlog", skip_all)]
    pub async fn oldest_pending_age(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let oldest: Option<i64> = read!(self, |p| sqlx::query_scalar(
            "SELECT MIN(run_at) FROM jobs WHERE state = 'pending' AND run_at <= $1"
        )
        .bind(now)
        .fetch_one(p)
        .await?);
        Ok(oldest.map(|at| (now - at).max(0)))
    }
}

/// The due jobs (`id`, `run_at`) of every kind but the sorted `skip` kinds, bound from `$first` on.
///
/// Pending jobs are read by ranges of kinds between the skipped ones (index `jobs_due_by_kind`):
/// a `NOT IN` would read past every waiting job of a skipped kind on each claim, and mail that
/// cannot be sent (no SMTP server) piles up. Running jobs with an expired lease are few.
fn due_jobs(skip: &[String], first: usize) -> String {
    let param = |i: usize| format!("${}", i + first);
    let running = if skip.is_empty() {
        String::new()
    } else {
        let all: Vec<String> = (0..skip.len()).map(param).collect();
        format!(" AND kind NOT IN ({})", all.join(", "))
    };
    let mut legs = Vec::with_capacity(skip.len() + 2);
    for gap in 0..=skip.len() {
        let lower = gap
            .checked_sub(1)
            .map(|i| format!(" AND kind > {}", param(i)));
        let upper = (gap < skip.len()).then(|| format!(" AND kind < {}", param(gap)));
        legs.push(format!(
            "SELECT id, run_at FROM jobs WHERE state = 'pending'{}{} AND run_at <= $3",
            lower.unwrap_or_default(),
            upper.unwrap_or_default()
        ));
    }
    legs.push(format!(
        "SELECT id, run_at FROM jobs WHERE state = 'running' AND locked_until <= $3{running}"
    ));
    legs.join(" UNION ALL ")
}

#[cfg(test)]
mod tests {
    use super::due_jobs;

    /// The ranges must be read through `jobs_due_by_kind`: through `jobs_due` a claim reads the
    /// pending jobs of the skipped kinds too, which made claims linear in a backlog of unsendable
    /// mail (BENCHMARKS.md).
    #[tokio::test]
    async fn claims_skipping_a_kind_read_the_other_kinds_by_index_on_sqlite() {
        let db = crate::TempSqlite::new().await;
        let sql = due_jobs(&["mail".into()], 4);
        let plan = db
            .query_plan(
                &sql,
                &[0_i64.into(), 0_i64.into(), 1_i64.into(), "mail".into()],
            )
            .await;
        let by_kind: Vec<&String> = plan
            .iter()
            .filter(|d| d.contains("jobs_due_by_kind (state=? AND kind"))
            .collect();
        assert_eq!(by_kind.len(), 2, "both pending ranges by kind: {plan:?}");
        assert!(!plan.iter().any(|d| d.starts_with("SCAN jobs")), "{plan:?}");
    }

    #[test]
    fn due_jobs_reads_the_ranges_between_skipped_kinds() {
        assert_eq!(
            due_jobs(&[], 6),
            "SELECT id, run_at FROM jobs WHERE state = 'pending' AND run_at <= $3 UNION ALL \
             SELECT id, run_at FROM jobs WHERE state = 'running' AND locked_until <= $3"
        );
        assert_eq!(
            due_jobs(&["mail".into(), "webhook".into()], 6),
            "SELECT id, run_at FROM jobs WHERE state = 'pending' AND kind < $6 AND run_at <= $3 UNION ALL \
             SELECT id, run_at FROM jobs WHERE state = 'pending' AND kind > $6 AND kind < $7 AND run_at <= $3 UNION ALL \
             SELECT id, run_at FROM jobs WHERE state = 'pending' AND kind > $7 AND run_at <= $3 UNION ALL \
             SELECT id, run_at FROM jobs WHERE state = 'running' AND locked_until <= $3 AND kind NOT IN ($6, $7)"
        );
    }
}
