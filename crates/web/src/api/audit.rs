//! The audit log: each tenant reads its own records; programme admins read everything.

use axum::extract::State;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{authorize_org_id, authorize_programme, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// One audit record: who, acting for whom, when, what changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDoc {
    pub id: i64,
    pub at: String,
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    /// The customer a partner acted for (R9).
    pub acting_for_org_id: Option<String>,
    pub tenant_org_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

/// A page of audit records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditDoc>,
    /// Pass as `before` for the next (older) page.
    pub next: Option<String>,
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Programme admins may filter by tenant; others always read their own.
    pub tenant_org_id: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// Reads the audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::error::Problem)))]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let tenant = if caller.role().is_programme() {
        authorize_programme(&state, &caller, Action::Read, Resource::AuditLog)?;
        if caller.role().is_staff() {
            return Err(ApiError::Forbidden(
                "the audit log is read by tenants and programme admins".into(),
            ));
        }
        q.tenant_org_id
    } else {
        let own = caller.user.org_id.clone();
        if q.tenant_org_id.as_ref().is_some_and(|t| *t != own) {
            return Err(ApiError::NotFound);
        }
        authorize_org_id(&state, &caller, Action::Read, Resource::AuditLog, &own).await?;
        Some(own)
    };
    let limit = q.limit.unwrap_or(50);
    super::page(None, Some(limit))?;
    let p = state
        .store
        .list_audit(&AuditFilter {
            tenant_org_id: tenant,
            entity: q.entity,
            entity_id: q.entity_id,
            actor_user_id: q.actor_user_id,
            before: q.before,
            limit,
        })
        .await?;
    Ok(Json(AuditPage {
        items: p
            .items
            .into_iter()
            .map(|r| AuditDoc {
                id: r.id,
                at: ts(r.at),
                actor_user_id: r.actor_user_id,
                actor_org_id: r.actor_org_id,
                acting_for_org_id: r.acting_for_org_id,
                tenant_org_id: r.tenant_org_id,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        next: p.next,
    }))
}
