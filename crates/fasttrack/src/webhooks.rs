//! Delivers webhook jobs: a POST of the event as JSON, signed with the subscription's secret.
//!
//! Receivers check `X-Fasttrack-Signature: sha256=<hex HMAC-SHA256 of the body>` and deduplicate
//! on `X-Fasttrack-Delivery` (the event id): delivery is at least once, retried with backoff until
//! the receiver answers 2xx.

use std::time::Duration;

use fasttrack_store::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The HTTP client for deliveries: short timeouts, no redirects (a redirect could leak the body).
pub fn client() -> anyhow::Result<reqwest::Client> {
    // Several crates may bring rustls; the first provider installed wins, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fasttrack-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// The signature header's value for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers one webhook job's payload (`{"webhook_id", "event"}`); `Err` means retry later.
pub async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    payload: &serde_json::Value,
) -> Result<(), String> {
    let id = payload["webhook_id"]
        .as_str()
        .ok_or("webhook job without webhook_id")?;
    let hook = match store.get_webhook(id).await {
        Ok(h) => h,
        Err(fasttrack_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(format!("loading webhook {id}: {e}")),
    };
    if !hook.active {
        // Deactivated since the event: nothing to deliver.
        return Ok(());
    }
    let event = &payload["event"];
    let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let res = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header(
            "x-fasttrack-event",
            event["type"].as_str().unwrap_or_default(),
        )
        .header(
            "x-fasttrack-delivery",
            event["id"].as_str().unwrap_or_default(),
        )
        .header("x-fasttrack-signature", signature(&hook.secret, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("POST {}: {e}", hook.url))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("POST {} answered {}", hook.url, res.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
