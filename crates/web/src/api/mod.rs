//! The JSON API under `/api/v1`: thin handlers that parse, ask the core, and persist.

pub mod audit;
pub mod auth;
pub mod calendars;
pub mod catalogue;
pub mod engagements;
pub mod meetings;
pub mod migration;
pub mod orgs;
pub mod plans;
pub mod regions;
pub mod relationships;
pub mod requests;
pub mod sign_in_providers;
pub mod sla;
pub mod subscriptions;
pub mod templates;
pub mod users;
pub mod webhooks;
pub mod widget_tokens;

use fasttrack_core::policy::{self, Action, Grant, Owner, Resource};
use fasttrack_core::rules::relationship as rel;
use fasttrack_core::{Invalid, OrgKind};
use fasttrack_store::{AuditCtx, Organization};
use jiff::Timestamp;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::state::AppState;

/// The OpenAPI document's frame; paths are added by the routers below.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fasttrack API",
        description = "The FastTrack onboarding-assistance programme: tenants, partners, requests, engagements and meetings. \
                       Authenticate with a personal API token (`Authorization: Bearer …`) or a session cookie plus `X-CSRF-Token`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every API route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(orgs::router())
        .merge(subscriptions::router())
        .merge(catalogue::router())
        .merge(relationships::router())
        .merge(requests::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(regions::router())
        .merge(widget_tokens::router())
        .merge(engagements::router())
        .merge(templates::router())
        .merge(migration::router())
        .merge(meetings::router())
        .merge(plans::router())
        .merge(calendars::router())
        .merge(sla::router())
        .merge(webhooks::router())
        .merge(sign_in_providers::router())
}

/// Checks a page size and builds the store's page request.
pub fn page(after: Option<String>, limit: Option<i64>) -> ApiResult<fasttrack_store::Page> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Invalid::one("limit", "between 1 and 200").into());
    }
    Ok(fasttrack_store::Page { after, limit })
}

/// Formats stored UTC seconds as RFC 3339.
pub fn ts(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Formats optional stored UTC seconds as RFC 3339.
pub fn ts_opt(secs: Option<i64>) -> Option<String> {
    secs.map(ts)
}

/// Parses an RFC 3339 instant into UTC seconds, naming `field` when it is wrong.
pub fn parse_ts(field: &str, s: &str) -> Result<i64, Invalid> {
    s.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| {
            Invalid::one(
                field,
                format!("'{s}' is not an RFC 3339 instant (for example 2026-11-24T09:00:00Z)"),
            )
        })
}

/// The audit context of a change made by `caller` (acting for a customer, when a partner is).
pub fn audit_ctx(state: &AppState, caller: &Caller, grant: &Grant) -> AuditCtx {
    AuditCtx {
        actor_user_id: Some(caller.user.id.clone()),
        actor_org_id: Some(caller.user.org_id.clone()),
        acting_for_org_id: grant.acting_for.clone(),
        at: state.clock.now_secs(),
    }
}

/// Converts a stored relationship into the core's.
pub fn core_relationship(r: &fasttrack_store::Relationship) -> ApiResult<rel::Relationship> {
    let bad =
        |what: &str| ApiError::Internal(format!("relationship {} has an unreadable {what}", r.id));
    let actions: Vec<rel::ScopeAction> =
        serde_json::from_str(&r.scope_actions).map_err(|_| bad("scope"))?;
    let services: Option<Vec<String>> = match &r.scope_services {
        Some(s) => Some(serde_json::from_str(s).map_err(|_| bad("service scope"))?),
        None => None,
    };
    let at = |s: i64| Timestamp::from_second(s).map_err(|_| bad("instant"));
    Ok(rel::Relationship {
        status: rel::StoredStatus::parse(&r.status).map_err(|_| bad("status"))?,
        scopes: rel::Scopes { actions, services },
        requested_at: at(r.requested_at)?,
        requested_days: r.requested_days,
        approved_at: r.approved_at.map(at).transpose()?,
        expires_at: r.expires_at.map(at).transpose()?,
        ended_at: r.ended_at.map(at).transpose()?,
    })
}

/// The relationship that governs what a partner may do for a customer now: a live one if any.
pub async fn partner_link(
    state: &AppState,
    partner_org_id: &str,
    customer_org_id: &str,
) -> ApiResult<Option<rel::Relationship>> {
    let now = state.clock.now();
    let all = state
        .store
        .relationships_between(partner_org_id, customer_org_id)
        .await?;
    let mut fallback = None;
    for r in &all {
        let c = core_relationship(r)?;
        if c.status(now) == rel::Status::Active {
            return Ok(Some(c));
        }
        if fallback.is_none() {
            fallback = Some(c);
        }
    }
    Ok(fallback)
}

/// Asks the policy whether `caller` may do `action` on `resource` of organization `org`.
pub async fn authorize_org(
    state: &AppState,
    caller: &Caller,
    action: Action,
    resource: Resource,
    org: &Organization,
    service: Option<&str>,
) -> ApiResult<Grant> {
    let kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    let link = if caller.role() == fasttrack_core::Role::PartnerUser && kind == OrgKind::Customer {
        partner_link(state, &caller.user.org_id, &org.id).await?
    } else {
        None
    };
    Ok(policy::authorize(
        &caller.actor,
        action,
        resource,
        Owner::Org {
            id: &org.id,
            kind,
            link: link.as_ref(),
        },
        service,
        state.clock.now(),
    )?)
}

/// Like [`authorize_org`], fetching the organization first; an unknown one is 404.
pub async fn authorize_org_id(
    state: &AppState,
    caller: &Caller,
    action: Action,
    resource: Resource,
    org_id: &str,
) -> ApiResult<(Organization, Grant)> {
    let org = state.store.get_org(org_id).await?;
    let grant = authorize_org(state, caller, action, resource, &org, None).await?;
    Ok((org, grant))
}

/// Asks the policy about programme-wide data (the catalogue, settings, cross-tenant lists).
pub fn authorize_programme(
    state: &AppState,
    caller: &Caller,
    action: Action,
    resource: Resource,
) -> ApiResult<Grant> {
    Ok(policy::authorize(
        &caller.actor,
        action,
        resource,
        Owner::Programme,
        None,
        state.clock.now(),
    )?)
}

/// Defines a page document type for a list endpoint.
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        /// One page of a list, and the cursor of the next page (absent on the last).
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next: Option<String>,
        }
    };
}
pub(crate) use page_of;
