//! Staff time off (R10, R12): a staff member records and removes their absences; programme
//! admins do it for any staff member. No meeting is offered or booked inside time off.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::{
    csrf_ok, error_page, html, i18n, layout, see_other, signed_in, urlencode, Ctx, FormData,
};
use crate::api;
use crate::api::calendars::TimeOffCreate;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::timeline::escape;

/// These pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/time-off", get(time_off_page).post(add_time_off))
        .route("/time-off/{staff}/{id}/remove", post(remove_time_off))
}

/// Whose time off a page shows: the viewer's own unless an admin names a staff member.
#[derive(Debug, Deserialize, Default)]
struct WhoQuery {
    staff: Option<String>,
}

async fn time_off_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WhoQuery>,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let staff = q.staff.unwrap_or_else(|| caller.user.id.clone());
    render(&state, &ctx, &staff, &FormData::default(), &BTreeMap::new()).await
}

/// The page: the absences from now on, each removable, and the form to add one, with any field
/// errors next to their fields and the entered values kept.
async fn render(
    state: &AppState,
    ctx: &Ctx,
    staff: &str,
    values: &FormData,
    errors: &BTreeMap<String, String>,
) -> Response {
    let Some(caller) = ctx.caller.clone() else {
        return error_page(ctx, ApiError::Unauthenticated);
    };
    let list =
        match api::calendars::list_time_off(State(state.clone()), caller, Path(staff.to_string()))
            .await
        {
            Ok(Json(l)) => l,
            Err(e) => return error_page(ctx, e),
        };
    let name = match state.store.get_user(staff).await {
        Ok(u) => u.name,
        Err(_) => staff.to_string(),
    };
    let title = i18n::text(ctx.lang, "time-off-title", &[("name", &name)]);
    let enc = escape(&urlencode(staff));
    let mut body = format!(
        "<h1>{}</h1><p class=\"muted\">{}</p>",
        escape(&title),
        ctx.ta("time-off-intro", &[("zone", &ctx.zone)])
    );
    if list.is_empty() {
        let _ = write!(body, "<p>{}</p>", ctx.t("no-time-off"));
    } else {
        let _ = write!(
            body,
            "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th></tr></thead><tbody>",
            ctx.t("time-off-start"),
            ctx.t("time-off-end"),
            ctx.t("time-off-reason"),
            ctx.t("action-remove")
        );
        for t in &list {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/time-off/{enc}/{}/remove\" class=\"inline\">{}<button type=\"submit\" class=\"secondary\">{}</button></form></td></tr>",
                ctx.when(&t.start),
                ctx.when(&t.end),
                escape(&t.reason),
                escape(&urlencode(&t.id)),
                ctx.csrf_field(),
                ctx.t("action-remove")
            );
        }
        body.push_str("</tbody></table>");
    }
    let field = |name: &str, kind: &str, label: &str, required: bool| {
        let (err, described) = match errors.get(name) {
            Some(m) => (
                format!(
                    "<p class=\"field-error\" id=\"err-{name}\">{}</p>",
                    escape(m)
                ),
                format!(" aria-invalid=\"true\" aria-describedby=\"err-{name}\""),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            "<label for=\"{name}\">{}</label><input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\"{}{described}>{err}",
            ctx.t(label),
            escape(values.get(name)),
            if required { " required" } else { "" }
        )
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/time-off\" class=\"card\">{}<input type=\"hidden\" name=\"staff\" value=\"{}\">{}{}{}<button type=\"submit\">{}</button></form>",
        ctx.csrf_field(),
        escape(staff),
        field("start", "datetime-local", "time-off-start", true),
        field("end", "datetime-local", "time-off-end", true),
        field("reason", "text", "time-off-reason", false),
        ctx.t("action-add-time-off")
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html(status, layout(ctx, &title, &body))
}

/// A `datetime-local` value (`2026-12-01T09:00`) read in the viewer's zone, as RFC 3339.
fn local_to_rfc3339(value: &str, zone: &str) -> Option<String> {
    let dt: DateTime = value.trim().parse().ok()?;
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let ts = tz.to_timestamp(dt).ok()?;
    Some(ts.to_string())
}

async fn add_time_off(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = FormData::parse(&body);
    if !csrf_ok(&ctx, &form) {
        return error_page(&ctx, ApiError::Csrf);
    }
    let staff = match form.get("staff") {
        "" => caller.user.id.clone(),
        s => s.to_string(),
    };
    let mut errors = BTreeMap::new();
    let mut when = |name: &str| match local_to_rfc3339(form.get(name), &ctx.zone) {
        Some(t) => t,
        None => {
            errors.insert(
                name.to_string(),
                i18n::text(ctx.lang, "time-off-when-invalid", &[]),
            );
            String::new()
        }
    };
    let (start, end) = (when("start"), when("end"));
    if errors.is_empty() {
        let create = TimeOffCreate {
            start,
            end,
            reason: form.get("reason").to_string(),
        };
        match api::calendars::add_time_off(
            State(state.clone()),
            caller,
            Path(staff.clone()),
            ApiJson(create),
        )
        .await
        {
            Ok(_) => return see_other(&format!("/time-off?staff={}", urlencode(&staff))),
            Err(ApiError::Invalid(inv)) => {
                errors.extend(inv.0.into_iter().map(|e| (e.field, e.message)));
            }
            Err(e) => return error_page(&ctx, e),
        }
    }
    render(&state, &ctx, &staff, &form, &errors).await
}

async fn remove_time_off(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((staff, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let caller = match signed_in(&ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !csrf_ok(&ctx, &FormData::parse(&body)) {
        return error_page(&ctx, ApiError::Csrf);
    }
    match api::calendars::delete_time_off(State(state), caller, Path((staff.clone(), id))).await {
        Ok(_) => see_other(&format!("/time-off?staff={}", urlencode(&staff))),
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::local_to_rfc3339;

    #[test]
    fn r12_local_time_off_is_read_in_the_viewers_zone_across_dst() {
        // Rome is UTC+1 in winter and UTC+2 in summer.
        assert_eq!(
            local_to_rfc3339("2026-12-01T09:00", "Europe/Rome").as_deref(),
            Some("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            local_to_rfc3339("2026-07-01T09:00", "Europe/Rome").as_deref(),
            Some("2026-07-01T07:00:00Z")
        );
        assert_eq!(local_to_rfc3339("tomorrow", "UTC"), None);
    }
}
