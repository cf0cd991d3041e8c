//! Server-rendered pages: sign-in and the programme dashboard. They work without JavaScript,
//! ask the same core and store as the API, and carry a CSRF token on every form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::api::auth::{check_credentials, new_secret, session_cookie, start_session};
use crate::api::engagements::{dashboard_figures, Dashboard};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;
use crate::timeline::escape;

const SITE_CSS: &str = include_str!("../assets/site.css");

/// The cookie that carries the sign-in form's CSRF token (double submit: cookie and field).
const FORM_COOKIE: &str = "ft_form";

/// The pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/dashboard", get(dashboard_page))
        .route(
            "/assets/site.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    SITE_CSS,
                )
            }),
        )
}

/// A whole page around `body`.
fn layout(title: &str, signed_in: Option<&str>, body: &str) -> String {
    let who = match signed_in {
        Some(name) => format!("<span class=\"who\">{}</span>", escape(name)),
        None => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · FastTrack</title>\n<link rel=\"stylesheet\" href=\"/assets/site.css\">\n</head>\n\
         <body>\n<header class=\"top\"><a class=\"brand\" href=\"/\">FastTrack</a>{who}</header>\n\
         <main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

fn page(status: StatusCode, html: String) -> Response {
    (status, Html(html)).into_response()
}

/// Only paths of this site may follow a sign-in (no open redirect).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.into(),
        _ => "/dashboard".into(),
    }
}

/// Where to go after signing in.
#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn sign_in_form(next: &str, token: &str, email: &str, error: Option<&str>) -> String {
    let error = match error {
        Some(e) => format!(
            "<p class=\"error\" role=\"alert\" id=\"sign-in-error\">{}</p>",
            escape(e)
        ),
        None => String::new(),
    };
    format!(
        "<h1>Sign in</h1>\n{error}\n<form method=\"post\" action=\"/sign-in\" class=\"card narrow\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"email\">E-mail</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{email}\">\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>",
        token = escape(token),
        next = escape(next),
        email = escape(email),
    )
}

fn form_cookie(state: &AppState, token: &str) -> String {
    format!(
        "{FORM_COOKIE}={token}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in form, with a fresh CSRF token in a cookie and a hidden field.
async fn sign_in_page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    let token = match new_secret() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let next = local_path(q.next.as_deref());
    let html = layout("Sign in", None, &sign_in_form(&next, &token, "", None));
    with_cookie(page(StatusCode::OK, html), &form_cookie(&state, &token))
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Signs in from the form: the same credential check and rate limit as the API, then a session
/// cookie and a redirect to where the user was going. Errors keep the e-mail in the form.
async fn sign_in_submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let next = local_path(f.next.as_deref());
    let sent_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == FORM_COOKIE)
        .map(|(_, v)| v.to_string());
    let again = |status: StatusCode, message: &str| {
        let token = new_secret().unwrap_or_default();
        let html = layout(
            "Sign in",
            None,
            &sign_in_form(&next, &token, &f.email, Some(message)),
        );
        with_cookie(page(status, html), &form_cookie(&state, &token))
    };
    if f.csrf_token.is_empty() || sent_cookie.as_deref() != Some(f.csrf_token.as_str()) {
        return again(
            StatusCode::FORBIDDEN,
            "The form expired or did not come from this site. Please sign in again.",
        );
    }
    let user = match check_credentials(&state, &f.email, &f.password, &addr.ip().to_string()).await
    {
        Ok(u) => u,
        Err(ApiError::TooManyRequests { retry_after }) => {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many attempts. Try again in {retry_after} seconds."),
            )
        }
        Err(ApiError::Unauthenticated | ApiError::Invalid(_)) => {
            return again(StatusCode::UNAUTHORIZED, "Wrong e-mail or password.")
        }
        Err(e) => return e.into_response(),
    };
    let (secret, _csrf, _) = match start_session(&state, &user).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let res = Redirect::to(&next).into_response();
    let res = with_cookie(
        res,
        &session_cookie(&state, &secret, state.config.session_seconds),
    );
    // The form's token has served its purpose.
    with_cookie(
        res,
        &format!("{FORM_COOKIE}=; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=0"),
    )
}

/// A horizontal bar chart as inline SVG (no script, no inline style: the CSP allows neither).
fn bar_chart(title: &str, rows: &[(String, i64)]) -> String {
    if rows.is_empty() {
        return format!(
            "<figure class=\"chart\"><figcaption>{}</figcaption><p class=\"muted\">Nothing yet.</p></figure>",
            escape(title)
        );
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let row_h = 26;
    let height = rows.len() * row_h + 8;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{t}</figcaption>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 480 {height}\" width=\"100%\" role=\"img\" aria-label=\"{t}\">",
        t = escape(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i * row_h + 4;
        let w = (*n as f64 / max as f64 * 260.0).round() as i64;
        let _ = write!(
            svg,
            "<text x=\"150\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2937\">{label}</text>\
             <rect x=\"158\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\" fill=\"#2563eb\"><title>{label}: {n}</title></rect>\
             <text x=\"{tx}\" y=\"{ty}\" font-size=\"13\" fill=\"#1f2937\">{n}</text>",
            ty = y + 14,
            tx = 164 + w,
            label = escape(label),
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn rows(map: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    map.iter()
        .map(|(k, v)| {
            (
                if k.is_empty() {
                    "—".into()
                } else {
                    k.clone()
                },
                *v,
            )
        })
        .collect()
}

fn dashboard_body(d: &Dashboard) -> String {
    let median = match d.median_hours_to_first_meeting {
        Some(h) => format!("{h:.1} h"),
        None => "—".into(),
    };
    let open: i64 = ["submitted", "accepted", "scheduled", "in_progress"]
        .iter()
        .filter_map(|s| d.requests_by_state.get(*s))
        .sum();
    let mut html = format!(
        "<h1>Programme dashboard</h1>\n<section class=\"tiles\" aria-label=\"Key figures\">\
         <div class=\"tile\"><span class=\"num\">{open}</span><span>open requests</span></div>\
         <div class=\"tile\"><span class=\"num\">{median}</span><span>median time from request to first meeting</span></div>\
         <div class=\"tile\"><span class=\"num\">{overdue}</span><span>overdue tasks</span></div>\
         <div class=\"tile{breach_class}\"><span class=\"num\">{breached}</span><span>service-level breaches (R15)</span></div>\
         <div class=\"tile\"><span class=\"num\">{near}</span><span>near breaches</span></div>\
         </section>\n<section class=\"charts\">",
        overdue = d.overdue_tasks.count,
        breached = d.sla_breached,
        near = d.sla_near_breach,
        breach_class = if d.sla_breached > 0 { " alert" } else { "" },
    );
    html.push_str(&bar_chart("Requests by state", &rows(&d.requests_by_state)));
    html.push_str(&bar_chart(
        "Requests by language",
        &rows(&d.requests_by_language),
    ));
    html.push_str(&bar_chart(
        "Requests by region",
        &rows(&d.requests_by_region),
    ));
    html.push_str(&bar_chart(
        "Open engagements by phase",
        &rows(&d.engagements_by_phase),
    ));
    html.push_str("</section>\n<h2>Demand and capacity by language</h2>\n<table>\n<thead><tr><th scope=\"col\">Language</th><th scope=\"col\">Open requests</th><th scope=\"col\">Staff</th><th scope=\"col\">Weekly capacity (meetings)</th><th scope=\"col\">Demand per staff member</th></tr></thead><tbody>");
    for l in &d.languages {
        let ratio = if l.staff > 0 {
            format!("{:.1}", l.demand as f64 / l.staff as f64)
        } else if l.demand > 0 {
            "no staff".into()
        } else {
            "—".into()
        };
        let flag = if l.staff == 0 && l.demand > 0 {
            " class=\"alert\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<tr{flag}><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{ratio}</td></tr>",
            escape(&l.language),
            l.demand,
            l.staff,
            l.weekly_capacity
        );
    }
    html.push_str("</tbody></table>\n");
    let _ = writeln!(html, "<h2>Overdue tasks ({})</h2>", d.overdue_tasks.count);
    if d.overdue_tasks.items.is_empty() {
        html.push_str("<p class=\"muted\">No task is overdue.</p>");
    } else {
        html.push_str("<table>\n<thead><tr><th scope=\"col\">Due</th><th scope=\"col\">Task</th><th scope=\"col\">Owner</th><th scope=\"col\">Engagement</th></tr></thead><tbody>");
        for o in &d.overdue_tasks.items {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/engagements/{id}/timeline.svg\">{id}</a></td></tr>",
                escape(&o.due_on),
                escape(&o.title),
                escape(&o.owner),
                id = escape(&o.engagement_id),
            );
        }
        html.push_str("</tbody></table>");
    }
    html.push_str("\n<p class=\"muted\">The same figures as JSON: <a href=\"/api/v1/dashboard\">/api/v1/dashboard</a>.</p>");
    html
}

/// The programme dashboard (staff): the API's figures as tiles, charts and tables.
async fn dashboard_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let caller = match caller {
        Ok(c) => c,
        Err(ApiError::Unauthenticated) => {
            return Redirect::to("/sign-in?next=/dashboard").into_response()
        }
        Err(e) => return e.into_response(),
    };
    if !caller.role().is_programme() {
        let html = layout(
            "Not for you",
            Some(&caller.user.name),
            "<h1>This page is for programme staff</h1><p>The dashboard shows every tenant's figures, so only FastTrack staff may see it.</p>",
        );
        return page(StatusCode::FORBIDDEN, html);
    }
    match dashboard_figures(&state).await {
        Ok(d) => page(
            StatusCode::OK,
            layout("Dashboard", Some(&caller.user.name), &dashboard_body(&d)),
        ),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_follow_a_sign_in() {
        assert_eq!(local_path(Some("/dashboard?x=1")), "/dashboard?x=1");
        assert_eq!(local_path(Some("//evil.example/")), "/dashboard");
        assert_eq!(local_path(Some("https://evil.example/")), "/dashboard");
        assert_eq!(local_path(Some("/\\evil.example")), "/dashboard");
        assert_eq!(local_path(None), "/dashboard");
    }

    #[test]
    fn charts_escape_their_labels_and_scale_to_the_largest_bar() {
        let svg = bar_chart("By <state>", &[("a&b".into(), 2), ("c".into(), 4)]);
        assert!(svg.contains("By &lt;state&gt;"));
        assert!(svg.contains("a&amp;b"));
        assert!(svg.contains("width=\"260\""), "{svg}");
        assert!(svg.contains("width=\"130\""), "{svg}");
    }
}
