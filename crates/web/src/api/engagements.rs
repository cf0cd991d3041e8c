//! Engagements (R3–R7, with R1's pause): opened or extended when a request is accepted, tasks
//! completed in order by the side allowed to (R5, R6), deviations shown as risks (R7), progress,
//! the SVG timeline and the programme dashboard.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use fasttrack_core::policy::{Action, Grant, Resource};
use fasttrack_core::rules::advisory::{self, TaskActor};
use fasttrack_core::rules::eligibility::{
    has_current_subscription, SubscriptionFacts, SubscriptionState,
};
use fasttrack_core::rules::engagement::{
    plan_from, Engagement, GuidanceLink, HelpKind, Phase, TaskError, TemplateSet, TrackKind,
};
use fasttrack_core::types::text;
use fasttrack_core::{Invalid, Language, Role, Rule, SpokenLanguage};
use fasttrack_store::{
    AuditCtx, EngagementFilter, EngagementRow, EngagementWrite, Organization, Request,
    StoredEngagement,
};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    audit_ctx, authorize_org, authorize_programme, page, page_of, partner_link, ts, ts_opt,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;
use crate::timeline::{self, TimelineMeeting};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_engagements))
        .routes(routes!(get_engagement))
        .routes(routes!(open_for_request))
        .routes(routes!(complete_task))
        .routes(routes!(complete_out_of_order))
        .routes(routes!(skip_task))
        .routes(routes!(comment_task))
        .routes(routes!(attach_guidance))
        .routes(routes!(timeline_svg))
        .routes(routes!(dashboard))
        // The same timeline for the site's pages, outside the API prefix.
        .route("/engagements/{id}/timeline.svg", get(timeline_svg))
}

/// An engagement in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementSummary {
    pub id: String,
    pub org_id: String,
    /// `active`, `paused` (R1: the tenant's subscription is not active) or `completed`.
    pub state: String,
    /// The day the plan is dated from (YYYY-MM-DD).
    pub start_day: String,
    pub paused_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl EngagementSummary {
    fn from_row(r: &EngagementRow) -> Self {
        EngagementSummary {
            id: r.id.clone(),
            org_id: r.org_id.clone(),
            state: r.state.clone(),
            start_day: r.start_day.clone(),
            paused_at: ts_opt(r.paused_at),
            completed_at: ts_opt(r.completed_at),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

page_of!(EngagementPage, EngagementSummary);

/// A link to published guidance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDoc {
    pub title: String,
    pub url: String,
}

/// A comment on a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDoc {
    pub id: String,
    pub task: String,
    pub author_id: String,
    pub body: String,
    pub created_at: String,
}

/// One task of an engagement.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDoc {
    /// Unique within the engagement (`core.add-domains`).
    pub key: String,
    pub title: String,
    /// `initiate`, `assess`, `remediate`, `enable` or `migrate` (R5).
    pub phase: String,
    /// `customer`, `partner` or `programme` (R6).
    pub owner: String,
    /// `tenant_change` (only the customer or its authorised partner) or `advisory`.
    pub kind: String,
    /// `open`, `done` or `skipped`.
    pub state: String,
    pub guidance: String,
    pub links: Vec<LinkDoc>,
    pub depends_on: Vec<String>,
    /// Open tasks that come first in the recommended order (R5).
    pub blocked_by: Vec<String>,
    pub starts_on: String,
    pub due_on: String,
    /// Open and due before today.
    pub overdue: bool,
    pub chosen_option: Option<String>,
    pub done_by: Option<String>,
    pub done_by_role: Option<String>,
    pub done_at: Option<String>,
    pub comments: Vec<CommentDoc>,
}

/// One track (R3, R4) with its tasks in the recommended order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackDoc {
    /// `core_onboarding`, `service_onboarding`, `data_migration` or `user_adoption`.
    pub kind: String,
    /// The service, for a service onboarding track.
    pub service: Option<String>,
    pub name: String,
    pub tasks: Vec<TaskDoc>,
}

/// A recorded deviation from the recommended plan (R7).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviationDoc {
    pub task: String,
    /// `skipped`, `done_out_of_order` or `non_recommended_option`.
    pub kind: String,
    pub by: String,
    pub by_role: String,
    pub reason: String,
    pub at: String,
    /// What it was done before, or which option was chosen.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// An engagement with its tracks, phases, tasks, deviations, risks and progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementDoc {
    #[serde(flatten)]
    pub summary: EngagementSummary,
    pub request_ids: Vec<String>,
    pub tracks: Vec<TrackDoc>,
    pub deviations: Vec<DeviationDoc>,
    /// R7: how each deviation may affect the onboarding.
    #[schema(value_type = Vec<Object>)]
    pub risks: Value,
    /// Done, skipped and total tasks per track and phase, with each track's current phase.
    #[schema(value_type = Vec<Object>)]
    pub progress: Value,
    /// The timeline chart (SVG).
    pub timeline_url: String,
}

fn track_kind_parts(k: &TrackKind) -> (String, Option<String>) {
    match k {
        TrackKind::CoreOnboarding => ("core_onboarding".into(), None),
        TrackKind::ServiceOnboarding { service } => {
            ("service_onboarding".into(), Some(service.clone()))
        }
        TrackKind::DataMigration => ("data_migration".into(), None),
        TrackKind::UserAdoption => ("user_adoption".into(), None),
    }
}

/// The tenant's today, in its zone (due dates are civil dates).
fn today_for(org: &Organization, now: Timestamp) -> Date {
    jiff::tz::TimeZone::get(&org.time_zone)
        .map(|tz| now.to_zoned_datetime(tz).date())
        .unwrap_or_else(|_| now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
}

pub(crate) async fn engagement_doc(
    state: &AppState,
    s: StoredEngagement,
    today: Date,
) -> ApiResult<EngagementDoc> {
    let mut comments: BTreeMap<String, Vec<CommentDoc>> = BTreeMap::new();
    for c in state.store.task_comments(&s.row.id).await? {
        comments
            .entry(c.task_key.clone())
            .or_default()
            .push(CommentDoc {
                id: c.id,
                task: c.task_key,
                author_id: c.author_id,
                body: c.body,
                created_at: ts(c.created_at),
            });
    }
    let e = &s.engagement;
    let tracks = e
        .tracks
        .iter()
        .map(|tr| {
            let (kind, service) = track_kind_parts(&tr.kind);
            TrackDoc {
                kind,
                service,
                name: tr.name.clone(),
                tasks: tr
                    .tasks
                    .iter()
                    .map(|t| TaskDoc {
                        key: t.key.clone(),
                        title: t.title.clone(),
                        phase: t.phase.as_str().into(),
                        owner: t.owner.as_str().into(),
                        kind: t.kind.as_str().into(),
                        state: t.state.as_str().into(),
                        guidance: t.guidance.clone(),
                        links: t
                            .links
                            .iter()
                            .map(|l| LinkDoc {
                                title: l.title.clone(),
                                url: l.url.clone(),
                            })
                            .collect(),
                        depends_on: t.depends_on.clone(),
                        blocked_by: if t.state.is_settled() {
                            Vec::new()
                        } else {
                            e.blockers(&t.key)
                        },
                        starts_on: t.starts_on.to_string(),
                        due_on: t.due_on.to_string(),
                        overdue: !t.state.is_settled() && t.due_on < today,
                        chosen_option: t.chosen_option.clone(),
                        done_by: t.done_by.clone(),
                        done_by_role: t.done_by_role.map(|r| r.as_str().to_string()),
                        done_at: t.done_at.map(|d| d.to_string()),
                        comments: comments.remove(&t.key).unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    let deviations = e
        .deviations
        .iter()
        .map(|d| DeviationDoc {
            task: d.task.clone(),
            kind: d.kind.as_str().into(),
            by: d.by.clone(),
            by_role: d.by_role.as_str().into(),
            reason: d.reason.clone(),
            at: d.at.to_string(),
            detail: serde_json::to_value(&d.kind).unwrap_or(Value::Null),
        })
        .collect();
    Ok(EngagementDoc {
        summary: EngagementSummary::from_row(&s.row),
        timeline_url: format!("/engagements/{}/timeline.svg", s.row.id),
        request_ids: s.request_ids.clone(),
        tracks,
        deviations,
        risks: serde_json::to_value(e.risks()).unwrap_or(Value::Null),
        progress: serde_json::to_value(e.progress()).unwrap_or(Value::Null),
    })
}

/// R1: whether the tenant has a current subscription now.
pub(crate) async fn subscription_current(
    state: &AppState,
    org_id: &str,
    now: Timestamp,
) -> ApiResult<bool> {
    let subs = state
        .store
        .subscription_facts(org_id)
        .await?
        .into_iter()
        .map(|s| {
            let at =
                |x: i64| Timestamp::from_second(x).map_err(|e| ApiError::Internal(e.to_string()));
            Ok(SubscriptionFacts {
                plan: s.plan_id,
                paid: s.paid,
                plan_eligible: s.eligible,
                seats: s.seats,
                state: SubscriptionState::parse(&s.state).map_err(ApiError::Internal)?,
                starts_at: at(s.starts_at)?,
                ends_at: s.ends_at.map(at).transpose()?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(has_current_subscription(&subs, now))
}

/// R1: pauses an open engagement whose tenant's subscription is no longer current, and resumes it
/// once it is again; computed on every read and persisted (audited) when it changes. Nothing is deleted.
pub(crate) async fn sync_pause(
    state: &AppState,
    s: StoredEngagement,
) -> ApiResult<StoredEngagement> {
    if s.row.state == "completed" {
        return Ok(s);
    }
    let now = state.clock.now();
    let current = subscription_current(state, &s.row.org_id, now).await?;
    let paused = s.row.state == "paused";
    if current != paused {
        return Ok(s);
    }
    let ctx = AuditCtx {
        at: now.as_second(),
        ..AuditCtx::default()
    };
    state
        .store
        .set_engagement_pause(&s.row, !current, &ctx)
        .await?;
    Ok(state.store.get_engagement(&s.row.id).await?)
}

/// Loads an engagement the caller may `action`, with its tenant and grant, its pause brought up to date.
pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(StoredEngagement, Organization, Grant)> {
    let s = state.store.get_engagement(id).await?;
    let org = state.store.get_org(&s.row.org_id).await?;
    // Read first, so that a tenant the caller may not see is 404 whatever the action.
    let mut grant = authorize_org(
        state,
        caller,
        Action::Read,
        Resource::Engagement,
        &org,
        None,
    )
    .await?;
    if action != Action::Read {
        grant = authorize_org(state, caller, action, Resource::Engagement, &org, None).await?;
    }
    let s = sync_pause(state, s).await?;
    Ok((s, org, grant))
}

/// The R6 view of the caller: a partner here already holds `own_tenant_tasks` (the policy asks for it).
pub(crate) async fn task_actor(
    state: &AppState,
    caller: &Caller,
    org: &Organization,
) -> ApiResult<TaskActor> {
    let may_own = if caller.role() == Role::PartnerUser {
        partner_link(state, &caller.user.org_id, &org.id)
            .await?
            .is_some_and(|l| {
                l.allows(
                    fasttrack_core::rules::relationship::ScopeAction::OwnTenantTasks,
                    None,
                    state.clock.now(),
                )
            })
    } else {
        false
    };
    Ok(TaskActor::new(
        caller.user.id.clone(),
        caller.role(),
        may_own,
    ))
}

/// How often opening or extending an engagement is tried when concurrent changes keep winning.
const ENGAGEMENT_ATTEMPTS: u32 = 12;

/// R3, R4: opens the tenant's engagement for an accepted request, or extends its open one, from the
/// programme's template set (seeded with the recommended plan when none is stored). Idempotent per request.
pub async fn open_or_extend_for_request(
    state: &AppState,
    request: &Request,
    caller: &Caller,
) -> ApiResult<StoredEngagement> {
    if let Some(id) = state.store.engagement_of_request(&request.id).await? {
        return Ok(state.store.get_engagement(&id).await?);
    }
    let org = state.store.get_org(&request.org_id).await?;
    let grant = authorize_org(
        state,
        caller,
        Action::Update,
        Resource::Engagement,
        &org,
        None,
    )
    .await?;
    let templates = state
        .store
        .template_set_or(TemplateSet::recommended())
        .await?;
    let kinds: Vec<HelpKind> = serde_json::from_str(&request.kinds)
        .map_err(|e| ApiError::Internal(format!("request {} kinds: {e}", request.id)))?;
    let services: Vec<String> = serde_json::from_str(&request.services)
        .map_err(|e| ApiError::Internal(format!("request {} services: {e}", request.id)))?;
    let service_refs: Vec<&str> = services.iter().map(String::as_str).collect();
    let now = state.clock.now();
    let today = today_for(&org, now);
    let plan = plan_from(&templates, &kinds, &service_refs, today)?;
    let current = subscription_current(state, &org.id, now).await?;
    let ctx = audit_ctx(state, caller, &grant);
    // Concurrent accepts for the same tenant race for its one open engagement (an optimistic
    // version): the loser reads it again and retries, after a short, growing, jittered pause.
    for attempt in 0..ENGAGEMENT_ATTEMPTS {
        if attempt > 0 {
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 20;
            tokio::time::sleep(std::time::Duration::from_millis(
                5 * u64::from(attempt) + jitter,
            ))
            .await;
            if let Some(id) = state.store.engagement_of_request(&request.id).await? {
                return Ok(state.store.get_engagement(&id).await?);
            }
        }
        let existing = state.store.open_engagement_of(&org.id).await?;
        let (id, expected, mut engagement, stored_deviations, action, row_state, paused_at) =
            match existing {
                Some(s) => (
                    s.row.id.clone(),
                    Some(s.row.version),
                    s.engagement.clone(),
                    s.engagement.deviations.len(),
                    "engagement.extend",
                    s.row.state.clone(),
                    s.row.paused_at,
                ),
                None => (
                    fasttrack_store::new_id(),
                    None,
                    Engagement::new(plan.clone()),
                    0,
                    "engagement.open",
                    if current { "active" } else { "paused" }.to_string(),
                    (!current).then_some(now.as_second()),
                ),
            };
        if expected.is_some() {
            engagement.extend(plan.clone());
        }
        let tracks: Vec<String> = engagement.tracks.iter().map(|t| t.name.clone()).collect();
        let w = EngagementWrite {
            id: &id,
            org_id: &org.id,
            expected_version: expected,
            engagement: &engagement,
            state: &row_state,
            paused_at,
            request_id: Some(&request.id),
            stored_deviations,
            action,
            changes: json!({"request_id": request.id, "tracks": tracks, "start_day": engagement.start.to_string()}),
        };
        match state.store.save_engagement(&w, &ctx).await {
            Ok(s) => return Ok(s),
            Err(fasttrack_store::StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict {
        field: "engagement".into(),
        message: "the tenant's engagement changed meanwhile; try again".into(),
    })
}

/// Filters for the engagement list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EngagementQuery {
    pub org_id: Option<String>,
    /// `active`, `paused` or `completed`.
    pub state: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// Engagements: all for staff, the tenant's own for customers, live customers' for partners (R9).
#[utoipa::path(get, path = "/api/v1/engagements", tag = "engagements", params(EngagementQuery),
    responses((status = 200, body = EngagementPage), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn list_engagements(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EngagementQuery>,
) -> ApiResult<Json<EngagementPage>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Engagement)?;
    if let Some(s) = &q.state {
        if !["active", "paused", "completed"].contains(&s.as_str()) {
            return Err(Invalid::one("state", "one of: active, paused, completed").into());
        }
    }
    let mut f = EngagementFilter {
        org_id: q.org_id,
        state: q.state,
        partner: None,
    };
    match caller.role() {
        r if r.is_programme() => {}
        Role::PartnerUser => f.partner = Some((caller.user.org_id.clone(), state.clock.now_secs())),
        _ => {
            if f.org_id.as_ref().is_some_and(|o| *o != caller.user.org_id) {
                return Err(ApiError::NotFound);
            }
            f.org_id = Some(caller.user.org_id.clone());
        }
    }
    let p = state
        .store
        .list_engagements(&f, &page(q.after, q.limit)?)
        .await?;
    // R1: a listed engagement shows its pause as of now, like the single view.
    let mut items = Vec::with_capacity(p.items.len());
    for row in p.items {
        let shown = if row.state == "completed" {
            row
        } else {
            let s = state.store.get_engagement(&row.id).await?;
            sync_pause(&state, s).await?.row
        };
        if f.state.as_ref().is_none_or(|s| *s == shown.state) {
            items.push(EngagementSummary::from_row(&shown));
        }
    }
    Ok(Json(EngagementPage {
        items,
        next: p.next,
    }))
}

/// One engagement: tracks, phases, tasks (owner side, kind, state, due dates, guidance), deviations,
/// risks and progress per track and phase.
#[utoipa::path(get, path = "/api/v1/engagements/{id}", tag = "engagements", params(("id" = String, Path)),
    responses((status = 200, body = EngagementDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_engagement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EngagementDoc>> {
    let (s, org, _) = load(&state, &caller, &id, Action::Read).await?;
    let today = today_for(&org, state.clock.now());
    Ok(Json(engagement_doc(&state, s, today).await?))
}

/// Staff open (or extend) the tenant's engagement for an accepted request explicitly.
#[utoipa::path(post, path = "/api/v1/requests/{id}/engagement", tag = "engagements", params(("id" = String, Path)),
    responses((status = 200, body = EngagementDoc), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn open_for_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EngagementDoc>> {
    let r = state.store.get_request(&id).await?;
    let org = state.store.get_org(&r.org_id).await?;
    authorize_org(&state, &caller, Action::Read, Resource::Request, &org, None).await?;
    if !caller.role().is_programme() {
        return Err(ApiError::Forbidden(
            "programme staff open engagements when they accept a request".into(),
        ));
    }
    if !["accepted", "scheduled", "in_progress"].contains(&r.state.as_str()) {
        return Err(ApiError::IllegalTransition(format!(
            "the request is {}; an engagement opens once it is accepted",
            r.state
        )));
    }
    let s = open_or_extend_for_request(&state, &r, &caller).await?;
    let s = sync_pause(&state, s).await?;
    let today = today_for(&org, state.clock.now());
    Ok(Json(engagement_doc(&state, s, today).await?))
}

/// Why a task was skipped or done out of order (R7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// A comment on a task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
}

/// Written guidance for a task (staff).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceBody {
    pub text: String,
    #[serde(default)]
    pub links: Vec<LinkDoc>,
}

/// Turns a refused task operation into the API's error; R6 refusals are audited first, in a
/// transaction of their own, so an attempt to act on the customer's behalf leaves a trace.
pub(crate) async fn refused(
    state: &AppState,
    ctx: &AuditCtx,
    s: &StoredEngagement,
    key: &str,
    op: &str,
    err: TaskError,
) -> ApiError {
    match err {
        TaskError::UnknownTask(_) => ApiError::NotFound,
        TaskError::NotOpen { key, state } => {
            ApiError::IllegalTransition(format!("task '{key}' is already {}", state.as_str()))
        }
        TaskError::Invalid(i) => ApiError::Invalid(i),
        TaskError::Rule(v) => {
            if v.rule == Rule::R6 {
                let audited = state
                    .store
                    .record_audit(
                        ctx,
                        &s.row.org_id,
                        "task.refused",
                        "engagement",
                        &s.row.id,
                        json!({"task": key, "operation": op, "rule": "R6", "reason": v.message}),
                    )
                    .await;
                if let Err(e) = audited {
                    return e.into();
                }
            }
            ApiError::Rule(v)
        }
    }
}

/// Runs a task operation on the engagement and persists it, or reports (and for R6 audits) the refusal.
pub(crate) async fn task_op(
    state: &AppState,
    caller: &Caller,
    id: &str,
    key: &str,
    action: Action,
    op: &str,
    f: impl FnOnce(&mut Engagement, &TaskActor, Timestamp) -> Result<Value, TaskError>,
) -> ApiResult<Json<EngagementDoc>> {
    let (s, org, grant) = load(state, caller, id, action).await?;
    let actor = task_actor(state, caller, &org).await?;
    let ctx = audit_ctx(state, caller, &grant);
    let now = state.clock.now();
    let mut e = s.engagement.clone();
    e.paused = s.row.state == "paused";
    let changes = match f(&mut e, &actor, now) {
        Ok(c) => c,
        Err(err) => return Err(refused(state, &ctx, &s, key, op, err).await),
    };
    let settled = e
        .tracks
        .iter()
        .flat_map(|t| t.tasks.iter())
        .all(|t| t.state.is_settled());
    let row_state = if settled {
        "completed"
    } else {
        s.row.state.as_str()
    };
    let w = EngagementWrite {
        id: &s.row.id,
        org_id: &s.row.org_id,
        expected_version: Some(s.row.version),
        engagement: &e,
        state: row_state,
        paused_at: s.row.paused_at,
        request_id: None,
        stored_deviations: s.engagement.deviations.len(),
        action: op,
        changes,
    };
    let saved = state.store.save_engagement(&w, &ctx).await?;
    let today = today_for(&org, now);
    Ok(Json(engagement_doc(state, saved, today).await?))
}

/// R1, R5, R6: marks a task done, in the recommended order, by a side allowed to.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/tasks/{task}/complete", tag = "engagements",
    params(("id" = String, Path), ("task" = String, Path)),
    responses((status = 200, body = EngagementDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn complete_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(String, String)>,
) -> ApiResult<Json<EngagementDoc>> {
    let key = task.clone();
    task_op(
        &state,
        &caller,
        &id,
        &task,
        Action::Update,
        "task.complete",
        move |e, a, now| {
            e.complete_task(a, &key, now)?;
            Ok(json!({"task": key}))
        },
    )
    .await
}

/// R7: the customer (or its partner) does a task ahead of the recommended order; the deviation is recorded.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/tasks/{task}/complete-out-of-order", tag = "engagements",
    params(("id" = String, Path), ("task" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = EngagementDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn complete_out_of_order(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<EngagementDoc>> {
    let key = task.clone();
    task_op(&state, &caller, &id, &task, Action::Update, "task.complete_out_of_order", move |e, a, now| {
        let d = e.complete_out_of_order(a, &key, &body.reason, now)?;
        Ok(json!({"task": key, "deviation": d.map(|d| json!({"kind": d.kind.as_str(), "reason": d.reason}))}))
    })
    .await
}

/// R7: the customer (or its partner) skips a recommended task, with a reason; recorded as a deviation.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/tasks/{task}/skip", tag = "engagements",
    params(("id" = String, Path), ("task" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = EngagementDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn skip_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<EngagementDoc>> {
    let key = task.clone();
    task_op(
        &state,
        &caller,
        &id,
        &task,
        Action::Update,
        "task.skip",
        move |e, a, now| {
            let d = e.skip_task(a, &key, &body.reason, now)?;
            Ok(json!({"task": key, "deviation": {"kind": d.kind.as_str(), "reason": d.reason}}))
        },
    )
    .await
}

/// R6: anyone who sees the engagement comments on a task (staff included); nothing in the tenant changes.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/tasks/{task}/comments", tag = "engagements",
    params(("id" = String, Path), ("task" = String, Path)), request_body = CommentBody,
    responses((status = 201, body = CommentDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn comment_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommentBody>,
) -> ApiResult<(StatusCode, Json<CommentDoc>)> {
    let text = text(&body.body, 5000, true).map_err(|m| Invalid::one("body", m))?;
    let (s, org, grant) = load(&state, &caller, &id, Action::Read).await?;
    let t = s.engagement.task(&task).ok_or(ApiError::NotFound)?;
    let actor = task_actor(&state, &caller, &org).await?;
    advisory::ensure_may_comment(&actor, t)?;
    let c = state
        .store
        .add_task_comment(&s.row, &task, &text, &audit_ctx(&state, &caller, &grant))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentDoc {
            id: c.id,
            task: c.task_key,
            author_id: c.author_id,
            body: c.body,
            created_at: ts(c.created_at),
        }),
    ))
}

/// R6: programme staff attach written guidance (text and links) to a task.
#[utoipa::path(post, path = "/api/v1/engagements/{id}/tasks/{task}/guidance", tag = "engagements",
    params(("id" = String, Path), ("task" = String, Path)), request_body = GuidanceBody,
    responses((status = 200, body = EngagementDoc), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn attach_guidance(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<GuidanceBody>,
) -> ApiResult<Json<EngagementDoc>> {
    let guidance = text(&body.text, 10_000, true).map_err(|m| Invalid::one("text", m))?;
    let mut links = Vec::new();
    let mut errs = fasttrack_core::error::Errors::new();
    for (i, l) in body.links.iter().enumerate() {
        if l.title.trim().is_empty() {
            errs.add(format!("links[{i}].title"), "a link needs a title");
        }
        let url = l.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
            errs.add(
                format!("links[{i}].url"),
                "an http(s) URL of at most 2000 characters",
            );
        }
        links.push(GuidanceLink {
            title: l.title.trim().to_string(),
            url: url.to_string(),
        });
    }
    errs.finish()?;
    let key = task.clone();
    // Guidance is not a change of the tenant: whoever may read the engagement reaches R6, which admits staff only.
    task_op(
        &state,
        &caller,
        &id,
        &task,
        Action::Read,
        "task.guidance",
        move |e, a, _| {
            let t = e
                .tracks
                .iter_mut()
                .flat_map(|t| t.tasks.iter_mut())
                .find(|t| t.key == key)
                .ok_or_else(|| TaskError::UnknownTask(key.clone()))?;
            advisory::ensure_may_attach_guidance(a, t)?;
            t.guidance = guidance;
            t.links = links;
            Ok(json!({"task": key, "guidance": t.guidance, "links": t.links.len()}))
        },
    )
    .await
}

/// The engagement's timeline (SVG, Gantt-like): tracks as lanes, phases as bars, today, overdue tasks, meetings.
#[utoipa::path(get, path = "/api/v1/engagements/{id}/timeline.svg", tag = "engagements", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn timeline_svg(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (s, org, _) = load(&state, &caller, &id, Action::Read).await?;
    let now = state.clock.now();
    let tz = jiff::tz::TimeZone::get(&org.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let meetings = state
        .store
        .engagement_meetings(&s.row.id)
        .await?
        .into_iter()
        .filter_map(|m| {
            let at = Timestamp::from_second(m.starts_at).ok()?;
            Some(TimelineMeeting {
                day: at.to_zoned_datetime(tz.clone()).date(),
                label: format!("{} ({})", m.purpose, m.state),
            })
        })
        .collect::<Vec<_>>();
    let title = format!("{} — engagement {}", org.name, s.row.state);
    let svg = timeline::render(&title, &s.engagement, today_for(&org, now), &meetings);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            // The SVG is standalone; no scripts or remote content in it.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// Demand against capacity for one spoken language.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageLoad {
    /// The spoken language (R11: both Chinese scripts count as Mandarin).
    pub language: String,
    /// Open requests in this language.
    pub demand: i64,
    /// Active staff who speak it.
    pub staff: i64,
    /// Their weekly capacity summed.
    pub weekly_capacity: i64,
}

/// An open task past its due day.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueDoc {
    pub engagement_id: String,
    pub org_id: String,
    pub task: String,
    pub title: String,
    pub owner: String,
    pub due_on: String,
}

/// Overdue tasks: how many, and the oldest of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueSummary {
    pub count: i64,
    pub items: Vec<OverdueDoc>,
}

/// The programme dashboard's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub requests_by_state: BTreeMap<String, i64>,
    pub requests_by_language: BTreeMap<String, i64>,
    /// By the tenant's region id (`""` for tenants without one).
    pub requests_by_region: BTreeMap<String, i64>,
    /// Median hours from a request to its first meeting; null while no request has a meeting.
    pub median_hours_to_first_meeting: Option<f64>,
    /// Open engagements by current phase (the earliest phase with open tasks).
    pub engagements_by_phase: BTreeMap<String, i64>,
    pub overdue_tasks: OverdueSummary,
    pub languages: Vec<LanguageLoad>,
    /// R15: open requests with a breached clock.
    pub sla_breached: i64,
    /// R15: open requests with a clock near breach (and none breached).
    pub sla_near_breach: i64,
}

fn counts(rows: Vec<fasttrack_store::KeyCount>) -> BTreeMap<String, i64> {
    rows.into_iter().map(|r| (r.key, r.count)).collect()
}

fn spoken_name(tag: &str) -> String {
    Language::parse(tag)
        .map(|l| l.spoken().as_str().to_string())
        .or_else(|_| SpokenLanguage::parse(tag).map(|l| l.as_str().to_string()))
        .unwrap_or_else(|_| tag.to_string())
}

/// The programme dashboard (staff): requests by state, language and region; median time to the first
/// meeting; engagements by phase; overdue tasks; demand per language against staff capacity.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "engagements",
    responses((status = 200, body = Dashboard), (status = 403, body = crate::error::Problem)))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Dashboard>> {
    if !caller.role().is_programme() {
        return Err(ApiError::Forbidden(
            "the dashboard is for programme staff".into(),
        ));
    }
    Ok(Json(dashboard_figures(&state).await?))
}

/// The dashboard's figures, for the API and the page; the caller has checked it is staff.
pub async fn dashboard_figures(state: &AppState) -> ApiResult<Dashboard> {
    let store = &state.store;
    let mut delays = store.first_meeting_delays().await?;
    delays.sort_unstable();
    let median = match delays.len() {
        0 => None,
        n if n % 2 == 1 => Some(delays[n / 2] as f64),
        n => Some((delays[n / 2 - 1] as f64 + delays[n / 2] as f64) / 2.0),
    }
    .map(|secs| (secs / 3600.0 * 100.0).round() / 100.0);
    let mut current: BTreeMap<String, Option<Phase>> = BTreeMap::new();
    for (engagement, phase, task_state) in store.open_engagement_task_phases().await? {
        let entry = current.entry(engagement).or_insert(None);
        if task_state == "open" {
            let p: Option<Phase> = serde_json::from_value(Value::String(phase)).ok();
            if let Some(p) = p {
                *entry = Some(entry.map_or(p, |c: Phase| c.min(p)));
            }
        }
    }
    let mut by_phase: BTreeMap<String, i64> = Phase::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), 0))
        .collect();
    for p in current.into_values() {
        let name = p.map_or("settled", |p| p.as_str());
        *by_phase.entry(name.to_string()).or_default() += 1;
    }
    let today = state
        .clock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let (overdue_count, overdue) = store.overdue_tasks(&today.to_string(), 50).await?;
    let mut langs: BTreeMap<String, LanguageLoad> = BTreeMap::new();
    let blank = |l: &str| LanguageLoad {
        language: l.to_string(),
        demand: 0,
        staff: 0,
        weekly_capacity: 0,
    };
    for d in store.open_demand_by_language().await? {
        let l = spoken_name(&d.key);
        langs.entry(l.clone()).or_insert_with(|| blank(&l)).demand += d.count;
    }
    for c in store.staff_capacity_by_language().await? {
        let l = spoken_name(&c.language);
        let e = langs.entry(l.clone()).or_insert_with(|| blank(&l));
        e.staff += c.staff;
        e.weekly_capacity += c.weekly_capacity;
    }
    let (mut sla_breached, mut sla_near_breach) = (0, 0);
    for (doc, _) in super::sla::open_clocks(store, state.clock.now(), None).await? {
        if doc.first_response.breached || doc.first_meeting.breached {
            sla_breached += 1;
        } else if doc.first_response.near_breach || doc.first_meeting.near_breach {
            sla_near_breach += 1;
        }
    }
    Ok(Dashboard {
        requests_by_state: counts(store.count_requests_by("state").await?),
        requests_by_language: counts(store.count_requests_by("language").await?),
        requests_by_region: counts(store.count_requests_by("region").await?),
        median_hours_to_first_meeting: median,
        engagements_by_phase: by_phase,
        overdue_tasks: OverdueSummary {
            count: overdue_count,
            items: overdue
                .into_iter()
                .map(|o| OverdueDoc {
                    engagement_id: o.engagement_id,
                    org_id: o.org_id,
                    task: o.task_key,
                    title: o.title,
                    owner: o.owner_side,
                    due_on: o.due_day,
                })
                .collect(),
        },
        languages: langs.into_values().collect(),
        sla_breached,
        sla_near_breach,
    })
}
