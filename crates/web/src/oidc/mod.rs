//! OpenID Connect sign-in (authorization code flow with PKCE, `state` and `nonce`) through each
//! organization's own identity provider.
//!
//! `/auth/oidc/start` (or the sign-in page's "Sign in with your organization" form) picks the
//! provider from the e-mail address's domain or an organization id, records the attempt in the
//! database (so `state` is single-use across server processes) and sends the browser to the
//! provider. `/auth/oidc/callback` takes the attempt once, exchanges the code at the token
//! endpoint, verifies the ID token against the provider's published keys, then matches the user
//! by verified e-mail within that organization, or creates them with the role its admin set, and
//! starts the same session as a password sign-in. Refusals are logged and audited without tokens
//! or secrets and shown as a page in the viewer's language.

pub mod directory;
pub mod jwt;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fasttrack_core::types::Email;
use fasttrack_core::{OrgKind, Role};
use fasttrack_store::{AttemptRefused, AuditCtx, NewUser, SignInAttempt, SignInProvider};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub use directory::{Directory, ProviderError};
pub use jwt::TokenError;

use crate::api::auth::{new_secret, session_cookie, start_session};
use crate::error::ApiError;
use crate::extract::{hash_secret, header_cookie};
use crate::proxy::Origin;
use crate::site::{html, i18n, layout, Ctx};
use crate::state::{AppState, WebConfig};
use crate::timeline::escape;

/// The cookie that binds a sign-in under way to the browser that started it (its `state`).
pub const STATE_COOKIE: &str = "ft_oidc";
/// How long a user has at the provider before the attempt lapses.
pub const ATTEMPT_SECONDS: i64 = 600;
/// Tolerated clock difference with providers when checking `exp` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;
/// The path of the callback, after the public address.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// The sign-in routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        // The literal, not CALLBACK_PATH: the authorization matrix reads routes from the source.
        .route("/auth/oidc/callback", get(callback))
}

/// Why a sign-in through an identity provider did not happen.
#[derive(Debug)]
pub enum Failure {
    /// No enabled provider for this address or organization.
    NoProvider,
    /// The provider could not be used (unreachable, bad discovery document).
    Provider(ProviderError),
    /// The provider refused (an `error` in the redirect or at the token endpoint).
    ProviderRefused(String),
    /// The `state` is missing, not this browser's, unknown, used already or expired.
    State(&'static str),
    /// The ID token did not pass.
    Token(TokenError),
    /// The provider does not vouch for the e-mail address.
    Unverified,
    /// The address's domain is not one the organization allows.
    Domain,
    /// No such user, and the organization creates none on first sign-in.
    NoAccount,
    /// The user exists but is disabled, or belongs to another organization.
    Refused,
    /// Our own failure.
    Internal(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Internal(e)
    }
}

impl From<fasttrack_store::StoreError> for Failure {
    fn from(e: fasttrack_store::StoreError) -> Self {
        Failure::Internal(e.into())
    }
}

impl Failure {
    /// A short stable name, for logs, the audit log and the page's `data-reason`.
    pub fn code(&self) -> String {
        match self {
            Failure::NoProvider => "no-provider".into(),
            Failure::Provider(_) => "provider-unavailable".into(),
            Failure::ProviderRefused(_) => "provider-refused".into(),
            Failure::State(s) => format!("state-{s}"),
            Failure::Token(t) => t.code().into(),
            Failure::Unverified => "email-unverified".into(),
            Failure::Domain => "domain-not-allowed".into(),
            Failure::NoAccount => "no-account".into(),
            Failure::Refused => "account-refused".into(),
            Failure::Internal(_) => "internal".into(),
        }
    }

    fn text_key(&self) -> &'static str {
        match self {
            Failure::NoProvider => "sso-error-no-provider",
            Failure::Provider(_) | Failure::ProviderRefused(_) => "sso-error-provider",
            Failure::State(_) => "sso-error-state",
            Failure::Token(_) => "sso-error-token",
            Failure::Unverified => "sso-error-unverified",
            Failure::Domain => "sso-error-domain",
            Failure::NoAccount | Failure::Refused => "sso-error-no-account",
            Failure::Internal(_) => "error-internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Failure::NoProvider => StatusCode::NOT_FOUND,
            Failure::Provider(_) => StatusCode::BAD_GATEWAY,
            Failure::State(_) | Failure::ProviderRefused(_) => StatusCode::BAD_REQUEST,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::FORBIDDEN,
        }
    }

    /// Developer detail in English (never a token or a secret).
    fn detail(&self) -> String {
        match self {
            Failure::Provider(e) => e.to_string(),
            Failure::ProviderRefused(e) => format!("the provider answered '{e}'"),
            Failure::Token(t) => t.to_string(),
            Failure::Internal(_) => String::new(),
            other => other.code(),
        }
    }

    /// The page shown for this failure, in the viewer's language.
    pub fn page(&self, ctx: &Ctx) -> Response {
        // The language switcher links back to the page's path: never to a callback's code and state.
        let ctx = &Ctx {
            path: "/sign-in".into(),
            ..ctx.clone()
        };
        if let Failure::Internal(e) = self {
            tracing::error!(error = %e, "organization sign-in failed on our side");
        }
        let title = i18n::text(ctx.lang, "sso-failed", &[]);
        let detail = self.detail();
        let details = if detail.is_empty() {
            String::new()
        } else {
            format!(
                "<details class=\"detail\"><summary>{}</summary><p lang=\"en\">{}</p></details>",
                ctx.t("rule-details-en"),
                escape(&detail)
            )
        };
        let body = format!(
            "<h1>{}</h1>\n<p class=\"error\" role=\"alert\" data-reason=\"{}\">{}</p>\n{details}\n<p><a href=\"/sign-in\">{}</a></p>",
            escape(&title),
            escape(&self.code()),
            ctx.t(self.text_key()),
            ctx.t("sso-back"),
        );
        let mut res = html(self.status(), layout(ctx, &title, &body));
        // Removing a cookie needs no `Secure` flag; the attempt is spent or never was.
        clear_state_cookie(false, &mut res);
        res
    }
}

fn clear_state_cookie(secure: bool, res: &mut Response) {
    let cookie = format!(
        "{STATE_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The callback address the provider must send users back to: the public address when the
/// settings give one, else the address this request came to.
pub fn redirect_uri(config: &WebConfig, headers: &HeaderMap, origin: &Origin) -> String {
    if let Some(base) = &config.public_url {
        return format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if origin.forwarded_https || config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{CALLBACK_PATH}")
}

/// Whose provider a sign-in starts at.
#[derive(Debug, Clone)]
pub enum Target {
    /// The organization that owns this address's domain.
    Email(String),
    /// This organization.
    Org(String),
}

/// Where to go after signing in: only paths of this site (no open redirect).
pub fn local_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.into(),
        _ => "/".into(),
    }
}

/// Finds the provider for `target`, records the attempt and answers with the redirect to the
/// provider's authorization endpoint, setting the browser's `state` cookie.
pub async fn begin(
    state: &AppState,
    target: &Target,
    next: &str,
    redirect_uri: &str,
) -> Result<Response, Failure> {
    let now = state.clock.now_secs();
    let (provider, hint) = match target {
        Target::Email(e) => {
            let email = Email::parse(e).map_err(|_| Failure::NoProvider)?;
            let p = state
                .store
                .sign_in_provider_for_domain(email.domain())
                .await?;
            (p, Some(email.as_str().to_string()))
        }
        Target::Org(id) => (
            state
                .store
                .get_sign_in_provider(id)
                .await?
                .filter(|p| p.enabled),
            None,
        ),
    };
    let provider = provider.ok_or(Failure::NoProvider)?;
    let allow_http = state.config.oidc_allow_http;
    let discovery = state
        .oidc
        .discovery(&provider.issuer, allow_http, now)
        .await
        .map_err(Failure::Provider)?;
    let secret = new_secret()?;
    let nonce = new_secret()?;
    // 64 characters of [0-9a-f]: a valid PKCE verifier (RFC 7636 §4.1) with 256 bits of entropy.
    let verifier = new_secret()?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    state
        .store
        .create_sign_in_attempt(&SignInAttempt {
            state_hash: hash_secret(&secret),
            org_id: provider.org_id.clone(),
            nonce: nonce.clone(),
            pkce_verifier: verifier,
            redirect_uri: redirect_uri.to_string(),
            next_path: next.to_string(),
            created_at: now,
            expires_at: now + ATTEMPT_SECONDS,
            consumed_at: None,
        })
        .await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &secret)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(h) = &hint {
        query.append_pair("login_hint", h);
    }
    let sep = if discovery.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{sep}{}",
        discovery.authorization_endpoint,
        query.finish()
    );
    let mut res = StatusCode::SEE_OTHER.into_response();
    let cookie = format!(
        "{STATE_COOKIE}={secret}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={ATTEMPT_SECONDS}{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let location = HeaderValue::from_str(&location)
        .map_err(|_| Failure::Provider(ProviderError::Invalid("authorization endpoint".into())))?;
    res.headers_mut().insert(header::LOCATION, location);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    tracing::info!(org_id = %provider.org_id, issuer = %provider.issuer, "organization sign-in started");
    Ok(res)
}

/// The start's parameters: an e-mail address or an organization id, and where to go afterwards.
#[derive(Debug, Deserialize)]
struct StartQuery {
    email: Option<String>,
    org_id: Option<String>,
    next: Option<String>,
}

/// `GET /auth/oidc/start?email=…|org_id=…[&next=/path]`: sends the browser to the provider.
async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    origin: Origin,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    let target = match (q.email.filter(|e| !e.trim().is_empty()), q.org_id) {
        (Some(e), _) => Target::Email(e),
        (None, Some(o)) => Target::Org(o),
        (None, None) => return Failure::NoProvider.page(&ctx),
    };
    let next = local_next(q.next.as_deref());
    let uri = redirect_uri(&state.config, &headers, &origin);
    match begin(&state, &target, &next, &uri).await {
        Ok(r) => r,
        Err(f) => {
            tracing::info!(reason = %f.code(), "organization sign-in could not start");
            f.page(&ctx)
        }
    }
}

/// The provider's redirect back: a code and our `state`, or an error.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// `GET /auth/oidc/callback`: finishes the sign-in, or shows why it cannot.
async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let mut org_for_audit = None;
    match finish(&state, &headers, &q, &mut org_for_audit).await {
        Ok(res) => res,
        Err(f) => {
            tracing::warn!(reason = %f.code(), detail = %f.detail(), org_id = ?org_for_audit, "organization sign-in refused");
            if let Some((org_id, issuer)) = &org_for_audit {
                let ctx_audit = AuditCtx {
                    at: state.clock.now_secs(),
                    ..AuditCtx::default()
                };
                if let Err(e) = state
                    .store
                    .audit_provider_sign_in(
                        org_id,
                        None,
                        "user.sign_in_refused",
                        json!({"via": "oidc", "issuer": issuer, "reason": f.code()}),
                        &ctx_audit,
                    )
                    .await
                {
                    tracing::error!(error = %e, "could not audit a refused sign-in");
                }
            }
            f.page(&ctx)
        }
    }
}

async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    q: &CallbackQuery,
    org_for_audit: &mut Option<(String, String)>,
) -> Result<Response, Failure> {
    let now = state.clock.now_secs();
    let sent = q.state.as_deref().ok_or(Failure::State("missing"))?;
    let cookie = header_cookie(headers, STATE_COOKIE).unwrap_or("");
    // Login CSRF: the answer must come back to the browser that started the sign-in.
    if cookie.is_empty() || hash_secret(cookie) != hash_secret(sent) {
        return Err(Failure::State("mismatch"));
    }
    let attempt = match state
        .store
        .consume_sign_in_attempt(&hash_secret(sent), now)
        .await?
    {
        Ok(a) => a,
        Err(AttemptRefused::Unknown) => return Err(Failure::State("unknown")),
        Err(AttemptRefused::Used) => return Err(Failure::State("used")),
        Err(AttemptRefused::Expired) => return Err(Failure::State("expired")),
    };
    let provider = state
        .store
        .get_sign_in_provider(&attempt.org_id)
        .await?
        .filter(|p| p.enabled)
        .ok_or(Failure::NoProvider)?;
    *org_for_audit = Some((provider.org_id.clone(), provider.issuer.clone()));
    if let Some(e) = &q.error {
        return Err(Failure::ProviderRefused(short(e)));
    }
    // RFC 9207: a provider that names itself must be the one this sign-in went to (mix-up).
    if let Some(iss) = &q.iss {
        if *iss != provider.issuer {
            return Err(Failure::Token(TokenError::Issuer(short(iss))));
        }
    }
    let code = q
        .code
        .as_deref()
        .ok_or_else(|| Failure::ProviderRefused("no code".into()))?;
    let (id_token, access_token) = exchange(state, &provider, &attempt, code, now).await?;
    let identity = verify(state, &provider, &attempt, &id_token).await?;
    let identity = with_userinfo(state, &provider, identity, access_token.as_deref(), now).await?;
    let user = match_or_create(state, &provider, identity.clone()).await?;
    let (secret, _csrf, _) = start_session(state, &user).await?;
    let ctx_audit = AuditCtx {
        actor_user_id: Some(user.id.clone()),
        actor_org_id: Some(user.org_id.clone()),
        acting_for_org_id: None,
        at: now,
    };
    state
        .store
        .audit_provider_sign_in(
            &provider.org_id,
            Some(&user.id),
            "user.sign_in_provider",
            json!({"via": "oidc", "issuer": provider.issuer, "subject": identity.subject}),
            &ctx_audit,
        )
        .await?;
    tracing::info!(org_id = %provider.org_id, user_id = %user.id, "signed in through the organization's identity provider");
    let mut res = crate::site::see_other(&attempt.next_path);
    if let Ok(v) = HeaderValue::from_str(&session_cookie(
        state,
        &secret,
        state.config.session_seconds,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    clear_state_cookie(state.config.secure_cookies, &mut res);
    Ok(res)
}

/// At most 100 visible characters of a provider-supplied value, for logs and pages.
fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// Exchanges the code for tokens at the token endpoint; returns the ID token and the access token.
async fn exchange(
    state: &AppState,
    provider: &SignInProvider,
    attempt: &SignInAttempt,
    code: &str,
    now: i64,
) -> Result<(String, Option<String>), Failure> {
    let allow_http = state.config.oidc_allow_http;
    let d = state
        .oidc
        .discovery(&provider.issuer, allow_http, now)
        .await
        .map_err(Failure::Provider)?;
    // client_secret_basic is the default (OpenID Connect Core §9); _post when only it is offered.
    let post_only = d
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_some_and(|m| {
            !m.iter().any(|x| x == "client_secret_basic")
                && m.iter().any(|x| x == "client_secret_post")
        });
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", attempt.redirect_uri.as_str()),
        ("code_verifier", attempt.pkce_verifier.as_str()),
    ];
    let basic = if post_only {
        form.push(("client_id", provider.client_id.as_str()));
        form.push(("client_secret", provider.client_secret.as_str()));
        None
    } else {
        Some((provider.client_id.as_str(), provider.client_secret.as_str()))
    };
    let (status, body) = state
        .oidc
        .post_form(&d.token_endpoint, allow_http, &form, basic)
        .await
        .map_err(Failure::Provider)?;
    if status != 200 {
        let error = body["error"].as_str().unwrap_or("no error named");
        return Err(Failure::ProviderRefused(format!(
            "{} at the token endpoint",
            short(error)
        )));
    }
    let id_token = body["id_token"]
        .as_str()
        .map(str::to_string)
        .ok_or(Failure::Token(TokenError::Missing("id_token")))?;
    Ok((id_token, body["access_token"].as_str().map(str::to_string)))
}

/// Fills in the e-mail claims from the UserInfo endpoint when the ID token lacks them (some
/// providers send only `sub` there; OpenID Connect Core §5.3). The answer must be about the
/// ID token's subject.
async fn with_userinfo(
    state: &AppState,
    provider: &SignInProvider,
    mut identity: jwt::Identity,
    access_token: Option<&str>,
    now: i64,
) -> Result<jwt::Identity, Failure> {
    if identity.email.is_some() {
        return Ok(identity);
    }
    let Some(token) = access_token else {
        return Ok(identity);
    };
    let allow_http = state.config.oidc_allow_http;
    let d = state
        .oidc
        .discovery(&provider.issuer, allow_http, now)
        .await
        .map_err(Failure::Provider)?;
    let Some(url) = &d.userinfo_endpoint else {
        return Ok(identity);
    };
    let (status, body) = state
        .oidc
        .userinfo(url, allow_http, token)
        .await
        .map_err(Failure::Provider)?;
    if status != 200 {
        return Err(Failure::ProviderRefused(format!(
            "{status} at the userinfo endpoint"
        )));
    }
    if body["sub"].as_str() != Some(identity.subject.as_str()) {
        return Err(Failure::ProviderRefused(
            "the userinfo answer is about another subject".into(),
        ));
    }
    identity.email = body["email"].as_str().map(str::to_string);
    identity.email_verified = match &body["email_verified"] {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s == "true",
        _ => false,
    };
    if identity.name.is_none() {
        identity.name = body["name"].as_str().map(str::to_string);
    }
    Ok(identity)
}

/// Verifies the ID token's signature (fetching the keys again once if it names an unknown key)
/// and its claims.
async fn verify(
    state: &AppState,
    provider: &SignInProvider,
    attempt: &SignInAttempt,
    id_token: &str,
) -> Result<jwt::Identity, Failure> {
    let now = state.clock.now_secs();
    let keys = state
        .oidc
        .keys(&provider.issuer)
        .ok_or(Failure::Token(TokenError::UnknownKey))?;
    let claims = match jwt::verify_signature(id_token, &keys) {
        Err(TokenError::UnknownKey) => {
            let fresh = state
                .oidc
                .refetch_keys(&provider.issuer, state.config.oidc_allow_http, now)
                .await
                .map_err(Failure::Provider)?
                .ok_or(Failure::Token(TokenError::UnknownKey))?;
            jwt::verify_signature(id_token, &fresh).map_err(Failure::Token)?
        }
        other => other.map_err(Failure::Token)?,
    };
    jwt::check_claims(
        &claims,
        &jwt::Expected {
            issuer: &provider.issuer,
            client_id: &provider.client_id,
            nonce: &attempt.nonce,
            now,
            leeway: LEEWAY_SECONDS,
        },
    )
    .map_err(Failure::Token)
}

/// The user the identity signs in: matched by verified e-mail within the provider's
/// organization, or created with the role its admin set.
async fn match_or_create(
    state: &AppState,
    provider: &SignInProvider,
    identity: jwt::Identity,
) -> Result<fasttrack_store::User, Failure> {
    let raw = identity.email.as_deref().ok_or(Failure::Unverified)?;
    if !identity.email_verified {
        return Err(Failure::Unverified);
    }
    let email = Email::parse(raw).map_err(|_| Failure::Unverified)?;
    if !provider.domain_list().iter().any(|d| d == email.domain()) {
        return Err(Failure::Domain);
    }
    match state.store.get_user_by_email(email.as_str()).await {
        Ok(u) if u.org_id == provider.org_id && !u.disabled => return Ok(u),
        // Another organization's user, or a disabled one: never signed in by this provider.
        Ok(_) => return Err(Failure::Refused),
        Err(fasttrack_store::StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let role = match provider.new_user_role.as_deref() {
        None => return Err(Failure::NoAccount),
        Some(r) => Role::parse(r).map_err(|e| Failure::Internal(ApiError::Internal(e)))?,
    };
    let org = state.store.get_org(&provider.org_id).await?;
    let kind = OrgKind::parse(&org.kind).map_err(|e| Failure::Internal(ApiError::Internal(e)))?;
    // Checked when the admin set it, and again here: the organization's kind decides.
    fasttrack_core::policy::check_sign_in_role(kind, Some(role)).map_err(|m| {
        tracing::error!(org_id = %org.id, message = %m, "stored role for new users is not allowed");
        Failure::NoAccount
    })?;
    let name = identity
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect::<String>())
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("").to_string());
    let ctx = AuditCtx {
        at: state.clock.now_secs(),
        ..AuditCtx::default()
    };
    let new = NewUser {
        org_id: org.id.clone(),
        email: email.as_str().to_string(),
        name,
        role: role.as_str().to_string(),
        password_hash: None,
        language: org.language.clone(),
        time_zone: org.time_zone.clone(),
        staff: None,
    };
    match state.store.create_user(&new, &ctx).await {
        Ok(u) => Ok(u),
        // Two first sign-ins at once: the other one created the user.
        Err(fasttrack_store::StoreError::Conflict { .. }) => {
            let u = state.store.get_user_by_email(email.as_str()).await?;
            if u.org_id == provider.org_id && !u.disabled {
                Ok(u)
            } else {
                Err(Failure::Refused)
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(https: bool) -> Origin {
        Origin {
            peer: None,
            client: None,
            forwarded_https: https,
            untrusted_forwarding: false,
        }
    }

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
        m
    }

    #[test]
    fn the_callback_is_under_the_public_url_else_the_requests_host() {
        let public = WebConfig {
            public_url: Some("https://ft.example.com".into()),
            ..WebConfig::default()
        };
        assert_eq!(
            redirect_uri(&public, &host("evil.example"), &origin(false)),
            "https://ft.example.com/auth/oidc/callback"
        );
        let none = WebConfig::default();
        assert_eq!(
            redirect_uri(&none, &host("127.0.0.1:8080"), &origin(false)),
            "http://127.0.0.1:8080/auth/oidc/callback"
        );
        assert_eq!(
            redirect_uri(&none, &host("ft.example.com"), &origin(true)),
            "https://ft.example.com/auth/oidc/callback",
            "a trusted proxy says the client came over https"
        );
        assert_eq!(
            redirect_uri(&none, &host("a.example/x?y"), &origin(false)),
            "http://localhost/auth/oidc/callback",
            "a host header that is not a host is not echoed"
        );
    }

    #[test]
    fn only_local_paths_follow_an_organization_sign_in() {
        assert_eq!(local_next(Some("/requests?x=1")), "/requests?x=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", ""] {
            assert_eq!(local_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_next(None), "/");
    }
}
