//! An organization's identity provider for OpenID Connect sign-in: set by its admin (or a
//! programme admin); the client secret is write-only.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fasttrack_core::types::{text, Domain};
use fasttrack_core::{error::Errors, policy, Invalid, OrgKind, Role};
use fasttrack_store::{AuditCtx, Organization, ProviderWrite, SignInProvider};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ts;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use crate::oidc::{directory::url_allowed, redirect_uri};
use crate::proxy::Origin;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(
        get_sign_in_provider,
        put_sign_in_provider,
        delete_sign_in_provider
    ))
}

/// An organization's identity provider (never its client secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInProviderDoc {
    pub org_id: String,
    /// The provider's issuer identifier; its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Always true: a secret is stored. It is never shown again.
    pub client_secret_set: bool,
    /// E-mail domains (the organization's own) whose users sign in through this provider.
    pub allowed_domains: Vec<String>,
    /// The role a first sign-in creates; absent: only existing users may sign in.
    pub new_user_role: Option<Role>,
    pub enabled: bool,
    /// The address to register at the provider as the redirect URI.
    pub redirect_uri: String,
    pub created_at: String,
    pub updated_at: String,
}

impl SignInProviderDoc {
    fn from(p: SignInProvider, redirect_uri: String) -> SignInProviderDoc {
        SignInProviderDoc {
            allowed_domains: p.domain_list(),
            new_user_role: p.new_user_role.as_deref().and_then(|r| Role::parse(r).ok()),
            org_id: p.org_id,
            issuer: p.issuer,
            client_id: p.client_id,
            client_secret_set: true,
            enabled: p.enabled,
            redirect_uri,
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        }
    }
}

/// The provider's settings. `client_secret` is required the first time; leaving it out later
/// keeps the stored one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInProviderPut {
    pub issuer: String,
    pub client_id: String,
    #[schema(write_only)]
    pub client_secret: Option<String>,
    pub allowed_domains: Vec<String>,
    /// customer_admin for a customer, partner_user for a partner; never for the programme.
    pub new_user_role: Option<Role>,
    /// Defaults to true.
    pub enabled: Option<bool>,
}

/// Whether an issuer's host is `localhost` or a loopback, private, link-local or unspecified
/// address literal.
fn names_a_local_host(issuer: &str) -> bool {
    let Some((_, rest)) = issuer.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_unique_local()
                || ip.is_unicast_link_local()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private() || v4.is_link_local())
        }
        Err(_) => false,
    }
}

/// Fetches the organization and asks the policy whether the caller may configure its sign-in.
async fn authorize(state: &AppState, caller: &Caller, org_id: &str) -> ApiResult<Organization> {
    let org = state.store.get_org(org_id).await?;
    let kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    policy::authorize_identity_provider(&caller.actor, &org.id, kind)?;
    Ok(org)
}

fn audit(state: &AppState, caller: &Caller) -> AuditCtx {
    AuditCtx {
        actor_user_id: Some(caller.user.id.clone()),
        actor_org_id: Some(caller.user.org_id.clone()),
        acting_for_org_id: None,
        at: state.clock.now_secs(),
    }
}

/// The organization's identity provider.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/sign-in-provider", tag = "sign-in", params(("id" = String, Path)),
    responses((status = 200, body = SignInProviderDoc), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_sign_in_provider(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<SignInProviderDoc>> {
    authorize(&state, &caller, &id).await?;
    let p = state
        .store
        .get_sign_in_provider(&id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(SignInProviderDoc::from(
        p,
        redirect_uri(&state.config, &headers, &origin),
    )))
}

/// Sets the organization's identity provider: 201 when it is new, 200 when it replaces one.
/// The provider's discovery document is read first, so a wrong issuer is refused at once.
#[utoipa::path(put, path = "/api/v1/organizations/{id}/sign-in-provider", tag = "sign-in", params(("id" = String, Path)),
    request_body = SignInProviderPut,
    responses((status = 200, body = SignInProviderDoc), (status = 201, body = SignInProviderDoc),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn put_sign_in_provider(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<SignInProviderDoc>)> {
    let org = authorize(&state, &caller, &id).await?;
    // The body's fields are checked only after authorization: a caller who may not configure
    // this organization learns nothing from field errors (the authorization matrix checks it).
    let body: SignInProviderPut =
        crate::extract::parse_json(&serde_json::to_vec(&raw).unwrap_or_default())?;
    let kind = OrgKind::parse(&org.kind).map_err(ApiError::Internal)?;
    let existing = state.store.get_sign_in_provider(&id).await?;
    let allow_http = state.config.oidc_allow_http;
    let mut errs = Errors::new();
    let issuer = body.issuer.trim().to_string();
    if issuer.len() > 500
        || issuer.contains(['?', '#', ' '])
        || !url_allowed(&issuer, allow_http)
        || issuer.split_once("://").is_none_or(|(_, h)| h.is_empty())
    {
        errs.add(
            "issuer",
            if allow_http {
                "an http:// or https:// address without query or fragment"
            } else {
                "an https:// address without query or fragment"
            },
        );
    }
    if !allow_http && names_a_local_host(&issuer) {
        // A tenant admin must not make the server fetch from its own network (SSRF); names that
        // resolve to private addresses are not caught here (see docs/operations.md).
        errs.add(
            "issuer",
            "must not name a loopback, private or link-local address",
        );
    }
    let client_id = errs.take("client_id", text(&body.client_id, 255, true));
    match &body.client_secret {
        Some(s) if s.is_empty() || s.len() > 1024 => {
            errs.add("client_secret", "between 1 and 1024 characters")
        }
        None if existing.is_none() => errs.add(
            "client_secret",
            "required when the provider is first set up",
        ),
        _ => {}
    }
    let own = org.domain_list();
    let mut domains = Vec::new();
    if body.allowed_domains.is_empty() {
        errs.add(
            "allowed_domains",
            "at least one of the organization's domains",
        );
    }
    if body.allowed_domains.len() > 50 {
        errs.add("allowed_domains", "at most 50 domains");
    }
    for (i, d) in body.allowed_domains.iter().enumerate() {
        let field = format!("allowed_domains[{i}]");
        match Domain::parse(d) {
            Ok(d) if own.iter().any(|o| o == d.as_str()) => {
                if !domains.contains(&d.as_str().to_string()) {
                    domains.push(d.as_str().to_string());
                }
            }
            // Only the organization's own domains: another's users must never be routed here.
            Ok(d) => errs.add(
                field,
                format!("'{}' is not one of the organization's domains", d.as_str()),
            ),
            Err(m) => errs.add(field, m),
        }
    }
    if let Err(m) = policy::check_sign_in_role(kind, body.new_user_role) {
        errs.add("new_user_role", m);
    }
    errs.finish()?;
    let enabled = body.enabled.unwrap_or(true);
    let now = state.clock.now_secs();
    if let Some(old) = &existing {
        state.oidc.forget(&old.issuer);
    }
    state.oidc.forget(&issuer);
    if enabled {
        if let Err(e) = state.oidc.discovery(&issuer, allow_http, now).await {
            return Err(Invalid::one(
                "issuer",
                format!("the provider's discovery document could not be used: {e}"),
            )
            .into());
        }
    }
    let write = ProviderWrite {
        issuer,
        client_id: client_id.unwrap_or_default(),
        client_secret: body.client_secret,
        allowed_domains: domains,
        new_user_role: body.new_user_role.map(|r| r.as_str().to_string()),
        enabled,
    };
    let (p, created) = state
        .store
        .put_sign_in_provider(&id, &write, &audit(&state, &caller))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SignInProviderDoc::from(
            p,
            redirect_uri(&state.config, &headers, &origin),
        )),
    ))
}

/// Removes the organization's identity provider; its users sign in with passwords again.
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/sign-in-provider", tag = "sign-in", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn delete_sign_in_provider(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&state, &caller, &id).await?;
    if let Some(p) = state.store.get_sign_in_provider(&id).await? {
        state.oidc.forget(&p.issuer);
    }
    state
        .store
        .delete_sign_in_provider(&id, &audit(&state, &caller))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::names_a_local_host;

    #[test]
    fn issuers_on_the_servers_own_network_are_recognised() {
        for local in [
            "https://localhost/x",
            "https://127.0.0.1",
            "https://10.1.2.3:8443/realms/a",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]:443",
            "https://user@192.168.0.1/",
            "https://[::ffff:127.0.0.1]/",
        ] {
            assert!(names_a_local_host(local), "{local}");
        }
        for public in [
            "https://login.example.com/tenant",
            "https://8.8.8.8/",
            "https://[2001:db8::1]/",
        ] {
            assert!(!names_a_local_host(public), "{public}");
        }
    }
}
