//! The scheduler's I/O half (R10–R13): reads staff and calendars from the store, asks the core for
//! slots and checks, and books, moves and cancels meetings with their invites and reminders.
//! The API and `fasttrack schedule --backlog` share it, so every path applies the same rules.

use std::collections::{BTreeSet, HashMap};

use fasttrack_core::calendar::{CustomerHours, RegionCalendar, WorkingHours};
use fasttrack_core::rules::eligibility::{
    has_current_subscription, SubscriptionFacts, SubscriptionState,
};
use fasttrack_core::rules::lifecycle::{self, EventSide, Position, RequestEvent, RequestState};
use fasttrack_core::rules::request::Contact;
use fasttrack_core::scheduling::{
    batch, find_slots, find_slots_in, validate_booking, BatchRequest, BatchSettings, SearchLayout,
    Slot, SlotQuery, StaffAvailability, UnplacedReason, DEFAULT_GRID_MINUTES,
};
use fasttrack_core::types::IanaZone;
use fasttrack_core::{Invalid, Language, Rule, RuleViolation, SpokenLanguage};
use fasttrack_store::{
    region_calendar, AuditCtx, JobSpec, Meeting, NewMeeting, Organization, Request, SchedulingData,
    StaffRow, Store, StoreError, TimedJob, Transition,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::ics::{self, Invite, Method, Person};

/// R13: where online meetings are held; a meeting's link is this base and its UID's root.
pub const MEETING_LINK_BASE: &str = "https://meet.fasttrack.example/";

/// The host part of meeting UIDs.
const UID_HOST: &str = "fasttrack.example";

/// How long before a meeting its reminder goes out.
pub const REMINDER_SECONDS: i64 = 24 * 3600;

/// The longest meeting that can be booked, in minutes.
pub const MAX_LENGTH_MINUTES: i64 = 8 * 60;

/// Every staff member who holds meetings, as the core sees them, and who they are.
#[derive(Debug, Clone, Default)]
pub struct Team {
    staff: Vec<StaffAvailability>,
    pub info: HashMap<String, StaffRow>,
    /// Round-robin cursor for equal-load staff.
    pub rotation: u64,
    /// The staff laid out for slot search (see [`SearchLayout`]); any change to them drops it.
    layout: Option<SearchLayout>,
}

impl Team {
    /// Every staff member, as the core sees them.
    pub fn staff(&self) -> &[StaffAvailability] {
        &self.staff
    }

    /// The availability of one staff member.
    pub fn member(&self, id: &str) -> Option<&StaffAvailability> {
        self.staff.iter().find(|s| s.staff_id == id)
    }

    /// One staff member, to change: the layout no longer holds.
    pub(crate) fn member_mut(&mut self, id: &str) -> Option<&mut StaffAvailability> {
        self.layout = None;
        self.staff.iter_mut().find(|s| s.staff_id == id)
    }

    /// R10/R11/R12: the slots [`find_slots`] offers for `query`, from the layout when there is one.
    pub fn find_slots(&self, query: &SlotQuery) -> Result<Vec<Slot>, Invalid> {
        match &self.layout {
            Some(layout) => find_slots_in(&self.staff, layout, query),
            None => find_slots(&self.staff, query),
        }
    }
}

/// Converts stored UTC seconds, which the store wrote itself.
pub fn instant(secs: i64) -> ApiResult<Timestamp> {
    Timestamp::from_second(secs).map_err(|e| ApiError::Internal(format!("stored instant: {e}")))
}

/// Reads every staff member with their region calendar, languages, time off and bookings in
/// `[from, to)`; load is the number of meetings they hold in that window.
pub async fn load_team(store: &Store, from: Timestamp, to: Timestamp) -> ApiResult<Team> {
    let (from, to) = (from.as_second(), to.as_second());
    let data = store.scheduling_data(from, to).await?;
    build_team(&data, from, to)
}

/// The team of `data` for the window `[from, to)`: only absences and bookings overlapping it count.
fn build_team(data: &SchedulingData, from: i64, to: i64) -> ApiResult<Team> {
    let overlaps = |&&(_, a, b): &&(String, i64, i64)| b > from && a < to;
    let mut calendars: HashMap<&str, RegionCalendar> = HashMap::new();
    for r in &data.regions {
        calendars.insert(r.id.as_str(), region_calendar(r, &data.holidays)?);
    }
    let mut languages: HashMap<&str, BTreeSet<SpokenLanguage>> = HashMap::new();
    for (user, lang) in &data.languages {
        // A language the core does not know is not one anybody can be booked in.
        if let Ok(l) = SpokenLanguage::parse(lang) {
            languages.entry(user.as_str()).or_default().insert(l);
        }
    }
    let mut time_off: HashMap<&str, Vec<(Timestamp, Timestamp)>> = HashMap::new();
    for (user, a, b) in data.time_off.iter().filter(overlaps) {
        time_off
            .entry(user.as_str())
            .or_default()
            .push((instant(*a)?, instant(*b)?));
    }
    let mut bookings: HashMap<&str, Vec<(Timestamp, Timestamp)>> = HashMap::new();
    for (user, a, b) in data.bookings.iter().filter(overlaps) {
        bookings
            .entry(user.as_str())
            .or_default()
            .push((instant(*a)?, instant(*b)?));
    }
    let mut team = Team {
        rotation: u64::try_from(data.total_bookings).unwrap_or(0),
        ..Team::default()
    };
    for s in &data.staff {
        let Some(calendar) = calendars.get(s.region_id.as_str()) else {
            continue;
        };
        let booked = bookings.remove(s.user_id.as_str()).unwrap_or_default();
        team.staff.push(StaffAvailability {
            staff_id: s.user_id.clone(),
            languages: languages.remove(s.user_id.as_str()).unwrap_or_default(),
            calendar: calendar.clone(),
            time_off: time_off.remove(s.user_id.as_str()).unwrap_or_default(),
            load: u32::try_from(booked.len()).unwrap_or(u32::MAX),
            bookings: booked,
        });
        team.info.insert(s.user_id.clone(), s.clone());
    }
    // Searches served from this team start no earlier than `from` and end before what was read
    // past `to` (see `CachedTeam`).
    let window_end = to.saturating_add(TEAM_LOOKAHEAD_SECONDS);
    team.layout = Some(SearchLayout::new(
        team.staff(),
        instant(from)?,
        instant(window_end)?,
        DEFAULT_GRID_MINUTES,
    ));
    Ok(team)
}

/// How far past a window's end a cached team's data is read, to know how long it stays exact.
const TEAM_LOOKAHEAD_SECONDS: i64 = 86_400;

/// The last team slot search built, kept until the data under it or its window moves (see
/// [`current_team`]). One per server process.
#[derive(Debug, Default)]
pub struct TeamCache {
    /// The last team built. Every search reads it; a lock that queued them (an async mutex did:
    /// each hand-over wakes the next task) made slot search slower at 64 connections than at 16.
    last: std::sync::RwLock<Option<CachedTeam>>,
    /// Held while a team is built: callers that find none usable wait for it and share it.
    building: tokio::sync::Mutex<()>,
}

impl TeamCache {
    /// The cached team, when it is exactly the one for `[from, to)` at `version`.
    fn usable(&self, version: i64, from: i64, to: i64) -> Option<std::sync::Arc<Team>> {
        // A panic while the lock was held leaves a whole value behind (it is only ever replaced).
        let last = self.last.read().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|c| c.serves(version, from, to))
            .map(|c| c.team.clone())
    }
}

/// A built team and the windows `[from, to)` it is exactly the team of.
#[derive(Debug)]
struct CachedTeam {
    /// The store's scheduling version read before the data.
    version: i64,
    /// The window's length: a different horizon is a different team.
    span: i64,
    /// The window it was built for starts at or after this…
    from: i64,
    /// …and before this: the earliest end among the absences and bookings it holds. From
    /// then on one of them drops out of the window.
    from_before: i64,
    /// The window's end may not pass this: the earliest start among those that begin at or after
    /// the window it was built for (or the end of what was read).
    to_until: i64,
    team: std::sync::Arc<Team>,
}

impl CachedTeam {
    /// Whether this is exactly the team [`load_team`] would build for `[from, to)` at `version`.
    fn serves(&self, version: i64, from: i64, to: i64) -> bool {
        self.version == version
            && self.span == to - from
            && from >= self.from
            && from < self.from_before
            && to <= self.to_until
    }
}

/// The team for `[from, to)`, as [`load_team`] builds it, from memory while nothing it is made of
/// has changed: one small read (the scheduling version, moved by triggers in the same commit as
/// any change, from any server process) instead of every staff member's rows. Slot search over
/// thousands of staff is read-mostly; this keeps it from re-reading the whole team on each call.
pub async fn current_team(
    store: &Store,
    cache: &TeamCache,
    from: Timestamp,
    to: Timestamp,
) -> ApiResult<std::sync::Arc<Team>> {
    let (from, to) = (from.as_second(), to.as_second());
    // Read before the data: a change committed in between makes the copy newer than its version,
    // which costs one rebuild, never a stale answer.
    let version = store.scheduling_version().await?;
    if let Some(team) = cache.usable(version, from, to) {
        return Ok(team);
    }
    // One builder at a time: callers arriving during a rebuild wait for it and share it.
    let _building = cache.building.lock().await;
    if let Some(team) = cache.usable(version, from, to) {
        return Ok(team);
    }
    let read_to = to.saturating_add(TEAM_LOOKAHEAD_SECONDS);
    let data = store.scheduling_data(from, read_to).await?;
    let team = std::sync::Arc::new(build_team(&data, from, to)?);
    let held = data.time_off.iter().chain(&data.bookings);
    let from_before = held
        .clone()
        .filter(|&&(_, a, b)| b > from && a < to)
        .map(|&(_, _, b)| b)
        .min()
        .unwrap_or(i64::MAX);
    let to_until = held
        .filter(|&&(_, a, _)| a >= to)
        .map(|&(_, a, _)| a)
        .min()
        .unwrap_or(read_to);
    *cache.last.write().unwrap_or_else(|e| e.into_inner()) = Some(CachedTeam {
        version,
        span: to - from,
        from,
        from_before,
        to_until,
        team: team.clone(),
    });
    Ok(team)
}

/// R10: the customer's working hours: Monday to Friday, 09:00–17:00 in the request's zone.
pub fn customer_hours(r: &Request) -> ApiResult<CustomerHours> {
    let zone = IanaZone::parse(&r.time_zone)
        .map_err(|e| ApiError::Internal(format!("request {}: {e}", r.id)))?;
    // Parsed once: every slot search asks.
    static HOURS: std::sync::OnceLock<Option<WorkingHours>> = std::sync::OnceLock::new();
    let hours = HOURS
        .get_or_init(|| WorkingHours::parse("mon-fri", "09:00-17:00").ok())
        .clone()
        .ok_or_else(|| ApiError::Internal("default customer hours".into()))?;
    Ok(RegionCalendar::new(zone, hours))
}

/// The request's preferred meeting windows.
pub fn preferred_windows(r: &Request) -> Vec<(Timestamp, Timestamp)> {
    let raw: Vec<[String; 2]> = serde_json::from_str(&r.preferred_windows).unwrap_or_default();
    raw.iter()
        .filter_map(|[a, b]| Some((a.parse().ok()?, b.parse().ok()?)))
        .collect()
}

/// R11: the request's language.
pub fn request_language(r: &Request) -> ApiResult<Language> {
    Language::parse(&r.language).map_err(ApiError::Rule)
}

/// R1: refuses to book for a tenant without a current subscription (its engagement is paused).
pub async fn ensure_tenant_current(
    store: &Store,
    org: &Organization,
    now: Timestamp,
) -> ApiResult<()> {
    let subs = store
        .subscription_facts(&org.id)
        .await?
        .into_iter()
        .map(|s| {
            Ok(SubscriptionFacts {
                plan: s.plan_id,
                paid: s.paid,
                plan_eligible: s.eligible,
                seats: s.seats,
                state: SubscriptionState::parse(&s.state).map_err(ApiError::Internal)?,
                starts_at: instant(s.starts_at)?,
                ends_at: s.ends_at.map(instant).transpose()?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    if has_current_subscription(&subs, now) {
        Ok(())
    } else {
        Err(RuleViolation::new(
            Rule::R1,
            format!(
                "{}'s subscription is not active: its engagement is paused and no meeting can be booked until it is active again",
                org.name
            ),
        )
        .on_field("request_id")
        .into())
    }
}

/// The request's contact and filer: who is invited besides the staff member.
async fn attendees(store: &Store, r: &Request) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    if let Ok(c) = serde_json::from_str::<Contact>(&r.contact) {
        out.push(c.email);
    }
    match store.get_user(&r.filed_by).await {
        Ok(u) if !out.contains(&u.email) => out.push(u.email),
        Ok(_) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}

/// What to book: the caller has checked that it may.
#[derive(Debug, Clone)]
pub struct Booking {
    pub staff_id: String,
    pub start: Timestamp,
    pub length_minutes: i64,
    pub purpose: String,
}

/// Checks a meeting length in minutes.
pub fn check_length(field: &str, minutes: i64) -> Result<SignedDuration, Invalid> {
    if !(1..=MAX_LENGTH_MINUTES).contains(&minutes) {
        return Err(Invalid::one(
            field,
            format!("a meeting lasts between 1 and {MAX_LENGTH_MINUTES} minutes"),
        ));
    }
    Ok(SignedDuration::from_mins(minutes))
}

/// R10/R11/R12: every check a booking must pass against the current team, in order: a staff
/// member who holds meetings, the slot grid, no overlap (409), then the core's rules (422).
pub fn check_booking(
    team: &Team,
    r: &Request,
    staff_id: &str,
    start: Timestamp,
    end: Timestamp,
) -> ApiResult<()> {
    let Some(staff) = team.member(staff_id) else {
        return Err(Invalid::one(
            "staff_id",
            "not a staff member who holds meetings (no staff profile, or disabled)",
        )
        .into());
    };
    let local = staff.calendar.tz().to_datetime(start);
    let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
    if local.second() != 0
        || local.subsec_nanosecond() != 0
        || minute % i64::from(DEFAULT_GRID_MINUTES) != 0
    {
        return Err(Invalid::one(
            "start",
            format!(
                "meetings start on the {DEFAULT_GRID_MINUTES}-minute grid of the staff member's region ({})",
                staff.calendar.zone().as_str()
            ),
        )
        .into());
    }
    if staff.bookings.iter().any(|&(a, b)| a < end && start < b) {
        return Err(ApiError::Conflict {
            field: "start".into(),
            message: "the staff member already has a meeting at that time; pick another slot"
                .into(),
        });
    }
    let language = request_language(r)?;
    validate_booking(staff, language, &customer_hours(r)?, start, end)?;
    Ok(())
}

/// The transition booking causes: `accepted → scheduled` by the lifecycle; none for a request
/// already scheduled or under way (a further meeting); refused otherwise.
fn decide_schedule(pos: &(String, bool), note: &str) -> Result<Option<Transition>, StoreError> {
    let refuse = |m: String| StoreError::Conflict {
        field: "request_id".into(),
        message: m,
    };
    let state = RequestState::parse(&pos.0).map_err(StoreError::Corrupt)?;
    if matches!(state, RequestState::Scheduled | RequestState::InProgress) {
        return Ok(None);
    }
    let next = lifecycle::apply(
        Position {
            state,
            awaiting_requester: pos.1,
        },
        RequestEvent::Schedule,
        EventSide::Programme,
    )
    .map_err(|e| refuse(format!("{e}; accept it first")))?;
    Ok(Some(Transition {
        from_state: pos.0.clone(),
        from_awaiting: pos.1,
        to_state: next.state.as_str().to_string(),
        awaiting_requester: next.awaiting_requester,
        event: RequestEvent::Schedule.as_str().to_string(),
        note: Some(note.to_string()),
        reason: None,
        manager_id: None,
        first_response: false,
    }))
}

/// Whether a request in this state may get a meeting (the lifecycle allows scheduling it, or it
/// is already scheduled or under way).
pub fn ensure_schedulable(r: &Request) -> ApiResult<()> {
    decide_schedule(&(r.state.clone(), r.awaiting_requester), "")
        .map(|_| ())
        .map_err(|e| match e {
            StoreError::Conflict { message, .. } => ApiError::IllegalTransition(message),
            other => other.into(),
        })
}

/// A meeting's purpose as `lang` reads it: the plan's own purposes are translated, a purpose
/// staff typed themselves is shown as typed.
pub fn purpose_text(purpose: &str, lang: Language) -> String {
    let key = format!("purpose-{}", purpose.replace(' ', "-"));
    let known = [
        "purpose-kick-off",
        "purpose-success-planning-call",
        "purpose-remediation-checkpoint",
        "purpose-enablement-review",
        "purpose-migration-planning",
    ];
    if known.contains(&key.as_str()) {
        crate::site::i18n::text(lang, &key, &[])
    } else {
        purpose.to_string()
    }
}

/// The invite of a meeting version, as sent and as served, worded in `lang` (R11).
#[allow(clippy::too_many_arguments)]
pub fn invite(
    m: &Meeting,
    method: Method,
    sequence: i64,
    stamp: Timestamp,
    staff: &Person,
    tenant: &str,
    lang: Language,
) -> ApiResult<String> {
    let purpose = purpose_text(&m.purpose, lang);
    let t = |key: &str| {
        crate::site::i18n::text(lang, key, &[("purpose", &purpose), ("tenant", tenant)])
    };
    Ok(ics::render(&Invite {
        method,
        uid: m.uid.clone(),
        sequence,
        stamp,
        start: instant(m.starts_at)?,
        end: instant(m.ends_at)?,
        summary: t("invite-summary"),
        description: format!("{}\n{}", t("invite-description"), t("invite-remote")),
        online_link: m.online_link.clone(),
        organizer: staff.clone(),
        attendees: m
            .attendee_list()
            .into_iter()
            .map(|email| Person { name: None, email })
            .collect(),
    }))
}

/// `t` as RFC 3339 with the offset `tz` has then.
pub fn local_time_in(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.display_with_offset(tz.to_offset(t)).to_string()
}

/// `secs` (UTC) as RFC 3339 in the zone named `zone` (UTC when the name is unknown).
pub fn local_time(secs: i64, zone: &str) -> String {
    let Ok(t) = Timestamp::from_second(secs) else {
        return String::new();
    };
    match jiff::tz::TimeZone::get(zone) {
        Ok(tz) => local_time_in(t, &tz),
        Err(_) => t.to_string(),
    }
}

/// The mail jobs of a meeting version: the invite (or cancellation) with its `.ics`, and the
/// reminder 24 hours before (when that is still ahead).
fn mail_jobs(
    m: &Meeting,
    r: &Request,
    tenant: &str,
    staff: &Person,
    method: Method,
    sequence: i64,
    now: Timestamp,
) -> ApiResult<Vec<TimedJob>> {
    let lang = Language::parse(&r.language).unwrap_or(Language::English);
    let content = invite(m, method, sequence, now, staff, tenant, lang)?;
    let mut to = m.attendee_list();
    if !to.contains(&staff.email) {
        to.push(staff.email.clone());
    }
    let vars = json!({
        "meeting_id": m.id,
        "request_id": r.id,
        "tenant": tenant,
        "purpose": purpose_text(&m.purpose, lang),
        "start_utc": crate::api::ts(m.starts_at),
        "end_utc": crate::api::ts(m.ends_at),
        "start_local": local_time(m.starts_at, &m.time_zone),
        "end_local": local_time(m.ends_at, &m.time_zone),
        "time_zone": m.time_zone,
        "staff_name": staff.name.clone().unwrap_or_default(),
        "online_link": m.online_link,
        "sequence": sequence,
        "cancel_reason": m.cancel_reason,
    });
    let (template, step) = match method {
        Method::Request => ("meeting_invite", "invite"),
        Method::Cancel => ("meeting_cancelled", "cancel"),
    };
    let now_s = now.as_second();
    let mut jobs = vec![TimedJob {
        run_at: now_s,
        job: JobSpec {
            kind: "mail".into(),
            dedupe_key: format!("meeting:{}:{sequence}:{step}", m.uid),
            payload: json!({
                "template": template,
                "to": to,
                "language": r.language,
                "vars": vars,
                "ics": {"method": method.as_str(), "content": content},
            }),
        },
    }];
    let remind_at = m.starts_at - REMINDER_SECONDS;
    if method == Method::Request && remind_at > now_s {
        jobs.push(TimedJob {
            run_at: remind_at,
            job: JobSpec {
                kind: "mail".into(),
                dedupe_key: reminder_key(m, sequence),
                payload: json!({
                    "template": "meeting_reminder",
                    "to": to,
                    "language": r.language,
                    "vars": vars,
                }),
            },
        });
    }
    Ok(jobs)
}

/// The dedupe key of a meeting version's reminder.
fn reminder_key(m: &Meeting, sequence: i64) -> String {
    format!("meeting:{}:{sequence}:reminder", m.uid)
}

/// The organizer of a staff member's meetings.
pub fn organizer(team: &Team, staff_id: &str) -> Person {
    match team.info.get(staff_id) {
        Some(s) => Person {
            name: Some(s.name.clone()),
            email: s.email.clone(),
        },
        None => Person {
            name: None,
            email: format!("fasttrack@{UID_HOST}"),
        },
    }
}

/// A meeting row as it would be stored, for building its invite before it is.
fn draft_meeting(n: &NewMeeting, sequence: i64, now: i64) -> Meeting {
    Meeting {
        id: n.id.clone(),
        uid: n.uid.clone(),
        request_id: Some(n.request_id.clone()),
        engagement_id: None,
        staff_id: n.staff_id.clone(),
        purpose: n.purpose.clone(),
        starts_at: n.starts_at,
        ends_at: n.ends_at,
        state: "booked".into(),
        sequence,
        online_link: n.online_link.clone(),
        replaces_id: None,
        time_zone: n.time_zone.clone(),
        attendees: serde_json::Value::from(n.attendees.clone()).to_string(),
        booked_by: None,
        cancel_reason: None,
        created_at: now,
        updated_at: now,
    }
}

/// Books a meeting for `r` after every check, moving the request to `scheduled` and sending the
/// invite in the same transaction. The caller has authorized it and checked R1.
pub async fn book(
    store: &Store,
    team: &Team,
    r: &Request,
    org: &Organization,
    b: &Booking,
    now: Timestamp,
    ctx: &AuditCtx,
) -> ApiResult<Meeting> {
    ensure_schedulable(r)?;
    let length = check_length("length_minutes", b.length_minutes)?;
    let end = b
        .start
        .checked_add(length)
        .map_err(|_| Invalid::one("start", "out of range"))?;
    if b.start < now {
        return Err(Invalid::one("start", "the meeting must start in the future").into());
    }
    check_booking(team, r, &b.staff_id, b.start, end)?;
    let id = fasttrack_store::new_id();
    let new = NewMeeting {
        uid: format!("{id}@{UID_HOST}"),
        online_link: format!("{MEETING_LINK_BASE}{id}"),
        id,
        request_id: r.id.clone(),
        staff_id: b.staff_id.clone(),
        purpose: b.purpose.clone(),
        starts_at: b.start.as_second(),
        ends_at: end.as_second(),
        time_zone: r.time_zone.clone(),
        attendees: attendees(store, r).await?,
    };
    let staff = organizer(team, &b.staff_id);
    let mut jobs = mail_jobs(
        &draft_meeting(&new, 0, now.as_second()),
        r,
        &org.name,
        &staff,
        Method::Request,
        0,
        now,
    )?;
    if r.state == "accepted" {
        // The first booking moves the request to `scheduled`: its subscribers hear of it.
        let mut after = r.clone();
        after.state = "scheduled".into();
        let doc = serde_json::to_value(crate::api::requests::RequestDoc::from_row(after))
            .unwrap_or_default();
        let hooks = crate::api::webhooks::jobs_at(store, now, r, "request.scheduled", doc).await?;
        jobs.extend(hooks.into_iter().map(|job| TimedJob {
            run_at: now.as_second(),
            job,
        }));
    }
    let note = format!("{} booked for {}", b.purpose, crate::api::ts(new.starts_at));
    Ok(store
        .book_meeting(&new, |pos| decide_schedule(pos, &note), &jobs, ctx)
        .await?)
}

/// Moves a booked meeting to `start` (optionally with another staff member or length): a new
/// version with the same UID and the next SEQUENCE; the old version's reminder is retired.
#[allow(clippy::too_many_arguments)]
pub async fn reschedule(
    store: &Store,
    mut team: Team,
    old: &Meeting,
    r: &Request,
    org: &Organization,
    b: &Booking,
    now: Timestamp,
    ctx: &AuditCtx,
) -> ApiResult<Meeting> {
    if old.state != "booked" {
        return Err(ApiError::IllegalTransition(format!(
            "a meeting that is {} cannot be rescheduled",
            old.state
        )));
    }
    let length = check_length("length_minutes", b.length_minutes)?;
    let end = b
        .start
        .checked_add(length)
        .map_err(|_| Invalid::one("start", "out of range"))?;
    if b.start < now {
        return Err(Invalid::one("start", "the meeting must start in the future").into());
    }
    // The meeting being moved does not stand in its own way.
    let (oa, ob) = (instant(old.starts_at)?, instant(old.ends_at)?);
    if let Some(s) = team.member_mut(&old.staff_id) {
        if let Some(i) = s.bookings.iter().position(|&x| x == (oa, ob)) {
            s.bookings.remove(i);
        }
    }
    check_booking(&team, r, &b.staff_id, b.start, end)?;
    let id = fasttrack_store::new_id();
    let new = NewMeeting {
        id,
        uid: old.uid.clone(),
        request_id: r.id.clone(),
        staff_id: b.staff_id.clone(),
        purpose: b.purpose.clone(),
        starts_at: b.start.as_second(),
        ends_at: end.as_second(),
        online_link: old.online_link.clone(),
        time_zone: old.time_zone.clone(),
        attendees: old.attendee_list(),
    };
    let sequence = old.sequence + 1;
    let staff = organizer(&team, &b.staff_id);
    let jobs = mail_jobs(
        &draft_meeting(&new, sequence, now.as_second()),
        r,
        &org.name,
        &staff,
        Method::Request,
        sequence,
        now,
    )?;
    let retire = vec![reminder_key(old, old.sequence)];
    Ok(store
        .reschedule_meeting(old, &new, &jobs, &retire, ctx)
        .await?)
}

/// Cancels a booked meeting and sends the cancellation (`METHOD:CANCEL`, next SEQUENCE).
#[allow(clippy::too_many_arguments)]
pub async fn cancel(
    store: &Store,
    team: &Team,
    m: &Meeting,
    r: &Request,
    org: &Organization,
    reason: Option<&str>,
    now: Timestamp,
    ctx: &AuditCtx,
) -> ApiResult<Meeting> {
    if m.state != "booked" {
        return Err(ApiError::IllegalTransition(format!(
            "a meeting that is {} cannot be cancelled",
            m.state
        )));
    }
    let sequence = m.sequence + 1;
    let mut cancelled = m.clone();
    cancelled.cancel_reason = reason.map(String::from);
    let staff = organizer(team, &m.staff_id);
    let jobs = mail_jobs(
        &cancelled,
        r,
        &org.name,
        &staff,
        Method::Cancel,
        sequence,
        now,
    )?;
    let retire = vec![reminder_key(m, m.sequence)];
    Ok(store.cancel_meeting(m, reason, &jobs, &retire, ctx).await?)
}

/// Settings of a backlog run.
#[derive(Debug, Clone)]
pub struct BacklogSettings {
    pub length_minutes: i64,
    pub horizon_days: u32,
    pub purpose: String,
    /// At most this many requests are looked at.
    pub limit: i64,
}

impl Default for BacklogSettings {
    fn default() -> Self {
        BacklogSettings {
            length_minutes: 60,
            horizon_days: fasttrack_core::scheduling::DEFAULT_HORIZON_DAYS,
            purpose: "kick-off".into(),
            limit: 100_000,
        }
    }
}

/// A request the backlog run could not give a meeting, and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NotPlaced {
    pub request_id: String,
    /// `no_staff_speaks_language` (R11), `no_slot_in_horizon` (R10/R12), `subscription_inactive`
    /// (R1), `invalid_request` or `conflict`.
    pub reason: String,
    pub message: String,
}

/// What a backlog run did.
#[derive(Debug, Clone, Default)]
pub struct BacklogOutcome {
    pub booked: Vec<Meeting>,
    pub unplaced: Vec<NotPlaced>,
}

/// R10/R11: books the first meeting of every accepted request that has none, fairly across staff
/// (the core's batch), oldest request first; says why each other request got none.
pub async fn schedule_backlog(
    store: &Store,
    settings: &BacklogSettings,
    now: Timestamp,
    ctx: &AuditCtx,
) -> ApiResult<BacklogOutcome> {
    let length = check_length("length_minutes", settings.length_minutes)?;
    let horizon_end = now
        .checked_add(SignedDuration::from_hours(
            24 * (i64::from(settings.horizon_days) + 1),
        ))
        .map_err(|_| Invalid::one("horizon_days", "out of range"))?;
    let mut team = load_team(store, now, horizon_end).await?;
    let mut out = BacklogOutcome::default();
    let mut pending: HashMap<String, (Request, Organization)> = HashMap::new();
    let mut current: HashMap<String, bool> = HashMap::new();
    let mut batch_requests = Vec::new();
    for id in store.scheduling_backlog(settings.limit).await? {
        let r = store.get_request(&id).await?;
        let org = store.get_org(&r.org_id).await?;
        let not_placed = |reason: &str, message: String| NotPlaced {
            request_id: id.clone(),
            reason: reason.into(),
            message,
        };
        let ok = match current.get(&org.id) {
            Some(&ok) => ok,
            None => {
                let ok = match ensure_tenant_current(store, &org, now).await {
                    Ok(()) => true,
                    Err(ApiError::Rule(_)) => false,
                    Err(e) => return Err(e),
                };
                current.insert(org.id.clone(), ok);
                ok
            }
        };
        if !ok {
            out.unplaced.push(not_placed(
                "subscription_inactive",
                format!(
                    "R1: {}'s subscription is not active; its engagement is paused",
                    org.name
                ),
            ));
            continue;
        }
        let (language, customer) = match (request_language(&r), customer_hours(&r)) {
            (Ok(l), Ok(c)) => (l, c),
            (Err(e), _) | (_, Err(e)) => {
                out.unplaced
                    .push(not_placed("invalid_request", e.to_string()));
                continue;
            }
        };
        batch_requests.push(BatchRequest {
            request_id: id.clone(),
            language,
            length,
            customer,
            preferred: preferred_windows(&r),
        });
        pending.insert(id.clone(), (r, org));
    }
    let outcome = batch(
        team.staff(),
        &batch_requests,
        &BatchSettings {
            now,
            horizon_days: settings.horizon_days,
            grid_minutes: DEFAULT_GRID_MINUTES,
            rotation: team.rotation,
        },
    )?;
    for u in outcome.unplaced {
        let (reason, message) = match u.reason {
            UnplacedReason::NoStaffSpeaksLanguage => (
                "no_staff_speaks_language",
                "R11: no staff member speaks the request's language".to_string(),
            ),
            UnplacedReason::NoSlotInHorizon => (
                "no_slot_in_horizon",
                format!(
                    "R10/R12: no staff member who speaks the language has a free slot inside both business hours within {} days",
                    settings.horizon_days
                ),
            ),
            UnplacedReason::InvalidRequest(m) => ("invalid_request", m),
        };
        out.unplaced.push(NotPlaced {
            request_id: u.request_id,
            reason: reason.into(),
            message,
        });
    }
    for a in outcome.assignments {
        let Some((r, org)) = pending.get(&a.request_id) else {
            continue;
        };
        let b = Booking {
            staff_id: a.slot.staff_id.clone(),
            start: a.slot.start,
            length_minutes: settings.length_minutes,
            purpose: settings.purpose.clone(),
        };
        match book(store, &team, r, org, &b, now, ctx).await {
            Ok(m) => {
                if let Some(s) = team.member_mut(&m.staff_id) {
                    s.bookings.push((a.slot.start, a.slot.end));
                    s.load = s.load.saturating_add(1);
                }
                out.booked.push(m);
            }
            Err(e @ (ApiError::Store(_) | ApiError::Internal(_))) => return Err(e),
            Err(e) => out.unplaced.push(NotPlaced {
                request_id: a.request_id.clone(),
                reason: "conflict".into(),
                message: e.to_string(),
            }),
        }
    }
    out.unplaced.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(from: i64, to: i64, from_before: i64, to_until: i64) -> CachedTeam {
        CachedTeam {
            version: 7,
            span: to - from,
            from,
            from_before,
            to_until,
            team: std::sync::Arc::new(Team::default()),
        }
    }

    #[test]
    fn cached_team_serves_only_windows_holding_the_same_absences_and_bookings() {
        // Built for [100, 200); a booking it holds ends at 150; the next one starts at 250.
        let c = cached(100, 200, 150, 250);
        assert!(c.serves(7, 100, 200));
        assert!(c.serves(7, 149, 249));
        // At 150 the booking has ended: it no longer counts.
        assert!(!c.serves(7, 150, 250));
        // A window reaching past 250 would take in the next booking.
        let wide = cached(100, 200, 1_000, 250);
        assert!(wide.serves(7, 150, 250));
        assert!(!wide.serves(7, 151, 251));
        // Earlier windows, other horizons and other versions are other teams.
        assert!(!c.serves(7, 99, 199));
        assert!(!c.serves(7, 100, 201));
        assert!(!c.serves(8, 100, 200));
    }

    /// A team's staff changed in place (a reschedule frees a booking, a plan adds its own) must
    /// not be searched through the layout made before the change.
    #[test]
    fn a_changed_member_is_searched_without_the_layout_made_before() {
        let hours = r#"{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]]}"#;
        let data = SchedulingData {
            staff: vec![StaffRow {
                user_id: "anna".into(),
                name: "Anna".into(),
                email: "anna@fasttrack.example".into(),
                role: "fasttrack_specialist".into(),
                region_id: "europe-west".into(),
                weekly_capacity: 10,
            }],
            languages: vec![("anna".into(), "english".into())],
            regions: vec![fasttrack_store::Region {
                id: "europe-west".into(),
                name: "Western Europe".into(),
                time_zone: "Europe/Rome".into(),
                working_hours: hours.into(),
                created_at: 0,
                updated_at: 0,
            }],
            ..SchedulingData::default()
        };
        let now: Timestamp = "2024-06-03T06:00:00Z".parse().unwrap();
        let to = now.as_second() + 29 * 86_400;
        let mut team = build_team(&data, now.as_second(), to).unwrap();
        let customer = RegionCalendar::new(
            IanaZone::parse("Europe/Rome").unwrap(),
            WorkingHours::parse("mon-fri", "09:00-17:00").unwrap(),
        );
        let mut query = SlotQuery::new(
            Language::English,
            SignedDuration::from_mins(60),
            customer,
            now,
        );
        query.limit = 1;
        let first = team.find_slots(&query).unwrap().remove(0);
        assert_eq!(first.start.to_string(), "2024-06-03T07:00:00Z");
        team.member_mut("anna")
            .unwrap()
            .bookings
            .push((first.start, first.end));
        let next = team.find_slots(&query).unwrap().remove(0);
        assert_eq!(next.start.to_string(), "2024-06-03T08:00:00Z");
    }
}
