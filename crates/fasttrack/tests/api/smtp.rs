//! A real SMTP server for the tests (`smtp_sink.py`, aiosmtpd) in a subprocess: every message it
//! receives becomes a JSON file the tests read.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// An SMTP server in a subprocess on a port reserved up front (so a worker can be pointed at it
/// before it runs), writing each message it receives as a JSON file. Killed when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl SmtpSink {
    /// Reserves a free port and a mailbox directory; the server is not started yet.
    pub fn reserve() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("fasttrack-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("mailbox directory");
        SmtpSink {
            port,
            dir,
            child: None,
        }
    }

    /// The URL a worker sends to.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits (at most 20 s) until it accepts connections.
    pub async fn start(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs (the SMTP tests need `python3 -m pip install aiosmtpd`)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("the SMTP server exited ({status}); is aiosmtpd installed?");
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server did not start within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|s| serde_json::from_str(&s).ok())
            .collect()
    }

    /// Waits (at most `limit`) until `n` messages have arrived, and returns them all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
