//! Online meetings (R10–R13): slot search for a request, booking, rescheduling, cancelling, the
//! calendar invite of each meeting, and the backlog run that books every first meeting.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fasttrack_core::policy::{Action, Grant, Resource};
use fasttrack_core::scheduling::{SlotQuery, DEFAULT_HORIZON_DAYS};
use fasttrack_core::types::text;
use fasttrack_core::{Invalid, Role};
use fasttrack_store::{Meeting, MeetingFilter, Organization, Request, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, authorize_programme, page, page_of, parse_ts, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ics::{Method, Person};
use crate::scheduler::{self, Booking, NotPlaced};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slots))
        .routes(routes!(list_meetings, book_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(get_invite))
        .routes(routes!(reschedule_meeting))
        .routes(routes!(cancel_meeting))
        .routes(routes!(schedule_backlog))
}

/// Loads a request and its tenant, and checks that the caller may `action` its meetings.
pub(crate) async fn load_request(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Request, Organization, Grant)> {
    let r = state.store.get_request(id).await?;
    let org = state.store.get_org(&r.org_id).await?;
    let grant = authorize_org(state, caller, action, Resource::Meeting, &org, None).await?;
    Ok((r, org, grant))
}

/// Slot search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlotParams {
    /// Meeting length in minutes (default 60).
    pub length_minutes: Option<i64>,
    /// At most this many slots (default 10, at most 100).
    pub limit: Option<usize>,
    /// Days ahead to search (default 28, at most 90).
    pub horizon_days: Option<u32>,
}

/// A meeting slot that can be booked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotDoc {
    pub staff_id: String,
    pub staff_name: String,
    pub staff_region: String,
    /// UTC, RFC 3339.
    pub start: String,
    pub end: String,
    /// In the customer's time zone, RFC 3339 with its offset.
    pub start_local: String,
    pub end_local: String,
    /// The customer's IANA zone.
    pub time_zone: String,
    /// In the staff member's region zone.
    pub staff_start_local: String,
    /// Wholly inside one of the customer's preferred windows.
    pub preferred: bool,
}

/// The slots offered for a request, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub request_id: String,
    pub language: String,
    pub time_zone: String,
    pub length_minutes: i64,
    pub slots: Vec<SlotDoc>,
}

/// R10/R11/R12: the earliest slots (preferred windows first) in which a staff member who speaks
/// the request's language is in business hours, free and not away, and the customer is inside
/// its working hours (Monday–Friday 09:00–17:00 in the request's zone). Ties go to the least
/// loaded staff member, then round robin.
#[utoipa::path(get, path = "/api/v1/requests/{id}/slots", tag = "meetings",
    params(("id" = String, Path), SlotParams),
    responses((status = 200, body = SlotList), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn slots(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SlotParams>,
) -> ApiResult<Json<SlotList>> {
    let (r, _, _) = load_request(&state, &caller, &id, Action::Read).await?;
    let minutes = q.length_minutes.unwrap_or(60);
    let length = scheduler::check_length("length_minutes", minutes)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(Invalid::one("limit", "between 1 and 100").into());
    }
    let horizon = q.horizon_days.unwrap_or(DEFAULT_HORIZON_DAYS);
    if !(1..=90).contains(&horizon) {
        return Err(Invalid::one("horizon_days", "between 1 and 90").into());
    }
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * (i64::from(horizon) + 1)))
        .map_err(|_| Invalid::one("horizon_days", "out of range"))?;
    let team = scheduler::current_team(&state.store, &state.teams, now, until).await?;
    let language = scheduler::request_language(&r)?;
    let query = SlotQuery {
        language,
        length,
        customer: scheduler::customer_hours(&r)?,
        preferred: scheduler::preferred_windows(&r),
        now,
        horizon_days: horizon,
        grid_minutes: fasttrack_core::scheduling::DEFAULT_GRID_MINUTES,
        limit,
        rotation: team.rotation,
    };
    let found = team.find_slots(&query)?;
    // The zones are those the search used: no look-up by name per slot.
    let zone = query.customer.tz();
    let slots = found
        .into_iter()
        .map(|s| {
            let info = team.info.get(&s.staff_id);
            let staff_start_local = match team.member(&s.staff_id) {
                Some(m) => scheduler::local_time_in(s.start, m.calendar.tz()),
                None => String::new(),
            };
            SlotDoc {
                staff_name: info.map(|i| i.name.clone()).unwrap_or_default(),
                staff_region: info.map(|i| i.region_id.clone()).unwrap_or_default(),
                start: s.start.to_string(),
                end: s.end.to_string(),
                start_local: scheduler::local_time_in(s.start, zone),
                end_local: scheduler::local_time_in(s.end, zone),
                time_zone: r.time_zone.clone(),
                staff_start_local,
                preferred: s.preferred,
                staff_id: s.staff_id,
            }
        })
        .collect();
    Ok(Json(SlotList {
        request_id: r.id,
        language: r.language,
        time_zone: r.time_zone,
        length_minutes: minutes,
        slots,
    }))
}

/// A meeting as the API shows it. R13: it has an online link and never a place.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingDoc {
    pub id: String,
    /// The iCalendar UID: the same across reschedules.
    pub uid: String,
    /// The iCalendar SEQUENCE of this version.
    pub sequence: i64,
    pub request_id: Option<String>,
    pub engagement_id: Option<String>,
    pub staff_id: String,
    pub purpose: String,
    /// `booked`, `rescheduled` (see `replaced_by`), `cancelled`, `held`.
    pub state: String,
    /// UTC, RFC 3339.
    pub start: String,
    pub end: String,
    /// In the customer's time zone, RFC 3339 with its offset.
    pub start_local: String,
    pub end_local: String,
    pub time_zone: String,
    pub length_minutes: i64,
    /// R13: the online-meeting link.
    pub online_link: String,
    pub attendees: Vec<String>,
    pub replaces_id: Option<String>,
    pub replaced_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// Where the calendar invite is served.
    pub ics_url: String,
    pub created_at: String,
    pub updated_at: String,
}

page_of!(MeetingPage, MeetingDoc);

impl MeetingDoc {
    /// Builds the document from the stored row.
    pub fn from_row(m: Meeting, replaced_by: Option<String>) -> MeetingDoc {
        MeetingDoc {
            start_local: scheduler::local_time(m.starts_at, &m.time_zone),
            end_local: scheduler::local_time(m.ends_at, &m.time_zone),
            start: ts(m.starts_at),
            end: ts(m.ends_at),
            length_minutes: (m.ends_at - m.starts_at) / 60,
            attendees: m.attendee_list(),
            ics_url: format!("/api/v1/meetings/{}.ics", m.id),
            created_at: ts(m.created_at),
            updated_at: ts(m.updated_at),
            id: m.id,
            uid: m.uid,
            sequence: m.sequence,
            request_id: m.request_id,
            engagement_id: m.engagement_id,
            staff_id: m.staff_id,
            purpose: m.purpose,
            state: m.state,
            time_zone: m.time_zone,
            online_link: m.online_link,
            replaces_id: m.replaces_id,
            replaced_by,
            cancel_reason: m.cancel_reason,
        }
    }
}

/// A meeting to book.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCreate {
    pub request_id: String,
    /// The staff member who holds it (one offered by the slot search).
    pub staff_id: String,
    /// RFC 3339 instant.
    pub start: String,
    /// Default 60.
    pub length_minutes: Option<i64>,
    /// What the meeting is for (`kick-off`, `assessment`, …); default `kick-off`.
    pub purpose: Option<String>,
}

fn purpose(p: Option<&str>) -> Result<String, Invalid> {
    match p {
        None => Ok("kick-off".into()),
        Some(p) => text(p, 200, true).map_err(|m| Invalid::one("purpose", m)),
    }
}

/// Maps a missing request named in a body to a field error.
fn request_field(e: ApiError) -> ApiError {
    match e {
        ApiError::NotFound => Invalid::one("request_id", "no such request").into(),
        other => other,
    }
}

/// R10: books a meeting. It must pass R10/R11/R12 (named when refused), the tenant must have an
/// active subscription (R1), and it must not overlap another booking of the staff member (409,
/// enforced by the database). The first meeting moves the request from `accepted` to `scheduled`;
/// the invite goes out by mail with its `.ics`, and a reminder 24 hours before.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", request_body = MeetingCreate,
    responses((status = 201, body = MeetingDoc), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn book_meeting(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<MeetingCreate>,
) -> ApiResult<(StatusCode, Json<MeetingDoc>)> {
    let (r, org, grant) = load_request(&state, &caller, &body.request_id, Action::Create)
        .await
        .map_err(request_field)?;
    let start = parse_ts("start", &body.start)?;
    let purpose = purpose(body.purpose.as_deref())?;
    let now = state.clock.now();
    scheduler::ensure_schedulable(&r)?;
    scheduler::ensure_tenant_current(&state.store, &org, now).await?;
    let b = Booking {
        staff_id: body.staff_id,
        start: scheduler::instant(start)?,
        length_minutes: body.length_minutes.unwrap_or(60),
        purpose,
    };
    let until = b
        .start
        .checked_add(SignedDuration::from_hours(48))
        .map_err(|_| Invalid::one("start", "out of range"))?;
    let from = b
        .start
        .checked_sub(SignedDuration::from_hours(48))
        .unwrap_or(b.start);
    let team = scheduler::load_team(&state.store, from, until).await?;
    let m = scheduler::book(
        &state.store,
        &team,
        &r,
        &org,
        &b,
        now,
        &audit_ctx(&state, &caller, &grant),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(MeetingDoc::from_row(m, None))))
}

/// Meeting list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MeetingQuery {
    pub request_id: Option<String>,
    pub staff_id: Option<String>,
    /// Meetings ending after this RFC 3339 instant.
    pub from: Option<String>,
    /// Meetings starting before this RFC 3339 instant.
    pub to: Option<String>,
    /// `booked`, `rescheduled`, `cancelled`, `held`.
    pub state: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// Meetings: staff see all; customers their tenant's; partners those of one request they may see
/// (name `request_id`).
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", params(MeetingQuery),
    responses((status = 200, body = MeetingPage), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn list_meetings(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MeetingQuery>,
) -> ApiResult<Json<MeetingPage>> {
    let mut f = MeetingFilter {
        request_id: q.request_id.clone(),
        staff_id: q.staff_id,
        org_id: None,
        from: q.from.as_deref().map(|s| parse_ts("from", s)).transpose()?,
        to: q.to.as_deref().map(|s| parse_ts("to", s)).transpose()?,
        state: q.state,
    };
    match &q.request_id {
        Some(id) => {
            load_request(&state, &caller, id, Action::Read).await?;
        }
        None if caller.role().is_programme() => {}
        None if caller.role() == Role::PartnerUser => {
            return Err(Invalid::one(
                "request_id",
                "partners list the meetings of one request at a time",
            )
            .into())
        }
        None => f.org_id = Some(caller.user.org_id.clone()),
    }
    let p = state
        .store
        .list_meetings(&f, &page(q.after, q.limit)?)
        .await?;
    Ok(Json(MeetingPage {
        items: p
            .items
            .into_iter()
            .map(|m| MeetingDoc::from_row(m, None))
            .collect(),
        next: p.next,
    }))
}

/// Loads a meeting the caller may `action`, with its request and tenant.
pub(crate) async fn load_meeting(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Meeting, Request, Organization, Grant)> {
    let m = state.store.get_meeting(id).await?;
    let Some(request_id) = m.request_id.clone() else {
        // Meetings outside any request belong to the programme's own planning.
        return Err(ApiError::NotFound);
    };
    let (r, org, grant) = load_request(state, caller, &request_id, action).await?;
    Ok((m, r, org, grant))
}

/// The invite of a meeting as `text/calendar`: `METHOD:CANCEL` once cancelled, else
/// `METHOD:REQUEST` for its latest version.
pub(crate) async fn invite_response(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response> {
    let (mut m, r, org, _) = load_meeting(state, caller, id, Action::Read).await?;
    // A rescheduled version points at the current one: serve what calendars should show now.
    let mut hops = 0;
    while m.state == "rescheduled" && hops < 100 {
        match state.store.meeting_replaced_by(&m.id).await? {
            Some(next) => m = state.store.get_meeting(&next).await?,
            None => break,
        }
        hops += 1;
    }
    let method = if m.state == "cancelled" {
        Method::Cancel
    } else {
        Method::Request
    };
    let staff = match state.store.get_user(&m.staff_id).await {
        Ok(u) => Person {
            name: Some(u.name),
            email: u.email,
        },
        Err(StoreError::NotFound) => Person {
            name: None,
            email: "fasttrack@fasttrack.example".into(),
        },
        Err(e) => return Err(e.into()),
    };
    let body = scheduler::invite(
        &m,
        method,
        m.sequence,
        scheduler::instant(m.updated_at)?,
        &staff,
        &org.name,
        fasttrack_core::Language::parse(&r.language).unwrap_or(fasttrack_core::Language::English),
    )?;
    let content_type = format!("text/calendar; charset=utf-8; method={}", method.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"meeting-{}.ics\"", m.id),
            ),
        ],
        body,
    )
        .into_response())
}

/// One meeting; `GET /api/v1/meetings/{id}.ics` returns its calendar invite instead.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", params(("id" = String, Path)),
    responses((status = 200, description = "The meeting, or its invite when the path ends in `.ics`",
               content((MeetingDoc = "application/json"), (String = "text/calendar"))),
              (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_meeting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(id) = id.strip_suffix(".ics") {
        return invite_response(&state, &caller, id).await;
    }
    let (m, _, _, _) = load_meeting(&state, &caller, &id, Action::Read).await?;
    let replaced_by = state.store.meeting_replaced_by(&m.id).await?;
    Ok(Json(MeetingDoc::from_row(m, replaced_by)).into_response())
}

/// The meeting's calendar invite (RFC 5545, `text/calendar; method=REQUEST` or `CANCEL`).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/invite.ics", tag = "meetings", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    invite_response(&state, &caller, &id).await
}

/// A new time for a meeting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// RFC 3339 instant.
    pub start: String,
    /// Another staff member; the same one when absent.
    pub staff_id: Option<String>,
    /// The same length when absent.
    pub length_minutes: Option<i64>,
}

/// Moves a booked meeting: a new version replaces it (same UID, next SEQUENCE) and the old one is
/// kept as `rescheduled`; the updated invite goes out by mail.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/reschedule", tag = "meetings", params(("id" = String, Path)),
    request_body = RescheduleBody,
    responses((status = 200, body = MeetingDoc), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn reschedule_meeting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RescheduleBody>,
) -> ApiResult<Json<MeetingDoc>> {
    let (m, r, org, grant) = load_meeting(&state, &caller, &id, Action::Update).await?;
    let start = scheduler::instant(parse_ts("start", &body.start)?)?;
    let now = state.clock.now();
    scheduler::ensure_tenant_current(&state.store, &org, now).await?;
    let b = Booking {
        staff_id: body.staff_id.unwrap_or_else(|| m.staff_id.clone()),
        start,
        length_minutes: body
            .length_minutes
            .unwrap_or((m.ends_at - m.starts_at) / 60),
        purpose: m.purpose.clone(),
    };
    let from =
        Timestamp::from_second(m.starts_at.min(start.as_second()) - 2 * 86_400).unwrap_or(start);
    let until =
        Timestamp::from_second(m.ends_at.max(start.as_second()) + 2 * 86_400).unwrap_or(start);
    let team = scheduler::load_team(&state.store, from, until).await?;
    let saved = scheduler::reschedule(
        &state.store,
        team,
        &m,
        &r,
        &org,
        &b,
        now,
        &audit_ctx(&state, &caller, &grant),
    )
    .await?;
    Ok(Json(MeetingDoc::from_row(saved, None)))
}

/// Why a meeting is cancelled.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// Cancels a booked meeting; the cancellation (`METHOD:CANCEL`) goes out by mail.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/cancel", tag = "meetings", params(("id" = String, Path)),
    request_body = CancelBody,
    responses((status = 200, body = MeetingDoc), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn cancel_meeting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancelBody>,
) -> ApiResult<Json<MeetingDoc>> {
    let (m, r, org, grant) = load_meeting(&state, &caller, &id, Action::Update).await?;
    let reason = body
        .reason
        .as_deref()
        .map(|s| text(s, 2000, false).map_err(|e| Invalid::one("reason", e)))
        .transpose()?;
    let now = state.clock.now();
    let mut team = scheduler::Team::default();
    team.info = state
        .store
        .get_user(&m.staff_id)
        .await
        .ok()
        .map(|u| {
            (
                u.id.clone(),
                fasttrack_store::StaffRow {
                    user_id: u.id,
                    name: u.name,
                    email: u.email,
                    role: u.role,
                    region_id: String::new(),
                    weekly_capacity: 0,
                },
            )
        })
        .into_iter()
        .collect();
    let saved = scheduler::cancel(
        &state.store,
        &team,
        &m,
        &r,
        &org,
        reason.as_deref(),
        now,
        &audit_ctx(&state, &caller, &grant),
    )
    .await?;
    Ok(Json(MeetingDoc::from_row(saved, None)))
}

/// Settings of a backlog run.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacklogBody {
    /// Default 60.
    pub length_minutes: Option<i64>,
    /// Default 28, at most 90.
    pub horizon_days: Option<u32>,
    /// Default `kick-off`.
    pub purpose: Option<String>,
}

/// A meeting the backlog run booked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogBooked {
    pub request_id: String,
    pub meeting_id: String,
    pub staff_id: String,
    pub start: String,
    pub end: String,
}

/// What the backlog run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogReport {
    pub booked: Vec<BacklogBooked>,
    pub unplaced: Vec<NotPlaced>,
}

impl From<scheduler::BacklogOutcome> for BacklogReport {
    fn from(o: scheduler::BacklogOutcome) -> Self {
        BacklogReport {
            booked: o
                .booked
                .into_iter()
                .map(|m| BacklogBooked {
                    request_id: m.request_id.unwrap_or_default(),
                    start: ts(m.starts_at),
                    end: ts(m.ends_at),
                    meeting_id: m.id,
                    staff_id: m.staff_id,
                })
                .collect(),
            unplaced: o.unplaced,
        }
    }
}

/// R10/R11 (programme admins): books the first meeting of every accepted request that has none,
/// fairly across staff, and reports each request it could not place and why.
#[utoipa::path(post, path = "/api/v1/admin/schedule-backlog", tag = "meetings", request_body = BacklogBody,
    responses((status = 200, body = BacklogReport), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn schedule_backlog(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<BacklogBody>,
) -> ApiResult<Json<BacklogReport>> {
    let grant = authorize_programme(&state, &caller, Action::Create, Resource::ProgrammeSettings)?;
    let mut settings = scheduler::BacklogSettings::default();
    if let Some(l) = body.length_minutes {
        scheduler::check_length("length_minutes", l)?;
        settings.length_minutes = l;
    }
    if let Some(h) = body.horizon_days {
        if !(1..=90).contains(&h) {
            return Err(Invalid::one("horizon_days", "between 1 and 90").into());
        }
        settings.horizon_days = h;
    }
    if body.purpose.is_some() {
        settings.purpose = purpose(body.purpose.as_deref())?;
    }
    let out = scheduler::schedule_backlog(
        &state.store,
        &settings,
        state.clock.now(),
        &audit_ctx(&state, &caller, &grant),
    )
    .await?;
    Ok(Json(out.into()))
}
