//! Figures for the `/metrics` scrape: the job queue, bookings and the connection pools, each read
//! with one cheap aggregate query (or none), so a scrape every few seconds costs little.

use crate::{read, Pool, Store, StoreError};

/// The queued jobs of one kind in one state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobQueueRow {
    pub kind: String,
    /// `pending`, `running` or `failed` (finished jobs are not counted).
    pub state: String,
    pub count: i64,
    /// For pending jobs: the earliest `run_at` among those already due (UTC seconds), if any.
    pub oldest_due: Option<i64>,
}

/// How much of one connection pool is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `main` (PostgreSQL), or `read` / `write` (SQLite keeps a one-connection writer apart) and
    /// `inline` (SQLite's hot reads, run on the calling thread).
    pub pool: &'static str,
    /// Connections open now, idle or in use.
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// The unfinished jobs per kind and state, with the oldest due pending job of each kind.
    #[tracing::instrument(name = "Measuring the job queue per kind", skip_all)]
    pub async fn job_queue(&self, now: i64) -> Result<Vec<JobQueueRow>, StoreError> {
        // `state IN (…)` lets the jobs_due index skip the finished jobs, which pile up.
        let rows = read!(self, |p| sqlx::query_as(
            "SELECT kind, state, COUNT(*) AS count,
                    MIN(CASE WHEN state = 'pending' AND run_at <= $1 THEN run_at END) AS oldest_due
             FROM jobs WHERE state IN ('pending', 'running', 'failed')
             GROUP BY kind, state ORDER BY kind, state"
        )
        .bind(now)
        .fetch_all(p)
        .await?);
        Ok(rows)
    }

    /// Meetings per state; every row is one booking (a reschedule books a new row).
    #[tracing::instrument(name = "Counting meetings by state", skip_all)]
    pub async fn meeting_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = read!(self, |p| sqlx::query_as(
            "SELECT state, COUNT(*) FROM meetings GROUP BY state ORDER BY state"
        )
        .fetch_all(p)
        .await?);
        Ok(rows)
    }

    /// The connection pools' use, as the pools count it (no query).
    pub fn pool_use(&self) -> Vec<PoolUse> {
        fn one<DB: sqlx::Database>(name: &'static str, p: &sqlx::Pool<DB>) -> PoolUse {
            PoolUse {
                pool: name,
                open: p.size(),
                idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                max: p.options().get_max_connections(),
            }
        }
        match &self.pool {
            Pool::Sqlite {
                read,
                write,
                inline,
            } => {
                let (open, idle, max) = inline.usage();
                vec![
                    one("read", read),
                    one("write", write),
                    PoolUse {
                        pool: "inline",
                        open,
                        idle,
                        max,
                    },
                ]
            }
            Pool::Postgres(p) => vec![one("main", p)],
        }
    }
}
