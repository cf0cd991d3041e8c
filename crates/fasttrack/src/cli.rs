//! The command line: `serve`, `config`, `migrate`, `demo`, `export`, `import` and `user`, each
//! with `--help`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use fasttrack_core::types::{text, Email, IanaZone};
use fasttrack_core::{Language, OrgKind, Role};
use fasttrack_store::{AuditCtx, NewOrganization, NewUser, OrganizationFilter, Page, Store};
use tracing_subscriber::EnvFilter;

pub use crate::config::LogFormat;
use crate::config::{Layer, Settings};

/// fasttrack: runs the FastTrack onboarding-assistance programme.
#[derive(Debug, Parser)]
#[command(name = "fasttrack", version, about, long_about = None)]
pub struct Cli {
    /// Log format [default: text; also `log_format` in the configuration file].
    #[arg(long, global = true, value_enum, env = "FASTTRACK_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// A TOML configuration file for `serve`; the environment and flags override it.
    #[arg(long, global = true, env = "FASTTRACK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
    /// The settings given as flags (not through the environment), for `config check`.
    #[arg(skip)]
    pub flag_keys: Vec<String>,
}

/// The database to use.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// `sqlite://./fasttrack.db` (default, created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "FASTTRACK_DATABASE_URL",
        default_value = "sqlite://./fasttrack.db"
    )]
    pub database_url: String,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web site and the API (migrating the database first).
    Serve {
        #[command(flatten)]
        settings: Layer,
        /// Load the demo programme first if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// The configuration of `serve`.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Ask the running server's `/healthz` (at `listen` of the same settings); exits non-zero
    /// unless it answers 200. For container health checks.
    Health {
        #[command(flatten)]
        settings: Layer,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Load a realistic demo programme into an empty database and print sign-in credentials.
    Demo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write the whole database as a versioned JSON backup (a consistent snapshot; the server may
    /// keep running).
    Export(crate::backup_cli::ExportArgs),
    /// Restore a backup made by `export` into an empty database (SQLite or PostgreSQL).
    Import(crate::backup_cli::ImportArgs),
    /// Book meetings: `--backlog` gives every accepted request without one its first meeting.
    Schedule(crate::schedule_cli::ScheduleArgs),
    /// Load the load benchmark's large synthetic programme into an empty database (BENCHMARKS.md).
    #[command(hide = true)]
    BenchSeed(crate::bench_seed::BenchSeedArgs),
    /// Export or import the recommended plan's templates (JSON).
    Templates {
        #[command(subcommand)]
        command: crate::templates_cli::TemplatesCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (file < environment < flags), secrets hidden; fails
    /// with the offending key when something is invalid.
    Check {
        #[command(flatten)]
        settings: Layer,
    },
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may hold passwords and tokens: name only the keys given.
        f.debug_struct("Layer")
            .field("given", &self.given())
            .finish()
    }
}

/// Parses the command line, noting which settings came as flags rather than from the environment.
pub fn parse() -> Cli {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let mut m = &matches;
    loop {
        cli.flag_keys.extend(
            m.ids()
                .filter(|id| {
                    m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
                })
                .map(|id| id.as_str().to_string()),
        );
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => break,
        }
    }
    cli
}

/// The effective settings of `serve`: the file of `--config`, then `given` (the environment and
/// the flags), with the global `--log-format`.
fn settings(
    config: Option<&std::path::Path>,
    log_format: Option<LogFormat>,
    flag_keys: &[String],
    mut given: Layer,
) -> anyhow::Result<Settings> {
    given.log_format = log_format;
    Ok(crate::config::load(config, given, flag_keys)?)
}

/// User management.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; with no organization given, a programme user (the first programme admin).
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// customer_admin, partner_user, fasttrack_manager, fasttrack_specialist, center_engineer, programme_admin.
        #[arg(long, default_value = "programme_admin")]
        role: String,
        /// Organization id; defaults to the programme's own organization (created if missing).
        #[arg(long)]
        org: Option<String>,
        /// Read the password from standard input instead of FASTTRACK_USER_PASSWORD.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Sets up `tracing` from `RUST_LOG` (default `info`) in the chosen format: the flag or
/// environment, else the configuration file's `log_format`, else text.
pub fn init_logging(cli: &Cli) {
    let format = cli
        .log_format
        .or_else(|| {
            let path = cli.config.as_deref()?;
            crate::config::Layer::from_file(path).ok()?.log_format
        })
        .unwrap_or(LogFormat::Text);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // The other commands read the file's database_url too, unless the flag or environment gives one.
    let db_url = |db: DbArgs| -> anyhow::Result<String> {
        let given = cli.flag_keys.iter().any(|k| k == "database_url")
            || std::env::var_os("FASTTRACK_DATABASE_URL").is_some();
        match cli.config.as_deref() {
            Some(path) if !given => Ok(Layer::from_file(path)?
                .database_url
                .unwrap_or(db.database_url)),
            _ => Ok(db.database_url),
        }
    };
    match cli.command {
        Command::Serve { settings: s, demo } => {
            serve(
                &settings(cli.config.as_deref(), cli.log_format, &cli.flag_keys, s)?,
                demo,
            )
            .await
        }
        Command::Config {
            command: ConfigCommand::Check { settings: s },
        } => {
            let s = settings(cli.config.as_deref(), cli.log_format, &cli.flag_keys, s)?;
            print!("{}", s.describe());
            Ok(())
        }
        Command::Health { settings: s } => {
            let s = settings(cli.config.as_deref(), cli.log_format, &cli.flag_keys, s)?;
            tokio::task::spawn_blocking(move || crate::health_cli::check(&s.listen)).await?
        }
        Command::Migrate { db } => {
            let store = Store::connect(&db_url(db)?).await?;
            store.close().await;
            println!("database is up to date");
            Ok(())
        }
        Command::Demo { db } => {
            let store = Store::connect(&db_url(db)?).await?;
            if !store.is_empty().await? {
                bail!(
                    "the database already holds data; the demo loads only into an empty database"
                );
            }
            let creds = crate::demo::load(&store, jiff::Timestamp::now()).await?;
            crate::demo::print_credentials(&creds);
            store.close().await;
            Ok(())
        }
        Command::Export(mut args) => {
            args.db.database_url = db_url(args.db.clone())?;
            crate::backup_cli::export(args).await
        }
        Command::Import(mut args) => {
            args.db.database_url = db_url(args.db.clone())?;
            crate::backup_cli::import(args).await
        }
        Command::BenchSeed(mut args) => {
            args.db.database_url = db_url(args.db.clone())?;
            crate::bench_seed::run(args).await
        }
        Command::Schedule(mut args) => {
            args.db.database_url = db_url(args.db.clone())?;
            crate::schedule_cli::run(args).await
        }
        Command::Templates { mut command } => {
            let db = match &mut command {
                crate::templates_cli::TemplatesCommand::Export(a) => &mut a.db,
                crate::templates_cli::TemplatesCommand::Import(a) => &mut a.db,
            };
            db.database_url = db_url(db.clone())?;
            crate::templates_cli::run(command).await
        }
        Command::User {
            command:
                UserCommand::Create {
                    db,
                    email,
                    name,
                    role,
                    org,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_line(&mut s)
                    .context("reading the password from standard input")?;
                s.trim_end_matches(['\r', '\n']).to_string()
            } else {
                std::env::var("FASTTRACK_USER_PASSWORD").context(
                    "give the password in FASTTRACK_USER_PASSWORD or with --password-stdin",
                )?
            };
            let store = Store::connect(&db_url(db)?).await?;
            let id = create_user(&store, &email, &name, &role, org.as_deref(), &password).await?;
            store.close().await;
            println!("created user {id} ({email}, {role})");
            Ok(())
        }
    }
}

async fn serve(settings: &Settings, demo: bool) -> anyhow::Result<()> {
    // `Settings` checked the SMTP URL and sender: a typo stopped there, not as mail failing later.
    let worker = settings.worker_config();
    let store = Store::connect(&settings.database_url)
        .await
        .with_context(|| "opening the database")?;
    if demo && store.is_empty().await? {
        tracing::info!("loading the demo programme into the empty database");
        let creds = crate::demo::load(&store, jiff::Timestamp::now()).await?;
        crate::demo::print_credentials(&creds);
    }
    let state = fasttrack_web::AppState::new(store.clone(), settings.web_config());
    crate::recover_interrupted_work(&state);
    let listen = &settings.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "fasttrack is serving");
    println!("fasttrack is serving on http://{}", listener.local_addr()?);
    let (stop_metrics, metrics_stopped) = tokio::sync::watch::channel(false);
    let metrics = match &settings.metrics_listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening for metrics on {addr}"))?;
            tracing::info!(address = %l.local_addr()?, "metrics are served on their own listener");
            println!("metrics are served on http://{}/metrics", l.local_addr()?);
            let mut stopped = metrics_stopped;
            Some(tokio::spawn(fasttrack_web::metrics::serve_metrics(
                l,
                state.clone(),
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            )))
        }
        None => None,
    };
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(crate::worker::run(
        store.clone(),
        state.clock.clone(),
        worker,
        worker_stopped,
    ));
    let served = fasttrack_web::serve(listener, state, shutdown_signal()).await;
    let _ = stop_metrics.send(true);
    if let Some(m) = metrics {
        let _ = m.await;
    }
    // Stop the worker whether the server stopped on a signal or on an error: jobs in hand finish,
    // the rest stay queued for the next start.
    tracing::info!("stopping the job worker");
    let _ = stop_worker.send(true);
    let _ = worker.await;
    tracing::info!("stopped; closing the database");
    store.close().await;
    served?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Creates a user from the command line, validating like the API does.
pub async fn create_user(
    store: &Store,
    email: &str,
    name: &str,
    role: &str,
    org: Option<&str>,
    password: &str,
) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
    let name = text(name, 200, true).map_err(|m| anyhow::anyhow!("--name: {m}"))?;
    let role = Role::parse(role).map_err(|m| anyhow::anyhow!("--role: {m}"))?;
    fasttrack_web::password::check_new_password(password)
        .map_err(|m| anyhow::anyhow!("password: {m}"))?;
    if role.is_staff() {
        bail!("create FastTrack staff through the API or the admin pages: they need a region and languages");
    }
    let ctx = AuditCtx {
        at: jiff::Timestamp::now().as_second(),
        ..AuditCtx::default()
    };
    let org = match org {
        Some(id) => store
            .get_org(id)
            .await
            .with_context(|| format!("no organization '{id}'"))?,
        None => programme_org(store, &ctx).await?,
    };
    if role.org_kind().as_str() != org.kind {
        bail!(
            "a {} belongs to a {} organization; '{}' is a {}",
            role.as_str(),
            role.org_kind().as_str(),
            org.name,
            org.kind
        );
    }
    let hash = fasttrack_web::password::hash_blocking(password).map_err(|e| anyhow::anyhow!(e))?;
    let user = store
        .create_user(
            &NewUser {
                org_id: org.id.clone(),
                email: email.as_str().to_string(),
                name,
                role: role.as_str().to_string(),
                password_hash: Some(hash),
                language: org.language.clone(),
                time_zone: org.time_zone.clone(),
                staff: None,
            },
            &ctx,
        )
        .await?;
    Ok(user.id)
}

/// The programme's own organization, created on first use.
pub async fn programme_org(
    store: &Store,
    ctx: &AuditCtx,
) -> anyhow::Result<fasttrack_store::Organization> {
    let found = store
        .list_orgs(
            &OrganizationFilter {
                kind: Some(OrgKind::Programme.as_str().into()),
                ..Default::default()
            },
            &Page::new(None, 1),
        )
        .await?;
    if let Some(o) = found.items.into_iter().next() {
        return Ok(o);
    }
    let zone = IanaZone::parse("UTC").map_err(|m| anyhow::anyhow!(m))?;
    Ok(store
        .create_org(
            &NewOrganization {
                kind: OrgKind::Programme.as_str().into(),
                name: "FastTrack Center".into(),
                tenant_id: None,
                region_id: None,
                country: "US".into(),
                time_zone: zone.as_str().into(),
                language: Language::English.tag().into(),
                domains: vec![],
                partner_of_record: None,
            },
            ctx,
        )
        .await?)
}
