//! What fasttrack knows of each identity provider: its discovery document and signing keys,
//! fetched over HTTP and cached per issuer. An ID token signed by a key we do not know makes us
//! fetch the keys again (the provider rotated them), at most once per cool-down so that nobody can
//! make us hammer the provider: the first unknown key after a fetch is looked up at once, the
//! next ones only after the cool-down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use super::jwt::JwkSet;

/// How long a discovery document and a key set are trusted before they are fetched again.
pub const CACHE_SECONDS: i64 = 3600;
/// The least time between two fetches of the keys for unknown keys, per issuer.
pub const REFETCH_COOLDOWN_SECONDS: i64 = 30;
/// The largest document accepted from a provider.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The parts of a provider's discovery document fasttrack uses (OpenID Connect Discovery 1.0).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// A provider that cannot be used right now.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("the issuer must be an https:// address")]
    InsecureIssuer,
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider answered {0}")]
    Status(u16),
    #[error("the provider's answer is not valid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
struct Entry {
    discovery: Arc<Discovery>,
    discovered_at: i64,
    keys: Arc<JwkSet>,
    /// When an unknown key last made us fetch the keys again.
    refetched_at: Option<i64>,
}

/// The cache of providers, shared by every request of a server.
#[derive(Debug, Default)]
pub struct Directory {
    client: OnceLock<reqwest::Client>,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Whether `url` may be fetched: https, or http when the server allows it (tests, local providers).
pub fn url_allowed(url: &str, allow_http: bool) -> bool {
    url.starts_with("https://") || (allow_http && url.starts_with("http://"))
}

impl Directory {
    fn client(&self) -> Result<&reqwest::Client, ProviderError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        // No redirects: a provider's endpoints are what its discovery document says.
        let c = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fasttrack/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        Ok(self.client.get_or_init(|| c))
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        allow_http: bool,
    ) -> Result<T, ProviderError> {
        if !url_allowed(url, allow_http) {
            return Err(ProviderError::InsecureIssuer);
        }
        let res = self
            .client()?
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(ProviderError::Status(res.status().as_u16()));
        }
        let body = read_limited(res).await?;
        serde_json::from_slice(&body).map_err(|e| ProviderError::Invalid(e.to_string()))
    }

    /// Sends a form to the provider's token endpoint and returns its JSON answer, whatever the
    /// status (an error answer names the error).
    pub async fn post_form(
        &self,
        url: &str,
        allow_http: bool,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), ProviderError> {
        if !url_allowed(url, allow_http) {
            return Err(ProviderError::InsecureIssuer);
        }
        // Built before any await: the serializer is not `Send`.
        let body = {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                s.append_pair(k, v);
            }
            s.finish()
        };
        let mut req = self
            .client()?
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        if let Some((id, secret)) = basic {
            // RFC 6749 §2.3.1: both parts form-encoded before Basic authentication.
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(id), Some(enc(secret)));
        }
        let res = req.send().await.map_err(unreachable)?;
        let status = res.status().as_u16();
        let bytes = read_limited(res).await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Ok((status, value))
    }

    /// Reads the UserInfo endpoint with the access token; returns the status and the JSON answer.
    pub async fn userinfo(
        &self,
        url: &str,
        allow_http: bool,
        access_token: &str,
    ) -> Result<(u16, serde_json::Value), ProviderError> {
        if !url_allowed(url, allow_http) {
            return Err(ProviderError::InsecureIssuer);
        }
        let res = self
            .client()?
            .get(url)
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        let status = res.status().as_u16();
        let bytes = read_limited(res).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// The provider's discovery document (cached); its `issuer` must be the one configured.
    pub async fn discovery(
        &self,
        issuer: &str,
        allow_http: bool,
        now: i64,
    ) -> Result<Arc<Discovery>, ProviderError> {
        if let Some(e) = self.entry(issuer) {
            if now - e.discovered_at < CACHE_SECONDS {
                return Ok(e.discovery);
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let d: Discovery = self.fetch_json(&url, allow_http).await?;
        if d.issuer != issuer {
            return Err(ProviderError::Invalid(format!(
                "the discovery document names the issuer '{}'",
                d.issuer
            )));
        }
        for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri]
            .into_iter()
            .chain(d.userinfo_endpoint.as_ref())
        {
            if !url_allowed(endpoint, allow_http) {
                return Err(ProviderError::InsecureIssuer);
            }
        }
        let d = Arc::new(d);
        let keys = self.fetch_json::<JwkSet>(&d.jwks_uri, allow_http).await?;
        self.store(
            issuer,
            Entry {
                discovery: d.clone(),
                discovered_at: now,
                keys: Arc::new(keys),
                refetched_at: None,
            },
        );
        Ok(d)
    }

    /// The provider's keys as last fetched (after [`Directory::discovery`]).
    pub fn keys(&self, issuer: &str) -> Option<Arc<JwkSet>> {
        self.entry(issuer).map(|e| e.keys)
    }

    /// Fetches the keys again because a token named one we do not know; `None` when the last
    /// fetch is too recent (the cool-down).
    pub async fn refetch_keys(
        &self,
        issuer: &str,
        allow_http: bool,
        now: i64,
    ) -> Result<Option<Arc<JwkSet>>, ProviderError> {
        // Checked and claimed under one lock, so that concurrent callbacks fetch once.
        let discovery = {
            let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let Some(e) = map.get_mut(issuer) else {
                return Ok(None);
            };
            if e.refetched_at
                .is_some_and(|t| now - t < REFETCH_COOLDOWN_SECONDS)
            {
                tracing::warn!(
                    issuer,
                    "unknown signing key within the cool-down: keys not fetched again"
                );
                return Ok(None);
            }
            e.refetched_at = Some(now);
            e.discovery.clone()
        };
        let keys = Arc::new(
            self.fetch_json::<JwkSet>(&discovery.jwks_uri, allow_http)
                .await?,
        );
        tracing::info!(
            issuer,
            keys = keys.keys.len(),
            "identity provider keys fetched again"
        );
        let k = keys.clone();
        self.update(issuer, move |e| e.keys = k);
        Ok(Some(keys))
    }

    /// Forgets a provider (its settings changed).
    pub fn forget(&self, issuer: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(issuer);
    }

    fn entry(&self, issuer: &str) -> Option<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
            .cloned()
    }

    fn store(&self, issuer: &str, e: Entry) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: one entry per configured issuer; a flood of distinct ones clears the cache.
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(issuer.to_string(), e);
    }

    fn update(&self, issuer: &str, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(issuer)
        {
            f(e);
        }
    }
}

/// A transport failure with its causes (reqwest's own message says only "error sending request"),
/// without the URL.
fn unreachable(e: reqwest::Error) -> ProviderError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ProviderError::Unreachable(text)
}

async fn read_limited(mut res: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(unreachable)? {
        if out.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(ProviderError::Invalid("the answer is too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
