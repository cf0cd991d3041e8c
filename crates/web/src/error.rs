//! The HTTP error story in one place: every failure becomes an RFC 9457 problem document.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fasttrack_core::{FieldError, Invalid, RuleViolation};
use fasttrack_store::StoreError;
use serde::Serialize;

/// An API failure; each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not well-formed (bad JSON syntax, bad UTF-8).
    #[error("{0}")]
    Malformed(String),
    /// 401: no valid credentials.
    #[error("sign-in required")]
    Unauthenticated,
    /// 403: the caller may see this but not do that.
    #[error("{0}")]
    Forbidden(String),
    /// 403: a cookie-authenticated change without the session's CSRF token.
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    /// 404: nothing here, or nothing the caller may see.
    #[error("not found")]
    NotFound,
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408: the request took longer than the server allows.
    #[error("the request took too long; send it again")]
    RequestTimeout,
    /// Another 4xx the framework produced (431, 411…), with what it said.
    #[error("{detail}")]
    Rejected { status: u16, detail: String },
    /// 409: a unique value is taken.
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// 409: a programme rule forbids this transition in the current state.
    #[error(transparent)]
    RuleConflict(RuleViolation),
    /// 409: the lifecycle does not allow this change now.
    #[error("{0}")]
    IllegalTransition(String),
    /// 413: the body is larger than the server accepts.
    #[error("the request body is too large")]
    TooLarge,
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: fields with invalid values.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// 422: a programme rule refuses the request.
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many attempts; retry in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// 503: the database does not answer.
    #[error("the database is unavailable")]
    Unavailable,
    /// 500: a storage failure; logged, never shown.
    #[error(transparent)]
    Store(StoreError),
    /// 500: anything else unexpected; logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { field, message } => ApiError::Conflict { field, message },
            StoreError::Unstorable(m) => ApiError::Malformed(m),
            StoreError::Dangling { field } => ApiError::Invalid(Invalid::one(
                field,
                "refers to something that does not exist",
            )),
            other => ApiError::Store(other),
        }
    }
}

impl From<fasttrack_core::policy::Denied> for ApiError {
    fn from(d: fasttrack_core::policy::Denied) -> Self {
        match d {
            fasttrack_core::policy::Denied::Hidden => ApiError::NotFound,
            fasttrack_core::policy::Denied::Forbidden(m) => ApiError::Forbidden(m),
        }
    }
}

/// The RFC 9457 problem document, with fasttrack's extensions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every invalid field, with what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// The programme rule (R1…R17) that refused the request, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Machine-readable facts about the refusal (for example the supported languages).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// Where the field is, as a dotted path (`contact.email`).
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for ProblemField {
    fn from(e: &FieldError) -> Self {
        ProblemField {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Problem {
    Problem {
        kind: format!("https://fasttrack.invalid/problems/{kind}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        rule: None,
        facts: serde_json::Map::new(),
    }
}

fn rule_problem(status: StatusCode, v: &RuleViolation) -> Problem {
    let mut p = problem(
        status,
        &format!("rule-{}", v.rule.to_string().to_lowercase()),
        &format!("{}: {}", v.rule, v.rule.title()),
        v.message.clone(),
    );
    p.rule = Some(v.rule.to_string());
    if let Some(f) = &v.field {
        p.errors.push(ProblemField {
            field: f.clone(),
            message: v.message.clone(),
        });
    }
    for (k, val) in &v.detail {
        p.facts
            .insert(k.clone(), serde_json::Value::String(val.clone()));
    }
    p
}

impl ApiError {
    /// The problem document and status for this error.
    pub fn to_problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            ApiError::Malformed(m) => {
                problem(S::BAD_REQUEST, "malformed", "Malformed request", m.clone())
            }
            ApiError::Unauthenticated => problem(
                S::UNAUTHORIZED,
                "unauthenticated",
                "Sign-in required",
                "sign in, or send an API token as 'Authorization: Bearer <token>'".into(),
            ),
            ApiError::Forbidden(m) => problem(S::FORBIDDEN, "forbidden", "Forbidden", m.clone()),
            ApiError::Csrf => problem(S::FORBIDDEN, "csrf", "CSRF check failed", self.to_string()),
            ApiError::NotFound => problem(
                S::NOT_FOUND,
                "not-found",
                "Not found",
                "nothing here that you may see".into(),
            ),
            ApiError::MethodNotAllowed => problem(
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                self.to_string(),
            ),
            ApiError::RequestTimeout => problem(
                S::REQUEST_TIMEOUT,
                "timeout",
                "Request timeout",
                self.to_string(),
            ),
            ApiError::Rejected { status, detail } => {
                let s = S::from_u16(*status).unwrap_or(S::BAD_REQUEST);
                problem(
                    s,
                    "rejected",
                    s.canonical_reason().unwrap_or("Bad request"),
                    detail.clone(),
                )
            }
            ApiError::Conflict { field, message } => {
                let mut p = problem(S::CONFLICT, "conflict", "Conflict", message.clone());
                p.errors.push(ProblemField {
                    field: field.clone(),
                    message: message.clone(),
                });
                p
            }
            ApiError::RuleConflict(v) => rule_problem(S::CONFLICT, v),
            ApiError::IllegalTransition(m) => problem(
                S::CONFLICT,
                "illegal-transition",
                "Not allowed in this state",
                m.clone(),
            ),
            ApiError::TooLarge => problem(
                S::PAYLOAD_TOO_LARGE,
                "too-large",
                "Body too large",
                self.to_string(),
            ),
            ApiError::UnsupportedMediaType(m) => problem(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                m.clone(),
            ),
            ApiError::Invalid(inv) => {
                let mut p = problem(
                    S::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid input",
                    format!("{} field(s) are invalid; nothing was changed", inv.0.len()),
                );
                p.errors = inv.0.iter().map(ProblemField::from).collect();
                p
            }
            ApiError::Rule(v) => rule_problem(S::UNPROCESSABLE_ENTITY, v),
            ApiError::TooManyRequests { .. } => problem(
                S::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                self.to_string(),
            ),
            ApiError::Unavailable => problem(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                self.to_string(),
            ),
            ApiError::Store(_) | ApiError::Internal(_) => problem(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "something went wrong on our side; it has been logged".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Store(e) => tracing::error!(error = %e, "storage failure"),
            ApiError::Internal(e) => tracing::error!(error = %e, "internal failure"),
            _ => {}
        }
        let p = self.to_problem();
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&p).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::TooManyRequests { retry_after } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(self, ApiError::TooLarge | ApiError::RequestTimeout) {
            // The rest of the body is still on its way: close rather than leave the client
            // reusing a connection the server will not read further (IncompleteMessage).
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(self, ApiError::Unauthenticated) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
