//! Tenants' subscriptions (R1).

use serde_json::json;

use crate::audit::audit;
use crate::{
    new_id, read, write_tx, AuditCtx, NewSubscription, Page, Paged, Store, StoreError,
    Subscription, SubscriptionFilter, SubscriptionWithPlan,
};

const COLUMNS: &str =
    "id, org_id, plan_id, seats, state, starts_at, ends_at, created_at, updated_at";

impl Store {
    /// Records a subscription for a tenant.
    #[tracing::instrument(name = "Creating a subscription", skip_all)]
    pub async fn create_subscription(
        &self,
        new: &NewSubscription,
        ctx: &AuditCtx,
    ) -> Result<Subscription, StoreError> {
        let id = new_id();
        let NewSubscription {
            org_id,
            plan_id,
            seats,
            state,
            starts_at,
            ends_at,
        } = new;
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO subscriptions (id, org_id, plan_id, seats, state, starts_at, ends_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(&id)
            .bind(org_id)
            .bind(plan_id)
            .bind(seats)
            .bind(state)
            .bind(starts_at)
            .bind(ends_at)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                "subscription.create",
                "subscription",
                id.clone(),
                json!({"plan_id": plan_id, "seats": seats, "state": state, "starts_at": starts_at, "ends_at": ends_at})
            );
            Ok(())
        })?;
        self.get_subscription(&id).await
    }

    /// One subscription.
    #[tracing::instrument(name = "Fetching a subscription", skip_all)]
    pub async fn get_subscription(&self, id: &str) -> Result<Subscription, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM subscriptions WHERE id = $1");
        let row: Option<Subscription> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// Subscriptions matching `f`.
    #[tracing::instrument(name = "Listing subscriptions", skip_all)]
    pub async fn list_subscriptions(
        &self,
        f: &SubscriptionFilter,
        page: &Page,
    ) -> Result<Paged<Subscription>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM subscriptions
             WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR plan_id = $3)
               AND ($4 IS NULL OR id > $4)
             ORDER BY id LIMIT CAST($5 AS BIGINT)"
        );
        let rows: Vec<Subscription> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(f.org_id.clone())
                .bind(f.state.clone())
                .bind(f.plan_id.clone())
                .bind(page.after.clone())
                .bind(page.limit + 1)
                .fetch_all(p)
                .await?);
        Ok(Paged::from_rows(rows, page.limit, |s| s.id.clone()))
    }

    /// Changes a subscription's plan, seats, state or term.
    #[tracing::instrument(name = "Updating a subscription", skip_all)]
    pub async fn update_subscription(
        &self,
        id: &str,
        plan_id: Option<&str>,
        seats: Option<i64>,
        state: Option<&str>,
        ends_at: Option<Option<i64>>,
        ctx: &AuditCtx,
    ) -> Result<Subscription, StoreError> {
        let before = self.get_subscription(id).await?;
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE subscriptions SET plan_id = COALESCE($2, plan_id), seats = COALESCE($3, seats),
                    state = COALESCE($4, state), ends_at = CASE WHEN $5 THEN $6 ELSE ends_at END, updated_at = $7
                 WHERE id = $1",
            )
            .bind(id)
            .bind(plan_id)
            .bind(seats)
            .bind(state)
            .bind(ends_at.is_some())
            .bind(ends_at.flatten())
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(before.org_id.clone()),
                "subscription.update",
                "subscription",
                id.to_string(),
                json!({"before": {"plan_id": before.plan_id, "seats": before.seats, "state": before.state, "ends_at": before.ends_at},
                       "set": {"plan_id": plan_id, "seats": seats, "state": state, "ends_at": ends_at}})
            );
            Ok(())
        })?;
        self.get_subscription(id).await
    }

    /// R1: a tenant's subscriptions with what the eligibility rule needs of their plans.
    #[tracing::instrument(name = "Fetching a tenant's subscriptions for R1", skip_all)]
    pub async fn subscription_facts(
        &self,
        org_id: &str,
    ) -> Result<Vec<SubscriptionWithPlan>, StoreError> {
        self.inline_rows(
            "SELECT s.plan_id, p.paid, p.eligible, s.seats, s.state, s.starts_at, s.ends_at
             FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.org_id = $1",
            &[org_id.into()],
        )
        .await
    }
}
