//! R15 service levels: each request's business-hours clocks (first response, first meeting), the
//! staff queue sorted by time left, and the programme's targets.
//!
//! The clocks run in the business hours of the tenant's region (the R12 calendar, holidays
//! included) and pause while the team waits for the requester: from each `ask_info` in the
//! request's history to the next change (the requester's answer, or any later step).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use fasttrack_core::calendar::{business_minutes, deadline, RegionCalendar, SlaStatus};
use fasttrack_core::policy::{Action, Resource};
use fasttrack_core::rules::lifecycle::RequestState;
use fasttrack_core::Invalid;
use fasttrack_store::{
    JobSpec, Organization, Page, Request, RequestEventRow, RequestFilter, SlaSettings, Store,
    UserFilter,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, authorize_programme, ts};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::scheduler::{customer_hours, instant};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_sla))
        .routes(routes!(queue))
        .routes(routes!(get_settings, put_settings))
}

/// One service-level clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockDoc {
    pub target_minutes: i64,
    /// Business minutes run (up to now, or up to when the clock stopped).
    pub elapsed_minutes: i64,
    pub remaining_minutes: i64,
    pub breached: bool,
    pub near_breach: bool,
    /// Still running (no response / no meeting yet).
    pub running: bool,
    /// When it stopped: the first response, or the start of the first meeting.
    pub stopped_at: Option<String>,
    /// When the target is (or was) reached if nothing else pauses the clock.
    pub deadline: Option<String>,
}

/// A pause of the clocks, `[start, end)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PauseDoc {
    pub start: String,
    pub end: String,
}

/// A request's service-level clocks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaDoc {
    pub request_id: String,
    pub org_id: String,
    pub state: String,
    /// The region whose business hours the clocks count (the tenant's).
    pub region_id: Option<String>,
    pub time_zone: String,
    /// The team is waiting for the requester: the clocks stand still.
    pub paused: bool,
    pub pauses: Vec<PauseDoc>,
    pub first_response: ClockDoc,
    pub first_meeting: ClockDoc,
    /// The least time left on a running clock, in business minutes (absent when none runs).
    pub time_left_minutes: Option<i64>,
}

/// R15: the pauses of a request's clocks, from its history: each `ask_info` step pauses them
/// until the next step; a pause still open at `now` ends there.
pub fn pauses(events: &[RequestEventRow], now: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    for e in events {
        let asks = e.note.as_deref().is_some_and(|n| n.starts_with("ask_info"));
        if let Some(a) = open.take() {
            if e.at > a {
                out.push((a, e.at));
            }
        }
        if asks {
            open = Some(e.at);
        }
    }
    if let Some(a) = open {
        if now > a {
            out.push((a, now));
        }
    }
    out
}

/// R15: one clock of `target` business minutes from `start`, stopped at `stop` if it has.
fn clock(
    cal: &RegionCalendar,
    start: Timestamp,
    stop: Option<Timestamp>,
    now: Timestamp,
    target: i64,
    pauses: &[(Timestamp, Timestamp)],
    near_fraction: f64,
) -> ClockDoc {
    match stop {
        Some(stop) => {
            let elapsed = business_minutes(cal, start, stop, pauses);
            let breached = elapsed > target;
            ClockDoc {
                target_minutes: target,
                elapsed_minutes: elapsed,
                remaining_minutes: (target - elapsed).max(0),
                breached,
                near_breach: !breached && (elapsed as f64) >= near_fraction * target as f64,
                running: false,
                stopped_at: Some(stop.to_string()),
                deadline: deadline(cal, start, target, pauses).map(|t| t.to_string()),
            }
        }
        None => {
            let s = SlaStatus::at(cal, start, now, target, pauses, near_fraction);
            ClockDoc {
                target_minutes: target,
                elapsed_minutes: s.elapsed,
                remaining_minutes: s.remaining,
                breached: s.breached,
                near_breach: s.near_breach,
                running: true,
                stopped_at: None,
                deadline: s.deadline.map(|t| t.to_string()),
            }
        }
    }
}

/// The calendar the clocks of a tenant's requests count in: its region's, or (a tenant without
/// a region) the customer's own working hours.
pub(crate) async fn calendar_for(
    store: &Store,
    org: &Organization,
    r: &Request,
    cache: &mut HashMap<String, RegionCalendar>,
) -> ApiResult<RegionCalendar> {
    match &org.region_id {
        Some(region) => {
            if let Some(c) = cache.get(region) {
                return Ok(c.clone());
            }
            let c = store.region_calendar(region).await?;
            cache.insert(region.clone(), c.clone());
            Ok(c)
        }
        None => customer_hours(r),
    }
}

/// R15: the clocks of one request at `now`.
pub(crate) async fn compute(
    store: &Store,
    now: Timestamp,
    r: &Request,
    org: &Organization,
    settings: &SlaSettings,
    cache: &mut HashMap<String, RegionCalendar>,
) -> ApiResult<SlaDoc> {
    let cal = calendar_for(store, org, r, cache).await?;
    let events = store.request_events(&r.id).await?;
    let raw = pauses(&events, now.as_second());
    let paused_at: Vec<(Timestamp, Timestamp)> = raw
        .iter()
        .map(|&(a, b)| Ok((instant(a)?, instant(b)?)))
        .collect::<ApiResult<_>>()?;
    let start = instant(r.created_at)?;
    let state_now = RequestState::parse(&r.state).map_err(ApiError::Internal)?;
    // A finished request's clocks stop when it finished.
    let finished = (state_now.is_final()).then_some(r.updated_at);
    let response_stop = r.first_response_at.or(finished).map(instant).transpose()?;
    let meeting_stop = match store.first_meeting_start(&r.id).await? {
        Some(s) => Some(instant(s)?),
        None => finished.map(instant).transpose()?,
    };
    let near = settings.near_breach_percent as f64 / 100.0;
    let first_response = clock(
        &cal,
        start,
        response_stop,
        now,
        settings.first_response_minutes,
        &paused_at,
        near,
    );
    let first_meeting = clock(
        &cal,
        start,
        meeting_stop,
        now,
        settings.first_meeting_minutes,
        &paused_at,
        near,
    );
    let time_left_minutes = [&first_response, &first_meeting]
        .iter()
        .filter(|c| c.running)
        .map(|c| c.remaining_minutes)
        .min();
    Ok(SlaDoc {
        request_id: r.id.clone(),
        org_id: r.org_id.clone(),
        state: r.state.clone(),
        region_id: org.region_id.clone(),
        time_zone: cal.zone().as_str().to_string(),
        paused: r.awaiting_requester,
        pauses: raw
            .iter()
            .map(|&(a, b)| PauseDoc {
                start: ts(a),
                end: ts(b),
            })
            .collect(),
        first_response,
        first_meeting,
        time_left_minutes,
    })
}

/// R15: a request's clocks (time to first response and to first meeting) in business minutes of
/// its region, with pauses, targets, breach and near breach.
#[utoipa::path(get, path = "/api/v1/requests/{id}/sla", tag = "sla", params(("id" = String, Path)),
    responses((status = 200, body = SlaDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn request_sla(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SlaDoc>> {
    let r = state.store.get_request(&id).await?;
    let org = state.store.get_org(&r.org_id).await?;
    authorize_org(&state, &caller, Action::Read, Resource::Request, &org, None).await?;
    let settings = state.store.sla_settings().await?;
    Ok(Json(
        compute(
            &state.store,
            state.clock.now(),
            &r,
            &org,
            &settings,
            &mut HashMap::new(),
        )
        .await?,
    ))
}

/// Queue parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `time_left` (default: least time left first) or `created` (oldest first).
    pub sort: Option<String>,
    /// Only requests with a breached clock.
    pub breached: Option<bool>,
    /// Only requests with a clock near breach.
    pub near_breach: Option<bool>,
    pub region_id: Option<String>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<usize>,
}

/// The queue's page.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaQueue {
    pub items: Vec<SlaDoc>,
}

/// R15 (staff): open requests (submitted or accepted) with their clocks, least time left first;
/// breached and near-breach requests can be filtered.
#[utoipa::path(get, path = "/api/v1/sla/queue", tag = "sla", params(QueueQuery),
    responses((status = 200, body = SlaQueue), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<SlaQueue>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Request)?;
    if !caller.role().is_programme() {
        return Err(ApiError::Forbidden(
            "the service-level queue is for programme staff".into(),
        ));
    }
    let by_created = match q.sort.as_deref() {
        None | Some("time_left") => false,
        Some("created") => true,
        Some(_) => return Err(Invalid::one("sort", "time_left or created").into()),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Invalid::one("limit", "between 1 and 500").into());
    }
    let mut items = Vec::new();
    for (doc, _) in open_clocks(&state.store, state.clock.now(), q.region_id.clone()).await? {
        let breached = doc.first_response.breached || doc.first_meeting.breached;
        let near = doc.first_response.near_breach || doc.first_meeting.near_breach;
        if q.breached.is_some_and(|b| b != breached) || q.near_breach.is_some_and(|n| n != near) {
            continue;
        }
        items.push(doc);
    }
    if by_created {
        items.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    } else {
        items.sort_by(|a, b| {
            let key = |d: &SlaDoc| {
                (
                    d.time_left_minutes.unwrap_or(i64::MAX),
                    d.request_id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
    }
    items.truncate(limit);
    Ok(Json(SlaQueue { items }))
}

/// R15: the clocks of every open request (submitted or accepted), with the request; at most
/// 5,000 requests per state are read.
pub async fn open_clocks(
    store: &Store,
    now: Timestamp,
    region_id: Option<String>,
) -> ApiResult<Vec<(SlaDoc, Request)>> {
    let settings = store.sla_settings().await?;
    let mut cache = HashMap::new();
    let mut orgs: HashMap<String, Organization> = HashMap::new();
    let mut out = Vec::new();
    for st in [RequestState::Submitted, RequestState::Accepted] {
        let mut after = None;
        for _ in 0..25 {
            let p = store
                .list_requests(
                    &RequestFilter {
                        state: Some(st.as_str().into()),
                        region_id: region_id.clone(),
                        ..RequestFilter::default()
                    },
                    &Page { after, limit: 200 },
                )
                .await?;
            for r in p.items {
                if !orgs.contains_key(&r.org_id) {
                    let o = store.get_org(&r.org_id).await?;
                    orgs.insert(r.org_id.clone(), o);
                }
                let Some(org) = orgs.get(&r.org_id) else {
                    continue;
                };
                let doc = compute(store, now, &r, org, &settings, &mut cache).await?;
                out.push((doc, r));
            }
            match p.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    Ok(out)
}

/// R15: the mails that tell FastTrack Managers of each running clock near its target: the
/// request's manager, or every active manager while nobody owns it yet. Each clock of a
/// request is announced once (the dedupe key names it).
pub async fn near_breach_alerts(store: &Store, now: Timestamp) -> ApiResult<Vec<JobSpec>> {
    let mut jobs = Vec::new();
    let mut all_managers: Option<Vec<String>> = None;
    for (doc, r) in open_clocks(store, now, None).await? {
        for (code, c) in [
            ("first_response", &doc.first_response),
            ("first_meeting", &doc.first_meeting),
        ] {
            if !(c.running && c.near_breach) {
                continue;
            }
            let to = match &r.manager_id {
                Some(m) => match store.get_user(m).await {
                    Ok(u) if !u.disabled => vec![u.email],
                    Ok(_) | Err(fasttrack_store::StoreError::NotFound) => Vec::new(),
                    Err(e) => return Err(e.into()),
                },
                None => match &all_managers {
                    Some(v) => v.clone(),
                    None => {
                        let users = store
                            .list_users(
                                &UserFilter {
                                    role: Some("fasttrack_manager".into()),
                                    ..UserFilter::default()
                                },
                                &Page::new(None, 200),
                            )
                            .await?;
                        let v: Vec<String> = users
                            .items
                            .into_iter()
                            .filter(|u| !u.disabled)
                            .map(|u| u.email)
                            .collect();
                        all_managers = Some(v.clone());
                        v
                    }
                },
            };
            if to.is_empty() {
                continue;
            }
            let tenant = store.get_org(&r.org_id).await?;
            jobs.push(JobSpec {
                kind: "mail".into(),
                dedupe_key: format!("sla:{}:{code}:near", r.id),
                payload: json!({
                    "template": "sla_near_breach",
                    "to": to,
                    "language": tenant.language,
                    "vars": {
                        "request_id": r.id,
                        "tenant": tenant.name,
                        "clock": code,
                        "minutes_left": c.remaining_minutes,
                    }
                }),
            });
        }
    }
    Ok(jobs)
}

/// R15: the programme's service-level targets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaSettingsDoc {
    /// Business minutes to a first response (default 480: 8 business hours).
    pub first_response_minutes: i64,
    /// Business minutes to a first meeting (default 2400: 40 business hours).
    pub first_meeting_minutes: i64,
    /// Share of a target after which a request is near breach (default 80).
    pub near_breach_percent: i64,
}

/// R15: the programme's service-level targets.
#[utoipa::path(get, path = "/api/v1/sla/settings", tag = "sla",
    responses((status = 200, body = SlaSettingsDoc)))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<SlaSettingsDoc>> {
    authorize_programme(&state, &caller, Action::Read, Resource::ProgrammeSettings)?;
    let s = state.store.sla_settings().await?;
    Ok(Json(SlaSettingsDoc {
        first_response_minutes: s.first_response_minutes,
        first_meeting_minutes: s.first_meeting_minutes,
        near_breach_percent: s.near_breach_percent,
    }))
}

/// R15: changes the programme's service-level targets (programme admins).
#[utoipa::path(put, path = "/api/v1/sla/settings", tag = "sla", request_body = SlaSettingsDoc,
    responses((status = 200, body = SlaSettingsDoc), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SlaSettingsDoc>,
) -> ApiResult<Json<SlaSettingsDoc>> {
    let grant = authorize_programme(&state, &caller, Action::Update, Resource::ProgrammeSettings)?;
    let mut errs = fasttrack_core::error::Errors::new();
    // A year of business minutes is far beyond any promise worth making.
    for (field, v) in [
        ("first_response_minutes", body.first_response_minutes),
        ("first_meeting_minutes", body.first_meeting_minutes),
    ] {
        if !(1..=525_600).contains(&v) {
            errs.add(field, "between 1 and 525600 business minutes");
        }
    }
    if !(1..=100).contains(&body.near_breach_percent) {
        errs.add("near_breach_percent", "between 1 and 100");
    }
    errs.finish()?;
    let s = state
        .store
        .save_sla_settings(
            &SlaSettings {
                first_response_minutes: body.first_response_minutes,
                first_meeting_minutes: body.first_meeting_minutes,
                near_breach_percent: body.near_breach_percent,
            },
            &audit_ctx(&state, &caller, &grant),
        )
        .await?;
    Ok(Json(SlaSettingsDoc {
        first_response_minutes: s.first_response_minutes,
        first_meeting_minutes: s.first_meeting_minutes,
        near_breach_percent: s.near_breach_percent,
    }))
}
