//! Online meetings (R10–R13): booking, rescheduling and cancelling, each atomic with its history,
//! its audit record, the request's move to `scheduled` and its invite mails.
//!
//! No staff member can be double-booked: PostgreSQL refuses overlapping booked meetings with an
//! exclusion constraint, SQLite with triggers (and its single writer makes check-then-insert
//! atomic). Either refusal becomes [`StoreError::Conflict`] on the field `start`.

use serde_json::json;

use crate::audit::audit;
use crate::jobs::enqueue;
use crate::requests::Transition;
use crate::{new_id, read, write_tx, AuditCtx, JobSpec, Page, Paged, Store, StoreError};

/// The columns of a meeting row, in [`Meeting`]'s order.
const COLUMNS: &str = "id, uid, request_id, engagement_id, staff_id, purpose, starts_at, ends_at, state, sequence,
    online_link, replaces_id, time_zone, attendees, booked_by, cancel_reason, created_at, updated_at";

/// A meeting as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Meeting {
    pub id: String,
    /// The iCalendar UID, the same across reschedules.
    pub uid: String,
    pub request_id: Option<String>,
    pub engagement_id: Option<String>,
    pub staff_id: String,
    pub purpose: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// `booked`, `rescheduled` (replaced by a later row), `cancelled`, `held` or `proposed`.
    pub state: String,
    /// The iCalendar SEQUENCE: grows with every change sent to attendees.
    pub sequence: i64,
    /// R13: where the meeting is held, always online.
    pub online_link: String,
    pub replaces_id: Option<String>,
    /// The customer's IANA zone, for local times.
    pub time_zone: String,
    /// JSON array of the attendees' e-mail addresses.
    pub attendees: String,
    pub booked_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Meeting {
    /// The attendees' e-mail addresses.
    pub fn attendee_list(&self) -> Vec<String> {
        serde_json::from_str(&self.attendees).unwrap_or_default()
    }
}

/// A meeting to book, already validated by the caller (R10–R12 by the core).
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub id: String,
    pub uid: String,
    pub request_id: String,
    pub staff_id: String,
    pub purpose: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub online_link: String,
    pub time_zone: String,
    pub attendees: Vec<String>,
}

/// A job that goes with a meeting change: when it runs (`run_at`) and what it is.
#[derive(Debug, Clone)]
pub struct TimedJob {
    pub run_at: i64,
    pub job: JobSpec,
}

/// The request's state as the booking transaction finds it: `(state, awaiting_requester)`.
pub type RequestPosition = (String, bool);

/// Filters for listing meetings.
#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    pub request_id: Option<String>,
    pub staff_id: Option<String>,
    /// Meetings of this tenant's requests only.
    pub org_id: Option<String>,
    /// Meetings ending after this instant.
    pub from: Option<i64>,
    /// Meetings starting before this instant.
    pub to: Option<i64>,
    pub state: Option<String>,
}

/// Turns the database's refusal of an overlapping booking into a conflict on `start`.
fn overlap(e: StoreError) -> StoreError {
    match &e {
        StoreError::Database(sqlx::Error::Database(db))
            if db.message().contains("meetings_no_overlap")
                || db.constraint() == Some("meetings_no_overlap") =>
        {
            clash()
        }
        _ => e,
    }
}

/// The conflict of a booking that overlaps another booking of the same staff member (R10).
fn clash() -> StoreError {
    StoreError::Conflict {
        field: "start".into(),
        message: "the staff member already has a meeting at that time; pick another slot".into(),
    }
}

/// Inserts a booked meeting after checking overlap (the database checks again).
macro_rules! insert_meeting {
    ($tx:expr, $m:expr, $sequence:expr, $replaces:expr, $ctx:expr) => {{
        let m: &NewMeeting = $m;
        let busy: Option<String> = sqlx::query_scalar(
            "SELECT id FROM meetings WHERE staff_id = $1 AND state = 'booked' AND starts_at < $3 AND $2 < ends_at LIMIT 1",
        )
        .bind(&m.staff_id)
        .bind(m.starts_at)
        .bind(m.ends_at)
        .fetch_optional(&mut *$tx)
        .await?;
        if busy.is_some() {
            return Err(clash());
        }
        sqlx::query(
            "INSERT INTO meetings (id, uid, request_id, engagement_id, staff_id, purpose, starts_at, ends_at, state, sequence,
                online_link, replaces_id, time_zone, attendees, booked_by, cancel_reason, created_at, updated_at)
             VALUES ($1, $2, $3,
                (SELECT engagement_id FROM engagement_requests WHERE request_id = $3 ORDER BY engagement_id LIMIT 1),
                $4, $5, $6, $7, 'booked', $8, $9, $10, $11, $12, $13, NULL, $14, $14)",
        )
        .bind(&m.id)
        .bind(&m.uid)
        .bind(&m.request_id)
        .bind(&m.staff_id)
        .bind(&m.purpose)
        .bind(m.starts_at)
        .bind(m.ends_at)
        .bind($sequence)
        .bind(&m.online_link)
        .bind($replaces)
        .bind(&m.time_zone)
        .bind(serde_json::Value::from(m.attendees.clone()).to_string())
        .bind($ctx.actor_user_id.clone())
        .bind($ctx.at)
        .execute(&mut *$tx)
        .await
        .map_err(|e| overlap(StoreError::from(e)))?;
    }};
}

/// Enqueues the jobs of a meeting change inside the transaction.
macro_rules! enqueue_all {
    ($tx:expr, $jobs:expr, $ctx:expr) => {{
        for j in $jobs {
            enqueue!(
                $tx,
                j.job.kind.clone(),
                Some(j.job.dedupe_key.clone()),
                j.job.payload.clone(),
                j.run_at,
                $ctx.at
            );
        }
    }};
}

/// Retires the pending jobs (reminders) of a superseded meeting version.
macro_rules! retire_jobs {
    ($tx:expr, $keys:expr, $ctx:expr) => {{
        for key in $keys {
            sqlx::query(
                "UPDATE jobs SET state = 'done', done_at = $2, last_error = 'superseded by a change of the meeting'
                 WHERE dedupe_key = $1 AND state = 'pending'",
            )
            .bind(key)
            .bind($ctx.at)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl Store {
    /// Books a meeting for a request, atomically with the request's move to `scheduled` and the
    /// invite and reminder jobs.
    ///
    /// `decide` sees the request's position (locked for the transaction on PostgreSQL) and says
    /// which transition to apply, if any, or refuses. An overlapping booking is a `Conflict`.
    #[tracing::instrument(name = "Booking a meeting", skip_all)]
    pub async fn book_meeting<F>(
        &self,
        m: &NewMeeting,
        decide: F,
        jobs: &[TimedJob],
        ctx: &AuditCtx,
    ) -> Result<Meeting, StoreError>
    where
        F: Fn(&RequestPosition) -> Result<Option<Transition>, StoreError> + Send + Sync,
    {
        write_tx!(self, |tx| {
            // Touching the row locks it on PostgreSQL: bookings of one request take turns.
            let pos: Option<(String, bool, String)> = sqlx::query_as(
                "UPDATE requests SET updated_at = updated_at WHERE id = $1
                 RETURNING state, awaiting_requester, org_id",
            )
            .bind(&m.request_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((state, awaiting, org_id)) = pos else {
                return Err(StoreError::NotFound);
            };
            let transition = decide(&(state.clone(), awaiting))?;
            insert_meeting!(tx, m, 0i64, None::<String>, ctx);
            if let Some(t) = &transition {
                sqlx::query(
                    "UPDATE requests SET state = $2, awaiting_requester = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(&m.request_id)
                .bind(&t.to_state)
                .bind(t.awaiting_requester)
                .bind(ctx.at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO request_events (id, request_id, at, actor_id, from_state, to_state, note)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id())
                .bind(&m.request_id)
                .bind(ctx.at)
                .bind(ctx.actor_user_id.clone())
                .bind(&state)
                .bind(&t.to_state)
                .bind(format!("{}: {}", t.event, t.note.clone().unwrap_or_default()))
                .execute(&mut *tx)
                .await?;
                audit!(
                    tx,
                    ctx,
                    Some(org_id.clone()),
                    format!("request.{}", t.event),
                    "request",
                    m.request_id.clone(),
                    json!({"from": state, "to": t.to_state, "meeting_id": m.id})
                );
            }
            audit!(
                tx,
                ctx,
                Some(org_id.clone()),
                "meeting.book",
                "meeting",
                m.id.clone(),
                json!({"request_id": m.request_id, "staff_id": m.staff_id, "starts_at": m.starts_at,
                       "ends_at": m.ends_at, "purpose": m.purpose, "online_link": m.online_link})
            );
            enqueue_all!(tx, jobs, ctx);
            Ok(())
        })?;
        self.get_meeting(&m.id).await
    }

    /// Moves a booked meeting: the old row becomes `rescheduled`, a new row replaces it with the
    /// same UID and the next SEQUENCE, with its jobs; `retire` names jobs of the old version.
    #[tracing::instrument(name = "Rescheduling a meeting", skip_all)]
    pub async fn reschedule_meeting(
        &self,
        old: &Meeting,
        new: &NewMeeting,
        jobs: &[TimedJob],
        retire: &[String],
        ctx: &AuditCtx,
    ) -> Result<Meeting, StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE meetings SET state = 'rescheduled', updated_at = $2 WHERE id = $1 AND state = 'booked' AND sequence = $3",
            )
            .bind(&old.id)
            .bind(ctx.at)
            .bind(old.sequence)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict {
                    field: "state".into(),
                    message: "the meeting changed meanwhile (or is no longer booked); reload it"
                        .into(),
                });
            }
            insert_meeting!(tx, new, old.sequence + 1, Some(old.id.clone()), ctx);
            retire_jobs!(tx, retire, ctx);
            let org_id: Option<String> =
                sqlx::query_scalar("SELECT org_id FROM requests WHERE id = $1")
                    .bind(&new.request_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            audit!(
                tx,
                ctx,
                org_id,
                "meeting.reschedule",
                "meeting",
                new.id.clone(),
                json!({"replaces_id": old.id, "uid": new.uid, "sequence": old.sequence + 1,
                       "staff_id": new.staff_id, "starts_at": new.starts_at, "ends_at": new.ends_at,
                       "was": {"staff_id": old.staff_id, "starts_at": old.starts_at, "ends_at": old.ends_at}})
            );
            enqueue_all!(tx, jobs, ctx);
            Ok(())
        })?;
        self.get_meeting(&new.id).await
    }

    /// Cancels a booked meeting (its SEQUENCE grows, so the CANCEL supersedes the invite), with
    /// its cancellation jobs; `retire` names jobs of the cancelled version.
    #[tracing::instrument(name = "Cancelling a meeting", skip_all)]
    pub async fn cancel_meeting(
        &self,
        m: &Meeting,
        reason: Option<&str>,
        jobs: &[TimedJob],
        retire: &[String],
        ctx: &AuditCtx,
    ) -> Result<Meeting, StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE meetings SET state = 'cancelled', sequence = sequence + 1, cancel_reason = $3, updated_at = $2
                 WHERE id = $1 AND state = 'booked' AND sequence = $4",
            )
            .bind(&m.id)
            .bind(ctx.at)
            .bind(reason)
            .bind(m.sequence)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict {
                    field: "state".into(),
                    message: "the meeting changed meanwhile (or is no longer booked); reload it"
                        .into(),
                });
            }
            retire_jobs!(tx, retire, ctx);
            let org_id: Option<String> =
                sqlx::query_scalar("SELECT org_id FROM requests WHERE id = $1")
                    .bind(m.request_id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
            audit!(
                tx,
                ctx,
                org_id,
                "meeting.cancel",
                "meeting",
                m.id.clone(),
                json!({"uid": m.uid, "sequence": m.sequence + 1, "reason": reason})
            );
            enqueue_all!(tx, jobs, ctx);
            Ok(())
        })?;
        self.get_meeting(&m.id).await
    }

    /// One meeting.
    #[tracing::instrument(name = "Fetching a meeting", skip_all)]
    pub async fn get_meeting(&self, id: &str) -> Result<Meeting, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM meetings WHERE id = $1");
        let row: Option<Meeting> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// The row that replaced a meeting, if it was rescheduled.
    #[tracing::instrument(name = "Finding a meeting's replacement", skip_all)]
    pub async fn meeting_replaced_by(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT id FROM meetings WHERE replaces_id = $1 LIMIT 1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?))
    }

    /// Meetings matching `f`, by id (creation order).
    #[tracing::instrument(name = "Listing meetings", skip_all)]
    pub async fn list_meetings(
        &self,
        f: &MeetingFilter,
        page: &Page,
    ) -> Result<Paged<Meeting>, StoreError> {
        let cols = COLUMNS
            .split(',')
            .map(|c| format!("m.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM meetings m
             WHERE ($1 IS NULL OR m.request_id = $1)
               AND ($2 IS NULL OR m.staff_id = $2)
               AND ($3 IS NULL OR m.request_id IN (SELECT id FROM requests WHERE org_id = $3))
               AND ($4 IS NULL OR m.ends_at > $4)
               AND ($5 IS NULL OR m.starts_at < $5)
               AND ($6 IS NULL OR m.state = $6)
               AND ($7 IS NULL OR m.id > $7)
             ORDER BY m.id LIMIT CAST($8 AS BIGINT)"
        );
        let rows: Vec<Meeting> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.request_id.clone())
            .bind(f.staff_id.clone())
            .bind(f.org_id.clone())
            .bind(f.from)
            .bind(f.to)
            .bind(f.state.clone())
            .bind(page.after.clone())
            .bind(page.limit + 1)
            .fetch_all(p)
            .await?);
        Ok(Paged::from_rows(rows, page.limit, |m| m.id.clone()))
    }

    /// R15: when a request's first meeting starts (the earliest booked or held one), if any.
    #[tracing::instrument(name = "Finding a request's first meeting", skip_all)]
    pub async fn first_meeting_start(&self, request_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_scalar(
            "SELECT MIN(starts_at) FROM meetings WHERE request_id = $1 AND state IN ('booked', 'held')"
        )
        .bind(request_id)
        .fetch_one(p)
        .await?
        }))
    }

    /// Accepted requests without a booked or held meeting, oldest first: the backlog.
    #[tracing::instrument(name = "Listing the scheduling backlog", skip_all)]
    pub async fn scheduling_backlog(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_scalar(
            "SELECT r.id FROM requests r
             WHERE r.state = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM meetings m WHERE m.request_id = r.id AND m.state IN ('booked', 'held'))
             ORDER BY r.created_at, r.id LIMIT CAST($1 AS BIGINT)"
        )
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }
}
