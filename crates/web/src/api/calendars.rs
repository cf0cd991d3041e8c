//! Calendars (R12): a region's public holidays (as JSON or imported from an `.ics` feed) and each
//! staff member's time off and availability.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use fasttrack_core::calendar::parse_holidays_ics;
use fasttrack_core::error::Errors;
use fasttrack_core::policy::{Action, Grant, Resource};
use fasttrack_core::types::text;
use fasttrack_core::Invalid;
use fasttrack_store::Holiday;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_programme, parse_ts, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_holidays, add_holidays))
        .routes(routes!(import_holidays_ics))
        .routes(routes!(delete_holiday))
        .routes(routes!(list_time_off, add_time_off))
        .routes(routes!(delete_time_off))
        .routes(routes!(availability))
}

/// A public holiday of a region.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayDoc {
    /// The civil date in the region's zone, `YYYY-MM-DD`.
    pub day: String,
    pub name: String,
}

/// The holidays of a region.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayList {
    pub region_id: String,
    pub holidays: Vec<HolidayDoc>,
}

pub(crate) async fn holiday_list(state: &AppState, region_id: &str) -> ApiResult<HolidayList> {
    let holidays = state
        .store
        .list_holidays(region_id)
        .await?
        .into_iter()
        .map(|h| HolidayDoc {
            day: h.day,
            name: h.name,
        })
        .collect();
    Ok(HolidayList {
        region_id: region_id.to_string(),
        holidays,
    })
}

/// A region's public holidays, by date.
#[utoipa::path(get, path = "/api/v1/regions/{id}/holidays", tag = "regions", params(("id" = String, Path)),
    responses((status = 200, body = HolidayList), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn list_holidays(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HolidayList>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    state.store.get_region(&id).await?;
    Ok(Json(holiday_list(&state, &id).await?))
}

/// R12: adds (or renames) public holidays of a region (programme admins).
#[utoipa::path(post, path = "/api/v1/regions/{id}/holidays", tag = "regions", params(("id" = String, Path)),
    request_body = Vec<HolidayDoc>,
    responses((status = 200, body = HolidayList), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn add_holidays(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Vec<HolidayDoc>>,
) -> ApiResult<Json<HolidayList>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    state.store.get_region(&id).await?;
    let mut errs = Errors::new();
    let mut days = Vec::with_capacity(body.len());
    if body.is_empty() {
        errs.add("body", "list at least one holiday");
    }
    for (i, h) in body.iter().enumerate() {
        let day = errs.take(
            &format!("[{i}].day"),
            h.day
                .trim()
                .parse::<Date>()
                .map_err(|_| format!("'{}' is not a date like 2026-12-25", h.day)),
        );
        let name = errs.take(&format!("[{i}].name"), text(&h.name, 200, true));
        if let (Some(day), Some(name)) = (day, name) {
            days.push(Holiday {
                region_id: id.clone(),
                day: day.to_string(),
                name,
            });
        }
    }
    errs.finish()?;
    save(&state, &caller, &grant, &id, days).await
}

pub(crate) async fn save(
    state: &AppState,
    caller: &Caller,
    grant: &Grant,
    region_id: &str,
    days: Vec<Holiday>,
) -> ApiResult<Json<HolidayList>> {
    state
        .store
        .upsert_holidays(region_id, &days, &audit_ctx(state, caller, grant))
        .await?;
    Ok(Json(holiday_list(state, region_id).await?))
}

/// Reads an uploaded holiday calendar: not UTF-8, not iCalendar or without events is 422.
pub fn parse_holiday_import(body: &[u8]) -> ApiResult<Vec<(jiff::civil::Date, String)>> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Invalid::one("body", "the calendar is not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(Invalid::one("body", "the calendar must not contain NUL characters").into());
    }
    let parsed = parse_holidays_ics(text).map_err(Invalid::from)?;
    if parsed.is_empty() {
        return Err(Invalid::one("body", "the calendar holds no events").into());
    }
    Ok(parsed)
}

/// R12: imports public holidays from an iCalendar feed (`text/calendar` body; all-day events,
/// multi-day ones giving one holiday per day). A bad file is refused (422) naming its line.
#[utoipa::path(post, path = "/api/v1/regions/{id}/holidays.ics", tag = "regions", params(("id" = String, Path)),
    request_body(content = String, content_type = "text/calendar"),
    responses((status = 200, body = HolidayList), (status = 404, body = crate::error::Problem),
              (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn import_holidays_ics(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<HolidayList>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.starts_with("text/calendar") && !ct.starts_with("text/plain") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the calendar as text/calendar (got '{ct}')"
        )));
    }
    state.store.get_region(&id).await?;
    let parsed = parse_holiday_import(&body)?;
    let days = parsed
        .into_iter()
        .map(|(day, name)| Holiday {
            region_id: id.clone(),
            day: day.to_string(),
            name,
        })
        .collect();
    save(&state, &caller, &grant, &id, days).await
}

/// Removes a public holiday of a region (programme admins).
#[utoipa::path(delete, path = "/api/v1/regions/{id}/holidays/{day}", tag = "regions",
    params(("id" = String, Path), ("day" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn delete_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, day)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    state
        .store
        .delete_holiday(&id, &day, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff manage their own time off; programme admins anyone's. Returns the grant for auditing.
pub(crate) async fn authorize_staff(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    action: Action,
) -> ApiResult<Grant> {
    let grant = if caller.user.id == user_id && caller.role().is_staff() {
        Grant { acting_for: None }
    } else if action == Action::Read && caller.role().is_programme() {
        authorize_programme(state, caller, Action::Read, Resource::User)?
    } else {
        authorize_programme(state, caller, Action::Update, Resource::ProgrammeSettings)?
    };
    if state.store.get_staff_profile(user_id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(grant)
}

/// An absence of a staff member.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeOffDoc {
    pub id: String,
    pub user_id: String,
    pub start: String,
    pub end: String,
    pub reason: String,
}

impl From<fasttrack_store::TimeOff> for TimeOffDoc {
    fn from(t: fasttrack_store::TimeOff) -> Self {
        TimeOffDoc {
            id: t.id,
            user_id: t.user_id,
            start: ts(t.starts_at),
            end: ts(t.ends_at),
            reason: t.reason,
        }
    }
}

/// A new absence, `[start, end)`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeOffCreate {
    /// RFC 3339 instant.
    pub start: String,
    /// RFC 3339 instant, after `start`.
    pub end: String,
    #[serde(default)]
    pub reason: String,
}

/// A staff member's time off from now on.
#[utoipa::path(get, path = "/api/v1/staff/{id}/time-off", tag = "staff", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TimeOffDoc>), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn list_time_off(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimeOffDoc>>> {
    authorize_staff(&state, &caller, &id, Action::Read).await?;
    let list = state
        .store
        .list_time_off(&id, state.clock.now_secs())
        .await?;
    Ok(Json(list.into_iter().map(TimeOffDoc::from).collect()))
}

/// Records time off of a staff member (themselves, or programme admins): no meeting is offered
/// or booked inside it.
#[utoipa::path(post, path = "/api/v1/staff/{id}/time-off", tag = "staff", params(("id" = String, Path)),
    request_body = TimeOffCreate,
    responses((status = 201, body = TimeOffDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn add_time_off(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TimeOffCreate>,
) -> ApiResult<(StatusCode, Json<TimeOffDoc>)> {
    let grant = authorize_staff(&state, &caller, &id, Action::Update).await?;
    let mut errs = Errors::new();
    let start = errs.take("start", parse_ts("start", &body.start).map_err(first));
    let end = errs.take("end", parse_ts("end", &body.end).map_err(first));
    let reason = errs.take("reason", text(&body.reason, 500, false));
    if let (Some(a), Some(b)) = (start, end) {
        if b <= a {
            errs.add("end", "time off ends after it starts");
        } else if b - a > 366 * 86_400 {
            errs.add(
                "end",
                "time off lasts at most a year; record longer absences in parts",
            );
        }
    }
    errs.finish()?;
    let (Some(start), Some(end), Some(reason)) = (start, end, reason) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let t = state
        .store
        .add_time_off(
            &id,
            start,
            end,
            &reason,
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// The message of a one-field error.
fn first(i: Invalid) -> String {
    i.0.into_iter()
        .next()
        .map(|e| e.message)
        .unwrap_or_default()
}

/// Removes an absence.
#[utoipa::path(delete, path = "/api/v1/staff/{id}/time-off/{time_off_id}", tag = "staff",
    params(("id" = String, Path), ("time_off_id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn delete_time_off(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, time_off_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let grant = authorize_staff(&state, &caller, &id, Action::Update).await?;
    state
        .store
        .delete_time_off(&id, &time_off_id, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The window of an availability view.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    /// RFC 3339; now when absent.
    pub from: Option<String>,
    /// RFC 3339; 7 days after `from` when absent (at most 31 days).
    pub to: Option<String>,
}

/// An interval, UTC RFC 3339.
#[derive(Debug, Serialize, ToSchema)]
pub struct Interval {
    pub start: String,
    pub end: String,
}

/// A staff member's week as the scheduler sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityDoc {
    pub user_id: String,
    pub region_id: String,
    pub time_zone: String,
    pub languages: Vec<String>,
    pub weekly_capacity: i64,
    /// R12: business hours of the region (holidays left out).
    pub working: Vec<Interval>,
    pub time_off: Vec<Interval>,
    pub bookings: Vec<Interval>,
    /// Working time outside time off and bookings.
    pub free: Vec<Interval>,
}

fn intervals(v: &[(Timestamp, Timestamp)]) -> Vec<Interval> {
    v.iter()
        .map(|(a, b)| Interval {
            start: a.to_string(),
            end: b.to_string(),
        })
        .collect()
}

/// R10/R12: a staff member's business hours, time off, bookings and free time in a window.
#[utoipa::path(get, path = "/api/v1/staff/{id}/availability", tag = "staff", params(("id" = String, Path), AvailabilityQuery),
    responses((status = 200, body = AvailabilityDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn availability(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> ApiResult<Json<AvailabilityDoc>> {
    authorize_staff(&state, &caller, &id, Action::Read).await?;
    let from = match &q.from {
        Some(s) => crate::scheduler::instant(parse_ts("from", s)?)?,
        None => state.clock.now(),
    };
    let to = match &q.to {
        Some(s) => crate::scheduler::instant(parse_ts("to", s)?)?,
        None => from
            .checked_add(SignedDuration::from_hours(7 * 24))
            .unwrap_or(from),
    };
    if to <= from || to.as_second() - from.as_second() > 31 * 86_400 {
        return Err(Invalid::one("to", "after 'from', at most 31 days later").into());
    }
    let team = crate::scheduler::load_team(&state.store, from, to).await?;
    let (Some(member), Some(info)) = (team.member(&id), team.info.get(&id)) else {
        return Err(ApiError::NotFound);
    };
    let working = member.calendar.working_intervals(from, to);
    let mut busy: Vec<(Timestamp, Timestamp)> = member
        .time_off
        .iter()
        .chain(&member.bookings)
        .copied()
        .collect();
    busy.sort();
    let mut free = Vec::new();
    for &(a, b) in &working {
        let mut cur = a;
        for &(x, y) in &busy {
            if y <= cur || x >= b {
                continue;
            }
            if x > cur {
                free.push((cur, x));
            }
            cur = cur.max(y);
        }
        if cur < b {
            free.push((cur, b));
        }
    }
    Ok(Json(AvailabilityDoc {
        user_id: id.clone(),
        region_id: info.region_id.clone(),
        time_zone: member.calendar.zone().as_str().to_string(),
        languages: member
            .languages
            .iter()
            .map(|l| l.as_str().to_string())
            .collect(),
        weekly_capacity: info.weekly_capacity,
        working: intervals(&working),
        time_off: intervals(&member.time_off),
        bookings: intervals(&member.bookings),
        free: intervals(&free),
    }))
}
