//! Sign-in with e-mail and password (rate-limited), sign-out, the caller's profile and API tokens.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fasttrack_core::policy::Grant;
use fasttrack_core::types::{text, Email};
use fasttrack_core::Invalid;
use fasttrack_store::AuditCtx;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::users::UserDoc;
use super::{audit_ctx, ts, ts_opt};
use crate::error::{ApiError, ApiResult};
use crate::extract::{cookie, hash_secret, ApiJson, Caller, SESSION_COOKIE};
use crate::password;
use crate::proxy::Origin;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(end_my_sessions))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Credentials for signing in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// A started session: the cookie is set; send `csrf_token` as `X-CSRF-Token` on every change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub user: UserDoc,
    pub csrf_token: String,
    pub expires_at: String,
}

/// A random 256-bit secret, hex-encoded.
pub fn new_secret() -> ApiResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

/// Starts a session for `user` and returns its cookie value and CSRF token.
pub async fn start_session(
    state: &AppState,
    user: &fasttrack_store::User,
) -> ApiResult<(String, String, i64)> {
    let secret = new_secret()?;
    let csrf = new_secret()?;
    let now = state.clock.now_secs();
    let expires = now + state.config.session_seconds;
    let ctx = AuditCtx {
        actor_user_id: Some(user.id.clone()),
        actor_org_id: Some(user.org_id.clone()),
        acting_for_org_id: None,
        at: now,
    };
    state
        .store
        .create_session(&hash_secret(&secret), user, &csrf, expires, &ctx)
        .await?;
    Ok((secret, csrf, expires))
}

/// The `Set-Cookie` value of a session cookie (or of its removal when `value` is empty).
pub fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// Checks e-mail and password with rate limiting; the one path both the API and the pages use.
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password_in: &str,
    client: &str,
) -> ApiResult<fasttrack_store::User> {
    let now = state.clock.now_secs();
    let email = Email::parse(email).map_err(|m| Invalid::one("email", m))?;
    let key = format!("{}|{client}", email.as_str());
    let (max, window) = (
        state.config.login_attempts,
        state.config.login_window_seconds,
    );
    if let Some(retry_after) = state.limiter.locked_for(&key, now, max, window) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let user = match state.store.get_user_by_email(email.as_str()).await {
        Ok(u) => Some(u),
        Err(fasttrack_store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let phc = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(password::dummy_hash);
    let ok = password::verify(password_in.to_string(), phc).await;
    match user {
        Some(u) if ok && !u.disabled => {
            state.limiter.succeed(&key);
            password_allowed(state, &u, &email).await?;
            Ok(u)
        }
        other => {
            if state.limiter.fail(&key, now, max) {
                tracing::warn!(email = %email, client, "sign-in locked out after repeated failures");
                if let Some(u) = &other {
                    let ctx = AuditCtx {
                        actor_user_id: None,
                        actor_org_id: None,
                        acting_for_org_id: None,
                        at: now,
                    };
                    state.store.record_lockout(u, client, &ctx).await?;
                }
            }
            Err(ApiError::Unauthenticated)
        }
    }
}

/// Whether `user` may sign in with a password: not when their organization signs in their
/// address's domain through its identity provider. Programme admins always may, so that a broken
/// provider cannot lock the programme out.
async fn password_allowed(
    state: &AppState,
    user: &fasttrack_store::User,
    email: &Email,
) -> ApiResult<()> {
    if user.role == fasttrack_core::Role::ProgrammeAdmin.as_str() {
        return Ok(());
    }
    match state
        .store
        .sign_in_provider_for_domain(email.domain())
        .await?
    {
        Some(p) if p.org_id == user.org_id => Err(ApiError::Forbidden(
            "this organization signs in through its identity provider: use /auth/oidc/start".into(),
        )),
        _ => Ok(()),
    }
}

/// Signs in with e-mail and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignIn, security(()),
    responses((status = 200, body = SignedIn), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    origin: Origin,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Response> {
    let user =
        check_credentials(&state, &body.email, &body.password, &origin.client_text()).await?;
    let (secret, csrf, expires) = start_session(&state, &user).await?;
    let profile = state.store.get_staff_profile(&user.id).await?;
    let doc = SignedIn {
        user: UserDoc::from_parts(user, profile),
        csrf_token: csrf,
        expires_at: ts(expires),
    };
    let mut res = Json(doc).into_response();
    let cookie = session_cookie(&state, &secret, state.config.session_seconds);
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", responses((status = 204)))]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut parts = axum::http::Request::new(());
    *parts.headers_mut() = headers;
    let (parts, _) = parts.into_parts();
    if let Some(c) = cookie(&parts, SESSION_COOKIE) {
        let ctx = audit_ctx(&state, &caller, &Grant { acting_for: None });
        state
            .store
            .revoke_session(&hash_secret(c), &caller.user, &ctx)
            .await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// How many sessions a sign-out-everywhere ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEnded {
    /// Live sessions that were ended (API tokens are revoked one by one, at `/api/v1/me/tokens/{id}`).
    pub ended: u64,
}

/// Signs the caller out everywhere: every live session of theirs ends, this one included.
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "auth",
    responses((status = 200, body = SessionsEnded), (status = 401, body = crate::error::Problem)))]
pub(crate) async fn end_my_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Response> {
    let ctx = audit_ctx(&state, &caller, &Grant { acting_for: None });
    let ended = state.store.revoke_user_sessions(&caller.user, &ctx).await?;
    let mut res = Json(SessionsEnded { ended }).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserDoc), (status = 401, body = crate::error::Problem)))]
pub(crate) async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UserDoc>> {
    let profile = state.store.get_staff_profile(&caller.user.id).await?;
    Ok(Json(UserDoc::from_parts(caller.user, profile)))
}

/// A personal API token (its secret is shown once, at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDoc {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Present only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<fasttrack_store::ApiToken> for TokenDoc {
    fn from(t: fasttrack_store::ApiToken) -> Self {
        TokenDoc {
            id: t.id,
            name: t.name,
            created_at: ts(t.created_at),
            last_used_at: ts_opt(t.last_used_at),
            revoked_at: ts_opt(t.revoked_at),
            token: None,
        }
    }
}

/// A new token's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "auth", responses((status = 200, body = Vec<TokenDoc>)))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenDoc>>> {
    let list = state.store.list_tokens(&caller.user.id).await?;
    Ok(Json(list.into_iter().map(TokenDoc::from).collect()))
}

/// Creates a personal API token; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = TokenDoc), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenDoc>)> {
    let name = text(&body.name, 100, true).map_err(|m| Invalid::one("name", m))?;
    let secret = format!("ft_{}", new_secret()?);
    let ctx = audit_ctx(&state, &caller, &Grant { acting_for: None });
    let t = state
        .store
        .create_token(&caller.user, &name, &hash_secret(&secret), &ctx)
        .await?;
    let mut doc = TokenDoc::from(t);
    doc.token = Some(secret);
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let ctx = audit_ctx(&state, &caller, &Grant { acting_for: None });
    state.store.revoke_token(&caller.user, &id, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
