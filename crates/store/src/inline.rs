//! Reads on SQLite that run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is handed to that
//! thread and every row handed back, with a wake-up on each side. On the hot read paths (the
//! token behind every API call, a request, an organization, a partner's customers) that hand-off
//! cost more than SQLite's own work (BENCHMARKS.md). These statements read a few rows by index, in
//! microseconds, so they run where they are asked for, on connections of their own; PostgreSQL is
//! across a network and keeps sqlx. Both backends run the same SQL text and decode into the same
//! row types.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OpenFlags};

use crate::{Pool, Store, StoreError};

/// Statements kept prepared per connection: every inline read, with room to spare.
const PREPARED_PER_CONNECTION: usize = 64;

/// A parameter of an inline read, bindable on either driver.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Text(Some(s)) => ToSqlOutput::from(s),
            Arg::Int(Some(i)) => ToSqlOutput::from(i),
            Arg::Text(None) | Arg::Int(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// A row type that both drivers decode: sqlx on PostgreSQL, rusqlite on SQLite, by column name.
pub(crate) trait InlineRow:
    for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + Sized
{
    /// Decodes one SQLite row.
    fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`InlineRow`] for a struct whose fields are named as the statement's columns; the
/// struct literal makes the compiler hold the list to the struct.
macro_rules! inline_row {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::inline::InlineRow for $ty {
            fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok($ty { $($field: row.get(stringify!($field))?),* })
            }
        }
    };
}
pub(crate) use inline_row;

/// A statement that selects one value decodes into a one-tuple, as with sqlx's `query_as`, so the
/// same call serves both drivers.
impl<A> InlineRow for (A,)
where
    A: rusqlite::types::FromSql + Send + Unpin,
    for<'r> A: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?,))
    }
}

/// Read-only SQLite connections used from the calling thread, one caller at a time each.
pub(crate) struct InlineReader {
    connections: Vec<Mutex<Option<Connection>>>,
    next: AtomicUsize,
}

impl InlineReader {
    /// Opens `count` read-only connections to the database at `path` (already migrated).
    pub(crate) fn open(path: &str, count: usize) -> Result<InlineReader, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connections = (0..count.max(1))
            .map(|_| {
                let c = Connection::open_with_flags(path, flags)?;
                // A WAL reader waits only while the log is being recovered or reset, which takes
                // milliseconds; the calling thread waits with it.
                c.busy_timeout(Duration::from_secs(10))?;
                c.set_prepared_statement_cache_capacity(PREPARED_PER_CONNECTION);
                Ok(Mutex::new(Some(c)))
            })
            .collect::<Result<_, rusqlite::Error>>()?;
        Ok(InlineReader {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `f` on a free connection. Callers hold one for a statement's few microseconds, so
    /// with a connection per worker thread and a few more a free one is almost always there;
    /// otherwise the caller waits for one.
    fn with<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R, StoreError> {
        let n = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let guard = (0..n)
            .find_map(|i| self.connections[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.connections[start % n]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            });
        let conn = guard
            .as_ref()
            .ok_or(StoreError::Database(sqlx::Error::PoolClosed))?;
        Ok(f(conn)?)
    }

    /// Connections open, of them free this moment, and how many there are: for `/metrics`.
    pub(crate) fn usage(&self) -> (u32, u32, u32) {
        let (mut open, mut idle) = (0, 0);
        for c in &self.connections {
            match c.try_lock() {
                Ok(held) if held.is_some() => {
                    open += 1;
                    idle += 1;
                }
                Ok(_) => {}
                // Taken by a caller: open and busy.
                Err(_) => open += 1,
            }
        }
        let max = u32::try_from(self.connections.len()).unwrap_or(u32::MAX);
        (open, idle, max)
    }

    /// Closes every connection; later reads fail as sqlx's closed pools do.
    pub(crate) fn close(&self) {
        for c in &self.connections {
            c.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }

    fn rows<T: InlineRow>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            // The SQL numbers its parameters ($1, $2, …) and may use one twice or out of order:
            // bind by number, as sqlx does, not by position.
            for i in 1..=stmt.parameter_count() {
                let arg = stmt
                    .parameter_name(i)
                    .and_then(|name| name.strip_prefix('$'))
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| args.get(n.checked_sub(1)?))
                    .copied()
                    .ok_or_else(|| {
                        let name = stmt.parameter_name(i).unwrap_or("?").to_string();
                        rusqlite::Error::InvalidParameterName(format!(
                            "{name} (the statement was given {} parameters)",
                            args.len()
                        ))
                    })?;
                stmt.raw_bind_parameter(i, arg)?;
            }
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(T::from_inline(row)?);
            }
            Ok(out)
        })
    }
}

/// `sql` as a sqlx query with `args` bound in order, for whichever backend the pool is.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe($sql));
        for a in $args {
            q = match *a {
                $crate::inline::Arg::Text(v) => q.bind(v),
                $crate::inline::Arg::Int(v) => q.bind(v),
            };
        }
        q
    }};
}
#[cfg(test)]
pub(crate) use bound;

impl Store {
    /// Every row of `sql`: inline on SQLite, through sqlx on PostgreSQL. For statements that read
    /// a bounded number of rows by index; anything that may scan goes through sqlx's pool, which
    /// keeps the caller's thread free while it runs.
    pub(crate) async fn inline_rows<T: InlineRow>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StoreError> {
        match &self.pool {
            Pool::Sqlite { inline, .. } => inline.rows(sql, args),
            Pool::Postgres(p) => Ok(bound!(sql, args).fetch_all(p).await?),
        }
    }

    /// Every row of `sql` through sqlx's pool on either backend: for statements that may scan,
    /// with the same parameters as [`Store::inline_rows`].
    pub(crate) async fn pooled_rows<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StoreError>
    where
        T: InlineRow + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        Ok(crate::read!(self, |p| bound!(sql, args)
            .fetch_all(p)
            .await?))
    }

    /// The first row of `sql`, if any (see [`Store::inline_rows`]).
    pub(crate) async fn inline_row<T: InlineRow>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<T>, StoreError> {
        Ok(self.inline_rows(sql, args).await?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::Arg;
    use crate::{StoreError, TempSqlite};

    #[tokio::test]
    async fn inline_reads_bind_parameters_by_number_as_sqlx_does() {
        let db = TempSqlite::new().await;
        let sql =
            "SELECT $2 || '-' || $1 || '-' || $2 || '-' || COALESCE($3, 'null') || '-' || ($4 + 1)";
        let args = [
            Arg::from("a"),
            Arg::from("b"),
            Arg::Text(None),
            Arg::from(41_i64),
        ];
        let inline: Vec<(String,)> = db.store.inline_rows(sql, &args).await.expect("a row");
        let pooled: Vec<(String,)> = db.store.pooled_rows(sql, &args).await.expect("a row");
        assert_eq!(inline, vec![("b-a-b-null-42".to_string(),)]);
        assert_eq!(inline, pooled);
    }

    #[tokio::test]
    async fn an_inline_read_missing_a_parameter_fails_instead_of_reading_null() {
        let db = TempSqlite::new().await;
        let read = db
            .store
            .inline_rows::<(i64,)>(
                "SELECT COUNT(*) FROM users WHERE id = $1 OR email = $2",
                &[Arg::from("someone")],
            )
            .await;
        assert!(matches!(read, Err(StoreError::Inline(_))), "{read:?}");
    }

    #[tokio::test]
    async fn the_inline_connections_are_counted_as_a_pool_of_their_own() {
        let db = TempSqlite::new().await;
        let inline = db
            .store
            .pool_use()
            .into_iter()
            .find(|p| p.pool == "inline")
            .expect("an inline pool in the figures");
        assert!(inline.max >= 2, "{inline:?}");
        assert_eq!((inline.open, inline.idle), (inline.max, inline.max));
    }

    /// Without its row no change to the team would ever show in the caches keyed by it.
    #[tokio::test]
    async fn a_missing_scheduling_version_is_an_error_not_version_zero() {
        let db = TempSqlite::new().await;
        assert!(db.store.scheduling_version().await.is_ok());
        let other = rusqlite::Connection::open(&db.path).expect("a second connection");
        other
            .execute("DELETE FROM scheduling_version", [])
            .expect("the row deleted");
        let read = db.store.scheduling_version().await;
        assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    }

    #[tokio::test]
    async fn inline_reads_see_what_the_pool_wrote_and_stop_when_the_store_closes() {
        let db = TempSqlite::new().await;
        let sql = "SELECT COUNT(*) FROM organizations WHERE kind = $1";
        let before: Option<(i64,)> = db
            .store
            .inline_row(sql, &[Arg::from("partner")])
            .await
            .expect("a count");
        db.store
            .create_org(
                &crate::NewOrganization {
                    kind: "partner".into(),
                    name: "Contoso Partners".into(),
                    tenant_id: None,
                    region_id: None,
                    country: "IT".into(),
                    time_zone: "Europe/Rome".into(),
                    language: "it".into(),
                    domains: vec!["contoso.example".into()],
                    partner_of_record: None,
                },
                &crate::AuditCtx::default(),
            )
            .await
            .expect("a new partner");
        let after: Option<(i64,)> = db
            .store
            .inline_row(sql, &[Arg::from("partner")])
            .await
            .expect("a count");
        assert_eq!(after.map(|(n,)| n), before.map(|(n,)| n + 1));
        db.store.close().await;
        let closed = db
            .store
            .inline_row::<(i64,)>(sql, &[Arg::from("partner")])
            .await;
        assert!(closed.is_err(), "{closed:?}");
    }
}
