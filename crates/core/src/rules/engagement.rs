//! R3–R5 and R7: the recommended plan (tracks, phases, tasks), task completion in order, and deviations.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Errors, Invalid, Rule, RuleViolation};
use crate::role::Role;
use crate::rules::advisory::{self, TaskActor};

/// The service code of the template used for services that have no template of their own.
pub const GENERIC_SERVICE: &str = "*";

/// A kind of help a request asks for (SPEC "Requests").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpKind {
    CoreOnboarding,
    IdentityIntegration,
    ServiceOnboarding,
    DataMigration,
    UserAdoption,
}

impl HelpKind {
    /// Every kind of help.
    pub const ALL: [HelpKind; 5] = [
        HelpKind::CoreOnboarding,
        HelpKind::IdentityIntegration,
        HelpKind::ServiceOnboarding,
        HelpKind::DataMigration,
        HelpKind::UserAdoption,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HelpKind::CoreOnboarding => "core_onboarding",
            HelpKind::IdentityIntegration => "identity_integration",
            HelpKind::ServiceOnboarding => "service_onboarding",
            HelpKind::DataMigration => "data_migration",
            HelpKind::UserAdoption => "user_adoption",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<HelpKind, String> {
        HelpKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown kind of help '{s}'; one of: {}",
                    HelpKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// A track of an engagement (R3, R4): core onboarding, one per service, data migration, user adoption.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrackKind {
    CoreOnboarding,
    ServiceOnboarding { service: String },
    DataMigration,
    UserAdoption,
}

impl TrackKind {
    /// The prefix of the keys of this track's tasks, which keeps keys unique across an engagement.
    pub fn key_prefix(&self) -> String {
        match self {
            TrackKind::CoreOnboarding => "core".into(),
            TrackKind::ServiceOnboarding { service } => format!("service.{service}"),
            TrackKind::DataMigration => "migration".into(),
            TrackKind::UserAdoption => "adoption".into(),
        }
    }

    /// R5: whether this track's tasks of `phase` wait for core onboarding's Enable phase.
    fn gated_on_core(&self, phase: Phase) -> bool {
        matches!(
            self,
            TrackKind::ServiceOnboarding { .. } | TrackKind::DataMigration
        ) && phase >= Phase::Enable
    }
}

/// The phases of the onboarding timeline (R5), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Initiate,
    Assess,
    Remediate,
    Enable,
    Migrate,
}

impl Phase {
    /// Every phase, in timeline order.
    pub const ALL: [Phase; 5] = [
        Phase::Initiate,
        Phase::Assess,
        Phase::Remediate,
        Phase::Enable,
        Phase::Migrate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initiate => "initiate",
            Phase::Assess => "assess",
            Phase::Remediate => "remediate",
            Phase::Enable => "enable",
            Phase::Migrate => "migrate",
        }
    }
}

/// Which side of the engagement owns a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSide {
    Customer,
    Partner,
    Programme,
}

impl OwnerSide {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerSide::Customer => "customer",
            OwnerSide::Partner => "partner",
            OwnerSide::Programme => "programme",
        }
    }
}

/// Whether a task changes the customer's tenant or environment (R6) or is advice and review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Changes the customer's tenant or environment: only the customer or its authorised partner does it.
    TenantChange,
    /// Advice, assessment, a workshop or a review: changes nothing in the tenant.
    Advisory,
}

impl TaskKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::TenantChange => "tenant_change",
            TaskKind::Advisory => "advisory",
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Done,
    Skipped,
}

impl TaskState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Done => "done",
            TaskState::Skipped => "skipped",
        }
    }

    /// Done or skipped: nothing further waits on it.
    pub fn is_settled(self) -> bool {
        self != TaskState::Open
    }
}

/// A link to published guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceLink {
    pub title: String,
    pub url: String,
}

/// The day a task template's offset is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The engagement's start date.
    #[default]
    Start,
    /// The due date of core onboarding's last Enable task (R5: services build on core onboarding).
    CoreEnabled,
}

/// One recommended task of a track template (R7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub key: String,
    pub title: String,
    pub phase: Phase,
    pub owner: OwnerSide,
    pub kind: TaskKind,
    #[serde(default)]
    pub guidance: String,
    #[serde(default)]
    pub links: Vec<GuidanceLink>,
    /// Keys of tasks of the same template that come first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub anchor: Anchor,
    pub offset_days: u32,
    pub duration_days: u32,
    /// Included only when the request asks for this kind of help (identity integration tasks, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_with: Option<HelpKind>,
}

/// The recommended tasks of one track; a service template with service `*` serves every other service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub track: TrackKind,
    /// The track's display name; `{service}` stands for the service's name.
    pub name: String,
    pub tasks: Vec<TaskTemplate>,
}

/// The programme's recommended plan: one template per track kind, exported and imported by admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSet {
    pub version: u32,
    pub templates: Vec<Template>,
}

/// One task of an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Unique within the engagement (`core.add-domains`, `service.mail.mail-flow`).
    pub key: String,
    pub title: String,
    pub phase: Phase,
    pub owner: OwnerSide,
    pub kind: TaskKind,
    pub guidance: String,
    pub links: Vec<GuidanceLink>,
    pub depends_on: Vec<String>,
    pub starts_on: Date,
    pub due_on: Date,
    pub state: TaskState,
    /// A non-recommended option the customer chose for this task (R7), if any.
    pub chosen_option: Option<String>,
    pub done_by: Option<String>,
    pub done_by_role: Option<Role>,
    pub done_at: Option<Timestamp>,
}

/// One track of an engagement, with its tasks in template order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub kind: TrackKind,
    pub name: String,
    pub tasks: Vec<Task>,
}

/// The tracks and dated tasks that a request's kinds of help and services call for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementPlan {
    pub start: Date,
    pub tracks: Vec<Track>,
}

/// How a customer departed from the recommended plan (R7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeviationKind {
    Skipped,
    DoneOutOfOrder { blocked_by: Vec<String> },
    NonRecommendedOption { option: String },
}

impl DeviationKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviationKind::Skipped => "skipped",
            DeviationKind::DoneOutOfOrder { .. } => "done_out_of_order",
            DeviationKind::NonRecommendedOption { .. } => "non_recommended_option",
        }
    }
}

/// A recorded deviation (R7): who, why, on which task, of which kind, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    pub task: String,
    pub kind: DeviationKind,
    pub by: String,
    pub by_role: Role,
    pub reason: String,
    pub at: Timestamp,
}

/// R7: how a deviation may affect the onboarding, for the engagement page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub task: String,
    pub deviation: DeviationKind,
    pub message: String,
    /// Tasks that build on the deviated one.
    pub affected: Vec<String>,
}

/// Done, skipped and total tasks of a track or a phase; skipped tasks are not counted as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Progress {
    pub total: u32,
    pub done: u32,
    pub skipped: u32,
}

impl Progress {
    /// Tasks still open.
    pub fn open(&self) -> u32 {
        self.total - self.done - self.skipped
    }

    fn count(&mut self, state: TaskState) {
        self.total += 1;
        match state {
            TaskState::Done => self.done += 1,
            TaskState::Skipped => self.skipped += 1,
            TaskState::Open => {}
        }
    }
}

/// Progress of one phase of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseProgress {
    pub phase: Phase,
    pub progress: Progress,
}

/// Progress of one track, overall and per phase (only phases the track has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackProgress {
    pub track: TrackKind,
    pub name: String,
    pub overall: Progress,
    pub phases: Vec<PhaseProgress>,
    /// The first phase with open tasks; `None` once every task is settled.
    pub current_phase: Option<Phase>,
}

/// Why a task operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("no task '{0}' in this engagement")]
    UnknownTask(String),
    #[error("task '{key}' is already {}", .state.as_str())]
    NotOpen { key: String, state: TaskState },
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
}

/// An engagement's tasks and deviations as they stand; operations check R1, R5, R6 and R7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    pub start: Date,
    pub tracks: Vec<Track>,
    pub deviations: Vec<Deviation>,
    /// R1: set while the tenant's subscription is not active; nothing can be completed meanwhile.
    pub paused: bool,
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(n) * 24)
}

fn service_display_name(code: &str) -> String {
    match code {
        "mail" => "Mail".into(),
        "files" => "File storage and sharing".into(),
        "chat-meetings" => "Chat and meetings".into(),
        "device-management" => "Device management".into(),
        "identity" => "Identity".into(),
        "office-apps" => "Office apps".into(),
        "sites" => "Team sites and intranet".into(),
        "security" => "Threat protection".into(),
        "compliance" => "Information protection".into(),
        "voice" => "Cloud phone system".into(),
        other => other.into(),
    }
}

impl TemplateSet {
    /// The template for a track kind; services without their own template get the generic one.
    pub fn template_for(&self, track: &TrackKind) -> Option<&Template> {
        self.templates
            .iter()
            .find(|t| &t.track == track)
            .or_else(|| match track {
                TrackKind::ServiceOnboarding { .. } => self.templates.iter().find(|t| {
                    t.track
                        == TrackKind::ServiceOnboarding {
                            service: GENERIC_SERVICE.into(),
                        }
                }),
                _ => None,
            })
    }

    /// R7: checks an imported set: the required templates, unique keys, known dependencies, no cycles.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errs = Errors::new();
        let mut seen = BTreeSet::new();
        for (i, t) in self.templates.iter().enumerate() {
            if !seen.insert(t.track.clone()) {
                errs.add(
                    format!("templates[{i}].track"),
                    "another template already covers this track",
                );
            }
            if let TrackKind::ServiceOnboarding { service } = &t.track {
                if service != GENERIC_SERVICE {
                    errs.take(
                        format!("templates[{i}].track.service").as_str(),
                        crate::types::code(service).map(|_| ()),
                    );
                }
            }
            if t.name.trim().is_empty() {
                errs.add(format!("templates[{i}].name"), "a track needs a name");
            }
            validate_tasks(&mut errs, i, t);
        }
        let generic = TrackKind::ServiceOnboarding {
            service: GENERIC_SERVICE.into(),
        };
        for (needed, label) in [
            (TrackKind::CoreOnboarding, "core onboarding"),
            (TrackKind::UserAdoption, "user adoption"),
            (generic, "generic service onboarding (service '*')"),
        ] {
            if !seen.contains(&needed) {
                errs.add("templates", format!("a {label} template is required"));
            }
        }
        errs.finish()
    }
}

fn validate_tasks(errs: &mut Errors, i: usize, t: &Template) {
    let mut keys = BTreeSet::new();
    for (j, task) in t.tasks.iter().enumerate() {
        let at = format!("templates[{i}].tasks[{j}]");
        errs.take(
            &format!("{at}.key"),
            crate::types::code(&task.key).map(|_| ()),
        );
        if !keys.insert(task.key.as_str()) {
            errs.add(
                format!("{at}.key"),
                format!("the key '{}' is used twice", task.key),
            );
        }
        if task.title.trim().is_empty() {
            errs.add(format!("{at}.title"), "a task needs a title");
        }
        if task.offset_days > 3650 || task.duration_days > 3650 {
            errs.add(
                format!("{at}.offset_days"),
                "offsets and durations are at most 3650 days",
            );
        }
        if t.track == TrackKind::CoreOnboarding && task.anchor == Anchor::CoreEnabled {
            errs.add(
                format!("{at}.anchor"),
                "core onboarding tasks are dated from the engagement's start",
            );
        }
    }
    for (j, task) in t.tasks.iter().enumerate() {
        for d in &task.depends_on {
            if !keys.contains(d.as_str()) {
                errs.add(
                    format!("templates[{i}].tasks[{j}].depends_on"),
                    format!("no task '{d}' in this template"),
                );
            }
        }
    }
    if let Some(key) = find_cycle(&t.tasks) {
        errs.add(
            format!("templates[{i}].tasks"),
            format!("the dependencies of '{key}' form a cycle"),
        );
    }
}

/// A task on a dependency cycle, if there is one (Kahn's algorithm leaves cycle members unsorted).
fn find_cycle(tasks: &[TaskTemplate]) -> Option<String> {
    let mut pending: BTreeMap<&str, BTreeSet<&str>> = tasks
        .iter()
        .map(|t| {
            let deps = t
                .depends_on
                .iter()
                .map(String::as_str)
                .filter(|d| tasks.iter().any(|x| x.key == *d))
                .collect();
            (t.key.as_str(), deps)
        })
        .collect();
    loop {
        let ready: Vec<&str> = pending
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(k, _)| *k)
            .collect();
        if ready.is_empty() {
            return pending.keys().next().map(|k| k.to_string());
        }
        for k in ready {
            pending.remove(k);
            for deps in pending.values_mut() {
                deps.remove(k);
            }
        }
        if pending.is_empty() {
            return None;
        }
    }
}

/// R3, R4, R5: builds the engagement's dated tracks from the programme's recommended plan.
pub fn plan_engagement(kinds: &[HelpKind], services: &[&str], start: Date) -> EngagementPlan {
    build_plan(&TemplateSet::recommended(), kinds, services, start)
}

/// R3, R4, R5: like [`plan_engagement`], from an admin's (imported) template set, checked first.
pub fn plan_from(
    templates: &TemplateSet,
    kinds: &[HelpKind],
    services: &[&str],
    start: Date,
) -> Result<EngagementPlan, Invalid> {
    templates.validate()?;
    Ok(build_plan(templates, kinds, services, start))
}

fn build_plan(
    templates: &TemplateSet,
    kinds: &[HelpKind],
    services: &[&str],
    start: Date,
) -> EngagementPlan {
    let mut tracks = Vec::new();
    // R3: core onboarding is the baseline every request builds on.
    let core = templates
        .template_for(&TrackKind::CoreOnboarding)
        .map(|t| instantiate(t, &TrackKind::CoreOnboarding, "", kinds, start, start));
    let core_enabled = core
        .as_ref()
        .and_then(|t| {
            t.tasks
                .iter()
                .filter(|x| x.phase == Phase::Enable)
                .map(|x| x.due_on)
                .max()
        })
        .unwrap_or(start);
    tracks.extend(core);
    let mut seen = BTreeSet::new();
    for code in services.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !seen.insert(code) {
            continue;
        }
        let kind = TrackKind::ServiceOnboarding {
            service: code.to_string(),
        };
        if let Some(t) = templates.template_for(&kind) {
            tracks.push(instantiate(t, &kind, code, kinds, start, core_enabled));
        }
    }
    if kinds.contains(&HelpKind::DataMigration) {
        if let Some(t) = templates.template_for(&TrackKind::DataMigration) {
            tracks.push(instantiate(
                t,
                &TrackKind::DataMigration,
                "",
                kinds,
                start,
                core_enabled,
            ));
        }
    }
    // R4: adoption runs beside onboarding from day one, whatever else was asked for.
    if let Some(t) = templates.template_for(&TrackKind::UserAdoption) {
        tracks.push(instantiate(
            t,
            &TrackKind::UserAdoption,
            "",
            kinds,
            start,
            core_enabled,
        ));
    }
    EngagementPlan { start, tracks }
}

fn instantiate(
    template: &Template,
    kind: &TrackKind,
    service: &str,
    kinds: &[HelpKind],
    start: Date,
    core_enabled: Date,
) -> Track {
    let prefix = kind.key_prefix();
    let service_name = service_display_name(service);
    let fill = |s: &str| s.replace("{service}", &service_name);
    let included: Vec<&TaskTemplate> = template
        .tasks
        .iter()
        .filter(|t| t.only_with.is_none_or(|k| kinds.contains(&k)))
        .collect();
    let tasks = included
        .iter()
        .map(|t| {
            let anchor = match t.anchor {
                Anchor::Start => start,
                Anchor::CoreEnabled => core_enabled,
            };
            let starts_on = anchor.saturating_add(days(t.offset_days));
            Task {
                key: format!("{prefix}.{}", t.key),
                title: fill(&t.title),
                phase: t.phase,
                owner: t.owner,
                kind: t.kind,
                guidance: fill(&t.guidance),
                links: t.links.clone(),
                // A dependency on a task left out (identity work not requested) is simply dropped.
                depends_on: t
                    .depends_on
                    .iter()
                    .filter(|d| included.iter().any(|x| &x.key == *d))
                    .map(|d| format!("{prefix}.{d}"))
                    .collect(),
                starts_on,
                due_on: starts_on.saturating_add(days(t.duration_days)),
                state: TaskState::Open,
                chosen_option: None,
                done_by: None,
                done_by_role: None,
                done_at: None,
            }
        })
        .collect();
    Track {
        kind: kind.clone(),
        name: fill(&template.name),
        tasks,
    }
}

impl Engagement {
    /// A fresh engagement from a plan: every task open, no deviations, not paused.
    pub fn new(plan: EngagementPlan) -> Self {
        Self {
            start: plan.start,
            tracks: plan.tracks,
            deviations: Vec::new(),
            paused: false,
        }
    }

    /// Adds the tracks and tasks of a later request's plan that the engagement does not have yet.
    pub fn extend(&mut self, plan: EngagementPlan) {
        for track in plan.tracks {
            match self.tracks.iter_mut().find(|t| t.kind == track.kind) {
                Some(existing) => {
                    for task in track.tasks {
                        if !existing.tasks.iter().any(|t| t.key == task.key) {
                            existing.tasks.push(task);
                        }
                    }
                }
                None => self.tracks.push(track),
            }
        }
    }

    /// R1: pauses the engagement while the tenant's subscription is not active.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// R1: resumes the engagement once the subscription is active again.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// The task with `key`.
    pub fn task(&self, key: &str) -> Option<&Task> {
        self.tracks
            .iter()
            .flat_map(|t| t.tasks.iter())
            .find(|t| t.key == key)
    }

    fn locate(&self, key: &str) -> Result<(usize, usize), TaskError> {
        self.tracks
            .iter()
            .enumerate()
            .find_map(|(i, t)| t.tasks.iter().position(|x| x.key == key).map(|j| (i, j)))
            .ok_or_else(|| TaskError::UnknownTask(key.to_string()))
    }

    /// Whether every task of `phase` in the core onboarding track is done or skipped.
    pub fn core_phase_complete(&self, phase: Phase) -> bool {
        self.tracks
            .iter()
            .filter(|t| t.kind == TrackKind::CoreOnboarding)
            .flat_map(|t| t.tasks.iter())
            .filter(|t| t.phase == phase)
            .all(|t| t.state.is_settled())
    }

    /// R5: the open tasks that should be settled before `key`: its dependencies and, for a
    /// service's Enable (or a migration's Migrate) task, core onboarding's Enable phase.
    pub fn blockers(&self, key: &str) -> Vec<String> {
        let Ok((i, j)) = self.locate(key) else {
            return Vec::new();
        };
        let track = &self.tracks[i];
        let task = &track.tasks[j];
        let mut out: Vec<String> = task
            .depends_on
            .iter()
            .filter(|d| self.task(d).is_some_and(|t| !t.state.is_settled()))
            .cloned()
            .collect();
        if track.kind.gated_on_core(task.phase) {
            out.extend(
                self.tracks
                    .iter()
                    .filter(|t| t.kind == TrackKind::CoreOnboarding)
                    .flat_map(|t| t.tasks.iter())
                    .filter(|t| t.phase == Phase::Enable && !t.state.is_settled())
                    .map(|t| t.key.clone()),
            );
        }
        out
    }

    /// R1: refuses any change while the engagement is paused.
    fn ensure_active(&self) -> Result<(), TaskError> {
        if self.paused {
            return Err(RuleViolation::new(
                Rule::R1,
                "the engagement is paused because the tenant's subscription is not active; it resumes when the subscription is active again",
            )
            .on_field("engagement")
            .into());
        }
        Ok(())
    }

    fn ensure_open_and_active(&self, key: &str) -> Result<(usize, usize), TaskError> {
        self.ensure_active()?;
        let (i, j) = self.locate(key)?;
        let task = &self.tracks[i].tasks[j];
        if task.state != TaskState::Open {
            return Err(TaskError::NotOpen {
                key: key.to_string(),
                state: task.state,
            });
        }
        Ok((i, j))
    }

    fn mark_done(&mut self, (i, j): (usize, usize), actor: &TaskActor, now: Timestamp) {
        let task = &mut self.tracks[i].tasks[j];
        task.state = TaskState::Done;
        task.done_by = Some(actor.user_id.clone());
        task.done_by_role = Some(actor.role);
        task.done_at = Some(now);
    }

    fn record(
        &mut self,
        key: &str,
        kind: DeviationKind,
        actor: &TaskActor,
        reason: &str,
        now: Timestamp,
    ) -> Deviation {
        let d = Deviation {
            task: key.to_string(),
            kind,
            by: actor.user_id.clone(),
            by_role: actor.role,
            reason: reason.trim().to_string(),
            at: now,
        };
        self.deviations.push(d.clone());
        d
    }

    /// R1, R5, R6: marks a task done, in the recommended order, by someone allowed to.
    pub fn complete_task(
        &mut self,
        actor: &TaskActor,
        key: &str,
        now: Timestamp,
    ) -> Result<(), TaskError> {
        let at = self.ensure_open_and_active(key)?;
        let task = &self.tracks[at.0].tasks[at.1];
        advisory::ensure_may_complete(actor, task)?;
        let blockers = self.blockers(key);
        if !blockers.is_empty() {
            let core_gate = self.tracks[at.0].kind.gated_on_core(task.phase)
                && !self.core_phase_complete(Phase::Enable);
            let why = if core_gate {
                " (a service builds on core onboarding, whose Enable phase is not complete)"
            } else {
                ""
            };
            return Err(RuleViolation::new(
                Rule::R5,
                format!(
                    "'{}' comes after {}{why}; the customer may do it out of order as a recorded deviation",
                    task.title,
                    blockers.join(", ")
                ),
            )
            .on_field("task")
            .with("task", key)
            .with("blocked_by", blockers.join(","))
            .into());
        }
        self.mark_done(at, actor, now);
        Ok(())
    }

    /// R7: marks a task done ahead of what it waits for, recording the deviation (who, why, when).
    /// Returns `None` when nothing was waiting, in which case it is an ordinary completion.
    pub fn complete_out_of_order(
        &mut self,
        actor: &TaskActor,
        key: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Deviation>, TaskError> {
        let at = self.ensure_open_and_active(key)?;
        let task = &self.tracks[at.0].tasks[at.1];
        advisory::ensure_may_complete(actor, task)?;
        let blocked_by = self.blockers(key);
        if blocked_by.is_empty() {
            self.mark_done(at, actor, now);
            return Ok(None);
        }
        advisory::ensure_may_deviate(actor, task)?;
        require_reason(reason)?;
        self.mark_done(at, actor, now);
        Ok(Some(self.record(
            key,
            DeviationKind::DoneOutOfOrder { blocked_by },
            actor,
            reason,
            now,
        )))
    }

    /// R7: skips a recommended task, recording the deviation; tasks waiting on it are no longer held up.
    pub fn skip_task(
        &mut self,
        actor: &TaskActor,
        key: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Deviation, TaskError> {
        let (i, j) = self.ensure_open_and_active(key)?;
        advisory::ensure_may_deviate(actor, &self.tracks[i].tasks[j])?;
        require_reason(reason)?;
        self.tracks[i].tasks[j].state = TaskState::Skipped;
        Ok(self.record(key, DeviationKind::Skipped, actor, reason, now))
    }

    /// R7: records that the customer chose an option the programme does not recommend for a task.
    pub fn choose_option(
        &mut self,
        actor: &TaskActor,
        key: &str,
        option: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Deviation, TaskError> {
        self.ensure_active()?;
        let (i, j) = self.locate(key)?;
        advisory::ensure_may_deviate(actor, &self.tracks[i].tasks[j])?;
        let option = option.trim();
        let mut errs = Errors::new();
        if option.is_empty() {
            errs.add("option", "name the option chosen");
        }
        if reason.trim().is_empty() {
            errs.add(
                "reason",
                "say why the recommended approach was not followed",
            );
        }
        errs.finish()?;
        self.tracks[i].tasks[j].chosen_option = Some(option.to_string());
        Ok(self.record(
            key,
            DeviationKind::NonRecommendedOption {
                option: option.to_string(),
            },
            actor,
            reason,
            now,
        ))
    }

    /// R6: hands a task to another side; tenant tasks go only to the customer or an authorised partner.
    pub fn reassign(
        &mut self,
        actor: &TaskActor,
        key: &str,
        owner: OwnerSide,
    ) -> Result<(), TaskError> {
        self.ensure_active()?;
        let (i, j) = self.locate(key)?;
        advisory::ensure_may_reassign(actor, &self.tracks[i].tasks[j], owner)?;
        self.tracks[i].tasks[j].owner = owner;
        Ok(())
    }

    /// Progress per track and phase; skipped tasks are counted apart from done ones.
    pub fn progress(&self) -> Vec<TrackProgress> {
        self.tracks
            .iter()
            .map(|track| {
                let mut overall = Progress::default();
                let mut phases: BTreeMap<Phase, Progress> = BTreeMap::new();
                for t in &track.tasks {
                    overall.count(t.state);
                    phases.entry(t.phase).or_default().count(t.state);
                }
                TrackProgress {
                    track: track.kind.clone(),
                    name: track.name.clone(),
                    overall,
                    current_phase: phases.iter().find(|(_, p)| p.open() > 0).map(|(ph, _)| *ph),
                    phases: phases
                        .into_iter()
                        .map(|(phase, progress)| PhaseProgress { phase, progress })
                        .collect(),
                }
            })
            .collect()
    }

    /// R7: every deviation with what it may affect, for the engagement page and the dashboard.
    pub fn risks(&self) -> Vec<Risk> {
        self.deviations
            .iter()
            .map(|d| {
                let affected = self.affected_by(&d.task);
                let title = self
                    .task(&d.task)
                    .map(|t| t.title.as_str())
                    .unwrap_or(&d.task);
                let what = match &d.kind {
                    DeviationKind::Skipped => format!("'{title}' was skipped"),
                    DeviationKind::DoneOutOfOrder { blocked_by } => {
                        format!("'{title}' was done before {}", blocked_by.join(", "))
                    }
                    DeviationKind::NonRecommendedOption { option } => {
                        format!("'{title}' uses the non-recommended option '{option}'")
                    }
                };
                let tail = if affected.is_empty() {
                    String::new()
                } else {
                    format!("; {} later task(s) build on it", affected.len())
                };
                Risk {
                    task: d.task.clone(),
                    deviation: d.kind.clone(),
                    message: format!(
                        "{what} (reason: {}); this may affect the onboarding{tail}",
                        d.reason
                    ),
                    affected,
                }
            })
            .collect()
    }

    /// Tasks that build on `key`: its dependents, transitively, and for a core task every gated task.
    fn affected_by(&self, key: &str) -> Vec<String> {
        let all: Vec<(&Track, &Task)> = self
            .tracks
            .iter()
            .flat_map(|tr| tr.tasks.iter().map(move |t| (tr, t)))
            .collect();
        let mut found: BTreeSet<String> = BTreeSet::new();
        let is_core = all
            .iter()
            .any(|(tr, t)| t.key == key && tr.kind == TrackKind::CoreOnboarding);
        if is_core {
            found.extend(
                all.iter()
                    .filter(|(tr, t)| tr.kind.gated_on_core(t.phase))
                    .map(|(_, t)| t.key.clone()),
            );
        }
        let mut frontier = vec![key.to_string()];
        while let Some(k) = frontier.pop() {
            for (_, t) in &all {
                if t.depends_on.contains(&k) && found.insert(t.key.clone()) {
                    frontier.push(t.key.clone());
                }
            }
        }
        found.remove(key);
        found.into_iter().collect()
    }
}

fn require_reason(reason: &str) -> Result<(), Invalid> {
    if reason.trim().is_empty() {
        Err(Invalid::one(
            "reason",
            "say why the recommended approach was not followed",
        ))
    } else {
        Ok(())
    }
}

const GUIDES: &str = "https://learn.fasttrack.example/guides";

fn link(title: &str, path: &str) -> GuidanceLink {
    GuidanceLink {
        title: title.into(),
        url: format!("{GUIDES}/{path}"),
    }
}

fn step(
    key: &str,
    title: &str,
    phase: Phase,
    owner: OwnerSide,
    kind: TaskKind,
    offset_days: u32,
    duration_days: u32,
) -> TaskTemplate {
    TaskTemplate {
        key: key.into(),
        title: title.into(),
        phase,
        owner,
        kind,
        guidance: String::new(),
        links: Vec::new(),
        depends_on: Vec::new(),
        anchor: Anchor::Start,
        offset_days,
        duration_days,
        only_with: None,
    }
}

/// Short constructors for the recommended plan below: customer change, customer review, programme advice.
fn change(key: &str, title: &str, phase: Phase, offset: u32, duration: u32) -> TaskTemplate {
    step(
        key,
        title,
        phase,
        OwnerSide::Customer,
        TaskKind::TenantChange,
        offset,
        duration,
    )
}

fn review(key: &str, title: &str, phase: Phase, offset: u32, duration: u32) -> TaskTemplate {
    step(
        key,
        title,
        phase,
        OwnerSide::Customer,
        TaskKind::Advisory,
        offset,
        duration,
    )
}

fn advice(key: &str, title: &str, phase: Phase, offset: u32, duration: u32) -> TaskTemplate {
    step(
        key,
        title,
        phase,
        OwnerSide::Programme,
        TaskKind::Advisory,
        offset,
        duration,
    )
}

impl TaskTemplate {
    fn guide(mut self, text: &str, links: Vec<GuidanceLink>) -> Self {
        self.guidance = text.into();
        self.links = links;
        self
    }

    fn after(mut self, deps: &[&str]) -> Self {
        self.depends_on = deps.iter().map(|d| d.to_string()).collect();
        self
    }

    fn dated_from_core_enabled(mut self) -> Self {
        self.anchor = Anchor::CoreEnabled;
        self
    }

    fn only_with(mut self, kind: HelpKind) -> Self {
        self.only_with = Some(kind);
        self
    }
}

fn service(code: &str, name: &str, tasks: Vec<TaskTemplate>) -> Template {
    Template {
        track: TrackKind::ServiceOnboarding {
            service: code.into(),
        },
        name: name.into(),
        tasks,
    }
}

impl TemplateSet {
    /// R7: the programme's recommended plan, shipped as data that admins can export, edit and import.
    pub fn recommended() -> TemplateSet {
        TemplateSet {
            version: 1,
            templates: vec![
                core_template(),
                mail_template(),
                files_template(),
                chat_meetings_template(),
                device_management_template(),
                identity_template(),
                office_apps_template(),
                sites_template(),
                security_template(),
                compliance_template(),
                voice_template(),
                generic_service_template(),
                migration_template(),
                adoption_template(),
            ],
        }
    }
}

/// R3, R5: the tenant's baseline, phase by phase; identity integration only when asked for.
fn core_template() -> Template {
    use Phase::*;
    let id = HelpKind::IdentityIntegration;
    Template {
        track: TrackKind::CoreOnboarding,
        name: "Core onboarding".into(),
        tasks: vec![
            change("link-subscription", "Link the subscription to the tenant", Initiate, 0, 3).guide(
                "Sign in to the admin center as a global administrator and link the purchased subscription to the tenant that will host the services.",
                vec![link("Linking a subscription", "core/link-subscription")],
            ),
            advice("agree-scope", "Agree scope, services and success criteria", Initiate, 0, 5).guide(
                "The FastTrack Manager and the customer agree which services are in scope, who does what, and how success is measured.",
                vec![link("Scoping an engagement", "core/scope")],
            ),
            advice("kick-off", "Hold the kick-off meeting", Initiate, 3, 4)
                .after(&["agree-scope"])
                .guide(
                    "Online meeting with the customer's project team (and partner): roles, timeline, communication plan and next steps.",
                    vec![link("Kick-off agenda", "core/kick-off")],
                ),
            advice("success-planning", "Success-planning call", Assess, 7, 3)
                .after(&["kick-off"])
                .guide(
                    "Walk through the business goals, the scenarios per service and the adoption plan; record risks and owners.",
                    vec![link("Success planning", "core/success-planning")],
                ),
            review("assess-network", "Assess network and bandwidth", Assess, 7, 7).guide(
                "Measure egress bandwidth and latency to the service front doors from each office; list proxies, firewalls and SSL inspection in the path.",
                vec![
                    link("Network connectivity principles", "core/network"),
                    link("Bandwidth planning", "core/bandwidth"),
                ],
            ),
            review("assess-clients", "Assess browsers and client operating systems", Assess, 7, 7).guide(
                "Inventory browsers and client operating system versions against the supported list.",
                vec![link("Supported browsers and systems", "core/clients")],
            ),
            review("assess-dns", "Assess DNS and domains", Assess, 7, 7).guide(
                "List every e-mail and sign-in domain, who hosts its DNS zone, and who can change the records.",
                vec![link("Domains and DNS", "core/dns")],
            ),
            review("assess-infrastructure", "Assess on-premises infrastructure", Assess, 7, 7).guide(
                "Record servers, directories, mail and file systems that the cloud services will coexist with or replace.",
                vec![link("Infrastructure assessment", "core/infrastructure")],
            ),
            review("assess-identity", "Assess the directory and identity provider", Assess, 7, 7)
                .only_with(id)
                .guide(
                    "Record the directory forests and domains, user counts, the identity provider, and the sign-in method wanted (password hash sync, pass-through or federation).",
                    vec![link("Choosing a sign-in method", "identity/sign-in-method")],
                ),
            advice("remediation-plan", "Agree the remediation plan, checklist and timeline", Assess, 14, 5)
                .after(&[
                    "success-planning",
                    "assess-network",
                    "assess-clients",
                    "assess-dns",
                    "assess-infrastructure",
                    "assess-identity",
                ])
                .guide(
                    "Turn the assessment findings into a checklist with an owner and a date for each item.",
                    vec![link("Remediation checklist", "core/remediation")],
                ),
            change("remediate-network", "Open firewall endpoints and proxy bypasses", Remediate, 21, 12)
                .after(&["remediation-plan"])
                .guide(
                    "Allow the published endpoints, bypass SSL inspection for optimised traffic, and route it locally where possible.",
                    vec![link("Endpoints list", "core/endpoints")],
                ),
            change("remediate-clients", "Update browsers and client systems to supported versions", Remediate, 21, 12)
                .after(&["remediation-plan"])
                .guide(
                    "Roll out supported browsers and operating system updates to every device in scope.",
                    vec![link("Supported browsers and systems", "core/clients")],
                ),
            change("remediate-directory", "Clean up the directory (UPN suffixes, duplicates, attributes)", Remediate, 21, 12)
                .after(&["remediation-plan"])
                .only_with(id)
                .guide(
                    "Give users routable UPN suffixes, fix duplicate proxy addresses and invalid characters the synchronisation would reject.",
                    vec![link("Preparing the directory", "identity/prepare-directory")],
                ),
            review("confirm-remediation", "Confirm the remediation is done", Remediate, 33, 2)
                .after(&["remediate-network", "remediate-clients", "remediate-directory"])
                .guide(
                    "The customer confirms every checklist item; open items are rescheduled or recorded as deviations.",
                    vec![],
                ),
            advice("verify-remediation", "Verify the remediation outcome together", Remediate, 33, 2)
                .after(&["confirm-remediation"])
                .guide(
                    "Both sides review the checklist and the connectivity tests before Enable starts.",
                    vec![link("Readiness checks", "core/readiness")],
                ),
            change("configure-tenant", "Configure the tenant (organisation profile, admin roles, security defaults)", Enable, 35, 5)
                .after(&["verify-remediation"])
                .guide(
                    "Set the organisation profile, release preferences, least-privilege admin roles with emergency access accounts, and security defaults.",
                    vec![link("Tenant configuration", "core/tenant")],
                ),
            change("add-domains", "Add and verify the custom domains", Enable, 35, 3)
                .after(&["verify-remediation"])
                .guide(
                    "Add each domain in the admin center and publish the TXT record it asks for to prove ownership.",
                    vec![link("Adding a domain", "core/domains")],
                ),
            change("dns-records", "Publish the service DNS records", Enable, 38, 4)
                .after(&["add-domains"])
                .guide(
                    "Publish autodiscover, SPF, DKIM, DMARC and the other records the services need; MX moves later with the mail service.",
                    vec![link("DNS records reference", "core/dns-records")],
                ),
            change("directory-sync", "Install and configure directory synchronisation", Enable, 40, 5)
                .after(&["add-domains"])
                .only_with(id)
                .guide(
                    "Install the synchronisation agent, scope the organisational units, and check that users and groups arrive without errors.",
                    vec![link("Directory synchronisation", "identity/directory-sync")],
                ),
            change("single-sign-on", "Configure sign-in with the identity provider", Enable, 45, 5)
                .after(&["directory-sync"])
                .only_with(id)
                .guide(
                    "Enable the chosen sign-in method (or federation with the identity provider) and test it with a pilot group first.",
                    vec![link("Single sign-on", "identity/single-sign-on")],
                ),
            change("assign-licences", "Assign licences to users", Enable, 45, 3)
                .after(&["configure-tenant", "directory-sync"])
                .guide(
                    "Assign licences by group so that joiners get them automatically.",
                    vec![link("Group-based licensing", "core/licensing")],
                ),
            advice("core-review", "Review core onboarding", Enable, 50, 2)
                .after(&["assign-licences", "dns-records", "single-sign-on"])
                .guide(
                    "Check the tenant against the core onboarding checklist; from here each service's onboarding can start.",
                    vec![],
                ),
        ],
    }
}

fn mail_template() -> Template {
    use Phase::*;
    service("mail", "Mail", vec![
        review("assess-mail", "Assess mail flow, coexistence and mail clients", Assess, 7, 7).guide(
            "Record the current mail system, gateways and connectors, journaling, and the mail client versions in use.",
            vec![link("Mail assessment", "mail/assess")],
        ),
        advice("mail-design", "Mail routing and coexistence workshop", Remediate, 21, 7)
            .after(&["assess-mail"])
            .guide(
                "Agree the routing design during coexistence, when MX moves, and how shared mailboxes and resources are handled.",
                vec![link("Mail routing", "mail/routing")],
            ),
        change("mail-policies", "Configure anti-spam, anti-malware and retention policies", Enable, 0, 5)
            .dated_from_core_enabled()
            .after(&["mail-design"])
            .guide("Start from the recommended presets and adjust only what the assessment requires.", vec![link("Mail protection presets", "mail/protection")]),
        change("mailboxes", "Create or enable mailboxes for licensed users", Enable, 0, 5)
            .dated_from_core_enabled()
            .guide("Mailboxes are created by licensing; shared mailboxes and rooms are created separately.", vec![link("Mailboxes", "mail/mailboxes")]),
        change("mail-flow", "Point MX to the service and test mail flow", Enable, 5, 3)
            .dated_from_core_enabled()
            .after(&["mailboxes", "mail-policies"])
            .guide("Lower the MX TTL a day ahead, switch MX, then test inbound and outbound mail from outside.", vec![link("Switching MX", "mail/mx")]),
        change("mail-clients", "Connect desktop and mobile mail clients", Enable, 8, 5)
            .dated_from_core_enabled()
            .after(&["mail-flow"])
            .guide("Check autodiscover, then connect the desktop client and mobile apps for a pilot group before everyone.", vec![link("Mail clients", "mail/clients")]),
        advice("mail-review", "Review mail enablement", Enable, 13, 2)
            .dated_from_core_enabled()
            .after(&["mail-clients"])
            .guide("Review mail flow reports, client connections and open issues.", vec![]),
    ])
}

fn files_template() -> Template {
    use Phase::*;
    service("files", "File storage and sharing", vec![
        review("assess-files", "Inventory file shares and sharing needs", Assess, 7, 7).guide(
            "List file shares, their owners and sizes, and who the organisation shares files with outside.",
            vec![link("File storage assessment", "files/assess")],
        ),
        advice("sharing-workshop", "Sharing and governance workshop", Remediate, 21, 7)
            .after(&["assess-files"])
            .guide("Agree external sharing levels, site creation rules, retention and sensitivity labels.", vec![link("Sharing governance", "files/governance")]),
        change("sharing-policies", "Set external sharing and access policies", Enable, 0, 5)
            .dated_from_core_enabled()
            .after(&["sharing-workshop"])
            .guide("Apply the agreed sharing levels at tenant and site level.", vec![link("Sharing settings", "files/sharing")]),
        change("sites", "Create the first team sites and libraries", Enable, 3, 5)
            .dated_from_core_enabled()
            .after(&["sharing-policies"])
            .guide("Create sites for the pilot teams with owners from the business.", vec![]),
        change("sync-client", "Deploy the sync client and known-folder move", Enable, 5, 7)
            .dated_from_core_enabled()
            .guide("Deploy the sync client by policy and redirect Desktop, Documents and Pictures for a pilot group first.", vec![link("Sync client deployment", "files/sync")]),
        advice("files-review", "Review file storage enablement", Enable, 12, 2)
            .dated_from_core_enabled()
            .after(&["sites", "sync-client"])
            .guide("Review sync health, sharing reports and open issues.", vec![]),
    ])
}

fn chat_meetings_template() -> Template {
    use Phase::*;
    service("chat-meetings", "Chat and meetings", vec![
        review("assess-media", "Assess network quality for real-time media", Assess, 7, 7).guide(
            "Run the network assessment tool from each site; note jitter, packet loss and round-trip time.",
            vec![link("Network readiness for meetings", "chat-meetings/network")],
        ),
        change("media-qos", "Open media ports and configure quality of service", Remediate, 21, 10)
            .after(&["assess-media"])
            .guide("Open the media UDP ranges and mark audio, video and sharing traffic.", vec![link("Media ports and QoS", "chat-meetings/qos")]),
        change("chat-policies", "Set chat, meeting and guest-access policies", Enable, 0, 5)
            .dated_from_core_enabled()
            .guide("Decide on guest access, external chat, meeting recording and lobby settings.", vec![link("Meeting policies", "chat-meetings/policies")]),
        change("first-teams", "Create the first teams and channels", Enable, 3, 5)
            .dated_from_core_enabled()
            .after(&["chat-policies"])
            .guide("Start with the pilot groups; name teams by the agreed naming policy.", vec![]),
        change("meeting-rooms", "Set up meeting rooms and devices", Enable, 5, 10)
            .dated_from_core_enabled()
            .guide("Create room resource accounts and enrol the room devices.", vec![link("Meeting rooms", "chat-meetings/rooms")]),
        advice("chat-review", "Review chat and meetings enablement", Enable, 15, 2)
            .dated_from_core_enabled()
            .after(&["first-teams", "meeting-rooms"])
            .guide("Review call quality data and usage from the pilot.", vec![]),
    ])
}

fn device_management_template() -> Template {
    use Phase::*;
    service("device-management", "Device management", vec![
        review("assess-devices", "Inventory devices and platforms", Assess, 7, 7).guide(
            "Count devices per platform and ownership (corporate or personal) and note the current management tool.",
            vec![link("Device assessment", "devices/assess")],
        ),
        change("enrolment-prerequisites", "Set up enrolment prerequisites", Remediate, 21, 10)
            .after(&["assess-devices"])
            .guide("Set the management authority, upload the platform push certificates and configure automatic enrolment.", vec![link("Enrolment prerequisites", "devices/prerequisites")]),
        change("compliance-policies", "Create device compliance policies", Enable, 0, 5)
            .dated_from_core_enabled()
            .guide("Require encryption, a PIN and a minimum OS version; start in report-only mode.", vec![link("Compliance policies", "devices/compliance")]),
        change("configuration-profiles", "Create configuration profiles", Enable, 0, 7)
            .dated_from_core_enabled()
            .guide("Wi-Fi, VPN, certificates and security baselines per platform.", vec![]),
        change("app-protection", "Apply app protection policies for personal devices", Enable, 3, 5)
            .dated_from_core_enabled()
            .guide("Protect work data in mobile apps without enrolling personal devices.", vec![link("App protection", "devices/app-protection")]),
        change("pilot-enrolment", "Enrol a pilot group of devices", Enable, 7, 7)
            .dated_from_core_enabled()
            .after(&["compliance-policies", "configuration-profiles"])
            .guide("Enrol a pilot group on each platform and check policy results before the rollout.", vec![]),
        advice("devices-review", "Review device management enablement", Enable, 14, 2)
            .dated_from_core_enabled()
            .after(&["pilot-enrolment"])
            .guide("Review compliance and enrolment reports and plan the broad rollout.", vec![]),
    ])
}

fn sites_template() -> Template {
    use Phase::*;
    service("sites", "Team sites and intranet", vec![
        review("assess-intranet", "Review the current intranet and team sites", Assess, 7, 7).guide(
            "List today's intranet sections, owners, audiences and the content worth keeping.",
            vec![link("Intranet planning", "sites/plan")],
        ),
        advice("information-architecture", "Information architecture workshop", Remediate, 21, 7)
            .after(&["assess-intranet"])
            .guide("Agree hub sites, navigation, site templates and who may create sites.", vec![link("Information architecture", "sites/architecture")]),
        change("site-creation-policy", "Set site creation and external sharing policies", Enable, 0, 5)
            .dated_from_core_enabled()
            .guide("Decide who creates sites, default sharing links and guest access per site.", vec![link("Sharing settings", "sites/sharing")]),
        change("home-site", "Build the home site and hub sites", Enable, 3, 10)
            .dated_from_core_enabled()
            .after(&["information-architecture"])
            .guide("Create the home site, associate hubs and publish the first news.", vec![]),
        advice("sites-review", "Review the intranet launch plan", Enable, 14, 2)
            .dated_from_core_enabled()
            .after(&["home-site"])
            .guide("Check page performance, navigation and the launch communication with the site owners.", vec![]),
    ])
}

fn security_template() -> Template {
    use Phase::*;
    service("security", "Threat protection", vec![
        review("assess-threats", "Assess mail and endpoint protection", Assess, 7, 7).guide(
            "Note the current filtering, anti-malware and endpoint tools, and the incidents of the past year.",
            vec![link("Threat protection assessment", "security/assess")],
        ),
        advice("security-baseline-workshop", "Security baseline workshop", Remediate, 21, 7)
            .after(&["assess-threats"])
            .guide("Agree the preset policies, the quarantine process and who handles alerts.", vec![link("Security baselines", "security/baselines")]),
        change("mail-protection", "Turn on the standard protection policies for mail", Enable, 0, 5)
            .dated_from_core_enabled()
            .guide("Apply anti-phishing, safe links and safe attachments, starting with a pilot group.", vec![link("Mail protection", "security/mail")]),
        change("endpoint-onboarding", "Onboard endpoints to threat protection", Enable, 5, 10)
            .dated_from_core_enabled()
            .guide("Onboard a pilot group of devices, then all managed devices; check the sensor health.", vec![link("Endpoint onboarding", "security/endpoints")]),
        advice("security-review", "Review alerts and secure score", Enable, 17, 2)
            .dated_from_core_enabled()
            .after(&["mail-protection", "endpoint-onboarding"])
            .guide("Walk through the first alerts and the secure score recommendations with the security team.", vec![]),
    ])
}

fn compliance_template() -> Template {
    use Phase::*;
    service("compliance", "Information protection", vec![
        review("assess-data", "Identify sensitive data and obligations", Assess, 7, 7).guide(
            "List the kinds of sensitive data, the regulations that apply and the retention the business needs.",
            vec![link("Information protection planning", "compliance/plan")],
        ),
        advice("labels-workshop", "Sensitivity labels and retention workshop", Remediate, 21, 7)
            .after(&["assess-data"])
            .guide("Agree a short label taxonomy, default labels and retention periods.", vec![link("Sensitivity labels", "compliance/labels")]),
        change("publish-labels", "Publish sensitivity labels", Enable, 0, 7)
            .dated_from_core_enabled()
            .after(&["labels-workshop"])
            .guide("Publish labels to a pilot group first; turn on default labelling once users know them.", vec![]),
        change("dlp-policies", "Create data loss prevention policies", Enable, 5, 7)
            .dated_from_core_enabled()
            .guide("Start in test mode with policy tips, review matches, then enforce.", vec![link("Data loss prevention", "compliance/dlp")]),
        change("retention-policies", "Apply retention policies", Enable, 5, 5)
            .dated_from_core_enabled()
            .guide("Apply retention to mail, files and chat as agreed; document the exceptions.", vec![]),
        advice("compliance-review", "Review information protection enablement", Enable, 14, 2)
            .dated_from_core_enabled()
            .after(&["publish-labels", "dlp-policies"])
            .guide("Review label use and policy matches with the compliance owner.", vec![]),
    ])
}

fn voice_template() -> Template {
    use Phase::*;
    service("voice", "Cloud phone system", vec![
        review("assess-telephony", "Assess current telephony and numbers", Assess, 7, 7).guide(
            "List sites, numbers, call flows, devices and the contract end dates of the current carrier.",
            vec![link("Voice planning", "voice/plan")],
        ),
        advice("voice-design", "Call routing and number porting workshop", Remediate, 21, 7)
            .after(&["assess-telephony"])
            .guide("Choose calling plans or direct routing, design auto attendants and plan the number port.", vec![link("Number porting", "voice/porting")]),
        change("emergency-addresses", "Set emergency addresses for every site", Remediate, 28, 5)
            .after(&["assess-telephony"])
            .guide("Emergency calling needs a validated address per site before numbers are assigned.", vec![]),
        change("assign-numbers", "Assign phone numbers and calling policies", Enable, 0, 7)
            .dated_from_core_enabled()
            .after(&["emergency-addresses", "voice-design"])
            .guide("Assign numbers to a pilot group and test inbound, outbound and emergency calls.", vec![]),
        change("auto-attendants", "Create auto attendants and call queues", Enable, 5, 7)
            .dated_from_core_enabled()
            .guide("Build the main line's menu and queues; test them out of hours too.", vec![]),
        advice("voice-review", "Review call quality before the port", Enable, 14, 2)
            .dated_from_core_enabled()
            .after(&["assign-numbers", "auto-attendants"])
            .guide("Review the call quality dashboard and agree the port date with the carrier.", vec![]),
    ])
}

fn identity_template() -> Template {
    use Phase::*;
    service("identity", "Identity", vec![
        review("assess-authentication", "Assess authentication methods and admin accounts", Assess, 7, 7).guide(
            "List privileged accounts, the authentication methods in use and legacy protocols still needed.",
            vec![link("Identity security assessment", "identity/assess")],
        ),
        advice("access-workshop", "Conditional access design workshop", Remediate, 21, 7)
            .after(&["assess-authentication"])
            .guide("Agree the baseline policies, exclusions and emergency access accounts.", vec![link("Conditional access design", "identity/conditional-access")]),
        change("mfa", "Enable multi-factor authentication", Enable, 0, 7)
            .dated_from_core_enabled()
            .guide("Register users for multi-factor authentication in waves, administrators first.", vec![link("Multi-factor authentication", "identity/mfa")]),
        change("conditional-access", "Apply conditional access policies", Enable, 5, 7)
            .dated_from_core_enabled()
            .after(&["mfa", "access-workshop"])
            .guide("Start in report-only mode, review sign-in logs, then enforce.", vec![]),
        change("self-service-password-reset", "Enable self-service password reset", Enable, 5, 5)
            .dated_from_core_enabled()
            .guide("Use the combined registration so that users register once for both.", vec![link("Password reset", "identity/sspr")]),
        advice("identity-review", "Review identity enablement", Enable, 14, 2)
            .dated_from_core_enabled()
            .after(&["conditional-access", "self-service-password-reset"])
            .guide("Review sign-in logs and registration reports.", vec![]),
    ])
}

fn office_apps_template() -> Template {
    use Phase::*;
    service("office-apps", "Office apps", vec![
        review("assess-office", "Check devices and add-ins for the office apps", Assess, 7, 7).guide(
            "Check hardware, operating systems, existing office versions and business-critical add-ins and macros.",
            vec![link("Office apps readiness", "office-apps/assess")],
        ),
        review("update-channel", "Choose the update channel", Remediate, 21, 5)
            .after(&["assess-office"])
            .guide("The recommended choice is the monthly enterprise channel; another channel is a deviation to record.", vec![link("Update channels", "office-apps/channels")]),
        change("deploy-pilot", "Deploy the office apps to a pilot group", Enable, 0, 7)
            .dated_from_core_enabled()
            .after(&["update-channel"])
            .guide("Deploy from the cloud or a local source with the deployment tool; remove older versions.", vec![link("Deploying the apps", "office-apps/deploy")]),
        change("deploy-broad", "Deploy the office apps to everyone", Enable, 7, 14)
            .dated_from_core_enabled()
            .after(&["deploy-pilot"])
            .guide("Roll out in rings once the pilot feedback is addressed.", vec![]),
        advice("office-review", "Review office apps deployment", Enable, 21, 2)
            .dated_from_core_enabled()
            .after(&["deploy-broad"])
            .guide("Review the apps health and inventory reports.", vec![]),
    ])
}

fn generic_service_template() -> Template {
    use Phase::*;
    service(
        GENERIC_SERVICE,
        "{service}",
        vec![
            review("assess", "Assess requirements for {service}", Assess, 7, 7).guide(
                "Record the scenarios, users and prerequisites for {service}.",
                vec![],
            ),
            advice(
                "enablement-plan",
                "Agree the {service} enablement plan",
                Remediate,
                21,
                7,
            )
            .after(&["assess"])
            .guide(
                "Agree settings, pilot group and rollout for {service}.",
                vec![],
            ),
            change(
                "configure",
                "Configure {service} in the tenant",
                Enable,
                0,
                5,
            )
            .dated_from_core_enabled()
            .after(&["enablement-plan"])
            .guide("Apply the agreed settings for {service}.", vec![]),
            change(
                "pilot",
                "Pilot {service} with a group of users",
                Enable,
                5,
                7,
            )
            .dated_from_core_enabled()
            .after(&["configure"])
            .guide(
                "Collect the pilot's feedback before the broad rollout.",
                vec![],
            ),
            advice("review", "Review {service} enablement", Enable, 12, 2)
                .dated_from_core_enabled()
                .after(&["pilot"])
                .guide("Review usage and open issues for {service}.", vec![]),
        ],
    )
}

/// R14, R17: record sources, volumes and waves; the customer runs the waves, pilot first.
fn migration_template() -> Template {
    use Phase::*;
    Template {
        track: TrackKind::DataMigration,
        name: "Data migration".into(),
        tasks: vec![
            review("record-sources", "Record the source environments", Assess, 7, 7).guide(
                "List each source (mail systems, file shares, other clouds) with its product and version; supported: Exchange 2003 or later, IBM Domino 7.0.3 or later, one IMAP system, Google Workspace, GroupWise 7.0.4 or later, SMB 2.0 file shares, Box.",
                vec![link("Migration sources", "migration/sources")],
            ),
            review("record-volumes", "Record the volumes", Assess, 7, 7).guide(
                "Count mailboxes, users, gigabytes and files per source; files over 15 GB are not migrated.",
                vec![link("Sizing a migration", "migration/volumes")],
            ),
            advice("plan-waves", "Plan the waves and the batch schedule", Remediate, 21, 7)
                .after(&["record-sources", "record-volumes"])
                .guide(
                    "Give the schedule at least 14 days ahead: batches Monday 02:00 to Friday 20:00 UTC, at most three a day, 35 mailboxes or more each, within the daily cap for the tenant's size; one source after another.",
                    vec![link("Migration batches", "migration/batches")],
                ),
            change("prepare-source", "Prepare the sources (permissions, service accounts, throttling)", Remediate, 21, 10)
                .after(&["record-sources"])
                .guide("Grant the migration account read access and relax throttling on the source for the migration windows.", vec![link("Preparing the source", "migration/prepare")]),
            change("pilot-wave", "Run the pilot wave", Migrate, 16, 5)
                .dated_from_core_enabled()
                .after(&["plan-waves", "prepare-source"])
                .guide("Migrate a small, representative group first; mail moves only into active mailboxes once the mail service is onboarded.", vec![]),
            advice("pilot-review", "Review the pilot wave", Migrate, 21, 2)
                .dated_from_core_enabled()
                .after(&["pilot-wave"])
                .guide("Review errors, throughput and user feedback; adjust the velocity waves.", vec![]),
            change("velocity-waves", "Run the velocity waves", Migrate, 23, 28)
                .dated_from_core_enabled()
                .after(&["pilot-review"])
                .guide("Run the scheduled batches; add mailboxes up to 3 days before a batch (10% at most) and remove them up to 24 hours before.", vec![]),
            change("cutover", "Complete the cutover and retire the sources", Migrate, 51, 7)
                .dated_from_core_enabled()
                .after(&["velocity-waves"])
                .guide("Run the final delta passes, switch users over and plan the decommissioning of the sources.", vec![]),
        ],
    }
}

/// R4: adoption starts on day one and runs beside onboarding.
fn adoption_template() -> Template {
    use Phase::*;
    Template {
        track: TrackKind::UserAdoption,
        name: "User adoption".into(),
        tasks: vec![
            review("sponsor-and-champions", "Name an executive sponsor and champions", Initiate, 0, 7).guide(
                "A visible sponsor and a champion in each team are the strongest predictors of adoption.",
                vec![link("Champions programme", "adoption/champions")],
            ),
            advice("adoption-workshop", "Adoption planning workshop", Initiate, 2, 5).guide(
                "Agree the scenarios that create business value, the audiences and the success measures.",
                vec![link("Adoption planning", "adoption/planning")],
            ),
            review("user-readiness", "Survey user readiness and scenarios", Assess, 7, 14)
                .after(&["adoption-workshop"])
                .guide("Survey how people work today and which scenarios matter to them.", vec![]),
            review("awareness", "Run the awareness campaign", Remediate, 21, 21)
                .after(&["user-readiness"])
                .guide("Announce what is coming and why, using the campaign kit.", vec![link("Awareness kit", "adoption/awareness")]),
            review("training", "Train users and champions", Enable, 35, 28)
                .after(&["awareness"])
                .guide("Role-based training close to each service's go-live; champions first.", vec![link("Training plans", "adoption/training")]),
            advice("value-review", "Review usage and business value", Enable, 63, 7)
                .after(&["training"])
                .guide("Compare usage and the success measures against the plan; agree the next scenarios.", vec![]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const START: Date = date(2026, 6, 1);

    fn now() -> Timestamp {
        "2026-06-10T09:00:00Z".parse().unwrap()
    }

    fn customer() -> TaskActor {
        TaskActor::new("cust-1", Role::CustomerAdmin, false)
    }

    fn specialist() -> TaskActor {
        TaskActor::new("staff-1", Role::FasttrackSpecialist, false)
    }

    fn engagement(kinds: &[HelpKind], services: &[&str]) -> Engagement {
        Engagement::new(plan_engagement(kinds, services, START))
    }

    fn all_kinds() -> Vec<HelpKind> {
        HelpKind::ALL.to_vec()
    }

    fn track<'a>(e: &'a Engagement, kind: &TrackKind) -> &'a Track {
        e.tracks.iter().find(|t| &t.kind == kind).unwrap()
    }

    fn actor_for(task: &Task) -> TaskActor {
        if task.owner == OwnerSide::Programme && task.kind == TaskKind::Advisory {
            specialist()
        } else {
            customer()
        }
    }

    /// Completes every core task of `phase` and before, in the recommended order.
    fn settle_core_through(e: &mut Engagement, phase: Phase) {
        loop {
            let next: Vec<(String, TaskActor)> = track(e, &TrackKind::CoreOnboarding)
                .tasks
                .iter()
                .filter(|t| t.phase <= phase && t.state == TaskState::Open)
                .map(|t| (t.key.clone(), actor_for(t)))
                .collect();
            if next.is_empty() {
                return;
            }
            let before = e.clone();
            for (key, actor) in next {
                let _ = e.complete_task(&actor, &key, now());
            }
            assert_ne!(&before, e, "core onboarding made no progress");
        }
    }

    #[test]
    fn recommended_templates_are_valid() {
        TemplateSet::recommended().validate().unwrap();
    }

    #[test]
    fn r7_every_service_of_the_catalogue_has_its_own_recommended_template() {
        let set = TemplateSet::recommended();
        for service in [
            "mail",
            "files",
            "chat-meetings",
            "sites",
            "office-apps",
            "device-management",
            "identity",
            "security",
            "compliance",
            "voice",
        ] {
            let t = set
                .template_for(&TrackKind::ServiceOnboarding {
                    service: service.into(),
                })
                .unwrap();
            assert_eq!(
                t.track,
                TrackKind::ServiceOnboarding {
                    service: service.into()
                },
                "{service} falls back to the generic template"
            );
            assert!(t.tasks.len() >= 4, "{service}");
        }
    }

    #[test]
    fn r7_template_with_a_cycle_or_unknown_dependency_is_refused() {
        let mut set = TemplateSet::recommended();
        let core = &mut set.templates[0].tasks;
        // agree-scope ⇄ kick-off, and a dependency on nothing.
        core[1].depends_on = vec![core[2].key.clone()];
        core[0].depends_on = vec!["nowhere".into()];
        let err = plan_from(&set, &[], &[], START).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"templates[0].tasks"), "{err}");
        assert!(
            fields.contains(&"templates[0].tasks[0].depends_on"),
            "{err}"
        );
    }

    #[test]
    fn r3_core_onboarding_is_always_planned_first() {
        let plan = plan_engagement(&[HelpKind::UserAdoption], &[], START);
        assert_eq!(plan.tracks[0].kind, TrackKind::CoreOnboarding);
        let keys: Vec<&str> = plan.tracks[0]
            .tasks
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        assert!(keys.contains(&"core.configure-tenant") && keys.contains(&"core.add-domains"));
    }

    #[test]
    fn r3_identity_integration_tasks_only_when_asked_for() {
        let without = plan_engagement(&[HelpKind::CoreOnboarding], &[], START);
        let with = plan_engagement(
            &[HelpKind::CoreOnboarding, HelpKind::IdentityIntegration],
            &[],
            START,
        );
        let has = |p: &EngagementPlan| {
            p.tracks[0]
                .tasks
                .iter()
                .any(|t| t.key == "core.directory-sync")
        };
        assert!(!has(&without) && has(&with));
        // Dependencies on left-out identity tasks are dropped, not left dangling.
        for t in &without.tracks[0].tasks {
            for d in &t.depends_on {
                assert!(
                    without.tracks[0].tasks.iter().any(|x| &x.key == d),
                    "{} -> {d}",
                    t.key
                );
            }
        }
    }

    #[test]
    fn r3_one_service_track_per_service_with_a_generic_fallback() {
        let plan = plan_engagement(
            &[HelpKind::ServiceOnboarding],
            &["mail", "files", "mail", "whiteboard"],
            START,
        );
        let services: Vec<&TrackKind> = plan
            .tracks
            .iter()
            .filter(|t| matches!(t.kind, TrackKind::ServiceOnboarding { .. }))
            .map(|t| &t.kind)
            .collect();
        assert_eq!(services.len(), 3);
        let wb = plan
            .tracks
            .iter()
            .find(|t| {
                t.kind
                    == TrackKind::ServiceOnboarding {
                        service: "whiteboard".into(),
                    }
            })
            .unwrap();
        assert_eq!(wb.name, "whiteboard");
        assert!(wb
            .tasks
            .iter()
            .any(|t| t.key == "service.whiteboard.configure" && t.title.contains("whiteboard")));
        let mail = plan.tracks.iter().find(|t| t.name == "Mail").unwrap();
        assert!(mail.tasks.iter().any(|t| t.key == "service.mail.mail-flow"));
    }

    #[test]
    fn r3_every_catalogue_service_has_realistic_tasks() {
        let codes = [
            "mail",
            "files",
            "chat-meetings",
            "device-management",
            "identity",
            "office-apps",
        ];
        let plan = plan_engagement(&[HelpKind::ServiceOnboarding], &codes, START);
        for code in codes {
            let t = plan
                .tracks
                .iter()
                .find(|t| {
                    t.kind
                        == TrackKind::ServiceOnboarding {
                            service: code.into(),
                        }
                })
                .unwrap();
            assert_ne!(t.name, code, "{code} uses its own template");
            assert!(t
                .tasks
                .iter()
                .any(|x| x.phase == Phase::Enable && x.kind == TaskKind::TenantChange));
        }
    }

    #[test]
    fn r5_service_enable_is_dated_after_core_enable() {
        let plan = plan_engagement(&all_kinds(), &["mail"], START);
        let core_enabled = plan.tracks[0]
            .tasks
            .iter()
            .filter(|t| t.phase == Phase::Enable)
            .map(|t| t.due_on)
            .max()
            .unwrap();
        for track in &plan.tracks[1..] {
            for t in &track.tasks {
                if track.kind.gated_on_core(t.phase) {
                    assert!(t.starts_on >= core_enabled, "{}", t.key);
                }
                assert!(t.due_on >= t.starts_on);
            }
        }
    }

    #[test]
    fn r4_adoption_track_runs_from_day_one_whatever_was_asked() {
        let plan = plan_engagement(&[HelpKind::CoreOnboarding], &[], START);
        let adoption = plan
            .tracks
            .iter()
            .find(|t| t.kind == TrackKind::UserAdoption)
            .unwrap();
        assert_eq!(
            adoption.tasks.iter().map(|t| t.starts_on).min(),
            Some(START)
        );
        let core_end = plan.tracks[0].tasks.iter().map(|t| t.due_on).max().unwrap();
        assert!(adoption.tasks.iter().map(|t| t.due_on).max().unwrap() > core_end);
    }

    #[test]
    fn r4_adoption_tasks_do_not_wait_for_core_onboarding() {
        let mut e = engagement(&[HelpKind::CoreOnboarding], &[]);
        e.complete_task(&customer(), "adoption.sponsor-and-champions", now())
            .unwrap();
        e.complete_task(&specialist(), "adoption.adoption-workshop", now())
            .unwrap();
        e.complete_task(&customer(), "adoption.user-readiness", now())
            .unwrap();
    }

    #[test]
    fn r14_migration_track_records_sources_volumes_and_waves_only_when_asked() {
        let without = plan_engagement(&[HelpKind::CoreOnboarding], &[], START);
        assert!(!without
            .tracks
            .iter()
            .any(|t| t.kind == TrackKind::DataMigration));
        let with = plan_engagement(&[HelpKind::DataMigration], &["mail"], START);
        let m = with
            .tracks
            .iter()
            .find(|t| t.kind == TrackKind::DataMigration)
            .unwrap();
        let keys: Vec<&str> = m.tasks.iter().map(|t| t.key.as_str()).collect();
        for k in [
            "migration.record-sources",
            "migration.record-volumes",
            "migration.plan-waves",
        ] {
            assert!(keys.contains(&k), "{k}");
        }
        let pilot = keys
            .iter()
            .position(|k| *k == "migration.pilot-wave")
            .unwrap();
        let velocity = keys
            .iter()
            .position(|k| *k == "migration.velocity-waves")
            .unwrap();
        assert!(pilot < velocity);
        assert!(m.tasks[velocity]
            .depends_on
            .iter()
            .any(|d| d == "migration.pilot-review"));
    }

    #[test]
    fn r5_service_enable_task_waits_for_core_enable() {
        let mut e = engagement(&all_kinds(), &["mail"]);
        settle_core_through(&mut e, Phase::Remediate);
        e.complete_task(&customer(), "service.mail.assess-mail", now())
            .unwrap();
        e.complete_task(&specialist(), "service.mail.mail-design", now())
            .unwrap();
        let err = e
            .complete_task(&customer(), "service.mail.mailboxes", now())
            .unwrap_err();
        let TaskError::Rule(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v.rule, Rule::R5);
        assert!(v.message.contains("core onboarding"), "{}", v.message);
        assert_eq!(
            e.task("service.mail.mailboxes").unwrap().state,
            TaskState::Open
        );
    }

    #[test]
    fn r5_service_enable_task_completes_once_core_enable_is_done() {
        let mut e = engagement(
            &[HelpKind::CoreOnboarding, HelpKind::ServiceOnboarding],
            &["mail"],
        );
        settle_core_through(&mut e, Phase::Enable);
        assert!(e.core_phase_complete(Phase::Enable));
        e.complete_task(&customer(), "service.mail.mailboxes", now())
            .unwrap();
        assert!(e.deviations.is_empty());
    }

    #[test]
    fn r5_a_task_waits_for_its_dependencies() {
        let mut e = engagement(&[HelpKind::CoreOnboarding], &[]);
        let err = e
            .complete_task(&specialist(), "core.kick-off", now())
            .unwrap_err();
        assert!(
            matches!(err, TaskError::Rule(ref v) if v.rule == Rule::R5 && v.detail.contains(&("blocked_by".into(), "core.agree-scope".into())))
        );
        e.complete_task(&specialist(), "core.agree-scope", now())
            .unwrap();
        e.complete_task(&specialist(), "core.kick-off", now())
            .unwrap();
    }

    #[test]
    fn r7_customer_may_complete_out_of_order_and_it_is_recorded() {
        let mut e = engagement(&[HelpKind::ServiceOnboarding], &["mail"]);
        let d = e
            .complete_out_of_order(
                &customer(),
                "service.mail.mailboxes",
                "pilot users need mail now",
                now(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(d.by, "cust-1");
        assert_eq!(d.by_role, Role::CustomerAdmin);
        assert_eq!(d.task, "service.mail.mailboxes");
        let DeviationKind::DoneOutOfOrder { blocked_by } = &d.kind else {
            panic!()
        };
        assert!(blocked_by.contains(&"core.configure-tenant".to_string()));
        assert_eq!(
            e.task("service.mail.mailboxes").unwrap().state,
            TaskState::Done
        );
        let risks = e.risks();
        assert_eq!(risks.len(), 1);
        assert!(risks[0].message.contains("may affect the onboarding"));
    }

    #[test]
    fn r7_in_order_completion_is_not_a_deviation() {
        let mut e = engagement(&[], &[]);
        let d = e
            .complete_out_of_order(&specialist(), "core.agree-scope", "why not", now())
            .unwrap();
        assert!(d.is_none() && e.deviations.is_empty());
    }

    #[test]
    fn r7_staff_cannot_create_a_deviation_on_a_tenant_task() {
        let mut e = engagement(&[], &["mail"]);
        for r in [
            e.clone()
                .complete_out_of_order(&specialist(), "service.mail.mailboxes", "urgent", now())
                .unwrap_err(),
            e.skip_task(&specialist(), "core.add-domains", "not needed", now())
                .unwrap_err(),
            e.choose_option(&specialist(), "core.add-domains", "manual", "faster", now())
                .unwrap_err(),
        ] {
            assert!(
                matches!(r, TaskError::Rule(ref v) if v.rule == Rule::R6),
                "{r:?}"
            );
        }
        assert!(e.deviations.is_empty());
    }

    #[test]
    fn r7_skipping_is_recorded_and_stops_holding_up_later_tasks() {
        let mut e = engagement(&[], &[]);
        e.skip_task(
            &customer(),
            "core.agree-scope",
            "scope agreed in the contract",
            now(),
        )
        .unwrap();
        assert_eq!(
            e.task("core.agree-scope").unwrap().state,
            TaskState::Skipped
        );
        e.complete_task(&specialist(), "core.kick-off", now())
            .unwrap();
        let risk = &e.risks()[0];
        assert_eq!(risk.deviation, DeviationKind::Skipped);
        assert!(risk.affected.contains(&"core.kick-off".to_string()));
        assert!(risk.message.contains("scope agreed in the contract"));
    }

    #[test]
    fn r7_a_deviation_needs_a_reason() {
        let mut e = engagement(&[], &[]);
        let err = e
            .skip_task(&customer(), "core.agree-scope", "  ", now())
            .unwrap_err();
        assert!(matches!(err, TaskError::Invalid(ref i) if i.0[0].field == "reason"));
        assert!(e.deviations.is_empty());
    }

    #[test]
    fn r7_non_recommended_option_is_recorded_as_a_risk() {
        let mut e = engagement(&[HelpKind::ServiceOnboarding], &["office-apps"]);
        e.choose_option(
            &customer(),
            "service.office-apps.update-channel",
            "semi-annual",
            "change control",
            now(),
        )
        .unwrap();
        assert_eq!(
            e.task("service.office-apps.update-channel")
                .unwrap()
                .chosen_option
                .as_deref(),
            Some("semi-annual")
        );
        let risk = &e.risks()[0];
        assert!(risk.message.contains("semi-annual"));
        assert!(risk
            .affected
            .contains(&"service.office-apps.deploy-pilot".to_string()));
    }

    #[test]
    fn r7_skipping_a_core_task_puts_every_service_enable_task_at_risk() {
        let mut e = engagement(&[], &["mail"]);
        e.skip_task(&customer(), "core.dns-records", "DNS handled later", now())
            .unwrap();
        let risk = &e.risks()[0];
        assert!(risk
            .affected
            .contains(&"service.mail.mail-flow".to_string()));
    }

    #[test]
    fn r6_staff_cannot_complete_a_tenant_task_in_an_engagement() {
        let mut e = engagement(&[], &[]);
        let err = e
            .complete_task(&specialist(), "core.link-subscription", now())
            .unwrap_err();
        assert!(matches!(err, TaskError::Rule(ref v) if v.rule == Rule::R6));
        e.complete_task(&customer(), "core.link-subscription", now())
            .unwrap();
        let t = e.task("core.link-subscription").unwrap();
        assert_eq!(
            (t.done_by.as_deref(), t.done_by_role),
            (Some("cust-1"), Some(Role::CustomerAdmin))
        );
    }

    #[test]
    fn r6_partner_completes_tenant_tasks_only_with_the_scope() {
        let mut e = engagement(&[], &[]);
        let without = TaskActor::new("p1", Role::PartnerUser, false);
        let with = TaskActor::new("p1", Role::PartnerUser, true);
        assert!(e
            .complete_task(&without, "core.link-subscription", now())
            .is_err());
        e.complete_task(&with, "core.link-subscription", now())
            .unwrap();
    }

    #[test]
    fn r6_staff_cannot_take_over_a_tenant_task() {
        let mut e = engagement(&[], &[]);
        assert!(e
            .reassign(&specialist(), "core.add-domains", OwnerSide::Programme)
            .is_err());
        assert!(e
            .reassign(&customer(), "core.add-domains", OwnerSide::Programme)
            .is_err());
        let partner_ok = TaskActor::new("cust-1", Role::CustomerAdmin, true);
        e.reassign(&partner_ok, "core.add-domains", OwnerSide::Partner)
            .unwrap();
        assert_eq!(
            e.task("core.add-domains").unwrap().owner,
            OwnerSide::Partner
        );
    }

    #[test]
    fn r1_a_paused_engagement_refuses_completion_until_resumed() {
        let mut e = engagement(&[], &[]);
        e.pause();
        for err in [
            e.complete_task(&specialist(), "core.agree-scope", now())
                .unwrap_err(),
            e.skip_task(&customer(), "core.agree-scope", "x", now())
                .unwrap_err(),
        ] {
            assert!(
                matches!(err, TaskError::Rule(ref v) if v.rule == Rule::R1),
                "{err:?}"
            );
        }
        e.resume();
        e.complete_task(&specialist(), "core.agree-scope", now())
            .unwrap();
    }

    #[test]
    fn completing_twice_or_an_unknown_task_is_refused() {
        let mut e = engagement(&[], &[]);
        e.complete_task(&specialist(), "core.agree-scope", now())
            .unwrap();
        assert!(matches!(
            e.complete_task(&specialist(), "core.agree-scope", now()),
            Err(TaskError::NotOpen { .. })
        ));
        assert!(matches!(
            e.complete_task(&specialist(), "core.nope", now()),
            Err(TaskError::UnknownTask(_))
        ));
    }

    #[test]
    fn progress_counts_done_and_skipped_separately_per_track_and_phase() {
        let mut e = engagement(&[], &[]);
        e.complete_task(&specialist(), "core.agree-scope", now())
            .unwrap();
        e.skip_task(
            &customer(),
            "core.link-subscription",
            "already linked",
            now(),
        )
        .unwrap();
        let p = &e.progress()[0];
        assert_eq!(p.track, TrackKind::CoreOnboarding);
        assert_eq!((p.overall.done, p.overall.skipped), (1, 1));
        let initiate = p
            .phases
            .iter()
            .find(|x| x.phase == Phase::Initiate)
            .unwrap()
            .progress;
        assert_eq!(
            initiate,
            Progress {
                total: 3,
                done: 1,
                skipped: 1
            }
        );
        assert_eq!(initiate.open(), 1);
        assert_eq!(p.current_phase, Some(Phase::Initiate));
        assert_eq!(
            p.phases.iter().map(|x| x.progress.total).sum::<u32>(),
            p.overall.total
        );
    }

    #[test]
    fn extending_adds_only_what_is_new() {
        let mut e = engagement(&[HelpKind::CoreOnboarding], &["mail"]);
        e.complete_task(&specialist(), "core.agree-scope", now())
            .unwrap();
        let before = e.tracks.len();
        e.extend(plan_engagement(
            &[HelpKind::IdentityIntegration, HelpKind::DataMigration],
            &["mail", "files"],
            START,
        ));
        assert_eq!(e.tracks.len(), before + 2);
        assert!(e.task("core.directory-sync").is_some());
        assert_eq!(e.task("core.agree-scope").unwrap().state, TaskState::Done);
    }

    fn actors() -> Vec<TaskActor> {
        vec![
            customer(),
            TaskActor::new("p-scoped", Role::PartnerUser, true),
            TaskActor::new("p-plain", Role::PartnerUser, false),
            specialist(),
            TaskActor::new("mgr", Role::FasttrackManager, true),
            TaskActor::new("admin", Role::ProgrammeAdmin, true),
            TaskActor::new("eng", Role::CenterEngineer, false),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn r6_r5_no_allowed_sequence_lets_staff_change_the_tenant_or_skip_core_silently(
            ops in proptest::collection::vec((0usize..7, 0u8..6, 0usize..200), 1..150)
        ) {
            let mut e = engagement(&all_kinds(), &["mail", "device-management", "whiteboard"]);
            let keys: Vec<String> = e.tracks.iter().flat_map(|t| t.tasks.iter().map(|x| x.key.clone())).collect();
            let actors = actors();
            for (a, op, t) in ops {
                let actor = &actors[a];
                let key = &keys[t % keys.len()];
                let core_done_before = e.core_phase_complete(Phase::Enable);
                let result = match op {
                    0 | 1 => e.complete_task(actor, key, now()).map(|_| ()),
                    2 => e.complete_out_of_order(actor, key, "our call", now()).map(|_| ()),
                    3 => e.skip_task(actor, key, "not needed", now()).map(|_| ()),
                    4 => e.choose_option(actor, key, "other", "preference", now()).map(|_| ()),
                    _ => { if e.paused { e.resume() } else { e.pause() }; Ok(()) }
                };
                let (track, task) = e.tracks.iter()
                    .flat_map(|tr| tr.tasks.iter().map(move |x| (tr, x)))
                    .find(|(_, x)| &x.key == key).unwrap();
                if result.is_ok() && op <= 2 && task.state == TaskState::Done
                    && track.kind.gated_on_core(task.phase) && !core_done_before
                {
                    let recorded = e.deviations.iter().any(|d| &d.task == key
                        && matches!(d.kind, DeviationKind::DoneOutOfOrder { .. }));
                    prop_assert!(recorded, "{} done before core Enable without a deviation", key);
                }
                for tr in &e.tracks {
                    for x in &tr.tasks {
                        if x.kind == TaskKind::TenantChange && x.state == TaskState::Done {
                            prop_assert!(!x.done_by_role.unwrap().is_programme(), "{} by staff", x.key);
                        }
                    }
                }
                for d in &e.deviations {
                    let x = e.task(&d.task).unwrap();
                    if x.kind == TaskKind::TenantChange {
                        prop_assert!(!d.by_role.is_programme());
                    }
                }
            }
        }
    }
}
