//! Webhook subscriptions: an organization's endpoints that receive signed events.

use serde_json::json;

use crate::audit::audit;
use crate::{new_id, read, write_tx, AuditCtx, Store, StoreError};

/// A webhook subscription. The secret signs deliveries (HMAC-SHA256), so it is kept as given.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub secret: String,
    /// JSON array of event types (`request.submitted`, …), or `["*"]`.
    pub events: String,
    pub active: bool,
    pub created_at: i64,
}

crate::inline::inline_row!(Webhook {
    id,
    org_id,
    url,
    secret,
    events,
    active,
    created_at
});

impl Webhook {
    /// Whether this subscription wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        let list: Vec<String> = serde_json::from_str(&self.events).unwrap_or_default();
        list.iter().any(|e| e == "*" || e == event)
    }
}

const COLUMNS: &str = "id, org_id, url, secret, events, active, created_at";

/// The active webhooks of `$1`, `$2` and the programme, found through `webhooks_org`.
const WEBHOOKS_FOR: &str = "SELECT {COLUMNS} FROM webhooks WHERE active AND org_id IN (
       SELECT CAST($1 AS TEXT) UNION SELECT CAST($2 AS TEXT)
       UNION SELECT id FROM organizations WHERE kind = 'programme') ORDER BY id";

impl Store {
    /// Registers a webhook for an organization.
    #[tracing::instrument(name = "Registering a webhook", skip_all)]
    pub async fn create_webhook(
        &self,
        org_id: &str,
        url: &str,
        secret: &str,
        events: &[String],
        ctx: &AuditCtx,
    ) -> Result<Webhook, StoreError> {
        let id = new_id();
        write_tx!(self, |tx| {
            sqlx::query("INSERT INTO webhooks (id, org_id, url, secret, events, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6)")
                .bind(&id)
                .bind(org_id)
                .bind(url)
                .bind(secret)
                .bind(json!(events).to_string())
                .bind(ctx.at)
                .execute(&mut *tx)
                .await?;
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                "webhook.create",
                "webhook",
                id.clone(),
                json!({"url": url, "events": events})
            );
            Ok(())
        })?;
        self.get_webhook(&id).await
    }

    /// One webhook.
    #[tracing::instrument(name = "Fetching a webhook", skip_all)]
    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1");
        let row: Option<Webhook> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// An organization's webhooks (`None`: every organization's).
    #[tracing::instrument(name = "Listing webhooks", skip_all)]
    pub async fn list_webhooks(&self, org_id: Option<&str>) -> Result<Vec<Webhook>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM webhooks WHERE ($1 IS NULL OR org_id = $1) ORDER BY id");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(org_id)
        .fetch_all(p)
        .await?))
    }

    /// Active webhooks of the given organizations and of the programme's own organization.
    #[tracing::instrument(name = "Finding webhooks to notify", skip_all)]
    pub async fn webhooks_for(&self, org_a: &str, org_b: &str) -> Result<Vec<Webhook>, StoreError> {
        let sql = WEBHOOKS_FOR.replace("{COLUMNS}", COLUMNS);
        self.inline_rows(&sql, &[org_a.into(), org_b.into()]).await
    }

    /// Stops a webhook (kept for the record, deactivated).
    #[tracing::instrument(name = "Deactivating a webhook", skip_all)]
    pub async fn deactivate_webhook(
        &self,
        id: &str,
        org_id: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE webhooks SET active = FALSE WHERE id = $1 AND org_id = $2 AND active",
            )
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                "webhook.deactivate",
                "webhook",
                id.to_string(),
                json!({})
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every change to a request runs this lookup; deactivated webhooks are kept, so the table
    /// only grows.
    #[tokio::test]
    async fn a_requests_webhooks_are_found_by_organization_on_sqlite() {
        let db = crate::TempSqlite::new().await;
        let sql = super::WEBHOOKS_FOR.replace("{COLUMNS}", super::COLUMNS);
        let plan = db.query_plan(&sql, &["a".into(), "b".into()]).await;
        assert!(
            plan.iter()
                .any(|d| d.contains("webhooks USING INDEX webhooks_org (org_id=?)")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN webhooks")),
            "{plan:?}"
        );
    }
}
