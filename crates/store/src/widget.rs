//! Tokens for the admin center's "Need help?" widget (R8a): each bound to one tenant, stored hashed.

use serde_json::json;

use crate::audit::audit;
use crate::{new_id, read, write_tx, AuditCtx, Store, StoreError};

/// A widget token (never its secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WidgetToken {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// JSON array of origins allowed to embed the widget.
    pub allowed_origins: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl WidgetToken {
    /// The allowed origins, decoded.
    pub fn origins(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_origins).unwrap_or_default()
    }
}

const COLUMNS: &str = "id, org_id, name, allowed_origins, created_by, created_at, revoked_at";

impl Store {
    /// Creates a widget token whose secret hashes to `token_hash`.
    #[tracing::instrument(name = "Creating a widget token", skip_all)]
    pub async fn create_widget_token(
        &self,
        org_id: &str,
        name: &str,
        origins: &[String],
        token_hash: &str,
        ctx: &AuditCtx,
    ) -> Result<WidgetToken, StoreError> {
        let id = new_id();
        let created_by = ctx.actor_user_id.clone().unwrap_or_default();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO widget_tokens (id, org_id, name, token_hash, allowed_origins, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(org_id)
            .bind(name)
            .bind(token_hash)
            .bind(json!(origins).to_string())
            .bind(&created_by)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                "widget_token.create",
                "widget_token",
                id.clone(),
                json!({"name": name, "allowed_origins": origins})
            );
            Ok(())
        })?;
        let sql = format!("SELECT {COLUMNS} FROM widget_tokens WHERE id = $1");
        let row: Option<WidgetToken> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// The live widget token whose secret hashes to `token_hash`.
    #[tracing::instrument(name = "Looking up a widget token", skip_all)]
    pub async fn find_widget_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<WidgetToken>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM widget_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(token_hash)
        .fetch_optional(p)
        .await?))
    }

    /// A tenant's widget tokens.
    #[tracing::instrument(name = "Listing widget tokens", skip_all)]
    pub async fn list_widget_tokens(&self, org_id: &str) -> Result<Vec<WidgetToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM widget_tokens WHERE org_id = $1 ORDER BY id");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(org_id)
        .fetch_all(p)
        .await?))
    }

    /// Revokes a tenant's widget token.
    #[tracing::instrument(name = "Revoking a widget token", skip_all)]
    pub async fn revoke_widget_token(
        &self,
        org_id: &str,
        id: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query("UPDATE widget_tokens SET revoked_at = $3 WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL")
                .bind(id)
                .bind(org_id)
                .bind(ctx.at)
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
                "widget_token.revoke",
                "widget_token",
                id.to_string(),
                json!({})
            );
            Ok(())
        })
    }
}
