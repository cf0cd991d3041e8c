//! Requests for assistance, their history, and the mail each change sends (through the job queue,
//! in the same transaction).

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{json, Value};

use crate::audit::audit;
use crate::jobs::enqueue;
use crate::{new_id, read, write_tx, AuditCtx, Page, Paged, Store, StoreError};

/// A request for assistance as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Request {
    pub id: String,
    pub org_id: String,
    pub filed_by: String,
    pub filed_by_org_id: String,
    pub channel: String,
    /// JSON array of kinds of help.
    pub kinds: String,
    /// JSON array of service ids.
    pub services: String,
    /// JSON {name, email, phone}.
    pub contact: String,
    pub language: String,
    pub time_zone: String,
    /// JSON array of [start, end) pairs (RFC 3339).
    pub preferred_windows: String,
    pub description: String,
    /// JSON migration facts (R14), when migration was asked for.
    pub migration: Option<String>,
    pub migration_level: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub manager_id: Option<String>,
    pub awaiting_requester: bool,
    pub first_response_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

crate::inline::inline_row!(Request {
    id,
    org_id,
    filed_by,
    filed_by_org_id,
    channel,
    kinds,
    services,
    contact,
    language,
    time_zone,
    preferred_windows,
    description,
    migration,
    migration_level,
    state,
    state_reason,
    manager_id,
    awaiting_requester,
    first_response_at,
    created_at,
    updated_at,
});

/// One step of a request's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestEventRow {
    pub id: String,
    pub request_id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
}

/// A job to enqueue when a change commits (`mail`, `webhook`, …): at most one per dedupe key.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub kind: String,
    pub dedupe_key: String,
    pub payload: Value,
}

/// Filters for the request list and the staff queue.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub state: Option<String>,
    pub language: Option<String>,
    pub region_id: Option<String>,
    pub service: Option<String>,
    pub org_id: Option<String>,
    /// Requests of customers this partner has a live relationship with, or that it filed (R9).
    pub partner: Option<(String, i64)>,
    pub created_before: Option<i64>,
    pub created_after: Option<i64>,
}

/// A state change to persist, as the core decided it.
#[derive(Debug, Clone)]
pub struct Transition {
    pub from_state: String,
    pub from_awaiting: bool,
    pub to_state: String,
    pub awaiting_requester: bool,
    pub event: String,
    pub note: Option<String>,
    /// Sets the state's reason (a decline's reason); `None` keeps it.
    pub reason: Option<String>,
    pub manager_id: Option<String>,
    /// Set when this is the team's first response (R15).
    pub first_response: bool,
}

/// The active managers of region `$1`, read from the indexes `users_role` and
/// `staff_profiles_user_region` alone (migration 9).
const REGION_MANAGERS: &str =
    "SELECT u.email FROM users u JOIN staff_profiles s ON s.user_id = u.id
     WHERE u.role = 'fasttrack_manager' AND NOT u.disabled AND s.region_id = $1 ORDER BY u.email";

const COLUMNS: &str = "id, org_id, filed_by, filed_by_org_id, channel, kinds, services, contact, language, time_zone,
    preferred_windows, description, migration, migration_level, state, state_reason, manager_id, awaiting_requester,
    first_response_at, created_at, updated_at";

/// A new request as the intake writer stores it: what a read right after the commit returns.
pub(crate) fn as_filed(r: &Request, ctx: &AuditCtx) -> Request {
    Request {
        state_reason: None,
        manager_id: None,
        awaiting_requester: false,
        first_response_at: None,
        created_at: ctx.at,
        updated_at: ctx.at,
        ..r.clone()
    }
}

impl Store {
    /// Records a new request, its first history entry, the audit record and its mails, atomically.
    #[tracing::instrument(name = "Filing a request", skip_all)]
    pub async fn create_request(
        &self,
        r: &Request,
        jobs: &[JobSpec],
        ctx: &AuditCtx,
    ) -> Result<Request, StoreError> {
        // Committed with the other filings waiting at this moment, in one transaction;
        // acknowledged only once that commit is durable.
        self.intake
            .file(r.clone(), jobs.to_vec(), ctx.clone())
            .await?;
        // The row is exactly what was written (`as_filed`), so it is not read back: one round
        // trip less on the busiest write path.
        Ok(as_filed(r, ctx))
    }

    /// One request.
    #[tracing::instrument(name = "Fetching a request", skip_all)]
    pub async fn get_request(&self, id: &str) -> Result<Request, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM requests WHERE id = $1");
        self.inline_row(&sql, &[id.into()])
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A request's history, oldest first.
    #[tracing::instrument(name = "Fetching a request's history", skip_all)]
    pub async fn request_events(&self, id: &str) -> Result<Vec<RequestEventRow>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT id, request_id, at, actor_id, from_state, to_state, note FROM request_events WHERE request_id = $1 ORDER BY at, id"
        )
        .bind(id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Requests matching `f`, oldest first (the queue's natural order).
    #[tracing::instrument(name = "Listing requests", skip_all)]
    pub async fn list_requests(
        &self,
        f: &RequestFilter,
        page: &Page,
    ) -> Result<Paged<Request>, StoreError> {
        let service = f
            .service
            .as_ref()
            .map(|s| format!("%\"{}\"%", crate::orgs::escape_like(s)));
        let (partner, now) = f
            .partner
            .clone()
            .map_or((None, None), |(p, n)| (Some(p), Some(n)));
        let sql = format!(
            "SELECT {COLUMNS} FROM requests
             WHERE ($1 IS NULL OR state = $1)
               AND ($2 IS NULL OR language = $2)
               AND ($3 IS NULL OR org_id IN (SELECT id FROM organizations WHERE region_id = $3))
               AND ($4 IS NULL OR services LIKE $4 ESCAPE '\\')
               AND ($5 IS NULL OR org_id = $5)
               AND ($6 IS NULL OR filed_by_org_id = $6 OR org_id IN (SELECT customer_org_id FROM relationships
                       WHERE partner_org_id = $6 AND status = 'active' AND expires_at > $7))
               AND ($8 IS NULL OR created_at < $8)
               AND ($9 IS NULL OR created_at >= $9)
               AND ($10 IS NULL OR id > $10)
             ORDER BY id LIMIT CAST($11 AS BIGINT)"
        );
        let rows: Vec<Request> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.state.clone())
            .bind(f.language.clone())
            .bind(f.region_id.clone())
            .bind(service.clone())
            .bind(f.org_id.clone())
            .bind(partner.clone())
            .bind(now)
            .bind(f.created_before)
            .bind(f.created_after)
            .bind(page.after.clone())
            .bind(page.limit + 1)
            .fetch_all(p)
            .await?);
        Ok(Paged::from_rows(rows, page.limit, |r| r.id.clone()))
    }

    /// Applies a transition if the request is still where the caller saw it (else `Conflict`),
    /// with its history entry, audit record and mails, atomically.
    #[tracing::instrument(name = "Changing a request's state", skip_all)]
    pub async fn transition_request(
        &self,
        r: &Request,
        t: &Transition,
        jobs: &[JobSpec],
        ctx: &AuditCtx,
    ) -> Result<Request, StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE requests SET state = $2, awaiting_requester = $3, state_reason = COALESCE($4, state_reason),
                    manager_id = COALESCE($5, manager_id),
                    first_response_at = CASE WHEN $6 AND first_response_at IS NULL THEN $7 ELSE first_response_at END,
                    updated_at = $7
                 WHERE id = $1 AND state = $8 AND awaiting_requester = $9",
            )
            .bind(&r.id)
            .bind(&t.to_state)
            .bind(t.awaiting_requester)
            .bind(t.reason.clone())
            .bind(t.manager_id.clone())
            .bind(t.first_response)
            .bind(ctx.at)
            .bind(&t.from_state)
            .bind(t.from_awaiting)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict {
                    field: "state".into(),
                    message: "the request changed meanwhile; reload it and try again".into(),
                });
            }
            sqlx::query(
                "INSERT INTO request_events (id, request_id, at, actor_id, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(&r.id)
            .bind(ctx.at)
            .bind(ctx.actor_user_id.clone())
            .bind(&t.from_state)
            .bind(&t.to_state)
            .bind(t.note.clone().map(|n| format!("{}: {n}", t.event)).or_else(|| Some(t.event.clone())))
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(r.org_id.clone()),
                format!("request.{}", t.event),
                "request",
                r.id.clone(),
                json!({"from": t.from_state, "to": t.to_state, "awaiting_requester": t.awaiting_requester,
                       "reason": t.reason, "note": t.note, "manager_id": t.manager_id})
            );
            for m in jobs {
                enqueue!(
                    tx,
                    m.kind.clone(),
                    Some(m.dedupe_key.clone()),
                    m.payload.clone(),
                    ctx.at,
                    ctx.at
                );
            }
            Ok(())
        })?;
        self.get_request(&r.id).await
    }

    /// E-mail addresses of FastTrack Managers of a region (all managers when the region has none).
    ///
    /// Every filing asks; the answer changes only with the team. So a region's list is kept with
    /// the scheduling version it was read at (moved by triggers in the same commit as any change
    /// to staff users or their profiles, from any server process) and served while the version
    /// stands. The version is read first: a change committed in between costs a read, never a
    /// stale list.
    #[tracing::instrument(name = "Finding the managers to notify", skip_all)]
    pub async fn manager_emails(&self, region_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        if let Some(region) = region_id {
            let version = self.scheduling_version().await?;
            if let Some(emails) = self.managers.get(region, version) {
                return Ok(emails);
            }
            let regional: Vec<(String,)> =
                self.inline_rows(REGION_MANAGERS, &[region.into()]).await?;
            if !regional.is_empty() {
                let emails: Vec<String> = regional.into_iter().map(|(e,)| e).collect();
                self.managers.put(region, version, emails.clone());
                return Ok(emails);
            }
        }
        // A manager without a staff profile moves no version: this list is read every time.
        let all: Vec<(String,)> = self
            .inline_rows(
                "SELECT email FROM users WHERE role = 'fasttrack_manager' AND NOT disabled ORDER BY email LIMIT 20",
                &[],
            )
            .await?;
        Ok(all.into_iter().map(|(e,)| e).collect())
    }
}

/// Each region's managers as last read, with the scheduling version they were read at.
#[derive(Debug, Default)]
pub(crate) struct RegionManagers(RwLock<HashMap<String, (i64, Vec<String>)>>);

impl RegionManagers {
    fn get(&self, region: &str, version: i64) -> Option<Vec<String>> {
        let held = self.0.read().unwrap_or_else(|e| e.into_inner());
        held.get(region)
            .filter(|(v, _)| *v == version)
            .map(|(_, emails)| emails.clone())
    }

    fn put(&self, region: &str, version: i64, emails: Vec<String>) {
        let mut held = self.0.write().unwrap_or_else(|e| e.into_inner());
        // Regions are a handful; a list read at an older version never replaces a newer one.
        if held.get(region).is_none_or(|(v, _)| *v <= version) {
            held.insert(region.to_string(), (version, emails));
        }
    }
}

impl Store {
    /// Each request's services and state for a tenant: what the deployment cards summarise.
    #[tracing::instrument(name = "Summarising a tenant's requests by service", skip_all)]
    pub async fn request_services(
        &self,
        org_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT services, state FROM requests WHERE org_id = $1 ORDER BY id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::REGION_MANAGERS;
    use crate::{AuditCtx, NewOrganization, NewUser, Region, StaffProfile, Store, UserPatch};

    async fn manager(store: &Store, org_id: &str, email: &str, region: &str) -> String {
        let user = NewUser {
            org_id: org_id.into(),
            email: email.into(),
            name: email.into(),
            role: "fasttrack_manager".into(),
            password_hash: None,
            language: "en".into(),
            time_zone: "Europe/Rome".into(),
            staff: Some(StaffProfile {
                region_id: region.into(),
                weekly_capacity: 10,
                languages: vec!["en".into()],
            }),
        };
        let ctx = AuditCtx::default();
        store.create_user(&user, &ctx).await.expect("a manager").id
    }

    /// The list is kept between filings; a change made by another server process (here a second
    /// store on the same file) must still reach the next filing.
    #[tokio::test]
    async fn a_regions_managers_follow_changes_made_by_another_server() {
        let db = crate::TempSqlite::new().await;
        let other = Store::connect(&db.path).await.expect("a second server");
        let ctx = AuditCtx::default();
        for id in ["europe-west", "americas-east"] {
            let region = Region {
                id: id.into(),
                name: id.into(),
                time_zone: "Europe/Rome".into(),
                working_hours: r#"{"mon": [["09:00","17:00"]]}"#.into(),
                created_at: 0,
                updated_at: 0,
            };
            db.store
                .upsert_region(&region, &ctx)
                .await
                .expect("a region");
        }
        let programme = NewOrganization {
            kind: "programme".into(),
            name: "FastTrack".into(),
            tenant_id: None,
            region_id: None,
            country: "IT".into(),
            time_zone: "Europe/Rome".into(),
            language: "en".into(),
            domains: vec![],
            partner_of_record: None,
        };
        let org = db
            .store
            .create_org(&programme, &ctx)
            .await
            .expect("the programme")
            .id;
        let ada = manager(&db.store, &org, "ada@fasttrack.example", "europe-west").await;
        let bob = manager(&db.store, &org, "bob@fasttrack.example", "europe-west").await;
        let emails = |v: &[&str]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
        let west = Some("europe-west");
        assert_eq!(
            db.store.manager_emails(west).await.expect("managers"),
            emails(&["ada@fasttrack.example", "bob@fasttrack.example"])
        );

        let disable = UserPatch {
            disabled: Some(true),
            ..UserPatch::default()
        };
        other
            .update_user(&bob, &disable, &ctx)
            .await
            .expect("bob disabled");
        assert_eq!(
            db.store.manager_emails(west).await.expect("managers"),
            emails(&["ada@fasttrack.example"])
        );

        let moved = UserPatch {
            staff: Some(StaffProfile {
                region_id: "americas-east".into(),
                weekly_capacity: 10,
                languages: vec!["en".into()],
            }),
            ..UserPatch::default()
        };
        other
            .update_user(&ada, &moved, &ctx)
            .await
            .expect("ada moved");
        manager(&other, &org, "cal@fasttrack.example", "europe-west").await;
        assert_eq!(
            db.store.manager_emails(west).await.expect("managers"),
            emails(&["cal@fasttrack.example"])
        );
        assert_eq!(
            db.store
                .manager_emails(Some("americas-east"))
                .await
                .expect("managers"),
            emails(&["ada@fasttrack.example"])
        );
        other.close().await;
    }

    /// Each filing runs this join over every manager of the programme: through the tables it read
    /// a user row and a profile row per manager (BENCHMARKS.md).
    #[tokio::test]
    async fn a_regions_managers_are_found_from_indexes_alone_on_sqlite() {
        let db = crate::TempSqlite::new().await;
        let plan = db
            .query_plan(REGION_MANAGERS, &["europe-west".into()])
            .await;
        let searches: Vec<&String> = plan.iter().filter(|d| d.starts_with("SEARCH")).collect();
        assert_eq!(searches.len(), 2, "{plan:?}");
        assert!(
            searches.iter().all(|d| d.contains("USING COVERING INDEX")),
            "{plan:?}"
        );
    }
}
