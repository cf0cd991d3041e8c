//! Requests for assistance: filing through every channel (R8, R9), the rules of intake (R1, R2,
//! R11, R14), the staff queue and triage, and the requester's answers and withdrawal.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fasttrack_core::policy::{Action, Grant, Resource};
use fasttrack_core::rules::eligibility::{
    EligibilitySettings, SubscriptionFacts, SubscriptionState,
};
use fasttrack_core::rules::engagement::HelpKind;
use fasttrack_core::rules::lifecycle::{self, EventSide, Position, RequestEvent, RequestState};
use fasttrack_core::rules::request::{
    self as intake, Channel, Contact, Filer, MigrationFacts, Refusal,
};
use fasttrack_core::types::text;
use fasttrack_core::{Invalid, Language, Role};
use fasttrack_store::{JobSpec, Organization, Request, RequestFilter, Transition, User};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit_ctx, authorize_org, authorize_programme, page, page_of, ts, ts_opt};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, file_request))
        .routes(routes!(get_request))
        .routes(routes!(accept))
        .routes(routes!(decline))
        .routes(routes!(ask_info))
        .routes(routes!(respond))
        .routes(routes!(withdraw))
}

/// A request for assistance as filed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestCreate {
    /// The tenant; customer admins may omit it (their own).
    pub org_id: Option<String>,
    /// How the request came in; `api` when absent (`partner_portal` for partners).
    pub channel: Option<Channel>,
    #[schema(value_type = Vec<String>)]
    pub kinds: Vec<HelpKind>,
    #[serde(default)]
    pub services: Vec<String>,
    pub contact: Contact,
    /// One of R11's languages (BCP 47).
    pub language: String,
    /// The customer's IANA zone; the tenant's when absent.
    pub time_zone: Option<String>,
    /// Preferred meeting windows, `[start, end)` as RFC 3339 pairs.
    #[serde(default)]
    pub preferred_windows: Vec<[String; 2]>,
    #[serde(default)]
    pub description: String,
    /// Sources, volumes and waves (R14), with the `data_migration` kind.
    #[schema(value_type = Option<Object>)]
    pub migration: Option<MigrationFacts>,
}

/// A request as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDoc {
    pub id: String,
    pub org_id: String,
    pub filed_by: String,
    /// The filer's organization: the tenant itself, or the partner that acted for it (R9).
    pub filed_by_org_id: String,
    pub channel: Channel,
    #[schema(value_type = Vec<String>)]
    pub kinds: Vec<HelpKind>,
    pub services: Vec<String>,
    pub contact: Contact,
    pub language: String,
    pub time_zone: String,
    pub preferred_windows: Vec<[String; 2]>,
    pub description: String,
    #[schema(value_type = Option<Object>)]
    pub migration: Option<serde_json::Value>,
    /// `full` or `guidance_only` (R1: below the migration seat threshold).
    pub migration_level: Option<String>,
    pub state: RequestState,
    pub state_reason: Option<String>,
    /// The team waits for the requester's answer (the R15 clock pauses).
    pub awaiting_requester: bool,
    pub manager_id: Option<String>,
    pub first_response_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The request's history, oldest first (only on a single request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryDoc>>,
}

/// One step of a request's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryDoc {
    pub at: String,
    pub actor_id: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
}

page_of!(RequestPage, RequestDoc);

fn channel_of(s: &str) -> Channel {
    serde_json::from_value(json!(s)).unwrap_or(Channel::Api)
}

impl RequestDoc {
    /// Builds the document from the stored row.
    pub fn from_row(r: Request) -> RequestDoc {
        RequestDoc {
            channel: channel_of(&r.channel),
            kinds: serde_json::from_str(&r.kinds).unwrap_or_default(),
            services: serde_json::from_str(&r.services).unwrap_or_default(),
            contact: serde_json::from_str(&r.contact).unwrap_or(Contact {
                name: String::new(),
                email: String::new(),
                phone: None,
            }),
            preferred_windows: serde_json::from_str(&r.preferred_windows).unwrap_or_default(),
            migration: r
                .migration
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok()),
            state: RequestState::parse(&r.state).unwrap_or(RequestState::Submitted),
            id: r.id,
            org_id: r.org_id,
            filed_by: r.filed_by,
            filed_by_org_id: r.filed_by_org_id,
            language: r.language,
            time_zone: r.time_zone,
            description: r.description,
            migration_level: r.migration_level,
            state_reason: r.state_reason,
            awaiting_requester: r.awaiting_requester,
            manager_id: r.manager_id,
            first_response_at: ts_opt(r.first_response_at),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            history: None,
        }
    }
}

/// A mail job for `template` to `to`, in `language`.
fn mail(
    request_id: &str,
    template: &str,
    to: Vec<String>,
    language: &str,
    vars: serde_json::Value,
    step: &str,
) -> JobSpec {
    JobSpec {
        kind: "mail".into(),
        dedupe_key: format!("{request_id}:{template}:{step}"),
        payload: json!({"template": template, "to": to, "language": language, "vars": vars}),
    }
}

/// Everything the intake rules need about a tenant and the `requested` services, from the store.
pub(crate) async fn tenant_facts(
    state: &AppState,
    org: &Organization,
    now: Timestamp,
    requested: &[String],
) -> ApiResult<(Vec<SubscriptionFacts>, Vec<String>, Vec<String>)> {
    // Independent reads: asked at once, so on PostgreSQL a filing waits for the slowest, not for
    // their sum (on SQLite both are inline reads of microseconds and simply run in turn).
    let (subs, eligible) = tokio::try_join!(
        state.store.subscription_facts(&org.id),
        state.store.eligible_services(&org.id, now.as_second()),
    )?;
    // An eligible service is in the catalogue (plan_services refers to services), so the
    // catalogue is read only to tell an unknown service from one the plans do not cover: one
    // read less on a usual filing (BENCHMARKS.md).
    let known = if requested.iter().all(|s| eligible.contains(s)) {
        requested.to_vec()
    } else {
        state
            .store
            .list_services()
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    let subs = subs
        .into_iter()
        .map(|s| {
            Ok(SubscriptionFacts {
                plan: s.plan_id,
                paid: s.paid,
                plan_eligible: s.eligible,
                seats: s.seats,
                state: SubscriptionState::parse(&s.state).map_err(ApiError::Internal)?,
                starts_at: Timestamp::from_second(s.starts_at)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
                ends_at: s
                    .ends_at
                    .map(Timestamp::from_second)
                    .transpose()
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((subs, eligible, known))
}

/// Files a request for `org` by `filer_user` through `channel`; the one path every way in uses.
pub async fn file(
    state: &AppState,
    org: &Organization,
    filer_user: &User,
    filer: Filer,
    channel: Channel,
    grant: &Grant,
    body: RequestCreate,
) -> ApiResult<Request> {
    if org.kind != "customer" {
        return Err(Invalid::one("org_id", "requests are filed for customer tenants").into());
    }
    let now = state.clock.now();
    let (subs, eligible, known) = tenant_facts(state, org, now, &body.services).await?;
    let draft = intake::Draft {
        kinds: body.kinds,
        services: body.services,
        contact: Some(body.contact),
        language: body.language,
        time_zone: body.time_zone,
        preferred_windows: body
            .preferred_windows
            .into_iter()
            .map(|[a, b]| (a, b))
            .collect(),
        description: body.description,
        migration: body.migration,
    };
    let ctx = intake::Context {
        channel,
        filer,
        tenant_zone: &org.time_zone,
        partner_of_record: org.partner_of_record.as_deref(),
        subscriptions: &subs,
        settings: &EligibilitySettings::default(),
        eligible_services: &eligible,
        known_services: &known,
        now,
    };
    let valid = intake::check(&draft, &ctx).map_err(|r| match r {
        Refusal::Invalid(i) => ApiError::Invalid(i),
        Refusal::Rule(v) => ApiError::Rule(v),
    })?;
    let id = fasttrack_store::new_id();
    let windows: Vec<[String; 2]> = valid
        .preferred_windows
        .iter()
        .map(|(a, b)| [a.to_string(), b.to_string()])
        .collect();
    let row = Request {
        id: id.clone(),
        org_id: org.id.clone(),
        filed_by: filer_user.id.clone(),
        filed_by_org_id: filer_user.org_id.clone(),
        channel: channel.as_str().to_string(),
        kinds: json_text(&valid.kinds),
        services: json_text(&valid.services),
        contact: json_text(&valid.contact),
        language: valid.language.tag().to_string(),
        time_zone: valid.time_zone.as_str().to_string(),
        preferred_windows: json_text(&windows),
        description: valid.description.clone(),
        migration: valid.migration.as_ref().map(json_text),
        migration_level: valid.migration_level.map(|l| {
            serde_json::to_value(l)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        }),
        state: RequestState::Submitted.as_str().to_string(),
        state_reason: None,
        manager_id: None,
        awaiting_requester: false,
        first_response_at: None,
        created_at: now.as_second(),
        updated_at: now.as_second(),
    };
    let lang = valid.language.tag();
    let mut to = vec![valid.contact.email.clone()];
    if filer_user.email != valid.contact.email {
        to.push(filer_user.email.clone());
    }
    let service_names = valid.services.clone();
    let mut mails = vec![mail(
        &id,
        "request_acknowledged",
        to,
        lang,
        json!({"request_id": id, "tenant": org.name, "services": service_names, "channel": channel.as_str()}),
        "filed",
    )];
    let managers = state.store.manager_emails(org.region_id.as_deref()).await?;
    if !managers.is_empty() {
        mails.push(mail(
            &id,
            "request_received_staff",
            managers,
            lang,
            json!({"request_id": id, "tenant": org.name, "language": lang, "services": service_names}),
            "filed",
        ));
    }
    let doc = serde_json::to_value(RequestDoc::from_row(row.clone())).unwrap_or_default();
    mails.extend(super::webhooks::jobs_for(state, &row, "request.submitted", doc).await?);
    Ok(state
        .store
        .create_request(
            &row,
            &mails,
            &audit_ctx(state, &Caller::from_user(filer_user.clone(), None)?, grant),
        )
        .await?)
}

/// JSON text of a value the intake already validated (these types always serialise).
fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// R8/R9: files a request (customer admins for their tenant, partners for a customer within a live
/// relationship's scopes). Refusals name the rule (R1, R2, R8, R9, R11, R17) and the field.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = RequestCreate,
    responses((status = 201, body = RequestDoc), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn file_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RequestCreate>,
) -> ApiResult<(StatusCode, Json<RequestDoc>)> {
    let org_id = match (&body.org_id, caller.role()) {
        (Some(o), _) => o.clone(),
        (None, Role::CustomerAdmin) => caller.user.org_id.clone(),
        (None, _) => return Err(Invalid::one("org_id", "name the customer tenant").into()),
    };
    let org = state.store.get_org(&org_id).await.map_err(|e| match e {
        fasttrack_store::StoreError::NotFound => ApiError::NotFound,
        other => other.into(),
    })?;
    let (filer, default_channel) = match caller.role() {
        Role::CustomerAdmin => (Filer::Customer, Channel::Api),
        Role::PartnerUser => (Filer::Partner, Channel::PartnerPortal),
        _ => (Filer::Programme, Channel::Api),
    };
    let channel = body.channel.unwrap_or(default_channel);
    let allowed = match filer {
        Filer::Customer => matches!(
            channel,
            Channel::Api
                | Channel::SiteQuickAction
                | Channel::SiteDeploymentCard
                | Channel::SiteServicesList
        ),
        Filer::Partner => matches!(channel, Channel::Api | Channel::PartnerPortal),
        Filer::Programme => channel == Channel::Api,
    };
    if !allowed {
        return Err(Invalid::one(
            "channel",
            if channel == Channel::AdminCenterWidget {
                "the admin center widget files through /api/v1/widget/requests with its token"
                    .to_string()
            } else {
                format!(
                    "a {} does not file through {}",
                    caller.role().as_str(),
                    channel.as_str()
                )
            },
        )
        .into());
    }
    // R9: a partner needs a live relationship covering every service of the request.
    let mut grant = authorize_org(
        &state,
        &caller,
        Action::Create,
        Resource::Request,
        &org,
        None,
    )
    .await?;
    for s in &body.services {
        grant = authorize_org(
            &state,
            &caller,
            Action::Create,
            Resource::Request,
            &org,
            Some(s),
        )
        .await?;
    }
    let r = file(&state, &org, &caller.user, filer, channel, &grant, body).await?;
    Ok((StatusCode::CREATED, Json(RequestDoc::from_row(r))))
}

/// Filters for the request list and the staff queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    pub state: Option<RequestState>,
    /// A language tag of R11.
    pub language: Option<String>,
    pub region_id: Option<String>,
    pub service: Option<String>,
    pub org_id: Option<String>,
    /// Only requests older than this many hours.
    pub older_than_hours: Option<i64>,
    /// Only requests younger than this many hours.
    pub newer_than_hours: Option<i64>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// The queue (staff), or the caller's requests (customers: their tenant's; partners: those of
/// their live customers and those they filed).
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(RequestQuery),
    responses((status = 200, body = RequestPage), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> ApiResult<Json<RequestPage>> {
    authorize_programme(&state, &caller, Action::Read, Resource::Request)?;
    let now = state.clock.now_secs();
    let language = match &q.language {
        Some(l) => Some(
            Language::parse(l)
                .map_err(ApiError::Rule)?
                .tag()
                .to_string(),
        ),
        None => None,
    };
    let hours = |h: Option<i64>, field: &str| -> ApiResult<Option<i64>> {
        match h {
            Some(h) if !(0..=24 * 365 * 10).contains(&h) => {
                Err(Invalid::one(field, "between 0 and 87600 hours").into())
            }
            Some(h) => Ok(Some(now - h * 3600)),
            None => Ok(None),
        }
    };
    let mut f = RequestFilter {
        state: q.state.map(|s| s.as_str().to_string()),
        language,
        region_id: q.region_id,
        service: q.service,
        org_id: q.org_id,
        partner: None,
        created_before: hours(q.older_than_hours, "older_than_hours")?,
        created_after: hours(q.newer_than_hours, "newer_than_hours")?,
    };
    match caller.role() {
        r if r.is_programme() => {}
        Role::PartnerUser => f.partner = Some((caller.user.org_id.clone(), now)),
        _ => {
            if f.org_id.as_ref().is_some_and(|o| *o != caller.user.org_id) {
                return Err(ApiError::NotFound);
            }
            f.org_id = Some(caller.user.org_id.clone());
        }
    }
    let p = state
        .store
        .list_requests(&f, &page(q.after, q.limit)?)
        .await?;
    Ok(Json(RequestPage {
        items: p.items.into_iter().map(RequestDoc::from_row).collect(),
        next: p.next,
    }))
}

/// Loads a request the caller may act on (`action`), with its tenant and the grant.
pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(Request, Organization, Grant)> {
    let r = state.store.get_request(id).await?;
    let org = state.store.get_org(&r.org_id).await?;
    // A partner that filed the request keeps seeing it only while the relationship lives (R9).
    let grant = authorize_org(state, caller, action, Resource::Request, &org, None).await?;
    Ok((r, org, grant))
}

/// One request with its history.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", params(("id" = String, Path)),
    responses((status = 200, body = RequestDoc), (status = 404, body = crate::error::Problem)))]
pub(crate) async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestDoc>> {
    let (r, _, _) = load(&state, &caller, &id, Action::Read).await?;
    let history = state
        .store
        .request_events(&r.id)
        .await?
        .into_iter()
        .map(|e| HistoryDoc {
            at: ts(e.at),
            actor_id: e.actor_id,
            from_state: e.from_state,
            to_state: e.to_state,
            note: e.note,
        })
        .collect();
    let mut doc = RequestDoc::from_row(r);
    doc.history = Some(history);
    Ok(Json(doc))
}

/// Applies a lifecycle event and persists it with its mails.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    event: RequestEvent,
    note: Option<String>,
    reason: Option<String>,
    manager_id: Option<String>,
    mail_for: impl FnOnce(&Request, &Organization) -> Vec<JobSpec>,
) -> ApiResult<RequestDoc> {
    let (r, org, grant) = load(state, caller, id, Action::Update).await?;
    let side = if caller.role().is_programme() {
        EventSide::Programme
    } else {
        EventSide::Requester
    };
    let from = RequestState::parse(&r.state).map_err(ApiError::Internal)?;
    let next = lifecycle::apply(
        Position {
            state: from,
            awaiting_requester: r.awaiting_requester,
        },
        event,
        side,
    )
    .map_err(|e| ApiError::IllegalTransition(e.to_string()))?;
    let t = Transition {
        from_state: r.state.clone(),
        from_awaiting: r.awaiting_requester,
        to_state: next.state.as_str().to_string(),
        awaiting_requester: next.awaiting_requester,
        event: event.as_str().to_string(),
        note,
        reason,
        manager_id,
        first_response: side == EventSide::Programme,
    };
    let mut jobs = mail_for(&r, &org);
    let webhook_event = match event {
        RequestEvent::Accept => "request.accepted",
        RequestEvent::Decline => "request.declined",
        RequestEvent::AskInfo => "request.info_requested",
        RequestEvent::Respond => "request.info_provided",
        RequestEvent::Withdraw => "request.withdrawn",
        RequestEvent::Schedule => "request.scheduled",
        RequestEvent::Start => "request.started",
        RequestEvent::Complete => "request.completed",
    };
    let mut after = r.clone();
    after.state = t.to_state.clone();
    after.awaiting_requester = t.awaiting_requester;
    if t.reason.is_some() {
        after.state_reason = t.reason.clone();
    }
    if t.manager_id.is_some() {
        after.manager_id = t.manager_id.clone();
    }
    let doc = serde_json::to_value(RequestDoc::from_row(after)).unwrap_or_default();
    jobs.extend(super::webhooks::jobs_for(state, &r, webhook_event, doc).await?);
    let saved = state
        .store
        .transition_request(&r, &t, &jobs, &audit_ctx(state, caller, &grant))
        .await?;
    Ok(RequestDoc::from_row(saved))
}

fn requester_emails(r: &Request) -> Vec<String> {
    let contact: Option<Contact> = serde_json::from_str(&r.contact).ok();
    contact.map(|c| vec![c.email]).unwrap_or_default()
}

/// Taking up a request: the FastTrack Manager who will own it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// A FastTrack Manager; the caller when they are one and this is absent.
    pub manager_id: Option<String>,
}

/// A reason (declining) or a note (withdrawing).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// A question for the requester, or the requester's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub message: String,
}

/// Staff accept a request, assigning a FastTrack Manager.
#[utoipa::path(post, path = "/api/v1/requests/{id}/accept", tag = "requests", params(("id" = String, Path)), request_body = AcceptBody,
    responses((status = 200, body = RequestDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> ApiResult<Json<RequestDoc>> {
    if !caller.role().is_programme() {
        // Let the lifecycle refuse it (409), after the tenant check (404 for other tenants).
        return Ok(Json(
            change(
                &state,
                &caller,
                &id,
                RequestEvent::Accept,
                None,
                None,
                None,
                |_, _| vec![],
            )
            .await?,
        ));
    }
    let manager_id = match body.manager_id {
        Some(m) => m,
        None if caller.role() == Role::FasttrackManager => caller.user.id.clone(),
        None => {
            return Err(Invalid::one(
                "manager_id",
                "name the FastTrack Manager who owns the request",
            )
            .into())
        }
    };
    let manager = match state.store.get_user(&manager_id).await {
        Ok(u) if u.role == Role::FasttrackManager.as_str() && !u.disabled => u,
        Ok(_) => return Err(Invalid::one("manager_id", "not an active FastTrack Manager").into()),
        Err(fasttrack_store::StoreError::NotFound) => {
            return Err(Invalid::one("manager_id", "no such user").into())
        }
        Err(e) => return Err(e.into()),
    };
    let name = manager.name.clone();
    // An acceptance whose transition committed but whose engagement step did not (the process
    // died in between, or the step lost a race and answered 409) is completed by accepting again.
    let current = state.store.get_request(&id).await?;
    if current.state == RequestState::Accepted.as_str()
        && state.store.engagement_of_request(&id).await?.is_none()
    {
        load(&state, &caller, &id, Action::Update).await?;
        complete_acceptance(&state, &current, &caller).await?;
        return Ok(Json(RequestDoc::from_row(current)));
    }
    let doc = change(
        &state,
        &caller,
        &id,
        RequestEvent::Accept,
        None,
        None,
        Some(manager_id),
        |r, org| {
            vec![mail(
                &r.id,
                "request_accepted",
                requester_emails(r),
                &r.language,
                json!({"request_id": r.id, "tenant": org.name, "manager_name": name}),
                "accepted",
            )]
        },
    )
    .await?;
    let saved = state.store.get_request(&id).await?;
    complete_acceptance(&state, &saved, &caller).await?;
    Ok(Json(doc))
}

/// The steps after an acceptance's transition: R3-R5, the tenant's engagement is opened (or its
/// open one extended) from the template; R10, its first meetings are proposed at once for the
/// customer to confirm. Idempotent: a request already linked to its engagement is left as it is.
async fn complete_acceptance(state: &AppState, saved: &Request, caller: &Caller) -> ApiResult<()> {
    super::engagements::open_or_extend_for_request(state, saved, caller).await?;
    super::plans::propose_after_accept(state, saved, caller).await;
    Ok(())
}

/// Completes the acceptances a crash interrupted: accepted requests not yet linked to an
/// engagement get it (and their meeting plan), acting as the manager the acceptance assigned.
/// Run at start; returns how many were completed.
pub async fn complete_interrupted_acceptances(state: &AppState) -> Result<usize, ApiError> {
    let mut done = 0;
    for id in state.store.accepted_without_engagement().await? {
        let r = state.store.get_request(&id).await?;
        let Some(manager_id) = r.manager_id.clone() else {
            continue;
        };
        let manager = state.store.get_user(&manager_id).await?;
        let caller = Caller::from_user(manager, None)?;
        match complete_acceptance(state, &r, &caller).await {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::warn!(request = %id, error = %e, "could not complete an interrupted acceptance")
            }
        }
    }
    Ok(done)
}

/// Staff decline a request, with a reason the requester reads.
#[utoipa::path(post, path = "/api/v1/requests/{id}/decline", tag = "requests", params(("id" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestDoc), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RequestDoc>> {
    let reason = text(&body.reason, 2000, true).map_err(|m| Invalid::one("reason", m))?;
    let why = reason.clone();
    let doc = change(
        &state,
        &caller,
        &id,
        RequestEvent::Decline,
        None,
        Some(reason),
        None,
        |r, org| {
            vec![mail(
                &r.id,
                "request_declined",
                requester_emails(r),
                &r.language,
                json!({"request_id": r.id, "tenant": org.name, "reason": why}),
                "declined",
            )]
        },
    )
    .await?;
    Ok(Json(doc))
}

/// Staff ask the requester for more information (the R15 clock pauses until they answer).
#[utoipa::path(post, path = "/api/v1/requests/{id}/ask-info", tag = "requests", params(("id" = String, Path)), request_body = MessageBody,
    responses((status = 200, body = RequestDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn ask_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> ApiResult<Json<RequestDoc>> {
    let question = text(&body.message, 2000, true).map_err(|m| Invalid::one("message", m))?;
    let q = question.clone();
    let step = format!("ask-{}", state.clock.now_secs());
    let doc = change(
        &state,
        &caller,
        &id,
        RequestEvent::AskInfo,
        Some(question),
        None,
        None,
        |r, org| {
            vec![mail(
                &r.id,
                "request_info_needed",
                requester_emails(r),
                &r.language,
                json!({"request_id": r.id, "tenant": org.name, "question": q}),
                &step,
            )]
        },
    )
    .await?;
    Ok(Json(doc))
}

/// The requester answers the team's question.
#[utoipa::path(post, path = "/api/v1/requests/{id}/respond", tag = "requests", params(("id" = String, Path)), request_body = MessageBody,
    responses((status = 200, body = RequestDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> ApiResult<Json<RequestDoc>> {
    let answer = text(&body.message, 5000, true).map_err(|m| Invalid::one("message", m))?;
    Ok(Json(
        change(
            &state,
            &caller,
            &id,
            RequestEvent::Respond,
            Some(answer),
            None,
            None,
            |_, _| vec![],
        )
        .await?,
    ))
}

/// The requester withdraws the request.
#[utoipa::path(post, path = "/api/v1/requests/{id}/withdraw", tag = "requests", params(("id" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestDoc), (status = 409, body = crate::error::Problem)))]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RequestDoc>> {
    let reason = text(&body.reason, 2000, false).map_err(|m| Invalid::one("reason", m))?;
    Ok(Json(
        change(
            &state,
            &caller,
            &id,
            RequestEvent::Withdraw,
            Some(reason.clone()),
            Some(reason),
            None,
            |_, _| vec![],
        )
        .await?,
    ))
}
