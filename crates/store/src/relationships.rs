//! Partner–customer relationships (R9, R16): stored as the core decided them.

use serde_json::json;

use crate::audit::audit;
use crate::{
    read, write_tx, AuditCtx, Page, Paged, Relationship, RelationshipFilter, Store, StoreError,
};

const COLUMNS: &str = "id, partner_org_id, customer_org_id, status, scope_actions, scope_services, requested_days,
    requested_at, requested_by, approved_at, approved_by, expires_at, ended_at, ended_by, updated_at";

impl Store {
    /// Records a partner's ask (R16).
    #[tracing::instrument(name = "Recording a relationship ask", skip_all)]
    pub async fn create_relationship(
        &self,
        r: &Relationship,
        ctx: &AuditCtx,
    ) -> Result<Relationship, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO relationships (id, partner_org_id, customer_org_id, status, scope_actions, scope_services,
                    requested_days, requested_at, requested_by, approved_at, approved_by, expires_at, ended_at, ended_by, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&r.id)
            .bind(&r.partner_org_id)
            .bind(&r.customer_org_id)
            .bind(&r.status)
            .bind(&r.scope_actions)
            .bind(r.scope_services.clone())
            .bind(r.requested_days)
            .bind(r.requested_at)
            .bind(&r.requested_by)
            .bind(r.approved_at)
            .bind(r.approved_by.clone())
            .bind(r.expires_at)
            .bind(r.ended_at)
            .bind(r.ended_by.clone())
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(r.customer_org_id.clone()),
                "relationship.ask",
                "relationship",
                r.id.clone(),
                json!({"partner_org_id": r.partner_org_id, "customer_org_id": r.customer_org_id,
                       "scope_actions": r.scope_actions, "scope_services": r.scope_services, "requested_days": r.requested_days})
            );
            Ok(())
        })?;
        self.get_relationship(&r.id).await
    }

    /// Saves a relationship after a transition (approve, decline, extend, end), recording `action`.
    #[tracing::instrument(name = "Saving a relationship", skip_all)]
    pub async fn save_relationship(
        &self,
        r: &Relationship,
        action: &str,
        ctx: &AuditCtx,
    ) -> Result<Relationship, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE relationships SET status = $2, scope_actions = $3, scope_services = $4, approved_at = $5,
                    approved_by = $6, expires_at = $7, ended_at = $8, ended_by = $9, updated_at = $10
                 WHERE id = $1",
            )
            .bind(&r.id)
            .bind(&r.status)
            .bind(&r.scope_actions)
            .bind(r.scope_services.clone())
            .bind(r.approved_at)
            .bind(r.approved_by.clone())
            .bind(r.expires_at)
            .bind(r.ended_at)
            .bind(r.ended_by.clone())
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(r.customer_org_id.clone()),
                format!("relationship.{action}"),
                "relationship",
                r.id.clone(),
                json!({"status": r.status, "scope_actions": r.scope_actions, "scope_services": r.scope_services,
                       "expires_at": r.expires_at, "ended_at": r.ended_at})
            );
            Ok(())
        })?;
        self.get_relationship(&r.id).await
    }

    /// One relationship.
    #[tracing::instrument(name = "Fetching a relationship", skip_all)]
    pub async fn get_relationship(&self, id: &str) -> Result<Relationship, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM relationships WHERE id = $1");
        let row: Option<Relationship> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// Every relationship between a partner and a customer, newest first (R9 looks for a live one).
    #[tracing::instrument(name = "Fetching a partner's relationships with a customer", skip_all)]
    pub async fn relationships_between(
        &self,
        partner_org_id: &str,
        customer_org_id: &str,
    ) -> Result<Vec<Relationship>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM relationships WHERE partner_org_id = $1 AND customer_org_id = $2 ORDER BY id DESC"
        );
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(partner_org_id)
        .bind(customer_org_id)
        .fetch_all(p)
        .await?))
    }

    /// Relationships matching `f`.
    #[tracing::instrument(name = "Listing relationships", skip_all)]
    pub async fn list_relationships(
        &self,
        f: &RelationshipFilter,
        page: &Page,
    ) -> Result<Paged<Relationship>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM relationships
             WHERE ($1 IS NULL OR partner_org_id = $1) AND ($2 IS NULL OR customer_org_id = $2)
               AND ($3 IS NULL OR partner_org_id = $3 OR customer_org_id = $3)
               AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR id > $5)
             ORDER BY id LIMIT CAST($6 AS BIGINT)"
        );
        let rows: Vec<Relationship> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(f.partner_org_id.clone())
                .bind(f.customer_org_id.clone())
                .bind(f.party.clone())
                .bind(f.status.clone())
                .bind(page.after.clone())
                .bind(page.limit + 1)
                .fetch_all(p)
                .await?);
        Ok(Paged::from_rows(rows, page.limit, |r| r.id.clone()))
    }
}

impl Store {
    /// Active relationships that expire before `before` (and have not yet expired at `now`).
    #[tracing::instrument(name = "Listing relationships about to expire", skip_all)]
    pub async fn relationships_expiring(
        &self,
        now: i64,
        before: i64,
    ) -> Result<Vec<Relationship>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM relationships WHERE status = 'active' AND expires_at > $1 AND expires_at <= $2 ORDER BY id"
        );
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(now)
        .bind(before)
        .fetch_all(p)
        .await?))
    }

    /// Enqueues jobs outside any other change (a periodic sweep); repeated dedupe keys are ignored.
    #[tracing::instrument(name = "Enqueuing sweep jobs", skip_all)]
    pub async fn enqueue_all(&self, jobs: &[crate::JobSpec], now: i64) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            for j in jobs {
                crate::jobs::enqueue!(
                    tx,
                    j.kind.clone(),
                    Some(j.dedupe_key.clone()),
                    j.payload.clone(),
                    now,
                    now
                );
            }
            Ok(())
        })
    }
}
