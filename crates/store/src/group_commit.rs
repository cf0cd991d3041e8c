//! Group commit of request intake.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits for the disk. Filing
//! requests one transaction each caps intake at the disk's flush rate and makes every caller
//! queue behind every other. Here one task takes every filing waiting at a moment, writes them
//! all in one transaction (one statement per table; should that fail, one savepoint per filing,
//! so a bad filing fails alone), commits once, and only then answers each caller: an
//! acknowledged request is on disk, as before (SPEC §4 "Reliable"). On PostgreSQL each server
//! process batches its own filings the same way: a filing one transaction at a time was eight
//! round trips to the database server and a commit.

use serde_json::{json, Value};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::requests::{JobSpec, Request};
use crate::{new_id, AuditCtx, StoreError};

/// Runs `$statements` (one per table, see [`batch_rows`]) on `$tx` with the rows `$rows`; the
/// first error stops it. What a filing writes is defined here once, for a batch and for a
/// filing alone.
macro_rules! write_rows {
    ($tx:expr, $statements:expr, $rows:expr) => {{
        let mut written: Result<(), sqlx::Error> = Ok(());
        for (sql, json) in $statements.iter().zip($rows.iter()) {
            if json.as_str() == "[]" {
                continue;
            }
            if let Err(e) = sqlx::query(*sql)
                .bind(json.as_str())
                .execute(&mut *$tx)
                .await
            {
                written = Err(e);
                break;
            }
        }
        written
    }};
}

/// Writes a batch in one transaction and answers every caller once it is committed.
///
/// The batch goes in with one statement per table (`$statements`), its rows passed as one JSON
/// array: a filing one at a time is eight statements, and each statement is a hand-off to
/// SQLite's connection thread or a round trip to PostgreSQL, which the profiles showed to be the
/// main cost (BENCHMARKS.md). When that fails (a filing that cannot be written), the batch is
/// written again one savepoint per filing with the same statements, so the bad one fails alone
/// with its own error.
macro_rules! commit {
    ($pool:expr, $batch:expr, $statements:expr) => {{
        let (pool, batch) = ($pool, $batch);
        let together: Result<bool, sqlx::Error> = async {
            let mut tx = pool.begin().await?;
            match write_rows!(tx, $statements, batch_rows(&batch)) {
                Ok(()) => {
                    tx.commit().await?;
                    Ok(true)
                }
                Err(e) => {
                    tracing::debug!(error = %e, filings = batch.len(), "the batch failed as a whole; filing one by one");
                    tx.rollback().await?;
                    Ok(false)
                }
            }
        }
        .await;
        let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(batch.len());
        let committed = match together {
            Ok(true) => Ok(()),
            Ok(false) => {
                async {
                    let mut tx = pool.begin().await?;
                    for f in &batch {
                        sqlx::query("SAVEPOINT filing").execute(&mut *tx).await?;
                        let one = write_rows!(tx, $statements, batch_rows(std::slice::from_ref(f)));
                        if one.is_err() {
                            sqlx::query("ROLLBACK TO filing").execute(&mut *tx).await?;
                        }
                        sqlx::query("RELEASE filing").execute(&mut *tx).await?;
                        outcomes.push(one.map_err(StoreError::from));
                    }
                    tx.commit().await
                }
                .await
            }
            Err(e) => Err(e),
        };
        match committed {
            Ok(()) => {
                outcomes.resize_with(batch.len(), || Ok(()));
                for (f, outcome) in batch.into_iter().zip(outcomes) {
                    // A caller that went away (client disconnected) no longer needs its answer.
                    let _ = f.done.send(outcome);
                }
            }
            Err(e) => fail_all(batch, &e),
        }
    }};
}

/// At most this many filings share one commit: bounds the time the writer is held.
const MAX_BATCH: usize = 256;

/// One filing waiting for its commit.
struct Filing {
    request: Request,
    jobs: Vec<JobSpec>,
    ctx: AuditCtx,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle callers file through; the writer task ends when every handle is dropped.
#[derive(Clone)]
pub(crate) struct IntakeWriter {
    queue: mpsc::Sender<Filing>,
}

/// The database a writer commits to.
enum Target {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl IntakeWriter {
    /// Starts the writer task on `pool` (the one-connection write pool).
    pub(crate) fn start(pool: SqlitePool) -> IntakeWriter {
        IntakeWriter::spawn(Target::Sqlite(pool))
    }

    /// Starts the writer task of this process on a PostgreSQL pool.
    pub(crate) fn start_postgres(pool: PgPool) -> IntakeWriter {
        IntakeWriter::spawn(Target::Postgres(pool))
    }

    fn spawn(target: Target) -> IntakeWriter {
        let (queue, mut rx) = mpsc::channel::<Filing>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let batch = std::mem::take(&mut batch);
                match &target {
                    Target::Sqlite(pool) => commit!(pool, batch, SQLITE_BATCH),
                    Target::Postgres(pool) => commit!(pool, batch, POSTGRES_BATCH),
                }
            }
        });
        IntakeWriter { queue }
    }

    /// Files one request; returns once it is committed (or has failed).
    pub(crate) async fn file(
        &self,
        request: Request,
        jobs: Vec<JobSpec>,
        ctx: AuditCtx,
    ) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let filing = Filing {
            request,
            jobs,
            ctx,
            done,
        };
        self.queue
            .send(filing)
            .await
            .map_err(|_| StoreError::Batch("the intake writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Batch("the intake writer stopped before answering".into()))?
    }
}

/// The rows of a batch as four JSON arrays: requests, their history entries, audit records and
/// jobs, in the order the statements of [`SQLITE_BATCH`] and [`POSTGRES_BATCH`] take them.
fn batch_rows(batch: &[Filing]) -> [String; 4] {
    let mut requests = Vec::with_capacity(batch.len());
    let mut events = Vec::with_capacity(batch.len());
    let mut audits = Vec::with_capacity(batch.len());
    let mut jobs = Vec::new();
    for f in batch {
        let (r, ctx) = (&f.request, &f.ctx);
        requests.push(json!({
            "id": r.id, "org_id": r.org_id, "filed_by": r.filed_by, "filed_by_org_id": r.filed_by_org_id,
            "channel": r.channel, "kinds": r.kinds, "services": r.services, "contact": r.contact,
            "language": r.language, "time_zone": r.time_zone, "preferred_windows": r.preferred_windows,
            "description": r.description, "migration": r.migration, "migration_level": r.migration_level,
            "state": r.state, "at": ctx.at,
        }));
        events.push(json!({
            "id": new_id(), "request_id": r.id, "at": ctx.at, "actor_id": ctx.actor_user_id,
            "to_state": r.state, "note": format!("filed via {}", r.channel),
        }));
        audits.push(json!({
            "at": ctx.at, "actor_user_id": ctx.actor_user_id, "actor_org_id": ctx.actor_org_id,
            "acting_for_org_id": ctx.acting_for_org_id, "tenant_org_id": r.org_id,
            "entity_id": r.id,
            "changes": json!({"channel": r.channel, "kinds": r.kinds, "services": r.services,
                              "language": r.language, "filed_by": r.filed_by,
                              "filed_by_org_id": r.filed_by_org_id}).to_string(),
        }));
        for j in &f.jobs {
            jobs.push(json!({
                "kind": j.kind, "dedupe_key": j.dedupe_key, "payload": j.payload.to_string(), "at": ctx.at,
            }));
        }
    }
    [requests, events, audits, jobs].map(|rows| Value::Array(rows).to_string())
}

/// The head of both dialects' insert of a batch's requests.
macro_rules! requests_columns {
    () => {
        "INSERT INTO requests (id, org_id, filed_by, filed_by_org_id, channel, kinds, services, contact,
            language, time_zone, preferred_windows, description, migration, migration_level, state,
            state_reason, manager_id, awaiting_requester, first_response_at, created_at, updated_at)"
    };
}

/// A batch on SQLite, one statement per table; the text never changes, so each stays prepared.
const SQLITE_BATCH: [&str; 4] = [
    concat!(
        requests_columns!(),
        " SELECT value->>'id', value->>'org_id', value->>'filed_by', value->>'filed_by_org_id', value->>'channel',
        value->>'kinds', value->>'services', value->>'contact', value->>'language', value->>'time_zone',
        value->>'preferred_windows', value->>'description', value->>'migration', value->>'migration_level',
        value->>'state', NULL, NULL, FALSE, NULL, value->>'at', value->>'at'
     FROM json_each($1) ORDER BY key"
    ),
    "INSERT INTO request_events (id, request_id, at, actor_id, from_state, to_state, note)
     SELECT value->>'id', value->>'request_id', value->>'at', value->>'actor_id', NULL, value->>'to_state',
        value->>'note'
     FROM json_each($1) ORDER BY key",
    "INSERT INTO audit_log (at, actor_user_id, actor_org_id, acting_for_org_id, tenant_org_id, action, entity,
        entity_id, changes)
     SELECT value->>'at', value->>'actor_user_id', value->>'actor_org_id', value->>'acting_for_org_id',
        value->>'tenant_org_id', 'request.create', 'request', value->>'entity_id', value->>'changes'
     FROM json_each($1) ORDER BY key",
    // `WHERE true`: SQLite needs it to read `ON CONFLICT` as the upsert clause.
    "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, created_at)
     SELECT value->>'kind', value->>'dedupe_key', value->>'payload', 'pending', 0, value->>'at', value->>'at'
     FROM json_each($1) WHERE true ORDER BY key
     ON CONFLICT (dedupe_key) DO NOTHING",
];

/// The same statements on PostgreSQL.
const POSTGRES_BATCH: [&str; 4] = [
    concat!(
        requests_columns!(),
        " SELECT v->>'id', v->>'org_id', v->>'filed_by', v->>'filed_by_org_id', v->>'channel',
        v->>'kinds', v->>'services', v->>'contact', v->>'language', v->>'time_zone',
        v->>'preferred_windows', v->>'description', v->>'migration', v->>'migration_level',
        v->>'state', NULL, NULL, FALSE, NULL, (v->>'at')::BIGINT, (v->>'at')::BIGINT
     FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) WITH ORDINALITY AS rows (v, n) ORDER BY n"
    ),
    "INSERT INTO request_events (id, request_id, at, actor_id, from_state, to_state, note)
     SELECT v->>'id', v->>'request_id', (v->>'at')::BIGINT, v->>'actor_id', NULL, v->>'to_state', v->>'note'
     FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) WITH ORDINALITY AS rows (v, n) ORDER BY n",
    "INSERT INTO audit_log (at, actor_user_id, actor_org_id, acting_for_org_id, tenant_org_id, action, entity,
        entity_id, changes)
     SELECT (v->>'at')::BIGINT, v->>'actor_user_id', v->>'actor_org_id', v->>'acting_for_org_id',
        v->>'tenant_org_id', 'request.create', 'request', v->>'entity_id', v->>'changes'
     FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) WITH ORDINALITY AS rows (v, n) ORDER BY n",
    "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, created_at)
     SELECT v->>'kind', v->>'dedupe_key', v->>'payload', 'pending', 0, (v->>'at')::BIGINT, (v->>'at')::BIGINT
     FROM jsonb_array_elements(CAST($1 AS TEXT)::jsonb) WITH ORDINALITY AS rows (v, n) ORDER BY n
     ON CONFLICT (dedupe_key) DO NOTHING",
];

/// Answers every caller of a batch whose commit failed.
fn fail_all(batch: Vec<Filing>, e: &sqlx::Error) {
    tracing::error!(error = %e, filings = batch.len(), "group commit of request intake failed");
    for f in batch {
        let _ = f
            .done
            .send(Err(StoreError::Batch(format!("the commit failed: {e}"))));
    }
}
