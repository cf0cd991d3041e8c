//! Whole-database backup and restore: a versioned JSON document of every table, read in one
//! consistent transaction and written back into an empty database of either backend.
//!
//! Tables and columns are read from the database's own catalogue (`pragma_table_list` /
//! `information_schema`), never from a list kept here, so a table added by a later migration is
//! carried without anyone remembering to add it (only [`DERIVED`] tables are left out); a column
//! of a type the document cannot carry stops the export with an error naming it rather than being
//! skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::{Pool, Store, StoreError};

/// The `format` of every backup document.
pub const FORMAT: &str = "fasttrack-backup";
/// The version of the document's layout (not of the schema: that is `schema_version`).
pub const VERSION: i64 = 1;

/// Tables the migrations fill with defaults: a fresh database has rows there, and an import
/// replaces them with the backup's.
const SEEDED_BY_MIGRATIONS: &[&str] = &["sla_settings"];

/// Tables triggers keep from other tables' rows: left out of a backup, since restoring those rows
/// rebuilds them.
const DERIVED: &[&str] = &["scheduling_version", "partner_directory_version"];

/// Fails naming every table of `$schema` that holds a row (but those the migrations seed), on
/// either backend's connection `$tx`.
macro_rules! ensure_empty {
    ($tx:expr, $schema:expr) => {{
        let mut found = Vec::new();
        for t in $schema {
            if SEEDED_BY_MIGRATIONS.contains(&t.name.as_str()) {
                continue;
            }
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", ident(&t.name));
            let any: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut *$tx)
                .await?;
            if any {
                found.push(t.name.clone());
            }
        }
        non_empty(found)
    }};
}

/// Rows inserted per statement: well under SQLite's and PostgreSQL's limits on bound values.
const VALUES_PER_STATEMENT: usize = 4000;

/// What can go wrong taking or restoring a backup.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The document is not a backup this version can read (the message says where and why).
    #[error("the backup is not valid: {0}")]
    Invalid(String),
    /// The backup was made with another schema than this database's.
    #[error("the backup has schema version {backup}, this database {database}: restore it with the fasttrack release that made it, then upgrade")]
    SchemaMismatch { backup: i64, database: i64 },
    /// The target database already holds data: an import never merges.
    #[error("the database is not empty (rows in {}); import only into a new, empty database", .0.join(", "))]
    NotEmpty(Vec<String>),
    /// The schema has something the document format cannot carry.
    #[error("cannot back up: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(StoreError::from(e))
    }
}

/// A whole database as a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Always [`FORMAT`].
    pub format: String,
    /// The document layout's version, [`VERSION`].
    pub version: i64,
    /// The newest migration applied to the database it came from.
    pub schema_version: i64,
    /// When it was taken (RFC 3339, UTC).
    pub exported_at: String,
    /// `sqlite` or `postgres`: where it came from (informational).
    pub source: String,
    /// Every table by name.
    pub tables: BTreeMap<String, TableData>,
}

/// One table's columns and rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableData {
    pub columns: Vec<ColumnDef>,
    /// Each row's values in `columns` order: JSON null, integers, booleans, strings, numbers.
    pub rows: Vec<Vec<Value>>,
}

/// A column's name and portable type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

/// The types a backup carries, the same on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Integer,
    Boolean,
    Text,
    Real,
}

impl ColumnType {
    /// The portable type of a declared SQL type (SQLite's declared type or PostgreSQL's
    /// `data_type`); `None` for types a backup cannot carry yet.
    fn from_sql(declared: &str) -> Option<ColumnType> {
        match declared.trim().to_ascii_lowercase().as_str() {
            "integer" | "int" | "bigint" | "smallint" | "int2" | "int4" | "int8" => {
                Some(ColumnType::Integer)
            }
            "boolean" | "bool" => Some(ColumnType::Boolean),
            "text" | "character varying" | "varchar" | "character" | "char" => {
                Some(ColumnType::Text)
            }
            "real" | "double precision" | "double" | "float" | "float8" | "float4" => {
                Some(ColumnType::Real)
            }
            _ => None,
        }
    }

    /// Whether `v` is a value of this type (or null).
    fn admits(self, v: &Value) -> bool {
        match (self, v) {
            (_, Value::Null) => true,
            (ColumnType::Integer, Value::Number(n)) => n.is_i64(),
            (ColumnType::Boolean, Value::Bool(_)) => true,
            (ColumnType::Text, Value::String(_)) => true,
            (ColumnType::Real, Value::Number(_)) => true,
            _ => false,
        }
    }
}

/// A table as the database describes it.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// PostgreSQL identity columns (their sequences are moved past the restored ids).
    pub identity: Vec<String>,
    /// Foreign keys: (column, referenced table, referenced column).
    pub references: Vec<(String, String, String)>,
}

/// `name` quoted as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables in an order where every table comes after the tables it refers to.
fn insert_order(tables: &[TableSchema]) -> Result<Vec<&TableSchema>, BackupError> {
    let mut placed: HashSet<&str> = HashSet::new();
    let mut order = Vec::with_capacity(tables.len());
    let mut left: Vec<&TableSchema> = tables.iter().collect();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    while !left.is_empty() {
        let (ready, waiting): (Vec<&TableSchema>, Vec<&TableSchema>) =
            left.into_iter().partition(|t| {
                t.references
                    .iter()
                    .all(|(_, parent, _)| parent == &t.name || placed.contains(parent.as_str()))
            });
        if ready.is_empty() {
            let names: Vec<&str> = waiting.iter().map(|t| t.name.as_str()).collect();
            return Err(BackupError::Unsupported(format!(
                "the foreign keys between {} form a cycle",
                names.join(", ")
            )));
        }
        for t in ready {
            placed.insert(t.name.as_str());
            order.push(t);
        }
        left = waiting;
    }
    Ok(order)
}

/// Orders a table's rows so that a row referring to another row of the same table (a partner of
/// record, a rescheduled meeting) comes after it.
fn order_self_references(
    table: &TableSchema,
    columns: &[String],
    rows: Vec<Vec<Value>>,
) -> Result<Vec<Vec<Value>>, BackupError> {
    let links: Vec<(usize, usize)> = table
        .references
        .iter()
        .filter(|(_, parent, _)| parent == &table.name)
        .filter_map(|(col, _, to)| {
            let from = columns.iter().position(|c| c == col)?;
            let to = columns.iter().position(|c| c == to)?;
            Some((from, to))
        })
        .collect();
    if links.is_empty() {
        return Ok(rows);
    }
    let key = |v: &Value| v.to_string();
    let mut present: Vec<HashSet<String>> = vec![HashSet::new(); links.len()];
    for row in &rows {
        for (i, (_, to)) in links.iter().enumerate() {
            present[i].insert(key(&row[*to]));
        }
    }
    let mut placed: Vec<HashSet<String>> = vec![HashSet::new(); links.len()];
    let mut out = Vec::with_capacity(rows.len());
    let mut left = rows;
    while !left.is_empty() {
        let before = left.len();
        let mut waiting = Vec::new();
        for row in left {
            // A reference to a row that is not in the backup is left for the database to judge.
            // A row naming itself is inserted by the statement that checks it, so it is ready.
            let ready = links.iter().enumerate().all(|(i, (from, to))| {
                let v = &row[*from];
                v.is_null()
                    || !present[i].contains(&key(v))
                    || placed[i].contains(&key(v))
                    || key(v) == key(&row[*to])
            });
            if ready {
                for (i, (_, to)) in links.iter().enumerate() {
                    placed[i].insert(key(&row[*to]));
                }
                out.push(row);
            } else {
                waiting.push(row);
            }
        }
        if waiting.len() == before {
            return Err(BackupError::Invalid(format!(
                "rows of table {} refer to each other in a cycle",
                table.name
            )));
        }
        left = waiting;
    }
    Ok(out)
}

/// A total order on values, so that a table's rows come out in the same order from either
/// backend (their text collations differ).
fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn cmp_rows(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| cmp_values(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Decodes column `i` of `row` as a JSON value of type `kind`.
macro_rules! decode {
    ($row:expr, $i:expr, $kind:expr, $table:expr, $col:expr) => {{
        let bad = |e: sqlx::Error| StoreError::Corrupt(format!("{}.{}: {e}", $table, $col));
        match $kind {
            ColumnType::Integer => $row
                .try_get::<Option<i64>, _>($i)
                .map_err(bad)?
                .map(Value::from),
            ColumnType::Boolean => $row
                .try_get::<Option<bool>, _>($i)
                .map_err(bad)?
                .map(Value::from),
            ColumnType::Text => $row
                .try_get::<Option<String>, _>($i)
                .map_err(bad)?
                .map(Value::from),
            ColumnType::Real => $row
                .try_get::<Option<f64>, _>($i)
                .map_err(bad)?
                .map(Value::from),
        }
        .unwrap_or(Value::Null)
    }};
}

/// Binds `v` (already checked against `kind`) to `$q`, typed as the column is even when null.
macro_rules! bind_value {
    ($q:expr, $v:expr, $kind:expr) => {{
        let v: &Value = $v;
        match $kind {
            ColumnType::Integer => $q.bind(v.as_i64()),
            ColumnType::Boolean => $q.bind(v.as_bool()),
            ColumnType::Text => $q.bind(v.as_str().map(str::to_string)),
            ColumnType::Real => $q.bind(v.as_f64()),
        }
    }};
}

/// Reads every table's rows inside the transaction `$tx`; `$select` gives a column's select
/// expression (PostgreSQL widens integers to `bigint` so one decoder serves every width).
macro_rules! read_tables {
    ($tx:expr, $schema:expr, $select:expr) => {{
        let mut tables = BTreeMap::new();
        for t in $schema {
            if t.columns.is_empty() {
                continue;
            }
            let cols: Vec<String> = t.columns.iter().map($select).collect();
            let sql = format!("SELECT {} FROM {}", cols.join(", "), ident(&t.name));
            let fetched = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *$tx)
                .await?;
            let mut rows = Vec::with_capacity(fetched.len());
            for row in &fetched {
                let mut values = Vec::with_capacity(t.columns.len());
                for (i, c) in t.columns.iter().enumerate() {
                    values.push(decode!(row, i, c.kind, t.name, c.name));
                }
                rows.push(values);
            }
            rows.sort_by(|a, b| cmp_rows(a, b));
            tables.insert(
                t.name.clone(),
                TableData {
                    columns: t.columns.clone(),
                    rows,
                },
            );
        }
        tables
    }};
}

/// Inserts the checked `$backup` into the tables of `$schema` inside `$tx`, in foreign-key order.
macro_rules! write_tables {
    ($tx:expr, $schema:expr, $backup:expr, $postgres:expr) => {{
        let mut counts = BTreeMap::new();
        for t in insert_order($schema)? {
            let Some(data) = $backup.tables.get(&t.name) else {
                continue;
            };
            if SEEDED_BY_MIGRATIONS.contains(&t.name.as_str()) {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {}",
                    ident(&t.name)
                )))
                .execute(&mut *$tx)
                .await?;
            }
            let names: Vec<String> = data.columns.iter().map(|c| c.name.clone()).collect();
            let rows = order_self_references(t, &names, data.rows.clone())?;
            counts.insert(t.name.clone(), rows.len());
            if rows.is_empty() {
                continue;
            }
            let per_statement = (VALUES_PER_STATEMENT / names.len().max(1)).max(1);
            let overriding = if $postgres && !t.identity.is_empty() {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            };
            let column_list: Vec<String> = names.iter().map(|n| ident(n)).collect();
            for chunk in rows.chunks(per_statement) {
                let mut n = 0;
                let tuples: Vec<String> = chunk
                    .iter()
                    .map(|_| {
                        let ps: Vec<String> = names
                            .iter()
                            .map(|_| {
                                n += 1;
                                format!("${n}")
                            })
                            .collect();
                        format!("({})", ps.join(", "))
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO {} ({}){overriding} VALUES {}",
                    ident(&t.name),
                    column_list.join(", "),
                    tuples.join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    for (v, c) in row.iter().zip(&data.columns) {
                        q = bind_value!(q, v, c.kind);
                    }
                }
                q.execute(&mut *$tx).await?;
            }
        }
        counts
    }};
}

impl Store {
    /// The newest migration applied to this database.
    #[tracing::instrument(name = "Reading the schema version", skip_all)]
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let v: Option<i64> = crate::read!(self, |p| sqlx::query_scalar(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success"
        )
        .fetch_one(p)
        .await?);
        Ok(v.unwrap_or(0))
    }

    /// The whole database as a [`Backup`], read in one transaction (a consistent snapshot while
    /// the server keeps running). `now` is stamped as `exported_at`.
    #[tracing::instrument(name = "Exporting the whole database", skip_all)]
    pub async fn export_backup(&self, now: jiff::Timestamp) -> Result<Backup, BackupError> {
        let schema_version = self.schema_version().await?;
        let (source, tables) = match &self.pool {
            Pool::Sqlite { read, .. } => {
                // A read transaction on a WAL database sees one snapshot from its first read on.
                let mut tx = read.begin().await?;
                let schema = sqlite_schema(&mut tx).await?;
                let tables = read_tables!(tx, &schema, |c: &ColumnDef| ident(&c.name));
                tx.commit().await?;
                ("sqlite", tables)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                let schema = postgres_schema(&mut tx).await?;
                let tables = read_tables!(tx, &schema, |c: &ColumnDef| match c.kind {
                    ColumnType::Integer =>
                        format!("CAST({} AS bigint) AS {}", ident(&c.name), ident(&c.name)),
                    ColumnType::Real => format!(
                        "CAST({} AS double precision) AS {}",
                        ident(&c.name),
                        ident(&c.name)
                    ),
                    _ => ident(&c.name),
                });
                tx.commit().await?;
                ("postgres", tables)
            }
        };
        Ok(Backup {
            format: FORMAT.into(),
            version: VERSION,
            schema_version,
            exported_at: now.to_string(),
            source: source.into(),
            tables,
        })
    }

    /// Restores `backup` into this database, which must be empty (freshly migrated), in one
    /// transaction: on any error nothing is written. Returns the rows restored per table.
    #[tracing::instrument(name = "Importing a whole-database backup", skip_all)]
    pub async fn import_backup(
        &self,
        backup: &Backup,
    ) -> Result<BTreeMap<String, usize>, BackupError> {
        let database = self.schema_version().await?;
        check_header(backup, database)?;
        let counts = match &self.pool {
            Pool::Sqlite { write, .. } => {
                let mut tx = write.begin().await?;
                let schema = sqlite_schema(&mut tx).await?;
                check_tables(backup, &schema)?;
                ensure_empty!(tx, &schema)?;
                let counts = write_tables!(tx, &schema, backup, false);
                tx.commit().await?;
                counts
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                let schema = postgres_schema(&mut tx).await?;
                check_tables(backup, &schema)?;
                ensure_empty!(tx, &schema)?;
                let counts = write_tables!(tx, &schema, backup, true);
                // Identity columns were given explicit values: move their sequences past them,
                // or the next job or audit entry would collide with a restored one.
                for t in &schema {
                    for col in &t.identity {
                        let sql = format!(
                            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({c}), 1), MAX({c}) IS NOT NULL) FROM {t}",
                            c = ident(col),
                            t = ident(&t.name)
                        );
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(&t.name)
                            .bind(col)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                counts
            }
        };
        Ok(counts)
    }
}

/// Parses a backup document, with errors that say where it went wrong.
pub fn parse_backup(text: &str) -> Result<Backup, BackupError> {
    // Look at the header first: a document of another format or version deserves that answer,
    // not a complaint about a field this version does not know.
    let head: Value = serde_json::from_str(text).map_err(|e| {
        BackupError::Invalid(format!(
            "not JSON (truncated or damaged?): {e} at line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    match head.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(BackupError::Invalid(format!(
                "format is '{other}', expected '{FORMAT}'"
            )))
        }
        None => {
            return Err(BackupError::Invalid(format!(
                "no \"format\": \"{FORMAT}\": not a fasttrack backup"
            )))
        }
    }
    match head.get("version").and_then(Value::as_i64) {
        Some(VERSION) => {}
        Some(v) => {
            return Err(BackupError::Invalid(format!(
                "document version {v} is not supported (this fasttrack reads version {VERSION})"
            )))
        }
        None => return Err(BackupError::Invalid("no document \"version\"".into())),
    }
    serde_json::from_value(head).map_err(|e| BackupError::Invalid(e.to_string()))
}

/// Everything an import checks of a document before it writes a row, against a schema given
/// here rather than read from a database: the header, every table's columns and values, the
/// tables' foreign-key order and the order of rows that refer to rows of their own table.
/// Returns the rows per table an import would write. [`Store::import_backup`] runs the same
/// checks against the database's own schema; this is for the fuzz target
/// (`fuzz/fuzz_targets/backup_import.rs`) and tests.
pub fn check_document(
    backup: &Backup,
    schema_version: i64,
    schema: &[TableSchema],
) -> Result<BTreeMap<String, usize>, BackupError> {
    check_header(backup, schema_version)?;
    check_tables(backup, schema)?;
    let mut counts = BTreeMap::new();
    for t in insert_order(schema)? {
        let Some(data) = backup.tables.get(&t.name) else {
            continue;
        };
        let names: Vec<String> = data.columns.iter().map(|c| c.name.clone()).collect();
        let rows = order_self_references(t, &names, data.rows.clone())?;
        counts.insert(t.name.clone(), rows.len());
    }
    Ok(counts)
}

fn check_header(backup: &Backup, database: i64) -> Result<(), BackupError> {
    if backup.format != FORMAT {
        return Err(BackupError::Invalid(format!(
            "format is '{}', expected '{FORMAT}'",
            backup.format
        )));
    }
    if backup.version != VERSION {
        return Err(BackupError::Invalid(format!(
            "document version {} is not supported (this fasttrack reads version {VERSION})",
            backup.version
        )));
    }
    if backup.schema_version != database {
        return Err(BackupError::SchemaMismatch {
            backup: backup.schema_version,
            database,
        });
    }
    Ok(())
}

/// Checks the document's tables, columns and values against the database's schema.
fn check_tables(backup: &Backup, schema: &[TableSchema]) -> Result<(), BackupError> {
    let by_name: HashMap<&str, &TableSchema> =
        schema.iter().map(|t| (t.name.as_str(), t)).collect();
    for (name, data) in &backup.tables {
        let Some(t) = by_name.get(name.as_str()) else {
            return Err(BackupError::Invalid(format!(
                "table '{name}' does not exist in this database"
            )));
        };
        let mut seen = BTreeSet::new();
        for c in &data.columns {
            if !seen.insert(c.name.as_str()) {
                return Err(BackupError::Invalid(format!(
                    "column {name}.{} appears twice",
                    c.name
                )));
            }
            match t.columns.iter().find(|d| d.name == c.name) {
                None => {
                    return Err(BackupError::Invalid(format!(
                        "column {name}.{} does not exist in this database",
                        c.name
                    )))
                }
                Some(d) if d.kind != c.kind => {
                    return Err(BackupError::Invalid(format!(
                        "column {name}.{} is {:?} in the backup but {:?} here",
                        c.name, c.kind, d.kind
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(missing) = t.columns.iter().find(|d| !seen.contains(d.name.as_str())) {
            return Err(BackupError::Invalid(format!(
                "the backup lacks column {name}.{}",
                missing.name
            )));
        }
        for (i, row) in data.rows.iter().enumerate() {
            if row.len() != data.columns.len() {
                return Err(BackupError::Invalid(format!(
                    "row {i} of {name} has {} values for {} columns",
                    row.len(),
                    data.columns.len()
                )));
            }
            for (v, c) in row.iter().zip(&data.columns) {
                if !c.kind.admits(v) {
                    return Err(BackupError::Invalid(format!(
                        "row {i} of {name}: {} is {v}, not a value of type {:?}",
                        c.name, c.kind
                    )));
                }
            }
        }
    }
    if let Some(t) = schema.iter().find(|t| !backup.tables.contains_key(&t.name)) {
        return Err(BackupError::Invalid(format!(
            "the backup lacks table '{}' (incomplete document?)",
            t.name
        )));
    }
    Ok(())
}

/// Turns the non-empty tables found into an error.
fn non_empty(found: Vec<String>) -> Result<(), BackupError> {
    if found.is_empty() {
        Ok(())
    } else {
        Err(BackupError::NotEmpty(found))
    }
}

fn column_def(table: &str, name: String, declared: &str) -> Result<ColumnDef, BackupError> {
    let kind = ColumnType::from_sql(declared).ok_or_else(|| {
        BackupError::Unsupported(format!(
            "column {table}.{name} has type '{declared}', which backups do not carry yet (teach crates/store/src/backup.rs)"
        ))
    })?;
    Ok(ColumnDef { name, kind })
}

/// The application's tables on SQLite: ordinary tables only (not the full-text index's virtual
/// and shadow tables, which its triggers rebuild, nor SQLite's and sqlx's own).
async fn sqlite_schema(tx: &mut sqlx::SqliteConnection) -> Result<Vec<TableSchema>, BackupError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pragma_table_list
         WHERE schema = 'main' AND type = 'table'
           AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'
         ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names.into_iter().filter(|n| !DERIVED.contains(&n.as_str())) {
        let cols: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut *tx)
                .await?;
        let columns = cols
            .into_iter()
            .map(|(c, t)| column_def(&name, c, &t))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *tx)
        .await?;
        // A reference without a column names the parent's primary key; every key here is `id`.
        let references = refs
            .into_iter()
            .map(|(from, table, to)| (from, table, to.unwrap_or_else(|| "id".into())))
            .collect();
        out.push(TableSchema {
            name,
            columns,
            identity: Vec::new(),
            references,
        });
    }
    Ok(out)
}

/// The application's tables on PostgreSQL (the current schema's base tables but sqlx's own).
async fn postgres_schema(tx: &mut sqlx::PgConnection) -> Result<Vec<TableSchema>, BackupError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name <> '_sqlx_migrations'
         ORDER BY table_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(names.len());
    for name in names.into_iter().filter(|n| !DERIVED.contains(&n.as_str())) {
        let cols: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_identity::text
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *tx)
        .await?;
        let identity = cols
            .iter()
            .filter(|(_, _, id)| id == "YES")
            .map(|(c, _, _)| c.clone())
            .collect();
        let columns = cols
            .into_iter()
            .map(|(c, t, _)| column_def(&name, c, &t))
            .collect::<Result<Vec<_>, _>>()?;
        let references: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT a.attname::text, parent.relname::text, pa.attname::text
             FROM pg_constraint c
             JOIN pg_class child ON child.oid = c.conrelid
             JOIN pg_namespace n ON n.oid = child.relnamespace
             JOIN pg_class parent ON parent.oid = c.confrelid
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND child.relname = $1
             ORDER BY c.conname",
        )
        .bind(&name)
        .fetch_all(&mut *tx)
        .await?;
        out.push(TableSchema {
            name,
            columns,
            identity,
            references,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, refs: &[(&str, &str)]) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: vec![],
            identity: vec![],
            references: refs
                .iter()
                .map(|(c, p)| (c.to_string(), p.to_string(), "id".to_string()))
                .collect(),
        }
    }

    #[test]
    fn tables_are_restored_after_the_tables_they_refer_to() {
        let tables = [
            table("users", &[("org_id", "organizations")]),
            table(
                "organizations",
                &[("region_id", "regions"), ("partner", "organizations")],
            ),
            table("regions", &[]),
        ];
        let order: Vec<&str> = insert_order(&tables)
            .expect("no cycle")
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(order, ["regions", "organizations", "users"]);
    }

    #[test]
    fn a_row_that_refers_to_itself_is_not_a_cycle() {
        let t = table("orgs", &[("partner", "orgs")]);
        let cols = vec!["id".to_string(), "partner".to_string()];
        let rows = vec![
            vec![Value::from("b"), Value::from("a")],
            vec![Value::from("a"), Value::from("a")],
        ];
        let ordered = order_self_references(&t, &cols, rows).expect("ordered");
        let ids: Vec<&str> = ordered.iter().filter_map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        let two = vec![
            vec![Value::from("a"), Value::from("b")],
            vec![Value::from("b"), Value::from("a")],
        ];
        assert!(matches!(
            order_self_references(&t, &cols, two),
            Err(BackupError::Invalid(_))
        ));
    }

    #[test]
    fn a_document_is_checked_against_a_given_schema_as_an_import_would() {
        let mut orgs = table("orgs", &[("partner", "orgs")]);
        orgs.columns = vec![
            ColumnDef {
                name: "id".into(),
                kind: ColumnType::Text,
            },
            ColumnDef {
                name: "partner".into(),
                kind: ColumnType::Text,
            },
        ];
        let schema = [orgs];
        let doc = |rows: &str| {
            parse_backup(&format!(
                r#"{{"format":"fasttrack-backup","version":1,"schema_version":4,"exported_at":"x","source":"sqlite",
                "tables":{{"orgs":{{"columns":[{{"name":"id","type":"text"}},{{"name":"partner","type":"text"}}],"rows":{rows}}}}}}}"#
            ))
            .expect("parses")
        };
        let counts = check_document(&doc(r#"[["b","a"],["a",null]]"#), 4, &schema).expect("fits");
        assert_eq!(counts.get("orgs"), Some(&2));
        assert!(matches!(
            check_document(&doc("[]"), 5, &schema),
            Err(BackupError::SchemaMismatch {
                backup: 4,
                database: 5
            })
        ));
        for bad in [r#"[["a",1]]"#, r#"[["a"]]"#, r#"[["a","b"],["b","a"]]"#] {
            assert!(
                matches!(
                    check_document(&doc(bad), 4, &schema),
                    Err(BackupError::Invalid(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_foreign_key_cycle_between_tables_is_reported_not_looped_on() {
        let tables = [table("a", &[("b_id", "b")]), table("b", &[("a_id", "a")])];
        assert!(matches!(
            insert_order(&tables),
            Err(BackupError::Unsupported(_))
        ));
    }

    #[test]
    fn rows_referring_to_their_own_table_come_after_the_row_they_name() {
        let t = table("meetings", &[("replaces_id", "meetings")]);
        let cols = vec!["id".to_string(), "replaces_id".to_string()];
        let rows = vec![
            vec![Value::from("c"), Value::from("b")],
            vec![Value::from("b"), Value::from("a")],
            vec![Value::from("a"), Value::Null],
        ];
        let ordered = order_self_references(&t, &cols, rows).expect("ordered");
        let ids: Vec<&str> = ordered.iter().filter_map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn documents_of_another_format_or_version_or_cut_short_are_refused() {
        for (text, needle) in [
            (r#"{"format":"other","version":1}"#, "format"),
            (r#"{"format":"fasttrack-backup","version":2}"#, "version 2"),
            (
                r#"{"format":"fasttrack-backup","version":1,"tab"#,
                "not JSON",
            ),
            (r#"[1,2]"#, "not a fasttrack backup"),
            (
                r#"{"format":"fasttrack-backup","version":1}"#,
                "missing field",
            ),
        ] {
            match parse_backup(text) {
                Err(BackupError::Invalid(m)) => assert!(m.contains(needle), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn values_of_the_wrong_type_are_refused() {
        assert!(ColumnType::Integer.admits(&Value::from(3)));
        assert!(!ColumnType::Integer.admits(&Value::from(3.5)));
        assert!(!ColumnType::Integer.admits(&Value::from("3")));
        assert!(ColumnType::Boolean.admits(&Value::Null));
        assert!(!ColumnType::Text.admits(&serde_json::json!({"a": 1})));
    }

    #[test]
    fn declared_types_of_both_backends_map_to_the_same_portable_type() {
        for (sql, kind) in [
            ("BIGINT", ColumnType::Integer),
            ("bigint", ColumnType::Integer),
            ("INTEGER", ColumnType::Integer),
            ("integer", ColumnType::Integer),
            ("BOOLEAN", ColumnType::Boolean),
            ("boolean", ColumnType::Boolean),
            ("TEXT", ColumnType::Text),
            ("text", ColumnType::Text),
        ] {
            assert_eq!(ColumnType::from_sql(sql), Some(kind), "{sql}");
        }
        assert_eq!(ColumnType::from_sql("bytea"), None);
        assert_eq!(ColumnType::from_sql("timestamp with time zone"), None);
    }
}
