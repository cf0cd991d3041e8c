//! Extractors that turn every bad request into a problem document: JSON bodies, queries, callers.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use fasttrack_core::policy::Actor;
use fasttrack_core::{FieldError, Invalid, Role};
use fasttrack_store::User;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; a wrong content type is 415, bad syntax 400, a field of the wrong shape 422 naming it.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim().to_string();
        if mime != "application/json"
            && !(mime.starts_with("application/") && mime.ends_with("+json"))
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as application/json (got '{}')",
                if ct.is_empty() {
                    "no content type"
                } else {
                    &ct
                }
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge
                } else {
                    ApiError::Malformed(format!("could not read the body: {e}"))
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, telling syntax errors (400) from shape errors (422 with the field's path).
/// serde_json's recursion limit (128 levels) refuses deeply nested JSON as a syntax error (400).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::Malformed("the body is not valid UTF-8".into()));
    }
    if has_escaped_nul(bytes) {
        // PostgreSQL cannot store it, SQLite would: refuse it the same way on both.
        return Err(ApiError::Malformed(
            "the body must not contain NUL characters (\\u0000)".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match result {
        Ok(v) => {
            de.end().map_err(|e| {
                ApiError::Malformed(format!("unexpected data after the JSON value: {e}"))
            })?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." {
                        "body".to_string()
                    } else {
                        path
                    };
                    Err(ApiError::Invalid(Invalid(vec![FieldError::new(
                        field,
                        clean_serde_message(&inner.to_string()),
                    )])))
                }
                _ => Err(ApiError::Malformed(format!(
                    "the body is not valid JSON: {inner}"
                ))),
            }
        }
    }
}

/// Whether a JSON text holds the escape `\u0000` (a raw NUL is invalid JSON already).
fn has_escaped_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            // Skip the escaped character, so that `\\u0000` (a backslash, then text) is not one.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn clean_serde_message(m: &str) -> String {
    // serde appends " at line 1 column 42", which means nothing next to a field name.
    match m.find(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

/// A query string; a bad parameter is 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// Parses a query string; a parameter of the wrong shape is 422 naming it.
pub fn parse_query<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    if let Some((k, _)) =
        form_urlencoded::parse(q.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(ApiError::Invalid(Invalid::one(
            k.replace('\0', ""),
            "must not contain NUL characters",
        )));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Invalid(Invalid::one(
            if path == "." {
                "query".to_string()
            } else {
                path
            },
            e.into_inner().to_string(),
        ))
    })
}

/// The SHA-256 of a secret, hex-encoded: how tokens and session cookies are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "ft_session";

/// The signed-in caller, from a bearer token or a session cookie.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token, when signed in by cookie.
    pub csrf: Option<String>,
}

impl Caller {
    /// Builds the core's view of a user.
    pub fn from_user(user: User, csrf: Option<String>) -> Result<Caller, ApiError> {
        let role = Role::parse(&user.role).map_err(ApiError::Internal)?;
        Ok(Caller {
            actor: Actor {
                user_id: user.id.clone(),
                org_id: user.org_id.clone(),
                role,
            },
            user,
            csrf,
        })
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.actor.role
    }
}

/// Reads a cookie's value from the request headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    header_cookie(&parts.headers, name)
}

/// Reads a cookie's value from a header map.
pub fn header_cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let auth = auth.to_str().map_err(|_| ApiError::Unauthenticated)?;
            let token = auth
                .strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
                .ok_or(ApiError::Unauthenticated)?
                .trim();
            let user = state
                .store
                .find_token_user(&hash_secret(token))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            if user.disabled {
                return Err(ApiError::Unauthenticated);
            }
            return Caller::from_user(user, None);
        }
        let caller = session_caller(parts, state).await?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != caller.csrf.as_deref() {
                return Err(ApiError::Csrf);
            }
        }
        Ok(caller)
    }
}

/// The user of the session cookie, without a CSRF check: the pages check the token their
/// forms carry instead of a header.
pub async fn session_caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let Some(cookie) = cookie(parts, SESSION_COOKIE) else {
        return Err(ApiError::Unauthenticated);
    };
    let session = state
        .store
        .find_session(&hash_secret(cookie), state.clock.now_secs())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = state.store.get_user(&session.user_id).await?;
    if user.disabled {
        return Err(ApiError::Unauthenticated);
    }
    Caller::from_user(user, Some(session.csrf_token))
}
