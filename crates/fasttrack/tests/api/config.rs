//! `fasttrack config check` and `serve --config`, run as the real binary: a TOML file, the
//! environment and flags layered (file < environment < flags), secrets never printed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use fasttrack::config::Layer;

/// The binary under test, with an environment holding nothing but `env` (no stray `FASTTRACK_…`).
fn fasttrack(env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fasttrack"));
    c.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Writes `text` to a fresh file and returns its path.
fn file(text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("fasttrack-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).expect("write config");
    path
}

const FILE: &str = r#"
# every layer sets some keys; the file is the lowest
database_url = "postgres://fasttrack:file-db-password@db.example:5432/fasttrack?sslmode=require"
listen = "127.0.0.1:7000"
public_url = "https://fasttrack.example.com"
log_format = "json"
session_seconds = 100
login_attempts = 3
trusted_proxies = ["10.0.0.0/8", "192.0.2.1"]
smtp_url = "smtps://mailer:file-smtp-password@smtp.example:465"
mail_from = "File <file@example.com>"
worker_batch = 4
metrics_token = "file-metrics-token-0123456789"
"#;

#[test]
fn config_check_layers_file_environment_and_flags_and_hides_secrets() {
    let path = file(FILE);
    let out = fasttrack(&[
        ("FASTTRACK_LISTEN", "127.0.0.1:7001"),
        ("FASTTRACK_SESSION_SECONDS", "200"),
        ("FASTTRACK_MAIL_FROM", "Env <env@example.com>"),
        ("FASTTRACK_METRICS_TOKEN", "env-metrics-token-abcdefghijkl"),
        ("FASTTRACK_SECURE_COOKIES", "false"),
    ])
    .args(["config", "check", "--config"])
    .arg(&path)
    .args(["--listen", "127.0.0.1:7002", "--login-attempts", "9"])
    .output()
    .expect("run fasttrack");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // The output is itself a configuration file.
    let printed: Layer = toml::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    assert_eq!(
        printed.listen.as_deref(),
        Some("127.0.0.1:7002"),
        "flag over environment over file"
    );
    assert_eq!(printed.login_attempts, Some(9), "flag over file");
    assert_eq!(printed.session_seconds, Some(200), "environment over file");
    assert_eq!(printed.mail_from.as_deref(), Some("Env <env@example.com>"));
    assert_eq!(
        printed.secure_cookies,
        Some(false),
        "environment over the https public URL"
    );
    assert_eq!(printed.worker_batch, Some(4), "file over default");
    assert_eq!(
        printed.log_format,
        Some(fasttrack::config::LogFormat::Json),
        "file"
    );
    assert_eq!(
        printed.trusted_proxies,
        Some(vec!["10.0.0.0/8".to_string(), "192.0.2.1/32".to_string()])
    );
    assert_eq!(printed.login_window_seconds, Some(900), "default");
    assert_eq!(
        printed.database_url.as_deref(),
        Some("postgres://fasttrack:(hidden)@db.example:5432/fasttrack?sslmode=require")
    );
    assert_eq!(
        printed.smtp_url.as_deref(),
        Some("smtps://mailer:(hidden)@smtp.example:465")
    );
    assert_eq!(printed.metrics_token.as_deref(), Some("(hidden)"));
    for secret in [
        "file-db-password",
        "file-smtp-password",
        "file-metrics-token",
        "env-metrics-token",
    ] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
        assert!(!stderr.contains(secret), "{secret} logged:\n{stderr}");
    }
    // Each key says where it came from.
    for (key, source) in [
        ("listen", "flag"),
        ("login_attempts", "flag"),
        ("session_seconds", "environment"),
        ("worker_batch", "file"),
        ("worker_poll_ms", "default"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{key} = ")) && l.ends_with(&format!("# {source}"))),
            "{key} should come from the {source}:\n{stdout}"
        );
    }
}

#[test]
fn config_check_refuses_an_unknown_key_by_name() {
    let path = file("listen = \"127.0.0.1:8080\"\nlisten_adress = \"0.0.0.0:80\"\n");
    let out = fasttrack(&[])
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .expect("run fasttrack");
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("listen_adress"), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing printed on failure");
}

#[test]
fn config_check_refuses_bad_values_naming_the_key() {
    for (env, key) in [
        (
            ("FASTTRACK_TRUSTED_PROXIES", "10.0.0.0/8,not-a-network"),
            "trusted_proxies",
        ),
        (("FASTTRACK_SMTP_URL", "gopher://mail"), "smtp_url"),
        (
            ("FASTTRACK_METRICS_LISTEN", "127.0.0.1:8080"),
            "metrics_listen",
        ),
    ] {
        let out = fasttrack(&[env])
            .args(["config", "check"])
            .output()
            .expect("run fasttrack");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key} accepted");
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
    let path = file("session_seconds = \"long\"\n");
    let out = fasttrack(&[])
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .expect("run fasttrack");
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("session_seconds"),
        "a value of the wrong type names its key"
    );
}

/// Kills the server process this test started when the test ends, even on failure.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_with_the_file_and_serves_metrics_on_their_own_listener() {
    let db = std::env::temp_dir().join(format!("fasttrack-cfg-{}.db", uuid::Uuid::new_v4()));
    let path = file(&format!(
        "database_url = \"sqlite://{}\"\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n\
         log_format = \"json\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
        db.display()
    ));
    let mut child = fasttrack(&[])
        .args(["serve", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fasttrack");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let child = Child(child);
    // Logs are read as they come, so the pipe never fills and blocks the server.
    let logs = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    // The server prints its addresses once it listens.
    let (main, metrics) = tokio::task::spawn_blocking(move || {
        let mut main = None;
        let mut metrics = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("fasttrack is serving on ") {
                main = Some(a.trim().to_string());
            }
            if let Some(a) = line.strip_prefix("metrics are served on ") {
                metrics = Some(a.trim().to_string());
            }
            if main.is_some() && metrics.is_some() {
                break;
            }
        }
        (main, metrics)
    })
    .await
    .expect("read stdout");
    let (main, metrics) = (
        main.expect("main address"),
        metrics.expect("metrics address"),
    );
    // The webhook client: it installs the TLS provider that reqwest needs in this process.
    let http = fasttrack::webhooks::client().expect("http client");
    let health = http
        .get(format!("{main}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    // The container health check: `fasttrack health` asks /healthz and exits 0.
    let listen = main.trim_start_matches("http://").to_string();
    let health = tokio::task::spawn_blocking(move || {
        fasttrack(&[])
            .args(["health", "--listen", &listen])
            .output()
            .expect("run fasttrack health")
    })
    .await
    .expect("health");
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let on_main = http
        .get(format!("{main}/metrics"))
        .send()
        .await
        .expect("main");
    assert_eq!(on_main.status(), 404, "metrics have their own listener");
    let scraped = http.get(metrics.clone()).send().await.expect("metrics");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap_or_default();
    // Two health checks: the test's own and `fasttrack health`.
    assert!(
        text.contains(
            "fasttrack_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 2"
        ),
        "{text}"
    );
    drop(child);
    let listen = main.trim_start_matches("http://").to_string();
    let down = fasttrack(&[])
        .args(["health", "--listen", &listen])
        .output()
        .expect("run fasttrack health");
    assert!(
        !down.status.success(),
        "health passes with the server stopped"
    );
    let logs = logs.join().expect("log reader");
    assert!(!logs.is_empty(), "the server logged nothing");
    for line in &logs {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "log_format = \"json\" from the file: {line}"
        );
    }
    let _ = std::fs::remove_file(&path);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[test]
fn other_commands_take_the_database_from_the_file_unless_told_otherwise() {
    let dir = std::env::temp_dir();
    let from_file = dir.join(format!("fasttrack-file-{}.db", uuid::Uuid::new_v4()));
    let from_env = dir.join(format!("fasttrack-env-{}.db", uuid::Uuid::new_v4()));
    let path = file(&format!(
        "database_url = \"sqlite://{}\"\n",
        from_file.display()
    ));
    let out = fasttrack(&[])
        .args(["migrate", "--config"])
        .arg(&path)
        .output()
        .expect("run fasttrack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_file.exists(), "migrate used the file's database_url");
    let env_url = format!("sqlite://{}", from_env.display());
    let out = fasttrack(&[("FASTTRACK_DATABASE_URL", &env_url)])
        .args(["migrate", "--config"])
        .arg(&path)
        .output()
        .expect("run fasttrack");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_env.exists(), "the environment wins over the file");
    let _ = std::fs::remove_file(&path);
    for db in [&from_file, &from_env] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
}
