//! The append-only audit log: every change is written in the same transaction as the change.

use crate::{read, AuditRecord, Paged, Store, StoreError};

/// Who makes a change, for whom, and when; passed to every write.
#[derive(Debug, Clone, Default)]
pub struct AuditCtx {
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    /// The customer a partner acted for (R9).
    pub acting_for_org_id: Option<String>,
    /// UTC seconds.
    pub at: i64,
}

/// Filters for reading the audit log, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant_org_id: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<String>,
    /// Records with an id below this one (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Appends one audit record inside the transaction `$tx`.
macro_rules! audit {
    ($tx:expr, $ctx:expr, $tenant:expr, $action:expr, $entity:expr, $entity_id:expr, $changes:expr) => {{
        let changes: serde_json::Value = $changes;
        sqlx::query(
            "INSERT INTO audit_log (at, actor_user_id, actor_org_id, acting_for_org_id, tenant_org_id, action, entity, entity_id, changes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($ctx.at)
        .bind($ctx.actor_user_id.clone())
        .bind($ctx.actor_org_id.clone())
        .bind($ctx.acting_for_org_id.clone())
        .bind($tenant)
        .bind($action)
        .bind($entity)
        .bind($entity_id)
        .bind(changes.to_string())
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use audit;

impl Store {
    /// Reads the audit log, newest first.
    #[tracing::instrument(name = "Reading the audit log", skip_all)]
    pub async fn list_audit(&self, f: &AuditFilter) -> Result<Paged<AuditRecord>, StoreError> {
        let rows: Vec<AuditRecord> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, at, actor_user_id, actor_org_id, acting_for_org_id, tenant_org_id, action, entity, entity_id, changes
             FROM audit_log
             WHERE ($1 IS NULL OR tenant_org_id = $1)
               AND ($2 IS NULL OR entity = $2)
               AND ($3 IS NULL OR entity_id = $3)
               AND ($4 IS NULL OR actor_user_id = $4)
               AND ($5 IS NULL OR id < $5)
             ORDER BY id DESC LIMIT CAST($6 AS BIGINT)",
        )
        .bind(f.tenant_org_id.clone())
        .bind(f.entity.clone())
        .bind(f.entity_id.clone())
        .bind(f.actor_user_id.clone())
        .bind(f.before)
        .bind(f.limit + 1)
        .fetch_all(p)
        .await?
        });
        Ok(Paged::from_rows(rows, f.limit, |r| r.id.to_string()))
    }
}
