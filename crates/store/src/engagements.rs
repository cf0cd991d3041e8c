//! Engagements (R3–R7): the tenant's tracks, tasks, deviations and comments, persisted from the
//! core's `Engagement`; the programme's template set; and the figures of the programme dashboard.
//!
//! Track and task rows have ids derived from the engagement and the task key, so saving an
//! engagement is an idempotent upsert and comments and deviations keep pointing at their task.

use std::str::FromStr;

use fasttrack_core::role::Role;
use fasttrack_core::rules::engagement::{
    Deviation, DeviationKind, Engagement, GuidanceLink, OwnerSide, Task, TaskKind, TaskState,
    Template, TemplateSet, Track, TrackKind,
};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::audit::audit;
use crate::{new_id, read, write_tx, AuditCtx, Page, Paged, Store, StoreError};

/// An engagement's own row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngagementRow {
    pub id: String,
    pub org_id: String,
    /// `active`, `paused` (R1) or `completed`.
    pub state: String,
    /// Civil date YYYY-MM-DD the plan is dated from.
    pub start_day: String,
    pub paused_at: Option<i64>,
    /// Bumped by every change; a change made on a stale version is refused.
    pub version: i64,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An engagement as stored, rebuilt into the core's model.
#[derive(Debug, Clone)]
pub struct StoredEngagement {
    pub row: EngagementRow,
    pub engagement: Engagement,
    /// The requests this engagement was opened or extended for.
    pub request_ids: Vec<String>,
}

/// Filters for the engagement list.
#[derive(Debug, Clone, Default)]
pub struct EngagementFilter {
    pub org_id: Option<String>,
    pub state: Option<String>,
    /// Engagements of customers this partner has a live relationship with at the instant (R9).
    pub partner: Option<(String, i64)>,
}

/// What to persist after the core changed an engagement.
#[derive(Debug, Clone)]
pub struct EngagementWrite<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    /// The version the change was made on; `None` creates the engagement.
    pub expected_version: Option<i64>,
    pub engagement: &'a Engagement,
    pub state: &'a str,
    pub paused_at: Option<i64>,
    /// The request this write opens or extends the engagement for.
    pub request_id: Option<&'a str>,
    /// Deviations already stored; the engagement's later ones are inserted.
    pub stored_deviations: usize,
    /// The audit action (`engagement.open`, `task.complete`, …) and what changed.
    pub action: &'a str,
    pub changes: Value,
}

/// A comment on a task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskComment {
    pub id: String,
    pub task_key: String,
    pub author_id: String,
    pub body: String,
    pub created_at: i64,
}

/// A meeting of an engagement, as the timeline draws it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngagementMeeting {
    pub id: String,
    pub purpose: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub state: String,
}

/// An open task past its due day, for the dashboard.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueTask {
    pub engagement_id: String,
    pub org_id: String,
    pub task_key: String,
    pub title: String,
    pub owner_side: String,
    pub due_day: String,
}

/// A count per key (a state, a language, a region).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyCount {
    pub key: String,
    pub count: i64,
}

/// Staff capacity for one spoken language: people and their weekly capacity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LanguageCapacity {
    pub language: String,
    pub staff: i64,
    pub weekly_capacity: i64,
}

#[derive(sqlx::FromRow)]
struct TrackRow {
    id: String,
    name: String,
    spec: String,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    track_id: String,
    template_key: String,
    phase: String,
    title: String,
    owner_side: String,
    kind: String,
    state: String,
    guidance: String,
    depends_on: String,
    start_day: Option<String>,
    due_day: Option<String>,
    completed_at: Option<i64>,
    completed_by: Option<String>,
    completed_by_role: Option<String>,
    chosen_option: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DeviationRow {
    task_key: String,
    reason: String,
    recorded_by: String,
    recorded_by_role: String,
    recorded_at: i64,
    detail: String,
}

const COLUMNS: &str =
    "id, org_id, state, start_day, paused_at, version, completed_at, created_at, updated_at";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// Decodes a stored enum name (`"open"`, `"enable"`) through its serde form.
fn name<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_value(Value::String(s.to_string()))
        .map_err(|e| corrupt(format!("{what} '{s}': {e}")))
}

fn decode<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(format!("{what}: {e}")))
}

fn day(what: &str, s: Option<&str>) -> Result<Date, StoreError> {
    let s = s.ok_or_else(|| corrupt(format!("{what} is missing")))?;
    Date::from_str(s).map_err(|e| corrupt(format!("{what} '{s}': {e}")))
}

fn instant(s: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(s).map_err(|e| corrupt(format!("instant {s}: {e}")))
}

/// The stored id of a track: one per engagement and track kind.
fn track_id(engagement_id: &str, kind: &TrackKind) -> String {
    format!("{engagement_id}/{}", kind.key_prefix())
}

/// The stored id of a task: task keys are unique within an engagement.
pub fn task_id(engagement_id: &str, key: &str) -> String {
    format!("{engagement_id}/{key}")
}

fn track_kind_name(kind: &TrackKind) -> &'static str {
    match kind {
        TrackKind::CoreOnboarding => "core_onboarding",
        TrackKind::ServiceOnboarding { .. } => "service_onboarding",
        TrackKind::DataMigration => "data_migration",
        TrackKind::UserAdoption => "user_adoption",
    }
}

fn track_service(kind: &TrackKind) -> Option<String> {
    match kind {
        TrackKind::ServiceOnboarding { service } => Some(service.clone()),
        _ => None,
    }
}

impl Store {
    /// One engagement with its tracks, tasks and deviations.
    #[tracing::instrument(name = "Fetching an engagement", skip_all)]
    pub async fn get_engagement(&self, id: &str) -> Result<StoredEngagement, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM engagements WHERE id = $1");
        let row: Option<EngagementRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?);
        let row = row.ok_or(StoreError::NotFound)?;
        self.load_engagement(row).await
    }

    /// The tenant's open (active or paused) engagement, if it has one.
    #[tracing::instrument(name = "Fetching a tenant's open engagement", skip_all)]
    pub async fn open_engagement_of(
        &self,
        org_id: &str,
    ) -> Result<Option<StoredEngagement>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM engagements WHERE org_id = $1 AND state IN ('active', 'paused')"
        );
        let row: Option<EngagementRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(org_id)
                .fetch_optional(p)
                .await?);
        match row {
            Some(r) => Ok(Some(self.load_engagement(r).await?)),
            None => Ok(None),
        }
    }

    /// Accepted requests not linked to an engagement: acceptances interrupted between their
    /// transition and their engagement step (a crash), which the server completes at start.
    #[tracing::instrument(name = "Finding acceptances without their engagement", skip_all)]
    pub async fn accepted_without_engagement(&self) -> Result<Vec<String>, StoreError> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT r.id FROM requests r
             WHERE r.state = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM engagement_requests er WHERE er.request_id = r.id)
             ORDER BY r.id"
        )
        .fetch_all(p)
        .await?))
    }

    /// The engagement a request opened or extended, if any.
    #[tracing::instrument(name = "Finding a request's engagement", skip_all)]
    pub async fn engagement_of_request(
        &self,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT engagement_id FROM engagement_requests WHERE request_id = $1"
        )
        .bind(request_id)
        .fetch_optional(p)
        .await?))
    }

    async fn load_engagement(&self, row: EngagementRow) -> Result<StoredEngagement, StoreError> {
        let (tracks, tasks, deviations, request_ids): (
            Vec<TrackRow>,
            Vec<TaskRow>,
            Vec<DeviationRow>,
            Vec<String>,
        ) = read!(self, |p| {
            let tracks = sqlx::query_as(
                "SELECT id, name, spec FROM tracks WHERE engagement_id = $1 ORDER BY position",
            )
            .bind(&row.id)
            .fetch_all(p)
            .await?;
            let tasks = sqlx::query_as(
                "SELECT t.track_id, t.template_key, t.phase, t.title, t.owner_side, t.kind, t.state, t.guidance,
                        t.depends_on, t.start_day, t.due_day, t.completed_at, t.completed_by, t.completed_by_role,
                        t.chosen_option
                 FROM tasks t JOIN tracks tr ON tr.id = t.track_id
                 WHERE tr.engagement_id = $1 ORDER BY tr.position, t.position",
            )
            .bind(&row.id)
            .fetch_all(p)
            .await?;
            let deviations = sqlx::query_as(
                "SELECT task_key, reason, recorded_by, recorded_by_role, recorded_at, detail
                 FROM deviations WHERE engagement_id = $1 ORDER BY recorded_at, id",
            )
            .bind(&row.id)
            .fetch_all(p)
            .await?;
            let requests = sqlx::query_scalar(
                "SELECT request_id FROM engagement_requests WHERE engagement_id = $1 ORDER BY request_id",
            )
            .bind(&row.id)
            .fetch_all(p)
            .await?;
            (tracks, tasks, deviations, requests)
        });
        let mut out: Vec<(String, Track)> = Vec::with_capacity(tracks.len());
        for t in tracks {
            out.push((
                t.id,
                Track {
                    kind: decode("track kind", &t.spec)?,
                    name: t.name,
                    tasks: Vec::new(),
                },
            ));
        }
        for t in tasks {
            let guidance: Value = decode("task guidance", &t.guidance)?;
            let links: Vec<GuidanceLink> =
                serde_json::from_value(guidance["links"].clone()).unwrap_or_default();
            let task = Task {
                phase: name("phase", &t.phase)?,
                owner: name::<OwnerSide>("owner side", &t.owner_side)?,
                kind: name::<TaskKind>("task kind", &t.kind)?,
                state: name::<TaskState>("task state", &t.state)?,
                guidance: guidance["text"].as_str().unwrap_or_default().to_string(),
                links,
                depends_on: decode("task dependencies", &t.depends_on)?,
                starts_on: day("task start day", t.start_day.as_deref())?,
                due_on: day("task due day", t.due_day.as_deref())?,
                chosen_option: t.chosen_option,
                done_by: t.completed_by,
                done_by_role: t
                    .completed_by_role
                    .as_deref()
                    .map(Role::parse)
                    .transpose()
                    .map_err(corrupt)?,
                done_at: t.completed_at.map(instant).transpose()?,
                key: t.template_key,
                title: t.title,
            };
            let track = out
                .iter_mut()
                .find(|(id, _)| *id == t.track_id)
                .ok_or_else(|| corrupt(format!("task of unknown track {}", t.track_id)))?;
            track.1.tasks.push(task);
        }
        let deviations = deviations
            .into_iter()
            .map(|d| {
                Ok(Deviation {
                    task: d.task_key,
                    kind: decode::<DeviationKind>("deviation", &d.detail)?,
                    by: d.recorded_by,
                    by_role: Role::parse(&d.recorded_by_role).map_err(corrupt)?,
                    reason: d.reason,
                    at: instant(d.recorded_at)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let engagement = Engagement {
            start: day("engagement start day", Some(&row.start_day))?,
            tracks: out.into_iter().map(|(_, t)| t).collect(),
            deviations,
            paused: row.state == "paused",
        };
        Ok(StoredEngagement {
            row,
            engagement,
            request_ids,
        })
    }

    /// Engagements matching `f`, oldest first.
    #[tracing::instrument(name = "Listing engagements", skip_all)]
    pub async fn list_engagements(
        &self,
        f: &EngagementFilter,
        page: &Page,
    ) -> Result<Paged<EngagementRow>, StoreError> {
        let (partner, now) = f
            .partner
            .clone()
            .map_or((None, None), |(p, n)| (Some(p), Some(n)));
        let sql = format!(
            "SELECT {COLUMNS} FROM engagements
             WHERE ($1 IS NULL OR org_id = $1)
               AND ($2 IS NULL OR state = $2)
               AND ($3 IS NULL OR org_id IN (SELECT customer_org_id FROM relationships
                       WHERE partner_org_id = $3 AND status = 'active' AND expires_at > $4))
               AND ($5 IS NULL OR id > $5)
             ORDER BY id LIMIT CAST($6 AS BIGINT)"
        );
        let rows: Vec<EngagementRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(f.org_id.clone())
                .bind(f.state.clone())
                .bind(partner.clone())
                .bind(now)
                .bind(page.after.clone())
                .bind(page.limit + 1)
                .fetch_all(p)
                .await?);
        Ok(Paged::from_rows(rows, page.limit, |r| r.id.clone()))
    }

    /// Persists an engagement the core changed (or a new one), if nobody changed it meanwhile
    /// (else `Conflict`), with its new deviations, the request link and the audit record, atomically.
    #[tracing::instrument(name = "Saving an engagement", skip_all)]
    pub async fn save_engagement(
        &self,
        w: &EngagementWrite<'_>,
        ctx: &AuditCtx,
    ) -> Result<StoredEngagement, StoreError> {
        let e = w.engagement;
        let all_settled = e
            .tracks
            .iter()
            .flat_map(|t| t.tasks.iter())
            .all(|t| t.state.is_settled());
        let completed_at = (w.state == "completed" || all_settled).then_some(ctx.at);
        write_tx!(self, |tx| {
            match w.expected_version {
                None => {
                    sqlx::query(
                        "INSERT INTO engagements (id, org_id, state, start_day, paused_at, version, completed_at, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, 0, NULL, $6, $6)",
                    )
                    .bind(w.id)
                    .bind(w.org_id)
                    .bind(w.state)
                    .bind(e.start.to_string())
                    .bind(w.paused_at)
                    .bind(ctx.at)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(v) => {
                    let n = sqlx::query(
                        "UPDATE engagements SET state = $2, paused_at = $3, version = version + 1,
                            completed_at = COALESCE(completed_at, $4), updated_at = $5
                         WHERE id = $1 AND version = $6",
                    )
                    .bind(w.id)
                    .bind(w.state)
                    .bind(w.paused_at)
                    .bind(completed_at)
                    .bind(ctx.at)
                    .bind(v)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::Conflict {
                            field: "engagement".into(),
                            message: "the engagement changed meanwhile; reload it and try again"
                                .into(),
                        });
                    }
                }
            }
            for (i, track) in e.tracks.iter().enumerate() {
                let tid = track_id(w.id, &track.kind);
                let spec = serde_json::to_string(&track.kind).map_err(corrupt)?;
                sqlx::query(
                    "INSERT INTO tracks (id, engagement_id, kind, service_id, position, name, spec)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO UPDATE SET position = excluded.position, name = excluded.name",
                )
                .bind(&tid)
                .bind(w.id)
                .bind(track_kind_name(&track.kind))
                .bind(track_service(&track.kind))
                .bind(i as i64)
                .bind(&track.name)
                .bind(spec)
                .execute(&mut *tx)
                .await?;
                for (j, t) in track.tasks.iter().enumerate() {
                    let guidance = json!({"text": t.guidance, "links": t.links}).to_string();
                    let deps = serde_json::to_string(&t.depends_on).map_err(corrupt)?;
                    sqlx::query(
                        "INSERT INTO tasks (id, track_id, template_key, phase, title, owner_side, kind, state, guidance,
                            depends_on, due_day, completed_at, completed_by, position, start_day, chosen_option, completed_by_role)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                         ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, title = excluded.title,
                            owner_side = excluded.owner_side, kind = excluded.kind, state = excluded.state,
                            guidance = excluded.guidance, depends_on = excluded.depends_on, due_day = excluded.due_day,
                            completed_at = excluded.completed_at, completed_by = excluded.completed_by,
                            position = excluded.position, start_day = excluded.start_day,
                            chosen_option = excluded.chosen_option, completed_by_role = excluded.completed_by_role",
                    )
                    .bind(task_id(w.id, &t.key))
                    .bind(&tid)
                    .bind(&t.key)
                    .bind(t.phase.as_str())
                    .bind(&t.title)
                    .bind(t.owner.as_str())
                    .bind(t.kind.as_str())
                    .bind(t.state.as_str())
                    .bind(guidance)
                    .bind(deps)
                    .bind(t.due_on.to_string())
                    .bind(t.done_at.map(|d| d.as_second()))
                    .bind(t.done_by.clone())
                    .bind(j as i64)
                    .bind(t.starts_on.to_string())
                    .bind(t.chosen_option.clone())
                    .bind(t.done_by_role.map(|r| r.as_str().to_string()))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for d in e.deviations.iter().skip(w.stored_deviations) {
                sqlx::query(
                    "INSERT INTO deviations (id, engagement_id, task_id, kind, reason, recorded_by, recorded_at,
                        task_key, recorded_by_role, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(new_id())
                .bind(w.id)
                .bind(task_id(w.id, &d.task))
                .bind(d.kind.as_str())
                .bind(&d.reason)
                .bind(&d.by)
                .bind(d.at.as_second())
                .bind(&d.task)
                .bind(d.by_role.as_str())
                .bind(serde_json::to_string(&d.kind).map_err(corrupt)?)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(r) = w.request_id {
                sqlx::query(
                    "INSERT INTO engagement_requests (engagement_id, request_id) VALUES ($1, $2)
                     ON CONFLICT (engagement_id, request_id) DO NOTHING",
                )
                .bind(w.id)
                .bind(r)
                .execute(&mut *tx)
                .await?;
            }
            audit!(
                tx,
                ctx,
                Some(w.org_id.to_string()),
                w.action,
                "engagement",
                w.id.to_string(),
                w.changes.clone()
            );
            Ok(())
        })?;
        self.get_engagement(w.id).await
    }

    /// R1: records that an engagement paused or resumed (state and `paused_at` only), audited;
    /// a stale version is left alone, since whoever changed it meanwhile saw the same subscription.
    #[tracing::instrument(name = "Pausing or resuming an engagement", skip_all)]
    pub async fn set_engagement_pause(
        &self,
        row: &EngagementRow,
        paused: bool,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        let (state, paused_at, action) = if paused {
            ("paused", Some(ctx.at), "engagement.pause")
        } else {
            ("active", None, "engagement.resume")
        };
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE engagements SET state = $2, paused_at = $3, version = version + 1, updated_at = $4
                 WHERE id = $1 AND version = $5 AND state IN ('active', 'paused')",
            )
            .bind(&row.id)
            .bind(state)
            .bind(paused_at)
            .bind(ctx.at)
            .bind(row.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                audit!(
                    tx,
                    ctx,
                    Some(row.org_id.clone()),
                    action,
                    "engagement",
                    row.id.clone(),
                    json!({"from": row.state, "to": state, "rule": "R1"})
                );
            }
            Ok(())
        })
    }

    /// Adds a comment to a task, audited.
    #[tracing::instrument(name = "Commenting on a task", skip_all)]
    pub async fn add_task_comment(
        &self,
        engagement: &EngagementRow,
        task_key: &str,
        body: &str,
        ctx: &AuditCtx,
    ) -> Result<TaskComment, StoreError> {
        let id = new_id();
        let author = ctx.actor_user_id.clone().unwrap_or_default();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO task_comments (id, task_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(task_id(&engagement.id, task_key))
            .bind(&author)
            .bind(body)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(engagement.org_id.clone()),
                "task.comment",
                "engagement",
                engagement.id.clone(),
                json!({"task": task_key, "comment_id": id})
            );
            Ok(())
        })?;
        Ok(TaskComment {
            id,
            task_key: task_key.to_string(),
            author_id: author,
            body: body.to_string(),
            created_at: ctx.at,
        })
    }

    /// Every comment on an engagement's tasks, oldest first.
    #[tracing::instrument(name = "Fetching an engagement's comments", skip_all)]
    pub async fn task_comments(&self, engagement_id: &str) -> Result<Vec<TaskComment>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT c.id, t.template_key AS task_key, c.author_id, c.body, c.created_at
             FROM task_comments c JOIN tasks t ON t.id = c.task_id JOIN tracks tr ON tr.id = t.track_id
             WHERE tr.engagement_id = $1 ORDER BY c.created_at, c.id"
        )
        .bind(engagement_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Writes one audit record in a transaction of its own: for refusals (R6), which change nothing else.
    #[tracing::instrument(name = "Auditing a refusal", skip_all)]
    pub async fn record_audit(
        &self,
        ctx: &AuditCtx,
        tenant_org_id: &str,
        action: &str,
        entity: &str,
        entity_id: &str,
        changes: Value,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            audit!(
                tx,
                ctx,
                Some(tenant_org_id.to_string()),
                action,
                entity,
                entity_id.to_string(),
                changes
            );
            Ok(())
        })
    }

    /// The meetings of an engagement (or of its requests), oldest first, cancelled ones left out.
    #[tracing::instrument(name = "Fetching an engagement's meetings", skip_all)]
    pub async fn engagement_meetings(
        &self,
        engagement_id: &str,
    ) -> Result<Vec<EngagementMeeting>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT id, purpose, starts_at, ends_at, state FROM meetings
             WHERE (engagement_id = $1 OR request_id IN (SELECT request_id FROM engagement_requests WHERE engagement_id = $1))
               AND state NOT IN ('cancelled', 'rescheduled')
             ORDER BY starts_at, id"
        )
        .bind(engagement_id)
        .fetch_all(p)
        .await?
        }))
    }
}

impl Store {
    /// The programme's template set, if one was stored.
    #[tracing::instrument(name = "Fetching the template set", skip_all)]
    pub async fn get_template_set(&self) -> Result<Option<TemplateSet>, StoreError> {
        let rows: Vec<(String, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT body, set_version FROM templates ORDER BY position, id"
        )
        .fetch_all(p)
        .await?);
        let Some(version) = rows.first().map(|r| r.1) else {
            return Ok(None);
        };
        let templates = rows
            .iter()
            .map(|(body, _)| decode::<Template>("template", body))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(TemplateSet {
            version: u32::try_from(version).map_err(corrupt)?,
            templates,
        }))
    }

    /// The programme's template set, storing `default` first when none is stored yet.
    pub async fn template_set_or(&self, default: TemplateSet) -> Result<TemplateSet, StoreError> {
        if let Some(set) = self.get_template_set().await? {
            return Ok(set);
        }
        let ctx = AuditCtx {
            at: Timestamp::now().as_second(),
            ..AuditCtx::default()
        };
        match self
            .replace_template_set(&default, &ctx, "templates.seed")
            .await
        {
            // Concurrent first uses (other requests, other processes on PostgreSQL) seed at
            // once: the losers' inserts collide with the winner's rows, which are what we want.
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(self.get_template_set().await?.unwrap_or(default))
    }

    /// Replaces the template set as a whole (validated by the caller), audited.
    #[tracing::instrument(name = "Replacing the template set", skip_all)]
    pub async fn put_template_set(
        &self,
        set: &TemplateSet,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        self.replace_template_set(set, ctx, "templates.replace")
            .await
    }

    async fn replace_template_set(
        &self,
        set: &TemplateSet,
        ctx: &AuditCtx,
        action: &str,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM templates")
                .execute(&mut *tx)
                .await?;
            for (i, t) in set.templates.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO templates (id, track_kind, service_id, body, updated_at, position, set_version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.track.key_prefix())
                .bind(track_kind_name(&t.track))
                .bind(track_service(&t.track))
                .bind(serde_json::to_string(t).map_err(corrupt)?)
                .bind(ctx.at)
                .bind(i as i64)
                .bind(i64::from(set.version))
                .execute(&mut *tx)
                .await?;
            }
            audit!(
                tx,
                ctx,
                None::<String>,
                action,
                "templates",
                "programme".to_string(),
                json!({"version": set.version, "templates": set.templates.len()})
            );
            Ok(())
        })
    }
}

impl Store {
    /// Requests counted by state, language or region (`dimension`), for the dashboard.
    #[tracing::instrument(name = "Counting requests for the dashboard", skip_all)]
    pub async fn count_requests_by(&self, dimension: &str) -> Result<Vec<KeyCount>, StoreError> {
        let sql = match dimension {
            "state" => {
                "SELECT state AS key, COUNT(*) AS count FROM requests GROUP BY state ORDER BY state"
            }
            "language" => {
                "SELECT language AS key, COUNT(*) AS count FROM requests GROUP BY language ORDER BY language"
            }
            _ => {
                "SELECT COALESCE(o.region_id, '') AS key, COUNT(*) AS count
                 FROM requests r JOIN organizations o ON o.id = r.org_id
                 GROUP BY COALESCE(o.region_id, '') ORDER BY 1"
            }
        };
        Ok(read!(self, |p| sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Open requests (not yet completed, declined or withdrawn) per language: the demand.
    #[tracing::instrument(name = "Counting open requests per language", skip_all)]
    pub async fn open_demand_by_language(&self) -> Result<Vec<KeyCount>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT language AS key, COUNT(*) AS count FROM requests
             WHERE state IN ('submitted', 'accepted', 'scheduled', 'in_progress')
             GROUP BY language ORDER BY language"
        )
        .fetch_all(p)
        .await?))
    }

    /// Active staff and their weekly capacity per spoken language.
    #[tracing::instrument(name = "Summing staff capacity per language", skip_all)]
    pub async fn staff_capacity_by_language(&self) -> Result<Vec<LanguageCapacity>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT l.language, COUNT(*) AS staff, CAST(COALESCE(SUM(s.weekly_capacity), 0) AS BIGINT) AS weekly_capacity
             FROM staff_languages l JOIN staff_profiles s ON s.user_id = l.user_id JOIN users u ON u.id = l.user_id
             WHERE NOT u.disabled GROUP BY l.language ORDER BY l.language"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// Seconds from each request's filing to its first meeting, for requests that have one.
    #[tracing::instrument(name = "Measuring request-to-first-meeting times", skip_all)]
    pub async fn first_meeting_delays(&self) -> Result<Vec<i64>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_scalar(
            "SELECT MIN(m.starts_at) - r.created_at FROM requests r JOIN meetings m ON m.request_id = r.id
             WHERE m.state NOT IN ('cancelled', 'rescheduled')
             GROUP BY r.id, r.created_at"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// Each open engagement's tasks as (engagement, phase, state), to find their current phase.
    #[tracing::instrument(name = "Fetching the phases of open engagements", skip_all)]
    pub async fn open_engagement_task_phases(
        &self,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT tr.engagement_id, t.phase, t.state FROM tasks t
             JOIN tracks tr ON tr.id = t.track_id JOIN engagements e ON e.id = tr.engagement_id
             WHERE e.state IN ('active', 'paused')"
        )
        .fetch_all(p)
        .await?))
    }

    /// Open tasks of open engagements due before `today` (YYYY-MM-DD), oldest due first, and how many there are.
    #[tracing::instrument(name = "Finding overdue tasks", skip_all)]
    pub async fn overdue_tasks(
        &self,
        today: &str,
        limit: i64,
    ) -> Result<(i64, Vec<OverdueTask>), StoreError> {
        let from = "FROM tasks t JOIN tracks tr ON tr.id = t.track_id JOIN engagements e ON e.id = tr.engagement_id
             WHERE e.state IN ('active', 'paused') AND t.state = 'open' AND t.due_day < $1";
        let count_sql = format!("SELECT COUNT(*) {from}");
        let list_sql = format!(
            "SELECT e.id AS engagement_id, e.org_id, t.template_key AS task_key, t.title, t.owner_side, t.due_day
             {from} ORDER BY t.due_day, t.id LIMIT CAST($2 AS BIGINT)"
        );
        let (n, rows) = read!(self, |p| {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
                .bind(today)
                .fetch_one(p)
                .await?;
            let rows: Vec<OverdueTask> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql.clone()))
                .bind(today)
                .bind(limit)
                .fetch_all(p)
                .await?;
            (n, rows)
        });
        Ok((n, rows))
    }
}
