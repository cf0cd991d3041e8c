//! The settings of `serve`, layered: built-in defaults, then a TOML file (`--config`), then the
//! environment (`FASTTRACK_…`), then flags. Every key has the same name in all three places:
//! `trusted_proxies` in the file is `FASTTRACK_TRUSTED_PROXIES` and `--trusted-proxies`.
//!
//! Adding a setting: a field in [`Layer`] (its doc comment is the `--help` text), its name in
//! `with_keys!`, its default and check in [`Settings::resolve`], a line in [`Settings::describe`],
//! and its entry in `deploy/fasttrack.example.toml` and `docs/operations.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use fasttrack_web::metrics::MetricsAccess;
use fasttrack_web::WebConfig;
use ipnet::IpNet;
use serde::Deserialize;

use crate::worker::WorkerConfig;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// What one layer (the file, or the environment and flags) says; `None` where it says nothing.
#[derive(Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// `sqlite://./fasttrack.db` (default, created if missing) or `postgres://user:password@host/db`.
    #[arg(long, env = "FASTTRACK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "FASTTRACK_LISTEN")]
    pub listen: Option<String>,
    /// The address people reach fasttrack at, e.g. `https://fasttrack.example.com` (an https
    /// address turns secure cookies on unless `secure_cookies` says otherwise).
    #[arg(long, env = "FASTTRACK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Set with the global `--log-format`; here so that the file can set it.
    #[arg(skip)]
    pub log_format: Option<LogFormat>,
    /// Mark cookies `Secure` (serve behind HTTPS); `--secure-cookies false` turns it off.
    #[arg(long, env = "FASTTRACK_SECURE_COOKIES", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub secure_cookies: Option<bool>,
    /// How long a session lasts, in seconds [default: 43200].
    #[arg(long, env = "FASTTRACK_SESSION_SECONDS")]
    pub session_seconds: Option<i64>,
    /// Failed sign-ins allowed per e-mail address and client within the window [default: 5].
    #[arg(long, env = "FASTTRACK_LOGIN_ATTEMPTS")]
    pub login_attempts: Option<u32>,
    /// The sign-in limiter's window, in seconds [default: 900].
    #[arg(long, env = "FASTTRACK_LOGIN_WINDOW_SECONDS")]
    pub login_window_seconds: Option<i64>,
    /// The longest a request may take (body and answer included) before it is answered 408, in
    /// seconds [default: 30].
    #[arg(long, env = "FASTTRACK_REQUEST_TIMEOUT_SECONDS")]
    pub request_timeout_seconds: Option<u64>,
    /// The longest a client may take to send a request's headers before the connection is closed
    /// (slow clients), in seconds [default: 10].
    #[arg(long, env = "FASTTRACK_HEADER_TIMEOUT_SECONDS")]
    pub header_timeout_seconds: Option<u64>,
    /// Reverse proxies (addresses or CIDRs, comma-separated) whose `X-Forwarded-*` are believed.
    #[arg(long, env = "FASTTRACK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// SMTP server: `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://host:465` (TLS), with optional `user:password@`. Without one, mail stays queued.
    // `--help` must not print the variable's value: it may hold a password.
    #[arg(long, env = "FASTTRACK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every mail [default: FastTrack <fasttrack@localhost>].
    #[arg(long, env = "FASTTRACK_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// How often the idle job queue is polled, in milliseconds [default: 1000].
    #[arg(long, env = "FASTTRACK_WORKER_POLL_MS")]
    pub worker_poll_ms: Option<u64>,
    /// Jobs claimed at once and run concurrently [default: 8].
    #[arg(long, env = "FASTTRACK_WORKER_BATCH")]
    pub worker_batch: Option<i64>,
    /// How long a claimed job is held before another worker may take it over, in seconds [default: 300].
    #[arg(long, env = "FASTTRACK_WORKER_LEASE_SECONDS")]
    pub worker_lease_seconds: Option<i64>,
    /// Attempts before a failing job is given up [default: 72].
    #[arg(long, env = "FASTTRACK_WORKER_MAX_ATTEMPTS")]
    pub worker_max_attempts: Option<i64>,
    /// The first retry's wait, in seconds; each further one doubles [default: 5].
    #[arg(long, env = "FASTTRACK_WORKER_BACKOFF_BASE_SECONDS")]
    pub worker_backoff_base_seconds: Option<u64>,
    /// The longest wait between retries, in seconds [default: 3600].
    #[arg(long, env = "FASTTRACK_WORKER_BACKOFF_CAP_SECONDS")]
    pub worker_backoff_cap_seconds: Option<u64>,
    /// The longest one SMTP exchange may take, in seconds [default: 30].
    #[arg(long, env = "FASTTRACK_WORKER_SMTP_TIMEOUT_SECONDS")]
    pub worker_smtp_timeout_seconds: Option<u64>,
    /// How often the periodic sweeps (expiry warnings, near-breach alerts) run, in seconds [default: 300].
    #[arg(long, env = "FASTTRACK_WORKER_SWEEP_SECONDS")]
    pub worker_sweep_seconds: Option<u64>,
    /// Serve `/metrics` only on this address (no token needed there) instead of the main listener.
    #[arg(long, env = "FASTTRACK_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// A bearer token that may read `/metrics` on the main listener from anywhere (16+ characters).
    #[arg(long, env = "FASTTRACK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Clients (addresses or CIDRs, comma-separated) that may read `/metrics` on the main
    /// listener without the token [default: 127.0.0.0/8,::1].
    #[arg(long, env = "FASTTRACK_METRICS_ALLOW", value_delimiter = ',')]
    pub metrics_allow: Option<Vec<String>>,
    /// Accept identity providers (OpenID Connect sign-in) at plain `http://` addresses, for a
    /// provider on the same machine or in tests; production providers are `https://` [default: false].
    #[arg(long, env = "FASTTRACK_OIDC_ALLOW_HTTP", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub oidc_allow_http: Option<bool>,
}

/// Calls `$m!` with every key of a [`Layer`].
macro_rules! with_keys {
    ($m:ident, $($arg:tt)*) => {
        $m!($($arg)*; database_url, listen, public_url, log_format, secure_cookies, session_seconds,
            login_attempts, login_window_seconds, request_timeout_seconds, header_timeout_seconds,
            trusted_proxies, smtp_url, mail_from,
            worker_poll_ms, worker_batch, worker_lease_seconds, worker_max_attempts,
            worker_backoff_base_seconds, worker_backoff_cap_seconds, worker_smtp_timeout_seconds,
            worker_sweep_seconds, metrics_listen, metrics_token, metrics_allow, oidc_allow_http)
    };
}

macro_rules! key_names {
    (; $($k:ident),*) => {
        &[$(stringify!($k)),*]
    };
}

/// Every key of the configuration, as the file names it.
pub const KEYS: &[&str] = with_keys!(key_names,);

macro_rules! over {
    ($top:ident, $under:ident; $($k:ident),*) => {
        Layer { $($k: $top.$k.or($under.$k)),* }
    };
}

macro_rules! given {
    ($layer:ident; $($k:ident),*) => {{
        let mut keys: Vec<&'static str> = Vec::new();
        $(if $layer.$k.is_some() { keys.push(stringify!($k)); })*
        keys
    }};
}

impl Layer {
    /// `self`, with what it leaves unset taken from `under`.
    pub fn over(self, under: Layer) -> Layer {
        let top = self;
        with_keys!(over, top, under)
    }

    /// The keys this layer sets.
    pub fn given(&self) -> Vec<&'static str> {
        let layer = self;
        with_keys!(given, layer)
    }

    /// Reads a TOML file; an unknown key is refused with its name.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

/// Where a key's effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Environment,
    Flag,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Environment => "environment",
            Source::Flag => "flag",
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The effective settings of `serve`, checked.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub secure_cookies: bool,
    pub session_seconds: i64,
    pub login_attempts: u32,
    pub login_window_seconds: i64,
    pub request_timeout_seconds: u64,
    pub header_timeout_seconds: u64,
    pub trusted_proxies: Vec<IpNet>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub worker_poll_ms: u64,
    pub worker_batch: i64,
    pub worker_lease_seconds: i64,
    pub worker_max_attempts: i64,
    pub worker_backoff_base_seconds: u64,
    pub worker_backoff_cap_seconds: u64,
    pub worker_smtp_timeout_seconds: u64,
    pub worker_sweep_seconds: u64,
    pub metrics_listen: Option<String>,
    pub metrics_token: Option<String>,
    pub metrics_allow: Vec<IpNet>,
    pub oidc_allow_http: bool,
    /// Where each key's value comes from.
    pub sources: BTreeMap<&'static str, Source>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The same text as `config check`: secrets hidden.
        f.write_str(&self.describe())
    }
}

/// `host:port` with a numeric port (the host may be a name, an IPv4 or a bracketed IPv6 address).
fn check_listen(key: &'static str, v: &str) -> Result<(), ConfigError> {
    match v.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(invalid(
            key,
            format!("'{v}' is not host:port (for example 127.0.0.1:8080 or [::]:8080)"),
        )),
    }
}

fn nets(key: &'static str, list: Vec<String>) -> Result<Vec<IpNet>, ConfigError> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| fasttrack_web::proxy::parse_net(s).map_err(|m| invalid(key, m)))
        .collect()
}

fn at_least<T: PartialOrd + std::fmt::Display + Copy>(
    key: &'static str,
    v: T,
    min: T,
) -> Result<T, ConfigError> {
    if v < min {
        return Err(invalid(
            key,
            format!("{v} is below the least allowed, {min}"),
        ));
    }
    Ok(v)
}

impl Settings {
    /// Applies the defaults to what `layer` leaves unset, and checks every value.
    pub fn resolve(layer: Layer) -> Result<Settings, ConfigError> {
        let d = WorkerConfig::default();
        let web = WebConfig::default();
        let database_url = layer
            .database_url
            .unwrap_or_else(|| "sqlite://./fasttrack.db".into());
        if database_url.trim().is_empty() {
            return Err(invalid("database_url", "is empty"));
        }
        if let Some((scheme, _)) = database_url.split_once("://") {
            if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
                return Err(invalid(
                    "database_url",
                    format!("'{scheme}://' is neither sqlite:// nor postgres://"),
                ));
            }
        }
        let listen = layer.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        check_listen("listen", &listen)?;
        let public_url = match layer.public_url {
            Some(u) if u.trim().is_empty() => None,
            Some(u) => {
                let rest = u
                    .strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                        Some(u.trim_end_matches('/').to_string())
                    }
                    _ => {
                        return Err(invalid(
                            "public_url",
                            format!("'{u}' is not an http:// or https:// address"),
                        ))
                    }
                }
            }
            None => None,
        };
        let behind_https = public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        let metrics_listen = layer.metrics_listen.filter(|s| !s.trim().is_empty());
        if let Some(m) = &metrics_listen {
            check_listen("metrics_listen", m)?;
            // Port 0 (a free port each) is the one way the two may be written the same.
            if *m == listen && !m.ends_with(":0") {
                return Err(invalid(
                    "metrics_listen",
                    "must differ from listen (leave it out to serve /metrics on the main listener)",
                ));
            }
        }
        let metrics_token = layer.metrics_token.filter(|s| !s.is_empty());
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.chars().count() < 16)
        {
            return Err(invalid(
                "metrics_token",
                "must be at least 16 characters long",
            ));
        }
        let settings = Settings {
            database_url,
            listen,
            public_url,
            log_format: layer.log_format.unwrap_or(LogFormat::Text),
            secure_cookies: layer.secure_cookies.unwrap_or(behind_https),
            session_seconds: at_least(
                "session_seconds",
                layer.session_seconds.unwrap_or(web.session_seconds),
                60,
            )?,
            login_attempts: at_least(
                "login_attempts",
                layer.login_attempts.unwrap_or(web.login_attempts),
                1,
            )?,
            login_window_seconds: at_least(
                "login_window_seconds",
                layer
                    .login_window_seconds
                    .unwrap_or(web.login_window_seconds),
                1,
            )?,
            request_timeout_seconds: at_least(
                "request_timeout_seconds",
                layer
                    .request_timeout_seconds
                    .unwrap_or(web.request_timeout_seconds),
                1,
            )?,
            header_timeout_seconds: at_least(
                "header_timeout_seconds",
                layer
                    .header_timeout_seconds
                    .unwrap_or(web.header_timeout_seconds),
                1,
            )?,
            trusted_proxies: nets("trusted_proxies", layer.trusted_proxies.unwrap_or_default())?,
            smtp_url: layer.smtp_url.filter(|s| !s.trim().is_empty()),
            mail_from: layer.mail_from.unwrap_or(d.mail_from),
            worker_poll_ms: at_least(
                "worker_poll_ms",
                layer
                    .worker_poll_ms
                    .unwrap_or(u64::try_from(d.poll.as_millis()).unwrap_or(1000)),
                10,
            )?,
            worker_batch: at_least("worker_batch", layer.worker_batch.unwrap_or(d.batch), 1)?,
            worker_lease_seconds: at_least(
                "worker_lease_seconds",
                layer.worker_lease_seconds.unwrap_or(d.lease_seconds),
                10,
            )?,
            worker_max_attempts: at_least(
                "worker_max_attempts",
                layer.worker_max_attempts.unwrap_or(d.max_attempts),
                1,
            )?,
            worker_backoff_base_seconds: at_least(
                "worker_backoff_base_seconds",
                layer
                    .worker_backoff_base_seconds
                    .unwrap_or(d.backoff_base.as_secs()),
                1,
            )?,
            worker_backoff_cap_seconds: layer
                .worker_backoff_cap_seconds
                .unwrap_or(d.backoff_cap.as_secs()),
            worker_smtp_timeout_seconds: at_least(
                "worker_smtp_timeout_seconds",
                layer
                    .worker_smtp_timeout_seconds
                    .unwrap_or(d.smtp_timeout.as_secs()),
                1,
            )?,
            worker_sweep_seconds: at_least(
                "worker_sweep_seconds",
                layer
                    .worker_sweep_seconds
                    .unwrap_or(d.sweep_every.as_secs()),
                1,
            )?,
            metrics_listen,
            metrics_token,
            metrics_allow: match layer.metrics_allow {
                Some(list) => nets("metrics_allow", list)?,
                None => MetricsAccess::loopback(),
            },
            oidc_allow_http: layer.oidc_allow_http.unwrap_or(web.oidc_allow_http),
            sources: BTreeMap::new(),
        };
        if settings.worker_batch > 1000 {
            return Err(invalid("worker_batch", "at most 1000"));
        }
        if settings.worker_backoff_cap_seconds < settings.worker_backoff_base_seconds {
            return Err(invalid(
                "worker_backoff_cap_seconds",
                "must not be below worker_backoff_base_seconds",
            ));
        }
        if i64::try_from(settings.worker_smtp_timeout_seconds).unwrap_or(i64::MAX)
            >= settings.worker_lease_seconds
        {
            // Otherwise a stalled SMTP exchange outlives its lease and another worker sends the mail again.
            return Err(invalid(
                "worker_smtp_timeout_seconds",
                "must be shorter than worker_lease_seconds",
            ));
        }
        settings.worker_config().check().map_err(|m| {
            invalid(
                if m.to_lowercase().contains("from") || m.to_lowercase().contains("sender") {
                    "mail_from"
                } else {
                    "smtp_url"
                },
                m,
            )
        })?;
        Ok(settings)
    }

    /// The HTTP layer's settings.
    pub fn web_config(&self) -> WebConfig {
        WebConfig {
            secure_cookies: self.secure_cookies,
            session_seconds: self.session_seconds,
            login_attempts: self.login_attempts,
            login_window_seconds: self.login_window_seconds,
            trusted_proxies: self.trusted_proxies.clone(),
            request_timeout_seconds: self.request_timeout_seconds,
            header_timeout_seconds: self.header_timeout_seconds,
            metrics: MetricsAccess {
                on_main_listener: self.metrics_listen.is_none(),
                allow: self.metrics_allow.clone(),
                token_sha256: None,
            }
            .with_token(self.metrics_token.as_deref()),
            public_url: self.public_url.clone(),
            oidc_allow_http: self.oidc_allow_http,
        }
    }

    /// The job worker's settings.
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            smtp_url: self.smtp_url.clone(),
            mail_from: self.mail_from.clone(),
            poll: Duration::from_millis(self.worker_poll_ms),
            lease_seconds: self.worker_lease_seconds,
            max_attempts: self.worker_max_attempts,
            backoff_base: Duration::from_secs(self.worker_backoff_base_seconds),
            backoff_cap: Duration::from_secs(self.worker_backoff_cap_seconds),
            batch: self.worker_batch,
            smtp_timeout: Duration::from_secs(self.worker_smtp_timeout_seconds),
            sweep_every: Duration::from_secs(self.worker_sweep_seconds),
        }
    }

    /// The settings as a TOML file with secrets hidden, each key followed by where it comes from.
    pub fn describe(&self) -> String {
        fn json<T: serde::Serialize>(v: &T) -> String {
            // JSON strings, numbers, booleans and arrays of strings are valid TOML values.
            serde_json::to_string(v).unwrap_or_else(|_| "\"?\"".into())
        }
        let nets = |v: &[IpNet]| json(&v.iter().map(|n| n.to_string()).collect::<Vec<_>>());
        let lines: Vec<(&'static str, Option<String>)> = vec![
            ("database_url", Some(json(&redact_url(&self.database_url)))),
            ("listen", Some(json(&self.listen))),
            ("public_url", self.public_url.as_ref().map(json)),
            ("log_format", Some(json(&self.log_format.as_str()))),
            ("secure_cookies", Some(json(&self.secure_cookies))),
            ("session_seconds", Some(json(&self.session_seconds))),
            ("login_attempts", Some(json(&self.login_attempts))),
            (
                "login_window_seconds",
                Some(json(&self.login_window_seconds)),
            ),
            (
                "request_timeout_seconds",
                Some(json(&self.request_timeout_seconds)),
            ),
            (
                "header_timeout_seconds",
                Some(json(&self.header_timeout_seconds)),
            ),
            ("trusted_proxies", Some(nets(&self.trusted_proxies))),
            (
                "smtp_url",
                self.smtp_url.as_deref().map(|u| json(&redact_url(u))),
            ),
            ("mail_from", Some(json(&self.mail_from))),
            ("worker_poll_ms", Some(json(&self.worker_poll_ms))),
            ("worker_batch", Some(json(&self.worker_batch))),
            (
                "worker_lease_seconds",
                Some(json(&self.worker_lease_seconds)),
            ),
            ("worker_max_attempts", Some(json(&self.worker_max_attempts))),
            (
                "worker_backoff_base_seconds",
                Some(json(&self.worker_backoff_base_seconds)),
            ),
            (
                "worker_backoff_cap_seconds",
                Some(json(&self.worker_backoff_cap_seconds)),
            ),
            (
                "worker_smtp_timeout_seconds",
                Some(json(&self.worker_smtp_timeout_seconds)),
            ),
            (
                "worker_sweep_seconds",
                Some(json(&self.worker_sweep_seconds)),
            ),
            ("metrics_listen", self.metrics_listen.as_ref().map(json)),
            (
                "metrics_token",
                self.metrics_token.as_ref().map(|_| json(&HIDDEN)),
            ),
            ("metrics_allow", Some(nets(&self.metrics_allow))),
            ("oidc_allow_http", Some(json(&self.oidc_allow_http))),
        ];
        let mut out = String::from(
            "# fasttrack: the effective configuration (defaults < file < environment < flags); secrets hidden\n",
        );
        for (key, value) in lines {
            let source = self
                .sources
                .get(key)
                .copied()
                .unwrap_or(Source::Default)
                .as_str();
            match value {
                Some(v) => out.push_str(&format!("{key} = {v}  # {source}\n")),
                None => out.push_str(&format!("# {key} is not set\n")),
            }
        }
        out
    }
}

/// What stands in for a secret in printed settings.
const HIDDEN: &str = "(hidden)";

/// `url` with its password (and any `password=`, `secret=` or `token=` query value) hidden.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{HIDDEN}@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if ["password", "pass", "secret", "token", "sslpassword"]
                            .contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{k}={HIDDEN}")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The effective settings: defaults, then the file at `config` (if any), then `env_and_flags`
/// (clap has already put flags over the environment); `flag_keys` are the keys given as flags.
pub fn load(
    config: Option<&Path>,
    env_and_flags: Layer,
    flag_keys: &[String],
) -> Result<Settings, ConfigError> {
    let file = match config {
        Some(path) => Layer::from_file(path)?,
        None => Layer::default(),
    };
    let mut sources = BTreeMap::new();
    for k in file.given() {
        sources.insert(k, Source::File);
    }
    for k in env_and_flags.given() {
        let src = if flag_keys.iter().any(|f| f == k) {
            Source::Flag
        } else {
            Source::Environment
        };
        sources.insert(k, src);
    }
    let mut settings = Settings::resolve(env_and_flags.over(file))?;
    settings.sources = sources;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_and_the_operations_guide_document_every_key() {
        let example = include_str!("../../../deploy/fasttrack.example.toml");
        let guide = include_str!("../../../docs/operations.md");
        for key in KEYS {
            assert!(
                example.lines().any(|l| l
                    .trim_start_matches(['#', ' '])
                    .starts_with(&format!("{key} = "))),
                "{key} is missing from deploy/fasttrack.example.toml"
            );
            assert!(
                guide.contains(&format!("| `{key}` |")),
                "{key} is missing from the table in docs/operations.md"
            );
        }
        let layer: Layer = toml::from_str(example).expect("the example parses");
        let settings = Settings::resolve(layer).expect("the example is valid");
        assert_eq!(settings.trusted_proxies.len(), 2);
        let described: Layer = toml::from_str(&settings.describe()).expect("describe is TOML");
        assert_eq!(
            described.given().len(),
            KEYS.len() - 4,
            "all but the four unset keys"
        );
    }

    #[test]
    fn passwords_in_urls_are_hidden() {
        assert_eq!(
            redact_url("postgres://ft:s3cret@db:5432/ft?sslmode=require&password=x"),
            "postgres://ft:(hidden)@db:5432/ft?sslmode=require&password=(hidden)"
        );
        assert_eq!(
            redact_url("smtps://mailer:p@ss@smtp.example:465"),
            "smtps://mailer:(hidden)@smtp.example:465"
        );
        assert_eq!(
            redact_url("sqlite://./fasttrack.db"),
            "sqlite://./fasttrack.db"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused_by_name() {
        let e = toml::from_str::<Layer>("listen = \"127.0.0.1:1\"\nlisten_adress = \"x\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("listen_adress"), "{e}");
    }

    #[test]
    fn an_upper_layer_wins_key_by_key() {
        let file = Layer {
            listen: Some("127.0.0.1:1".into()),
            mail_from: Some("a@example.com".into()),
            ..Layer::default()
        };
        let top = Layer {
            listen: Some("127.0.0.1:2".into()),
            ..Layer::default()
        };
        let s = Settings::resolve(top.over(file)).unwrap();
        assert_eq!(s.listen, "127.0.0.1:2");
        assert_eq!(s.mail_from, "a@example.com");
    }

    #[test]
    fn an_https_public_url_makes_cookies_secure_unless_told_otherwise() {
        let l = |secure: Option<bool>| Layer {
            public_url: Some("https://ft.example.com/".into()),
            secure_cookies: secure,
            ..Layer::default()
        };
        let s = Settings::resolve(l(None)).unwrap();
        assert!(s.secure_cookies);
        assert_eq!(s.public_url.as_deref(), Some("https://ft.example.com"));
        assert!(!Settings::resolve(l(Some(false))).unwrap().secure_cookies);
    }

    #[test]
    fn the_web_layer_gets_the_public_url_and_whether_http_identity_providers_are_accepted() {
        let off = Settings::resolve(Layer::default()).unwrap().web_config();
        assert!(!off.oidc_allow_http, "https-only by default");
        assert_eq!(off.public_url, None);
        let on = Settings::resolve(Layer {
            public_url: Some("https://ft.example.com/".into()),
            oidc_allow_http: Some(true),
            ..Layer::default()
        })
        .unwrap()
        .web_config();
        assert!(on.oidc_allow_http);
        assert_eq!(on.public_url.as_deref(), Some("https://ft.example.com"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: Vec<(Layer, &str)> = vec![
            (
                Layer {
                    trusted_proxies: Some(vec!["10.0.0.0/33".into()]),
                    ..Layer::default()
                },
                "trusted_proxies",
            ),
            (
                Layer {
                    listen: Some("8080".into()),
                    ..Layer::default()
                },
                "listen",
            ),
            (
                Layer {
                    metrics_token: Some("short".into()),
                    ..Layer::default()
                },
                "metrics_token",
            ),
            (
                Layer {
                    database_url: Some("mysql://x".into()),
                    ..Layer::default()
                },
                "database_url",
            ),
            (
                Layer {
                    worker_smtp_timeout_seconds: Some(600),
                    ..Layer::default()
                },
                "worker_smtp_timeout_seconds",
            ),
        ];
        for (layer, key) in cases {
            match Settings::resolve(layer) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                Err(e) => panic!("{key}: unexpected error {e}"),
                Ok(_) => panic!("{key}: accepted"),
            }
        }
    }
}
