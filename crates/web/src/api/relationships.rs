//! Partner relationships (R9, R16): a partner asks, the customer approves, either side ends it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::relationship::{self as rel, ScopeAction, Scopes};
use fasttrack_core::{Invalid, Role};
use fasttrack_store::{new_id, RelationshipFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    audit_ctx, authorize_org_id, authorize_programme, core_relationship, page, page_of, ts, ts_opt,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_relationships, ask_relationship))
        .routes(routes!(get_relationship))
        .routes(routes!(approve_relationship))
        .routes(routes!(decline_relationship))
        .routes(routes!(extend_relationship))
        .routes(routes!(end_relationship))
}

/// What a partner may do for a customer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopesDoc {
    pub actions: Vec<ScopeAction>,
    /// Services covered; absent for every service.
    pub services: Option<Vec<String>>,
}

/// A relationship, with its status as of now.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipDoc {
    pub id: String,
    pub partner_org_id: String,
    pub customer_org_id: String,
    pub status: rel::Status,
    pub scopes: ScopesDoc,
    pub requested_days: i64,
    pub requested_at: String,
    pub requested_by: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<String>,
    pub expires_at: Option<String>,
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
}

fn doc(state: &AppState, r: fasttrack_store::Relationship) -> ApiResult<RelationshipDoc> {
    let c = core_relationship(&r)?;
    Ok(RelationshipDoc {
        status: c.status(state.clock.now()),
        scopes: ScopesDoc {
            actions: c.scopes.actions,
            services: c.scopes.services,
        },
        id: r.id,
        partner_org_id: r.partner_org_id,
        customer_org_id: r.customer_org_id,
        requested_days: r.requested_days,
        requested_at: ts(r.requested_at),
        requested_by: r.requested_by,
        approved_at: ts_opt(r.approved_at),
        approved_by: r.approved_by,
        expires_at: ts_opt(r.expires_at),
        ended_at: ts_opt(r.ended_at),
        ended_by: r.ended_by,
    })
}

page_of!(RelationshipPage, RelationshipDoc);

/// Filters for the relationship list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RelationshipQuery {
    pub partner_org_id: Option<String>,
    pub customer_org_id: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// A partner's ask.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    pub customer_org_id: String,
    /// Programme admins name the partner; partner users ask for their own organization.
    pub partner_org_id: Option<String>,
    pub scopes: ScopesDoc,
    /// 1 to 730 days (two years).
    pub term_days: i64,
}

/// The customer's approval, optionally narrowing scopes or term.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    pub scopes: Option<ScopesDoc>,
    pub term_days: Option<i64>,
}

/// A new term, counted from now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    pub term_days: i64,
}

/// Relationships the caller is party to (all of them for the programme).
#[utoipa::path(get, path = "/api/v1/relationships", tag = "relationships", params(RelationshipQuery),
    responses((status = 200, body = RelationshipPage)))]
pub(crate) async fn list_relationships(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RelationshipQuery>,
) -> ApiResult<Json<RelationshipPage>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Relationship)?;
    let party = if caller.role().is_programme() {
        None
    } else {
        Some(caller.user.org_id.clone())
    };
    let f = RelationshipFilter {
        partner_org_id: q.partner_org_id,
        customer_org_id: q.customer_org_id,
        party,
        status: None,
    };
    let p = state
        .store
        .list_relationships(&f, &page(q.after, q.limit)?)
        .await?;
    let items = p
        .items
        .into_iter()
        .map(|r| doc(&state, r))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(RelationshipPage {
        items,
        next: p.next,
    }))
}

/// R16: a partner asks a customer for a relationship.
#[utoipa::path(post, path = "/api/v1/relationships", tag = "relationships", request_body = AskBody,
    responses((status = 201, body = RelationshipDoc), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn ask_relationship(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AskBody>,
) -> ApiResult<(StatusCode, Json<RelationshipDoc>)> {
    let partner_org_id = match (caller.role(), body.partner_org_id) {
        (Role::PartnerUser, None) => caller.user.org_id.clone(),
        (Role::PartnerUser, Some(p)) if p == caller.user.org_id => p,
        (Role::PartnerUser, Some(_)) => {
            return Err(ApiError::Forbidden(
                "a partner asks only for its own organization".into(),
            ))
        }
        (Role::ProgrammeAdmin, Some(p)) => p,
        (Role::ProgrammeAdmin, None) => {
            return Err(Invalid::one("partner_org_id", "name the partner").into())
        }
        _ => {
            return Err(ApiError::Forbidden(
                "only partners ask for relationships".into(),
            ))
        }
    };
    let (_, grant) = authorize_org_id(
        &state,
        &caller,
        Action::Create,
        Resource::Relationship,
        &partner_org_id,
    )
    .await?;
    match state.store.get_org(&body.customer_org_id).await {
        Ok(o) if o.kind == "customer" => {}
        Ok(_) => return Err(Invalid::one("customer_org_id", "not a customer tenant").into()),
        Err(fasttrack_store::StoreError::NotFound) => {
            return Err(Invalid::one("customer_org_id", "no such customer").into())
        }
        Err(e) => return Err(e.into()),
    }
    match state.store.get_org(&partner_org_id).await {
        Ok(o) if o.kind == "partner" => {}
        _ => return Err(Invalid::one("partner_org_id", "not a partner organization").into()),
    }
    let now = state.clock.now();
    let scopes = Scopes {
        actions: body.scopes.actions,
        services: body.scopes.services,
    };
    let c = rel::Relationship::ask(scopes, body.term_days, now)?;
    let r = fasttrack_store::Relationship {
        id: new_id(),
        partner_org_id,
        customer_org_id: body.customer_org_id,
        status: c.status.as_str().to_string(),
        scope_actions: serde_json::to_string(&c.scopes.actions)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        scope_services: c
            .scopes
            .services
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_default()),
        requested_days: c.requested_days,
        requested_at: now.as_second(),
        requested_by: caller.user.id.clone(),
        approved_at: None,
        approved_by: None,
        expires_at: None,
        ended_at: None,
        ended_by: None,
        updated_at: now.as_second(),
    };
    let saved = state
        .store
        .create_relationship(&r, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((StatusCode::CREATED, Json(doc(&state, saved)?)))
}

/// One relationship (either party, or the programme).
#[utoipa::path(get, path = "/api/v1/relationships/{id}", tag = "relationships", params(("id" = String, Path)),
    responses((status = 200, body = RelationshipDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_relationship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RelationshipDoc>> {
    let r = load_as_party(&state, &caller, &id).await?;
    Ok(Json(doc(&state, r)?))
}

/// Fetches a relationship the caller is party to; anything else is 404.
pub(crate) async fn load_as_party(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<fasttrack_store::Relationship> {
    let r = state.store.get_relationship(id).await?;
    let party = caller.user.org_id == r.partner_org_id || caller.user.org_id == r.customer_org_id;
    if !(caller.role().is_programme() || party) {
        return Err(ApiError::NotFound);
    }
    Ok(r)
}

/// Applies a core transition as the customer (or the programme), persists it and returns it.
pub(crate) async fn transition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    customer_only: bool,
    f: impl FnOnce(&mut rel::Relationship, jiff::Timestamp) -> Result<(), fasttrack_core::RuleViolation>,
) -> ApiResult<RelationshipDoc> {
    let mut r = load_as_party(state, caller, id).await?;
    let acting_org = if caller.role().is_programme() {
        r.customer_org_id.clone()
    } else {
        caller.user.org_id.clone()
    };
    if customer_only && acting_org != r.customer_org_id {
        return Err(ApiError::Forbidden(format!(
            "only the customer may {action} a relationship"
        )));
    }
    let (_, grant) = authorize_org_id(
        state,
        caller,
        Action::Update,
        Resource::Relationship,
        &acting_org,
    )
    .await?;
    let now = state.clock.now();
    let mut c = core_relationship(&r)?;
    f(&mut c, now).map_err(ApiError::RuleConflict)?;
    r.status = c.status.as_str().to_string();
    r.scope_actions =
        serde_json::to_string(&c.scopes.actions).map_err(|e| ApiError::Internal(e.to_string()))?;
    r.scope_services = c
        .scopes
        .services
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    r.expires_at = c.expires_at.map(|t| t.as_second());
    r.ended_at = c.ended_at.map(|t| t.as_second());
    if action == "approve" {
        r.approved_at = c.approved_at.map(|t| t.as_second());
        r.approved_by = Some(caller.user.id.clone());
    }
    if matches!(action, "end" | "decline") {
        r.ended_by = Some(caller.user.id.clone());
    }
    r.updated_at = now.as_second();
    let saved = state
        .store
        .save_relationship(&r, action, &audit_ctx(state, caller, &grant))
        .await?;
    doc(state, saved)
}

/// R16: the customer approves a pending ask (scopes and term may be narrowed).
#[utoipa::path(post, path = "/api/v1/relationships/{id}/approve", tag = "relationships", params(("id" = String, Path)), request_body = ApproveBody,
    responses((status = 200, body = RelationshipDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn approve_relationship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> ApiResult<Json<RelationshipDoc>> {
    let scopes = body.scopes.map(|s| Scopes {
        actions: s.actions,
        services: s.services,
    });
    let term = body.term_days;
    Ok(Json(
        transition(&state, &caller, &id, "approve", true, move |c, now| {
            c.approve(scopes, term, now)
        })
        .await?,
    ))
}

/// R16: the customer refuses a pending ask.
#[utoipa::path(post, path = "/api/v1/relationships/{id}/decline", tag = "relationships", params(("id" = String, Path)),
    responses((status = 200, body = RelationshipDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn decline_relationship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RelationshipDoc>> {
    Ok(Json(
        transition(&state, &caller, &id, "decline", true, |c, now| {
            c.decline(now)
        })
        .await?,
    ))
}

/// R16: the customer extends an active relationship (at most two years from now).
#[utoipa::path(post, path = "/api/v1/relationships/{id}/extend", tag = "relationships", params(("id" = String, Path)), request_body = ExtendBody,
    responses((status = 200, body = RelationshipDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn extend_relationship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtendBody>,
) -> ApiResult<Json<RelationshipDoc>> {
    Ok(Json(
        transition(&state, &caller, &id, "extend", true, move |c, now| {
            c.extend(body.term_days, now)
        })
        .await?,
    ))
}

/// R16: either side ends the relationship at once; it stops granting anything on the next call.
#[utoipa::path(post, path = "/api/v1/relationships/{id}/end", tag = "relationships", params(("id" = String, Path)),
    responses((status = 200, body = RelationshipDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn end_relationship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RelationshipDoc>> {
    Ok(Json(
        transition(&state, &caller, &id, "end", false, |c, now| c.end(now)).await?,
    ))
}
