//! Regions and their public holidays (R12).

use serde_json::json;

use crate::audit::audit;
use crate::{read, write_tx, AuditCtx, Holiday, Region, Store, StoreError};

impl Store {
    /// Creates or replaces a region.
    #[tracing::instrument(name = "Saving a region", skip_all)]
    pub async fn upsert_region(&self, r: &Region, ctx: &AuditCtx) -> Result<Region, StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO regions (id, name, time_zone, working_hours, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
                    working_hours = excluded.working_hours, updated_at = excluded.updated_at",
            )
            .bind(&r.id)
            .bind(&r.name)
            .bind(&r.time_zone)
            .bind(&r.working_hours)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                None::<String>,
                "region.save",
                "region",
                r.id.clone(),
                json!({"name": r.name, "time_zone": r.time_zone, "working_hours": r.working_hours})
            );
            Ok(())
        })?;
        self.get_region(&r.id).await
    }

    /// One region.
    #[tracing::instrument(name = "Fetching a region", skip_all)]
    pub async fn get_region(&self, id: &str) -> Result<Region, StoreError> {
        let row: Option<Region> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, name, time_zone, working_hours, created_at, updated_at FROM regions WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Every region.
    #[tracing::instrument(name = "Listing regions", skip_all)]
    pub async fn list_regions(&self) -> Result<Vec<Region>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT id, name, time_zone, working_hours, created_at, updated_at FROM regions ORDER BY id"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// Adds or renames public holidays of a region.
    #[tracing::instrument(name = "Saving holidays", skip_all)]
    pub async fn upsert_holidays(
        &self,
        region_id: &str,
        days: &[Holiday],
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            for h in days {
                sqlx::query(
                    "INSERT INTO holidays (region_id, day, name) VALUES ($1, $2, $3)
                     ON CONFLICT (region_id, day) DO UPDATE SET name = excluded.name",
                )
                .bind(region_id)
                .bind(&h.day)
                .bind(&h.name)
                .execute(&mut *tx)
                .await?;
            }
            audit!(
                tx,
                ctx,
                None::<String>,
                "region.holidays",
                "region",
                region_id.to_string(),
                json!({"holidays": days.iter().map(|h| json!({"day": h.day, "name": h.name})).collect::<Vec<_>>()})
            );
            Ok(())
        })
    }

    /// A region's holidays, by date.
    #[tracing::instrument(name = "Listing holidays", skip_all)]
    pub async fn list_holidays(&self, region_id: &str) -> Result<Vec<Holiday>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT region_id, day, name FROM holidays WHERE region_id = $1 ORDER BY day"
        )
        .bind(region_id)
        .fetch_all(p)
        .await?))
    }
}
