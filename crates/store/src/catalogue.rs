//! The service catalogue: services, plans, and which plan makes which service eligible (R2).

use serde_json::json;

use crate::audit::audit;
use crate::{read, write_tx, AuditCtx, Plan, PlanRow, Service, Store, StoreError};

impl Store {
    /// Every service, by id.
    #[tracing::instrument(name = "Listing services", skip_all)]
    pub async fn list_services(&self) -> Result<Vec<Service>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT id, name, category, description, created_at, updated_at FROM services ORDER BY id"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// One service.
    #[tracing::instrument(name = "Fetching a service", skip_all)]
    pub async fn get_service(&self, id: &str) -> Result<Service, StoreError> {
        let row: Option<Service> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, name, category, description, created_at, updated_at FROM services WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Creates or replaces a service (its id is its code).
    #[tracing::instrument(name = "Saving a service", skip_all)]
    pub async fn upsert_service(&self, s: &Service, ctx: &AuditCtx) -> Result<Service, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO services (id, name, category, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category,
                    description = excluded.description, updated_at = excluded.updated_at",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.category)
            .bind(&s.description)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                None::<String>,
                "service.save",
                "service",
                s.id.clone(),
                json!({"name": s.name, "category": s.category, "description": s.description})
            );
            Ok(())
        })?;
        self.get_service(&s.id).await
    }

    /// Every plan with its eligible services.
    #[tracing::instrument(name = "Listing plans", skip_all)]
    pub async fn list_plans(&self) -> Result<Vec<Plan>, StoreError> {
        let rows: Vec<PlanRow> = read!(self, |p| sqlx::query_as(
            "SELECT id, name, paid, eligible, created_at, updated_at FROM plans ORDER BY id"
        )
        .fetch_all(p)
        .await?);
        let links: Vec<(String, String)> = read!(self, |p| sqlx::query_as(
            "SELECT plan_id, service_id FROM plan_services ORDER BY plan_id, service_id"
        )
        .fetch_all(p)
        .await?);
        Ok(rows
            .into_iter()
            .map(|r| Plan {
                services: links
                    .iter()
                    .filter(|(p, _)| *p == r.id)
                    .map(|(_, s)| s.clone())
                    .collect(),
                id: r.id,
                name: r.name,
                paid: r.paid,
                eligible: r.eligible,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// One plan with its eligible services.
    #[tracing::instrument(name = "Fetching a plan", skip_all)]
    pub async fn get_plan(&self, id: &str) -> Result<Plan, StoreError> {
        let row: Option<PlanRow> = read!(self, |p| sqlx::query_as(
            "SELECT id, name, paid, eligible, created_at, updated_at FROM plans WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?);
        let r = row.ok_or(StoreError::NotFound)?;
        let services: Vec<String> = read!(self, |p| sqlx::query_scalar(
            "SELECT service_id FROM plan_services WHERE plan_id = $1 ORDER BY service_id"
        )
        .bind(id)
        .fetch_all(p)
        .await?);
        Ok(Plan {
            id: r.id,
            name: r.name,
            paid: r.paid,
            eligible: r.eligible,
            services,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    /// Creates or replaces a plan and the set of services it makes eligible.
    #[tracing::instrument(name = "Saving a plan", skip_all)]
    pub async fn upsert_plan(&self, plan: &Plan, ctx: &AuditCtx) -> Result<Plan, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO plans (id, name, paid, eligible, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, paid = excluded.paid,
                    eligible = excluded.eligible, updated_at = excluded.updated_at",
            )
            .bind(&plan.id)
            .bind(&plan.name)
            .bind(plan.paid)
            .bind(plan.eligible)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM plan_services WHERE plan_id = $1")
                .bind(&plan.id)
                .execute(&mut *tx)
                .await?;
            for s in &plan.services {
                sqlx::query("INSERT INTO plan_services (plan_id, service_id) VALUES ($1, $2)")
                    .bind(&plan.id)
                    .bind(s)
                    .execute(&mut *tx)
                    .await?;
            }
            audit!(
                tx,
                ctx,
                None::<String>,
                "plan.save",
                "plan",
                plan.id.clone(),
                json!({"name": plan.name, "paid": plan.paid, "eligible": plan.eligible, "services": plan.services})
            );
            Ok(())
        })?;
        self.get_plan(&plan.id).await
    }

    /// R2: the services made eligible by the tenant's current subscriptions at `now`.
    #[tracing::instrument(name = "Listing a tenant's eligible services", skip_all)]
    pub async fn eligible_services(
        &self,
        org_id: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<(String,)> = self
            .inline_rows(
                "SELECT DISTINCT ps.service_id FROM subscriptions s
                 JOIN plan_services ps ON ps.plan_id = s.plan_id
                 WHERE s.org_id = $1 AND s.state = 'active' AND s.starts_at <= $2 AND (s.ends_at IS NULL OR s.ends_at > $2)
                 ORDER BY ps.service_id",
                &[org_id.into(), now.into()],
            )
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}
