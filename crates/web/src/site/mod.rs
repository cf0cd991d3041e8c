//! The programme's web site: server-rendered pages in the 12 languages of R11 that work without
//! JavaScript. Every page calls the same API handlers (and so the same core rules and the same
//! authorization) as `/api/v1`; forms carry the session's CSRF token.

mod admin;
pub mod i18n;
mod more;
pub(crate) mod pages;
mod timeoff;

use std::fmt::Write as _;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;
use fasttrack_core::error::RuleViolation;
use fasttrack_core::{Language, Role};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{session_caller, Caller};
use crate::state::AppState;
use crate::timeline::escape;

pub use pages::routes;

/// What every page knows of its request: the viewer, their language and the page's path.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Language,
    pub caller: Option<Caller>,
    pub path: String,
    /// The viewer's IANA zone, for showing times.
    pub zone: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = match session_caller(parts, state).await {
            Ok(c) => Some(c),
            Err(ApiError::Unauthenticated) => None,
            Err(e) => return Err(e),
        };
        let path = OriginalUri::from_request_parts(parts, state)
            .await
            .map(|u| u.0.to_string())
            .unwrap_or_else(|_| "/".into());
        let lang = i18n::choose(
            &parts.headers,
            caller.as_ref().map(|c| c.user.language.as_str()),
        );
        let zone = caller
            .as_ref()
            .map(|c| c.user.time_zone.clone())
            .unwrap_or_else(|| "UTC".into());
        Ok(Ctx {
            lang,
            caller,
            path,
            zone,
        })
    }
}

impl Ctx {
    /// The interface text of `key`.
    pub fn t(&self, key: &str) -> String {
        escape(&i18n::text(self.lang, key, &[]))
    }

    /// The interface text of `key` with variables (escaped).
    pub fn ta(&self, key: &str, args: &[(&str, &str)]) -> String {
        escape(&i18n::text(self.lang, key, args))
    }

    /// The session's CSRF token as a hidden form field.
    pub fn csrf_field(&self) -> String {
        let token = self
            .caller
            .as_ref()
            .and_then(|c| c.csrf.clone())
            .unwrap_or_default();
        format!(
            "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
            escape(&token)
        )
    }

    /// The caller's role, if signed in.
    pub fn role(&self) -> Option<Role> {
        self.caller.as_ref().map(|c| c.role())
    }

    /// An RFC 3339 instant in the viewer's zone, as their language writes it.
    pub fn when(&self, rfc3339: &str) -> String {
        let Ok(t) = rfc3339.parse::<jiff::Timestamp>() else {
            return escape(rfc3339);
        };
        let tz = jiff::tz::TimeZone::get(&self.zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let dt = tz.to_datetime(t);
        escape(&format!(
            "{} ({})",
            crate::mail::local_date_time(dt, self.lang),
            self.zone
        ))
    }

    /// A whole number as the viewer's language groups digits.
    pub fn number(&self, n: i64) -> String {
        let sep = match self.lang {
            Language::French => "\u{202f}",
            Language::German
            | Language::Italian
            | Language::PortugueseBrazil
            | Language::Spanish
            | Language::Vietnamese => ".",
            _ => ",",
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    }
}

/// A page around `body`: header with navigation for the viewer's role, the language switcher.
pub fn layout(ctx: &Ctx, title: &str, body: &str) -> String {
    let mut nav = String::new();
    let links: &[(&str, &str)] = match ctx.role() {
        None => &[],
        Some(Role::CustomerAdmin) => &[
            ("/home", "nav-home"),
            ("/requests", "nav-requests"),
            ("/engagements", "nav-engagements"),
            ("/relationships", "nav-relationships"),
            ("/audit", "nav-audit"),
        ],
        Some(Role::PartnerUser) => &[
            ("/customers", "nav-customers"),
            ("/requests", "nav-requests"),
            ("/engagements", "nav-engagements"),
            ("/relationships", "nav-relationships"),
        ],
        Some(Role::ProgrammeAdmin) => &[
            ("/requests", "nav-queue"),
            ("/engagements", "nav-engagements"),
            ("/dashboard", "nav-dashboard"),
            ("/admin", "nav-admin"),
            ("/audit", "nav-audit"),
        ],
        Some(_) => &[
            ("/requests", "nav-queue"),
            ("/engagements", "nav-engagements"),
            ("/dashboard", "nav-dashboard"),
            ("/time-off", "nav-time-off"),
        ],
    };
    for (href, key) in links {
        let current = if ctx.path.starts_with(href) {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{current}>{}</a>", ctx.t(key));
    }
    let who = match &ctx.caller {
        Some(c) => format!(
            "<span class=\"who\">{}</span><form method=\"post\" action=\"/sign-out\" class=\"inline\">{}<button type=\"submit\" class=\"link\">{}</button></form>",
            escape(&c.user.name),
            ctx.csrf_field(),
            ctx.t("sign-out")
        ),
        None => format!("<a href=\"/sign-in\">{}</a>", ctx.t("sign-in")),
    };
    let mut switcher = String::new();
    for l in Language::ALL {
        let current = if l == ctx.lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            switcher,
            "<a href=\"/language?to={tag}&amp;back={back}\" lang=\"{tag}\" hreflang=\"{tag}\"{current}>{name}</a>",
            tag = l.tag(),
            back = escape(&urlencode(&ctx.path)),
            name = l.native_name()
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · FastTrack</title>\n<link rel=\"stylesheet\" href=\"/assets/site.css\">\n\
         <script src=\"/assets/site.js\" defer></script>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n\
         <header class=\"top\"><a class=\"brand\" href=\"/\">FastTrack</a><nav aria-label=\"{navlabel}\">{nav}</nav><div class=\"account\">{who}</div></header>\n\
         <main id=\"main\">\n{body}\n</main>\n\
         <footer><nav class=\"languages\" aria-label=\"{langlabel}\">{switcher}</nav></footer>\n</body>\n</html>\n",
        lang = ctx.lang.tag(),
        title = escape(title),
        skip = ctx.t("skip-to-content"),
        navlabel = ctx.t("nav-label"),
        langlabel = ctx.t("language-switcher"),
    )
}

/// Percent-encodes a path for a query value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An HTML response.
pub fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// A redirect after a form (303, so the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Sends the browser to sign in, coming back here afterwards.
pub fn to_sign_in(ctx: &Ctx) -> Response {
    see_other(&format!("/sign-in?next={}", urlencode(&ctx.path)))
}

/// The page for an error the viewer can do nothing about here (not found, forbidden, …).
pub fn error_page(ctx: &Ctx, e: ApiError) -> Response {
    if matches!(e, ApiError::Unauthenticated) {
        return to_sign_in(ctx);
    }
    let status =
        StatusCode::from_u16(e.to_problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let key = match &e {
        ApiError::NotFound => "error-not-found",
        ApiError::Forbidden(_) | ApiError::Csrf => "error-forbidden",
        ApiError::Store(_) | ApiError::Internal(_) | ApiError::Unavailable => {
            tracing::error!(error = %e, "a page failed");
            "error-internal"
        }
        _ => "error-refused",
    };
    // The detail names the rule and what broke it; storage details are never shown.
    let detail = match &e {
        ApiError::Store(_) | ApiError::Internal(_) | ApiError::NotFound => String::new(),
        ApiError::Rule(v) | ApiError::RuleConflict(v) => rule_html(ctx, v),
        other => format!("<p class=\"detail\">{}</p>", escape(&other.to_string())),
    };
    let title = i18n::text(ctx.lang, key, &[]);
    html(
        status,
        layout(ctx, &title, &format!("<h1>{}</h1>{detail}", escape(&title))),
    )
}

/// A refusal by a programme rule in the viewer's language: the rule, its title and what it asks.
/// The core's own explanation is specific but English; English readers get it inline.
pub fn rule_text(ctx: &Ctx, v: &RuleViolation) -> String {
    let key = format!("rule-{}", v.rule.to_string().to_lowercase());
    let title = i18n::text(ctx.lang, &key, &[]);
    let head = i18n::text(
        ctx.lang,
        "refused-by-rule",
        &[("rule", &v.rule.to_string()), ("title", &title)],
    );
    let why = i18n::text(ctx.lang, &format!("{key}-why"), &[]);
    if ctx.lang == Language::English {
        format!("{head} {why} {}", v.message)
    } else {
        format!("{head} {why}")
    }
}

/// [`rule_text`] as a block, with the core's English explanation folded away for other languages.
pub fn rule_html(ctx: &Ctx, v: &RuleViolation) -> String {
    let mut out = format!(
        "<p class=\"detail\" role=\"alert\">{}</p>",
        escape(&rule_text(ctx, v))
    );
    if ctx.lang != Language::English {
        let _ = write!(
            out,
            "<details class=\"detail\"><summary>{}</summary><p lang=\"en\">{}</p></details>",
            ctx.t("rule-details-en"),
            escape(&v.message)
        );
    }
    out
}

/// Form fields, repeated names kept (checkbox groups).
#[derive(Debug, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// Parses an `application/x-www-form-urlencoded` body. NUL characters (no browser sends
    /// them, and PostgreSQL cannot store them) become U+FFFD, as bytes that are not UTF-8 do.
    pub fn parse(body: &[u8]) -> FormData {
        let clean = |s: std::borrow::Cow<'_, str>| {
            if s.contains('\0') {
                s.replace('\0', "\u{FFFD}")
            } else {
                s.into_owned()
            }
        };
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (clean(k), clean(v)))
                .collect(),
        )
    }

    /// The first value of a field, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Whether a posted form carries the session's CSRF token.
pub fn csrf_ok(ctx: &Ctx, form: &FormData) -> bool {
    let sent = form.get("csrf_token");
    !sent.is_empty()
        && ctx
            .caller
            .as_ref()
            .and_then(|c| c.csrf.as_deref())
            .is_some_and(|t| t == sent)
}

/// Parses a query or body document the API would take, with the API's field errors.
pub fn doc<T: serde::de::DeserializeOwned>(v: Value) -> crate::error::ApiResult<T> {
    crate::extract::parse_json(v.to_string().as_bytes())
}

/// An API document as JSON, for rendering.
pub fn value<T: serde::Serialize>(t: T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// The signed-in viewer, or the way to the sign-in page.
// The error is the page to send at once; it is built once per request, never copied.
#[allow(clippy::result_large_err)]
pub fn signed_in(ctx: &Ctx) -> Result<Caller, Response> {
    ctx.caller.clone().ok_or_else(|| to_sign_in(ctx))
}

/// A JSON string field, escaped.
pub fn s(v: &Value, key: &str) -> String {
    escape(v[key].as_str().unwrap_or(""))
}

/// Site assets (stylesheet and the small enhancement script).
pub fn asset_routes() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route(
            "/assets/site.css",
            get(|| async {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../assets/site.css"),
                )
            }),
        )
        .route(
            "/assets/site.js",
            get(|| async {
                asset(
                    "application/javascript; charset=utf-8",
                    include_str!("../../assets/site.js"),
                )
            }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}
