//! Group commit of request intake on SQLite.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits for the disk. Filing
//! requests one transaction each caps intake at the disk's flush rate and makes every caller
//! queue behind every other. Here one task takes every filing waiting at a moment, writes each
//! inside a savepoint of one transaction (so one bad filing fails alone), commits once, and only
//! then answers each caller: an acknowledged request is on disk, as before (SPEC §4 "Reliable").

use serde_json::json;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::audit::audit;
use crate::jobs::enqueue;
use crate::requests::{insert_request, JobSpec, Request};
use crate::{new_id, AuditCtx, StoreError};

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

impl IntakeWriter {
    /// Starts the writer task on `pool` (the one-connection write pool).
    pub(crate) fn start(pool: SqlitePool) -> IntakeWriter {
        let (queue, mut rx) = mpsc::channel::<Filing>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                commit(&pool, std::mem::take(&mut batch)).await;
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

/// Writes a batch in one transaction, one savepoint per filing, and answers every caller.
async fn commit(pool: &SqlitePool, batch: Vec<Filing>) {
    let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(batch.len());
    let committed: Result<(), sqlx::Error> = async {
        let mut tx = pool.begin().await?;
        for f in &batch {
            sqlx::query("SAVEPOINT filing").execute(&mut *tx).await?;
            let one: Result<(), StoreError> = async {
                insert_request!(tx, &f.request, &f.jobs, &f.ctx);
                Ok(())
            }
            .await;
            if one.is_err() {
                sqlx::query("ROLLBACK TO filing").execute(&mut *tx).await?;
            }
            sqlx::query("RELEASE filing").execute(&mut *tx).await?;
            outcomes.push(one);
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => {
            for (f, outcome) in batch.into_iter().zip(outcomes) {
                // A caller that went away (client disconnected) no longer needs its answer.
                let _ = f.done.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, filings = batch.len(), "group commit of request intake failed");
            for f in batch {
                let _ = f
                    .done
                    .send(Err(StoreError::Batch(format!("the commit failed: {e}"))));
            }
        }
    }
}
