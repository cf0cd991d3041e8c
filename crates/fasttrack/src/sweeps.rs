//! Periodic sweeps the worker runs: work that falls due with time rather than with a request.

use fasttrack_core::rules::relationship::EXPIRY_WARNING_DAYS;
use fasttrack_store::{JobSpec, Page, Store, UserFilter};
use jiff::Timestamp;
use serde_json::json;

/// R16: queues the expiry warnings (30 and 7 days before) to both sides of every relationship
/// that has one due; each warning is queued once (its dedupe key names the relationship, its
/// expiry and the threshold). Returns how many warnings were due.
pub async fn relationship_expiry_warnings(store: &Store, now: Timestamp) -> anyhow::Result<usize> {
    let horizon = EXPIRY_WARNING_DAYS.iter().max().copied().unwrap_or(30);
    let soon = store
        .relationships_expiring(now.as_second(), now.as_second() + horizon * 86_400)
        .await?;
    let mut jobs = Vec::new();
    for r in &soon {
        let core = fasttrack_web::api::core_relationship(r).map_err(|e| anyhow::anyhow!("{e}"))?;
        let Some(days) = core.expiry_warning_due(now) else {
            continue;
        };
        let partner = store.get_org(&r.partner_org_id).await?;
        let customer = store.get_org(&r.customer_org_id).await?;
        let expires = r
            .expires_at
            .and_then(|e| Timestamp::from_second(e).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        for (org, role) in [(&partner, "partner_user"), (&customer, "customer_admin")] {
            let users = store
                .list_users(
                    &UserFilter {
                        org_id: Some(org.id.clone()),
                        role: Some(role.into()),
                        q: None,
                    },
                    &Page::new(None, 50),
                )
                .await?;
            let to: Vec<String> = users
                .items
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| u.email)
                .collect();
            if to.is_empty() {
                continue;
            }
            jobs.push(JobSpec {
                kind: "mail".into(),
                dedupe_key: format!("relationship:{}:{}:{}:warn{days}", r.id, r.expires_at.unwrap_or(0), org.id),
                payload: json!({
                    "template": "relationship_expiry_warning",
                    "to": to,
                    "language": org.language,
                    "vars": {"partner": partner.name, "customer": customer.name, "days": days, "expires_at": expires}
                }),
            });
        }
    }
    let due = jobs.len();
    store.enqueue_all(&jobs, now.as_second()).await?;
    Ok(due)
}

/// R15: queues a mail to the FastTrack Manager of every request whose clock has run most of its
/// target (once per clock: the dedupe key names the request and the clock). Returns how many
/// alerts were due, including those already queued by an earlier sweep.
pub async fn sla_near_breach_alerts(store: &Store, now: Timestamp) -> anyhow::Result<usize> {
    let jobs = fasttrack_web::api::sla::near_breach_alerts(store, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.enqueue_all(&jobs, now.as_second()).await?;
    Ok(jobs.len())
}
