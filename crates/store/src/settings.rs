//! Programme settings kept as JSON documents (R17's migration limits), and the meeting plans of
//! engagements (R5/R10), which the web layer reads and writes whole.

use serde_json::json;

use crate::audit::audit;
use crate::{read, write_tx, AuditCtx, Store, StoreError};

/// The meeting plan of one request's engagement, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeetingPlanRow {
    pub request_id: String,
    pub engagement_id: String,
    /// `proposed` or `confirmed`.
    pub state: String,
    /// JSON document of the planned meetings.
    pub body: String,
    pub confirmed_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Store {
    /// A programme setting's JSON text, if it was ever saved.
    #[tracing::instrument(name = "Reading a programme setting", skip(self))]
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = read!(self, |p| sqlx::query_as(
            "SELECT body FROM programme_settings WHERE setting_key = $1"
        )
        .bind(key)
        .fetch_optional(p)
        .await?);
        Ok(row.map(|r| r.0))
    }

    /// Saves a programme setting (validated by the caller), audited with its new value.
    #[tracing::instrument(name = "Saving a programme setting", skip(self, body, ctx))]
    pub async fn save_setting(
        &self,
        key: &str,
        body: &serde_json::Value,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO programme_settings (setting_key, body, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (setting_key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(body.to_string())
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                None::<String>,
                "settings.update",
                "programme_settings",
                key.to_string(),
                json!({ "value": body })
            );
            Ok(())
        })
    }

    /// The meeting plan of a request, if one was proposed.
    #[tracing::instrument(name = "Reading a meeting plan", skip(self))]
    pub async fn meeting_plan(
        &self,
        request_id: &str,
    ) -> Result<Option<MeetingPlanRow>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT request_id, engagement_id, state, body, confirmed_by, created_at, updated_at
             FROM meeting_plans WHERE request_id = $1"
        )
        .bind(request_id)
        .fetch_optional(p)
        .await?))
    }

    /// Creates or replaces a request's meeting plan, audited against its tenant.
    #[tracing::instrument(name = "Saving a meeting plan", skip(self, row, ctx))]
    pub async fn save_meeting_plan(
        &self,
        row: &MeetingPlanRow,
        tenant_org_id: &str,
        action: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO meeting_plans (request_id, engagement_id, state, body, confirmed_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (request_id) DO UPDATE SET engagement_id = excluded.engagement_id,
                    state = excluded.state, body = excluded.body, confirmed_by = excluded.confirmed_by,
                    updated_at = excluded.updated_at",
            )
            .bind(&row.request_id)
            .bind(&row.engagement_id)
            .bind(&row.state)
            .bind(&row.body)
            .bind(&row.confirmed_by)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(tenant_org_id.to_string()),
                action,
                "meeting_plan",
                row.request_id.clone(),
                json!({ "state": row.state, "engagement_id": row.engagement_id })
            );
            Ok(())
        })
    }
}
