//! The meeting plan of an engagement (R5, R10): when a request is accepted the scheduler proposes
//! a kick-off and one meeting per phase; the customer or its partner confirms, and each is booked
//! with every check a single booking gets. A time taken in the meantime is proposed anew.

use axum::extract::{Path, State};
use axum::Json;
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::scheduling::{
    plan_steps, propose_plan, PlanStep, SlotQuery, DEFAULT_GRID_MINUTES, DEFAULT_HORIZON_DAYS,
};
use fasttrack_core::Role;
use fasttrack_store::{AuditCtx, MeetingFilter, MeetingPlanRow, Organization, Page, Request};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::scheduler::{self, Booking};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_meeting_plan))
        .routes(routes!(propose_meeting_plan))
        .routes(routes!(confirm_meeting_plan))
}

/// Every planned meeting lasts an hour.
const PLAN_LENGTH_MINUTES: i64 = 60;

/// One meeting of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlannedMeetingDoc {
    /// The R5 phase it opens (`initiate`, `assess`, `remediate`, `enable`, `migrate`).
    pub phase: String,
    pub purpose: String,
    /// `proposed` (waiting for the customer's confirmation), `booked`, or `unplaced` (no slot
    /// keeps every rule within the horizon; staff book it by hand).
    pub status: String,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    /// UTC, RFC 3339.
    pub start: Option<String>,
    pub end: Option<String>,
    /// In the customer's time zone, RFC 3339 with its offset.
    pub start_local: Option<String>,
    pub end_local: Option<String>,
    /// Not held before this instant (its phase's first task starts then).
    pub not_before: String,
    pub meeting_id: Option<String>,
    /// Why it is unplaced, or that its first proposed time was taken.
    pub note: Option<String>,
}

/// What is stored of a plan besides its row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlanBody {
    length_minutes: i64,
    meetings: Vec<PlannedMeetingDoc>,
}

/// A request's meeting plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingPlanDoc {
    pub request_id: String,
    pub engagement_id: String,
    /// `proposed` while any meeting waits for confirmation, then `confirmed`.
    pub state: String,
    /// The customer's IANA zone.
    pub time_zone: String,
    pub length_minutes: i64,
    pub meetings: Vec<PlannedMeetingDoc>,
    pub confirmed_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn decode(row: &MeetingPlanRow) -> ApiResult<PlanBody> {
    serde_json::from_str(&row.body)
        .map_err(|e| ApiError::Internal(format!("meeting plan {}: {e}", row.request_id)))
}

fn encode(body: &PlanBody) -> ApiResult<String> {
    serde_json::to_string(body).map_err(|e| ApiError::Internal(format!("meeting plan: {e}")))
}

fn doc(row: &MeetingPlanRow, r: &Request) -> ApiResult<MeetingPlanDoc> {
    let body = decode(row)?;
    Ok(MeetingPlanDoc {
        request_id: row.request_id.clone(),
        engagement_id: row.engagement_id.clone(),
        state: row.state.clone(),
        time_zone: r.time_zone.clone(),
        length_minutes: body.length_minutes,
        meetings: body.meetings,
        confirmed_by: row.confirmed_by.clone(),
        created_at: ts(row.created_at),
        updated_at: ts(row.updated_at),
    })
}

/// A plan is confirmed once nothing in it waits for the customer.
fn plan_state(meetings: &[PlannedMeetingDoc]) -> &'static str {
    if meetings.iter().any(|m| m.status == "proposed") {
        "proposed"
    } else {
        "confirmed"
    }
}

/// Proposes slots for every meeting of the plan that is not booked yet, keeping the booked
/// ones; the caller stores the plan. Steps come from the engagement's tasks (R5).
pub(crate) async fn propose(
    state: &AppState,
    r: &Request,
    engagement_id: &str,
    previous: Option<&MeetingPlanRow>,
) -> ApiResult<MeetingPlanRow> {
    let now = state.clock.now();
    let stored = state.store.get_engagement(engagement_id).await?;
    let customer = scheduler::customer_hours(r)?;
    let kept: Vec<PlannedMeetingDoc> = match previous {
        Some(p) => decode(p)?
            .meetings
            .into_iter()
            .filter(|m| m.status == "booked")
            .collect(),
        None => Vec::new(),
    };
    let steps: Vec<PlanStep> = plan_steps(&stored.engagement, customer.tz(), now)
        .into_iter()
        .filter(|s| !kept.iter().any(|k| k.phase == s.phase.as_str()))
        .collect();
    let last = steps.iter().map(|s| s.not_before).max().unwrap_or(now);
    let until = last
        .checked_add(SignedDuration::from_hours(
            24 * (i64::from(DEFAULT_HORIZON_DAYS) + 1),
        ))
        .unwrap_or(Timestamp::MAX);
    let team = scheduler::load_team(&state.store, now, until).await?;
    let query = SlotQuery {
        preferred: scheduler::preferred_windows(r),
        horizon_days: DEFAULT_HORIZON_DAYS,
        grid_minutes: DEFAULT_GRID_MINUTES,
        rotation: team.rotation,
        ..SlotQuery::new(
            scheduler::request_language(r)?,
            SignedDuration::from_mins(PLAN_LENGTH_MINUTES),
            customer,
            now,
        )
    };
    // The customer attends every meeting of the request: none may overlap another.
    let mut busy = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .list_meetings(
                &MeetingFilter {
                    request_id: Some(r.id.clone()),
                    state: Some("booked".into()),
                    ..MeetingFilter::default()
                },
                &Page {
                    after: after.take(),
                    limit: 200,
                },
            )
            .await?;
        for m in &page.items {
            busy.push((
                scheduler::instant(m.starts_at)?,
                scheduler::instant(m.ends_at)?,
            ));
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let proposed = propose_plan(team.staff(), &query, &steps, &busy)?;
    let mut meetings = kept;
    for p in proposed {
        let m = match p.slot {
            Some(s) => PlannedMeetingDoc {
                phase: p.step.phase.as_str().into(),
                purpose: p.step.purpose,
                status: "proposed".into(),
                staff_name: team.info.get(&s.staff_id).map(|i| i.name.clone()),
                staff_id: Some(s.staff_id),
                start: Some(s.start.to_string()),
                end: Some(s.end.to_string()),
                start_local: Some(scheduler::local_time(s.start.as_second(), &r.time_zone)),
                end_local: Some(scheduler::local_time(s.end.as_second(), &r.time_zone)),
                not_before: p.step.not_before.to_string(),
                meeting_id: None,
                note: None,
            },
            None => PlannedMeetingDoc {
                phase: p.step.phase.as_str().into(),
                purpose: p.step.purpose,
                status: "unplaced".into(),
                staff_id: None,
                staff_name: None,
                start: None,
                end: None,
                start_local: None,
                end_local: None,
                not_before: p.step.not_before.to_string(),
                meeting_id: None,
                note: Some(format!(
                    "R10/R11/R12: no staff member who speaks {} has a free hour inside both business hours within {DEFAULT_HORIZON_DAYS} days of {}",
                    r.language, p.step.not_before
                )),
            },
        };
        meetings.push(m);
    }
    meetings.sort_by_key(|m| phase_rank(&m.phase));
    let row = MeetingPlanRow {
        request_id: r.id.clone(),
        engagement_id: engagement_id.to_string(),
        state: plan_state(&meetings).into(),
        body: encode(&PlanBody {
            length_minutes: PLAN_LENGTH_MINUTES,
            meetings,
        })?,
        confirmed_by: previous.and_then(|p| p.confirmed_by.clone()),
        created_at: previous.map_or(now.as_second(), |p| p.created_at),
        updated_at: now.as_second(),
    };
    Ok(row)
}

fn phase_rank(phase: &str) -> usize {
    fasttrack_core::rules::engagement::Phase::ALL
        .iter()
        .position(|p| p.as_str() == phase)
        .unwrap_or(usize::MAX)
}

/// R5/R10: proposes the meeting plan of a request that was just accepted. A plan that cannot be
/// proposed is logged, not fatal: the acceptance stands and staff can propose it again.
pub async fn propose_after_accept(state: &AppState, r: &Request, caller: &Caller) {
    let result = async {
        let Some(engagement_id) = state.store.engagement_of_request(&r.id).await? else {
            return Ok(());
        };
        let org = state.store.get_org(&r.org_id).await?;
        let ctx = AuditCtx {
            actor_user_id: Some(caller.user.id.clone()),
            actor_org_id: Some(caller.user.org_id.clone()),
            acting_for_org_id: None,
            at: state.clock.now_secs(),
        };
        let previous = state.store.meeting_plan(&r.id).await?;
        let row = propose(state, r, &engagement_id, previous.as_ref()).await?;
        state
            .store
            .save_meeting_plan(&row, &org.id, "meeting_plan.propose", &ctx)
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(request = %r.id, error = %e, "the meeting plan could not be proposed");
    }
}

pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Request, Organization, fasttrack_core::policy::Grant)> {
    let r = state.store.get_request(id).await?;
    let org = state.store.get_org(&r.org_id).await?;
    let grant = authorize_org(state, caller, action, Resource::Meeting, &org, None).await?;
    Ok((r, org, grant))
}

/// R5/R10: the meeting plan proposed for a request's engagement: a kick-off, then one meeting
/// per phase, each with its staff member and times in the customer's zone and in UTC.
#[utoipa::path(get, path = "/api/v1/requests/{id}/meeting-plan", tag = "meetings", params(("id" = String, Path)),
    responses((status = 200, body = MeetingPlanDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_meeting_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MeetingPlanDoc>> {
    let (r, _, _) = load(&state, &caller, &id, Action::Read).await?;
    let row = state
        .store
        .meeting_plan(&id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(doc(&row, &r)?))
}

/// Proposes new times for every meeting of the plan not booked yet (booked ones stay).
#[utoipa::path(post, path = "/api/v1/requests/{id}/meeting-plan/propose", tag = "meetings", params(("id" = String, Path)),
    responses((status = 200, body = MeetingPlanDoc), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn propose_meeting_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MeetingPlanDoc>> {
    let (r, org, grant) = load(&state, &caller, &id, Action::Create).await?;
    scheduler::ensure_schedulable(&r)?;
    let engagement_id = state
        .store
        .engagement_of_request(&id)
        .await?
        .ok_or_else(|| {
            ApiError::IllegalTransition("the request has no engagement yet; accept it first".into())
        })?;
    let previous = state.store.meeting_plan(&id).await?;
    let row = propose(&state, &r, &engagement_id, previous.as_ref()).await?;
    state
        .store
        .save_meeting_plan(
            &row,
            &org.id,
            "meeting_plan.propose",
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    Ok(Json(doc(&row, &r)?))
}

/// R10: the customer or its partner confirms the proposed meetings; each is booked with every
/// check of a single booking (R1, R10–R12, no double booking) and its invite goes out. A time
/// that was taken meanwhile is proposed anew and waits for another confirmation.
#[utoipa::path(post, path = "/api/v1/requests/{id}/meeting-plan/confirm", tag = "meetings", params(("id" = String, Path)),
    responses((status = 200, body = MeetingPlanDoc), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn confirm_meeting_plan(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MeetingPlanDoc>> {
    let (r, org, grant) = load(&state, &caller, &id, Action::Create).await?;
    if !matches!(caller.role(), Role::CustomerAdmin | Role::PartnerUser) {
        return Err(ApiError::Forbidden(
            "the customer or its partner confirms the meeting plan; staff propose it".into(),
        ));
    }
    let row = state
        .store
        .meeting_plan(&id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut body = decode(&row)?;
    if !body.meetings.iter().any(|m| m.status == "proposed") {
        return Err(ApiError::IllegalTransition(
            "no meeting of the plan waits for confirmation".into(),
        ));
    }
    let now = state.clock.now();
    scheduler::ensure_schedulable(&r)?;
    scheduler::ensure_tenant_current(&state.store, &org, now).await?;
    let ctx = audit_ctx(&state, &caller, &grant);
    let until = body
        .meetings
        .iter()
        .filter_map(|m| m.end.as_deref()?.parse::<Timestamp>().ok())
        .max()
        .unwrap_or(now)
        .checked_add(SignedDuration::from_hours(48))
        .unwrap_or(Timestamp::MAX);
    let mut team = scheduler::load_team(&state.store, now, until).await?;
    let mut request = r.clone();
    let mut taken = false;
    for m in body.meetings.iter_mut().filter(|m| m.status == "proposed") {
        let (Some(staff_id), Some(start)) = (m.staff_id.clone(), m.start.clone()) else {
            continue;
        };
        let start = super::parse_ts("start", &start).and_then(|s| {
            Timestamp::from_second(s)
                .map_err(|_| fasttrack_core::Invalid::one("start", "out of range"))
        })?;
        let b = Booking {
            staff_id,
            start,
            length_minutes: body.length_minutes,
            purpose: m.purpose.clone(),
        };
        match scheduler::book(&state.store, &team, &request, &org, &b, now, &ctx).await {
            Ok(meeting) => {
                m.status = "booked".into();
                m.meeting_id = Some(meeting.id.clone());
                m.note = None;
                if let Some(s) = team.member_mut(&meeting.staff_id) {
                    s.bookings
                        .push((start, scheduler::instant(meeting.ends_at)?));
                }
                // The first booking moved the request on; later ones see where it is now.
                request = state.store.get_request(&id).await?;
            }
            Err(e @ (ApiError::Store(_) | ApiError::Internal(_))) => return Err(e),
            Err(e) => {
                m.status = "taken".into();
                m.note = Some(format!(
                    "the proposed time could not be booked ({e}); a new time is proposed"
                ));
                taken = true;
            }
        }
    }
    let mut saved = MeetingPlanRow {
        state: plan_state(&body.meetings).into(),
        body: encode(&body)?,
        confirmed_by: Some(caller.user.id.clone()),
        updated_at: now.as_second(),
        ..row.clone()
    };
    if taken {
        // Times taken meanwhile are proposed anew; the plan waits for another confirmation,
        // and each new proposal says why its first time went.
        let notes: Vec<(String, String)> = body
            .meetings
            .iter()
            .filter(|m| m.status == "taken")
            .filter_map(|m| Some((m.phase.clone(), m.note.clone()?)))
            .collect();
        body.meetings.retain(|m| m.status != "taken");
        saved.body = encode(&body)?;
        let again = propose(&state, &request, &row.engagement_id, Some(&saved)).await?;
        let mut fresh = decode(&again)?;
        for m in fresh.meetings.iter_mut() {
            if let Some((_, note)) = notes.iter().find(|(p, _)| *p == m.phase) {
                m.note = Some(note.clone());
            }
        }
        saved = MeetingPlanRow {
            state: plan_state(&fresh.meetings).into(),
            body: encode(&fresh)?,
            ..saved
        };
    }
    state
        .store
        .save_meeting_plan(&saved, &org.id, "meeting_plan.confirm", &ctx)
        .await?;
    Ok(Json(doc(&saved, &request)?))
}
