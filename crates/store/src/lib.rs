//! Persistence for fasttrack: one `Store` over SQLite (embedded default) or PostgreSQL (scale-out).
//!
//! Both backends run the same SQL text (SQLite accepts `$1` placeholders); only the migrations
//! differ. The store persists decisions the core has made; it decides nothing itself, except what
//! only the database can guarantee (uniqueness, atomic booking).
//!
//! A page size is written `LIMIT CAST($n AS BIGINT)`, never `LIMIT $n`: SQLite's planner reads a
//! bare bound `LIMIT` (and a bound `LIKE` pattern) and so marks the statement to be re-prepared
//! whenever it is bound again, that is on every call: about a sixth of the server's CPU on the
//! hot read paths (BENCHMARKS.md).
#![forbid(unsafe_code)]

mod audit;
pub mod backup;
mod bulk;
mod calendars;
mod catalogue;
mod directory;
mod engagements;
mod error;
mod group_commit;
mod inline;
pub mod jobs;
mod meetings;
mod metrics;
mod models;
mod oidc;
mod orgs;
mod regions;
mod relationships;
mod requests;
mod settings;
mod subscriptions;
mod users;
mod webhooks;
mod widget;

pub use audit::{AuditCtx, AuditFilter};
pub use backup::{Backup, BackupError};
pub use bulk::{BulkPartner, BulkStaff, BulkTenant};
pub use calendars::{
    parse_working_hours, region_calendar, SchedulingData, SlaSettings, StaffRow, TimeOff,
};
pub use engagements::{
    task_id, EngagementFilter, EngagementMeeting, EngagementRow, EngagementWrite, KeyCount,
    LanguageCapacity, OverdueTask, StoredEngagement, TaskComment,
};
pub use error::StoreError;
pub use jobs::Job;
pub use meetings::{Meeting, MeetingFilter, NewMeeting, RequestPosition, TimedJob};
pub use metrics::{JobQueueRow, PoolUse};
pub use models::*;
pub use oidc::{AttemptRefused, ProviderWrite, SignInAttempt, SignInProvider};
pub use requests::{JobSpec, Request, RequestEventRow, RequestFilter, Transition};
pub use settings::MeetingPlanRow;
pub use webhooks::Webhook;
pub use widget::WidgetToken;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    /// SQLite allows one writer at a time: a one-connection pool serialises writes in process,
    /// so transactions never fail with SQLITE_BUSY, while readers use their own pool (WAL).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// The hot reads by index, run on the calling thread (`inline`).
        inline: std::sync::Arc<inline::InlineReader>,
    },
    Postgres(PgPool),
}

/// The fasttrack database, on either backend.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Request intake's group commit (see `group_commit`).
    intake: group_commit::IntakeWriter,
    /// The managers each filing mails, by region (`Store::manager_emails`).
    managers: std::sync::Arc<requests::RegionManagers>,
    /// Each partner's customers, for "My customers" (`Store::partner_customers`).
    directory: std::sync::Arc<directory::PartnerDirectory>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print connection options: they may hold a password.
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

/// Runs `$body` with `$p` bound to the pool for reads, whichever backend it is.
macro_rules! read {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite { read: $p, .. } => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` inside a write transaction bound to `$tx`, committing when it returns `Ok`.
macro_rules! write_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite { write, .. } => {
                let mut $tx = write.begin().await?;
                let out: Result<_, $crate::StoreError> = async { $body }.await;
                match out {
                    Ok(v) => {
                        $tx.commit().await?;
                        Ok(v)
                    }
                    Err(e) => Err(e),
                }
            }
            $crate::Pool::Postgres(p) => {
                let mut $tx = p.begin().await?;
                let out: Result<_, $crate::StoreError> = async { $body }.await;
                match out {
                    Ok(v) => {
                        $tx.commit().await?;
                        Ok(v)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    };
}
pub(crate) use {read, write_tx};

/// A PostgreSQL connection idle this long is pinged before it is used again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(10);

impl Store {
    /// Opens (creating if needed) the database at `url` and runs its migrations.
    ///
    /// `url` is `sqlite://path` / `sqlite:path` / a bare path for SQLite, or `postgres://…`.
    #[tracing::instrument(name = "Opening the database", skip_all)]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection every time it leaves the pool: a round trip to the
                // server before each statement. A busy connection has just proved itself, so
                // only one idle for a while (the kind a restart or a firewall breaks) is pinged.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_WHEN_IDLE_FOR {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Store {
                intake: group_commit::IntakeWriter::start_postgres(pool.clone()),
                managers: Default::default(),
                directory: Default::default(),
                pool: Pool::Postgres(pool),
            }
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                // FULL: a commit is on disk before it is acknowledged (SPEC §4 "Reliable").
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // No ping before each use (sqlx's default): the connection is in this process, and
            // the ping was one more hand-off to its thread for every statement (BENCHMARKS.md).
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .connect_with(opts.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(opts.read_only(true))
                .await?;
            // A connection per runtime worker thread (tokio starts one per core) and as many
            // again, so a caller rarely finds them all taken.
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            let inline = std::sync::Arc::new(inline::InlineReader::open(path, workers * 2)?);
            Store {
                intake: group_commit::IntakeWriter::start(write.clone()),
                managers: Default::default(),
                directory: Default::default(),
                pool: Pool::Sqlite {
                    read,
                    write,
                    inline,
                },
            }
        };
        Ok(store)
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Answers only when the database answers.
    #[tracing::instrument(name = "Pinging the database", skip_all)]
    pub async fn ping(&self) -> Result<(), StoreError> {
        read!(self, |p| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    /// Whether the database holds no organization yet (a fresh install).
    #[tracing::instrument(name = "Checking whether the database is empty", skip_all)]
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM organizations"
        )
        .fetch_one(p)
        .await?);
        Ok(n == 0)
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite {
                read,
                write,
                inline,
            } => {
                inline.close();
                read.close().await;
                write.close().await;
            }
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// A new time-ordered identifier (UUID v7): ids sort by creation, which keyset pagination relies on.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A page request: items after `after` (an id from the previous page), at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: i64,
}

/// A page of results and the cursor of the next page, when there is one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more exist.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> String) -> Paged<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id)
        } else {
            None
        };
        Paged { items: rows, next }
    }
}

/// A store on a new SQLite file of its own, deleted when dropped: for tests that need the real
/// schema and SQLite's own answers (plans, compile options).
#[cfg(test)]
pub(crate) struct TempSqlite {
    pub(crate) store: Store,
    path: String,
}

#[cfg(test)]
impl TempSqlite {
    pub(crate) async fn new() -> TempSqlite {
        let path = std::env::temp_dir().join(format!("fasttrack-test-{}.db", new_id()));
        let path = path.to_str().expect("a UTF-8 temporary path").to_string();
        let store = Store::connect(&path).await.expect("a new database");
        TempSqlite { store, path }
    }

    /// The read pool.
    pub(crate) fn read(&self) -> &SqlitePool {
        match &self.store.pool {
            Pool::Sqlite { read, .. } => read,
            Pool::Postgres(_) => panic!("a path opens SQLite"),
        }
    }

    /// SQLite's plan for `sql` with `args`: the `detail` of each step.
    pub(crate) async fn query_plan(&self, sql: &str, args: &[inline::Arg<'_>]) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let steps: Vec<(i64, i64, i64, String)> = inline::bound!(explain.as_str(), args)
            .fetch_all(self.read())
            .await
            .expect("a query plan");
        steps.into_iter().map(|(_, _, _, detail)| detail).collect()
    }
}

#[cfg(test)]
impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TempSqlite;

    #[test]
    fn no_statement_binds_a_bare_limit_which_sqlite_would_re_prepare_on_every_call() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("the crate's sources") {
            let path = entry.expect("a source file").path();
            // This file names the forbidden form in its doc.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("lib.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            read += 1;
            for (n, line) in text.lines().enumerate() {
                assert!(
                    !line.contains("LIMIT $"),
                    "{}:{}: write LIMIT CAST($n AS BIGINT) (see the crate's doc)",
                    path.display(),
                    n + 1
                );
            }
        }
        assert!(read > 10, "only {read} source files found in {dir}");
    }

    /// `.cargo/config.toml` builds SQLite without the two locks every connection of the process
    /// would otherwise share (BENCHMARKS.md): a build that lost the setting fails here.
    #[tokio::test]
    async fn sqlite_is_built_without_locks_that_every_connection_shares() {
        let db = TempSqlite::new().await;
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(db.read())
            .await
            .expect("the compile options");
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "one page-cache group for all connections: {options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "memory statistics lock every allocation: {options:?}"
        );
    }
}
