//! What every handler shares: the store, the clock, settings and the sign-in limiter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use fasttrack_store::Store;
use jiff::Timestamp;

/// The server's settings that handlers need.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Set the `Secure` flag on cookies (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// How long a session lasts, in seconds.
    pub session_seconds: i64,
    /// Failed sign-ins allowed per e-mail address and client within `login_window_seconds`.
    pub login_attempts: u32,
    pub login_window_seconds: i64,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` / `Forwarded` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Who may read `/metrics` on the main listener.
    pub metrics: crate::metrics::MetricsAccess,
    /// The address people reach fasttrack at (`https://ft.example.com`); identity providers send
    /// users back to it. Without one, the request's `Host` is used.
    pub public_url: Option<String>,
    /// Accept `http://` identity providers (tests, a provider on the same machine); production
    /// providers must be `https://`.
    pub oidc_allow_http: bool,
    /// The longest a request may take, body and handler included, before it is answered 408.
    pub request_timeout_seconds: u64,
    /// The longest a client may take to send a request's headers before the connection is closed.
    pub header_timeout_seconds: u64,
}

impl WebConfig {
    /// People reach the server over HTTPS (`public_url` is https): answers carry HSTS.
    pub fn public_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_seconds: 12 * 3600,
            login_attempts: 5,
            login_window_seconds: 15 * 60,
            trusted_proxies: Vec::new(),
            metrics: crate::metrics::MetricsAccess::default(),
            public_url: None,
            oidc_allow_http: false,
            request_timeout_seconds: 30,
            header_timeout_seconds: 10,
        }
    }
}

/// The time source: the wall clock, shifted by an offset that tests can move to travel in time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        let off = self.offset_seconds.load(Ordering::Relaxed);
        now.checked_add(jiff::SignedDuration::from_secs(off))
            .unwrap_or(now)
    }

    /// The current instant in UTC seconds, as the store keeps it.
    pub fn now_secs(&self) -> i64 {
        self.now().as_second()
    }

    /// Moves the clock forward (or back) by `seconds`; for tests of expiry and lapse.
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}

/// Counts failed sign-ins per key in a sliding window, so guessing passwords is slow.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl LoginLimiter {
    /// Seconds to wait before `key` may try again, if it is locked out at `now`.
    pub fn locked_for(&self, key: &str, now: i64, max: u32, window: i64) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let v = map.entry(key.to_string()).or_default();
        v.retain(|t| *t > now - window);
        if v.len() >= max as usize {
            let oldest = v.first().copied().unwrap_or(now);
            Some(u64::try_from(oldest + window - now).unwrap_or(1).max(1))
        } else {
            None
        }
    }

    /// Records a failed attempt; returns whether this failure locked the key out.
    pub fn fail(&self, key: &str, now: i64, max: u32) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Keep the map bounded under a flood of distinct keys.
        if map.len() > 100_000 {
            map.clear();
        }
        let v = map.entry(key.to_string()).or_default();
        v.push(now);
        v.len() == max as usize
    }

    /// Forgets failures after a successful sign-in.
    pub fn succeed(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Shared state of the HTTP layer, behind one reference count: every request clones it several
/// times (each extractor and middleware that takes it), from every worker thread, and a count per
/// part was a line of the profile (BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
    pub store: Store,
    pub clock: Clock,
    pub config: WebConfig,
    pub limiter: LoginLimiter,
    /// The request counters behind `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Identity providers' discovery documents and keys, cached per issuer.
    pub oidc: crate::oidc::Directory,
    /// The staff team slot search last built, while it is current.
    pub teams: crate::scheduler::TeamCache,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// State over a store with the given settings and the wall clock.
    pub fn new(store: Store, config: WebConfig) -> AppState {
        AppState(Arc::new(Shared {
            store,
            clock: Clock::default(),
            config,
            limiter: LoginLimiter::default(),
            metrics: crate::metrics::Metrics::default(),
            oidc: crate::oidc::Directory::default(),
            teams: crate::scheduler::TeamCache::default(),
        }))
    }
}
