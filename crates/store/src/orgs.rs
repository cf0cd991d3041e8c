//! Organizations (tenants, partners, the programme) and their domains.

use serde_json::json;

use crate::audit::audit;
use crate::{
    new_id, read, write_tx, AuditCtx, NewOrganization, Organization, OrganizationFilter,
    OrganizationPatch, Page, Paged, Store, StoreError,
};

/// An organization's columns, in the order of its row type.
pub(crate) const COLUMNS: &str = "id, kind, name, tenant_id, region_id, country, time_zone, language, domains, partner_of_record, created_at, updated_at";

impl Store {
    /// Creates an organization and claims its domains.
    #[tracing::instrument(name = "Creating an organization", skip_all)]
    pub async fn create_org(
        &self,
        new: &NewOrganization,
        ctx: &AuditCtx,
    ) -> Result<Organization, StoreError> {
        let id = new_id();
        let domains = serde_json::to_string(&new.domains).unwrap_or_else(|_| "[]".into());
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO organizations (id, kind, name, tenant_id, region_id, country, time_zone, language, domains, partner_of_record, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(&id)
            .bind(&new.kind)
            .bind(&new.name)
            .bind(new.tenant_id.clone())
            .bind(new.region_id.clone())
            .bind(&new.country)
            .bind(&new.time_zone)
            .bind(&new.language)
            .bind(&domains)
            .bind(new.partner_of_record.clone())
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            for d in &new.domains {
                sqlx::query("INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)")
                    .bind(d)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            audit!(
                tx,
                ctx,
                Some(id.clone()),
                "organization.create",
                "organization",
                id.clone(),
                json!({"kind": new.kind, "name": new.name, "tenant_id": new.tenant_id, "region_id": new.region_id,
                       "country": new.country, "time_zone": new.time_zone, "language": new.language, "domains": new.domains})
            );
            Ok(())
        })?;
        self.get_org(&id).await
    }

    /// One organization by id.
    #[tracing::instrument(name = "Fetching an organization", skip_all)]
    pub async fn get_org(&self, id: &str) -> Result<Organization, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        self.inline_row(&sql, &[id.into()])
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One customer by its tenant id.
    #[tracing::instrument(name = "Fetching an organization by tenant id", skip_all)]
    pub async fn get_org_by_tenant_id(&self, tenant_id: &str) -> Result<Organization, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE tenant_id = $1");
        let row: Option<Organization> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(tenant_id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// Organizations matching `f`, in creation order. The text search uses the database's
    /// trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL), so it stays fast on a million tenants.
    #[tracing::instrument(name = "Listing organizations", skip_all)]
    pub async fn list_orgs(
        &self,
        f: &OrganizationFilter,
        page: &Page,
    ) -> Result<Paged<Organization>, StoreError> {
        let q =
            f.q.as_ref()
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty());
        // A partner sees only its own customers (R9), searched in memory: see `directory`.
        if let Some((partner, now)) = &f.visible_to_partner {
            return self
                .partner_customers(partner, *now, f, q.as_deref(), page)
                .await;
        }
        // Trigram indexes need three characters; shorter queries match a name or domain prefix.
        let short = q.as_ref().is_some_and(|q| q.chars().count() < 3);
        let (search_sql, search_arg) = match (&q, short, self.backend()) {
            (None, _, _) => ("", None),
            (Some(q), true, _) => (
                "AND (lower(name) LIKE $3 ESCAPE '\\' OR id IN (SELECT org_id FROM org_domains WHERE domain LIKE $3 ESCAPE '\\'))",
                Some(format!("{}%", escape_like(q))),
            ),
            (Some(q), false, crate::Backend::Sqlite) => (
                "AND rowid IN (SELECT rowid FROM org_search WHERE org_search MATCH $3)",
                Some(format!("\"{}\"", q.replace('"', "\"\""))),
            ),
            (Some(q), false, crate::Backend::Postgres) => (
                "AND lower(name || ' ' || domains || ' ' || COALESCE(tenant_id, '')) LIKE $3 ESCAPE '\\'",
                Some(format!("%{}%", escape_like(q))),
            ),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM organizations
             WHERE ($1 IS NULL OR kind = $1)
               AND ($2 IS NULL OR region_id = $2)
               AND (CAST($3 AS TEXT) IS NULL OR 1 = 1) {search_sql}
               AND ($4 IS NULL OR id = $4)
               AND ($5 IS NULL OR id > $5)
             ORDER BY id LIMIT CAST($6 AS BIGINT)"
        );
        let args = [
            f.kind.as_deref().into(),
            f.region_id.as_deref().into(),
            search_arg.as_deref().into(),
            f.only.as_deref().into(),
            page.after.as_deref().into(),
            (page.limit + 1).into(),
        ];
        // A search across the whole programme may scan: it goes through the pool.
        let rows: Vec<Organization> = self.pooled_rows(&sql, &args).await?;
        Ok(Paged::from_rows(rows, page.limit, |o| o.id.clone()))
    }

    /// Applies a patch and records what changed.
    #[tracing::instrument(name = "Updating an organization", skip_all)]
    pub async fn update_org(
        &self,
        id: &str,
        patch: &OrganizationPatch,
        ctx: &AuditCtx,
    ) -> Result<Organization, StoreError> {
        let before = self.get_org(id).await?;
        let domains = patch
            .domains
            .as_ref()
            .map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".into()));
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE organizations SET
                    name = COALESCE($2, name),
                    region_id = CASE WHEN $3 THEN $4 ELSE region_id END,
                    country = COALESCE($5, country),
                    time_zone = COALESCE($6, time_zone),
                    language = COALESCE($7, language),
                    domains = COALESCE($8, domains),
                    partner_of_record = CASE WHEN $9 THEN $10 ELSE partner_of_record END,
                    updated_at = $11
                 WHERE id = $1",
            )
            .bind(id)
            .bind(patch.name.clone())
            .bind(patch.region_id.is_some())
            .bind(patch.region_id.clone().flatten())
            .bind(patch.country.clone())
            .bind(patch.time_zone.clone())
            .bind(patch.language.clone())
            .bind(domains.clone())
            .bind(patch.partner_of_record.is_some())
            .bind(patch.partner_of_record.clone().flatten())
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some(list) = &patch.domains {
                sqlx::query("DELETE FROM org_domains WHERE org_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for d in list {
                    sqlx::query("INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)")
                        .bind(d)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            audit!(
                tx,
                ctx,
                Some(id.to_string()),
                "organization.update",
                "organization",
                id.to_string(),
                json!({
                    "before": {"name": before.name, "region_id": before.region_id, "country": before.country,
                               "time_zone": before.time_zone, "language": before.language, "domains": before.domain_list(),
                               "partner_of_record": before.partner_of_record},
                    "set": {"name": patch.name, "region_id": patch.region_id, "country": patch.country,
                            "time_zone": patch.time_zone, "language": patch.language, "domains": patch.domains,
                            "partner_of_record": patch.partner_of_record}
                })
            );
            Ok(())
        })?;
        self.get_org(id).await
    }
}

/// Escapes LIKE wildcards so a search for "50%" finds "50%", not everything.
pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
