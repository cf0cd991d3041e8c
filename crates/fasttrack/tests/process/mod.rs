//! The real `fasttrack` binary as a child process (started, killed with SIGKILL, restarted), a
//! webhook receiver that records every delivery, and signed-in bearer clients: what the crash
//! and cluster tests need beyond `spawn_app()`, which runs the server inside the test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{self, Db, PASSWORD};

/// A fresh, empty database: a SQLite file in the temporary directory or a new PostgreSQL
/// database; `None` (with a note) when PostgreSQL is asked for but `FASTTRACK_TEST_POSTGRES` is unset.
pub async fn fresh_database(db: Db) -> Option<String> {
    // The test's own HTTP clients need rustls' crypto provider, which building the webhook
    // client installs.
    let _ = fasttrack::webhooks::client();
    match db {
        Db::Sqlite => {
            let path =
                std::env::temp_dir().join(format!("fasttrack-proc-{}.db", uuid::Uuid::new_v4()));
            Some(format!("sqlite://{}", path.display()))
        }
        Db::Postgres => match std::env::var("FASTTRACK_TEST_POSTGRES") {
            Ok(server) => Some(helpers::fresh_postgres(&server).await),
            Err(_) => {
                eprintln!("FASTTRACK_TEST_POSTGRES is not set: PostgreSQL scenario not run");
                None
            }
        },
    }
}

/// Drops a PostgreSQL database made by [`fresh_database`]; removes a SQLite file and its WAL.
pub async fn drop_database(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        return;
    }
    helpers::drop_postgres(url).await;
}

/// `fasttrack serve` running as a child process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
}

/// How to start `fasttrack serve`: the database, the SMTP sink, the log file.
#[derive(Clone)]
pub struct ServerSpec {
    pub database_url: String,
    pub smtp_url: String,
    pub log: PathBuf,
}

impl ServerSpec {
    /// Starts the server on a free port and waits until `/healthz` answers 200 (at most 60 s).
    pub async fn start(&self) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fasttrack"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(["--database-url", &self.database_url])
            .args(["--smtp-url", &self.smtp_url])
            // A killed worker's jobs are taken over once their lease runs out: the shortest
            // lease the settings allow keeps the test short.
            .args(["--worker-lease-seconds", "10"])
            .args(["--worker-smtp-timeout-seconds", "5"])
            .args(["--worker-poll-ms", "100"])
            .args(["--worker-backoff-base-seconds", "1"])
            .args(["--worker-backoff-cap-seconds", "2"])
            .env("RUST_LOG", "info,sqlx=warn,fasttrack_store::error=debug")
            .env_remove("FASTTRACK_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the fasttrack binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Reads the address line, then keeps draining standard output so the child never blocks.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("fasttrack is serving on ") {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            if let Ok(addr) = rx.try_recv() {
                break addr;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "fasttrack serve exited at start ({status}); see {}",
                    self.log.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "fasttrack serve did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "/healthz did not answer within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server { child, base }
    }
}

impl Server {
    /// SIGKILL: no shutdown, no flush, nothing in flight finishes.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the graceful stop.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One webhook delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: String,
    pub delivery_id: String,
    pub body: Value,
}

/// A webhook receiver on a free port that answers 204 and records every delivery.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    /// Starts the receiver.
    pub async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let sink = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    sink.lock().expect("receiver lock").push(Delivery {
                        event: h("x-fasttrack-event"),
                        delivery_id: h("x-fasttrack-delivery"),
                        body,
                    });
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver port");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
        }
    }

    /// Every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().expect("receiver lock").clone()
    }
}

/// An HTTP client that sends a personal API token (so it survives server restarts and needs no
/// CSRF token).
#[derive(Clone)]
pub struct Bearer {
    pub http: reqwest::Client,
    pub token: String,
}

impl Bearer {
    /// Signs `email` in at `base` (seeded password) and creates a personal token.
    pub async fn create(base: &str, email: &str) -> Bearer {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let signed: Value = http
            .post(format!("{base}/api/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("sign-in")
            .json()
            .await
            .expect("sign-in body");
        let csrf = signed["csrf_token"]
            .as_str()
            .expect("csrf token")
            .to_string();
        let created: Value = http
            .post(format!("{base}/api/v1/me/tokens"))
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "load"}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token body");
        let token = created["token"].as_str().expect("token secret").to_string();
        Bearer {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            token,
        }
    }

    /// Sends `method path` with an optional JSON body; `Err` when no answer came (server down).
    pub async fn send(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut req = self
            .http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

/// A temporary directory for logs and files, named after the test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fasttrack-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}
