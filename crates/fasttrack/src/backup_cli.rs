//! `fasttrack export` and `fasttrack import`: the whole database as a versioned JSON backup,
//! restorable into an empty SQLite or PostgreSQL database.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use fasttrack_store::Store;

use crate::cli::DbArgs;

/// Where to export.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The backup file (written whole, then renamed into place); `-` or absent: standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// What to import.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A backup written by `fasttrack export`; `-` reads standard input.
    #[arg(long, short)]
    pub input: PathBuf,
}

/// Exports the database named by `args`.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.db.database_url)
        .await
        .context("opening the database")?;
    let backup = store.export_backup(jiff::Timestamp::now()).await;
    store.close().await;
    let backup = backup?;
    let text = serde_json::to_vec(&backup)?;
    let rows: usize = backup.tables.values().map(|t| t.rows.len()).sum();
    match args.output.as_deref() {
        None => write_stdout(&text)?,
        Some(p) if p == Path::new("-") => write_stdout(&text)?,
        Some(p) => write_atomically(p, &text)?,
    }
    eprintln!(
        "exported {rows} rows of {} tables (schema version {})",
        backup.tables.len(),
        backup.schema_version
    );
    Ok(())
}

/// Imports the backup of `args` into its (empty) database.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = if args.input == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("reading the backup from standard input")?;
        s
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?
    };
    // Checked before the database is touched: a damaged file changes nothing.
    let backup = fasttrack_store::backup::parse_backup(&text)?;
    let store = Store::connect(&args.db.database_url)
        .await
        .context("opening the database")?;
    let restored = store.import_backup(&backup).await;
    store.close().await;
    let counts = restored?;
    let rows: usize = counts.values().sum();
    println!(
        "imported {rows} rows of {} tables (exported {} from {})",
        counts.len(),
        backup.exported_at,
        backup.source
    );
    Ok(())
}

fn write_stdout(text: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes `text` to a temporary file next to `path`, syncs it, then renames it over `path`: a
/// crash or a full disk never leaves a half-written backup under the backup's name.
fn write_atomically(path: &Path, text: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}
