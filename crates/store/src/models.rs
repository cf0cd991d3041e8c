//! Rows as stored: instants are UTC seconds, enumerations their stored names, lists JSON text
//! decoded on the way out. The web layer turns them into API documents.

use serde::{Deserialize, Serialize};

use crate::inline::inline_row;

/// An organization: a customer tenant, a partner or the programme itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organization {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub tenant_id: Option<String>,
    pub region_id: Option<String>,
    pub country: String,
    pub time_zone: String,
    pub language: String,
    /// JSON array of domains.
    pub domains: String,
    pub partner_of_record: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Organization {
    /// The domains, decoded.
    pub fn domain_list(&self) -> Vec<String> {
        serde_json::from_str(&self.domains).unwrap_or_default()
    }
}

/// A new organization, already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub kind: String,
    pub name: String,
    pub tenant_id: Option<String>,
    pub region_id: Option<String>,
    pub country: String,
    pub time_zone: String,
    pub language: String,
    pub domains: Vec<String>,
    pub partner_of_record: Option<String>,
}

/// Changes to an organization; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub region_id: Option<Option<String>>,
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub domains: Option<Vec<String>>,
    pub partner_of_record: Option<Option<String>>,
}

/// Filters for listing organizations.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub kind: Option<String>,
    pub region_id: Option<String>,
    /// Matches the name, a domain (prefix) or the tenant id.
    pub q: Option<String>,
    /// Only the customers this partner has a live relationship with (R9), at `now`.
    pub visible_to_partner: Option<(String, i64)>,
    /// Only this organization (callers who may see just their own).
    pub only: Option<String>,
}

/// A region with its zone and working hours (R12).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    /// JSON: weekday → list of ["HH:MM","HH:MM"] intervals.
    pub working_hours: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A public holiday of a region.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Holiday {
    pub region_id: String,
    pub day: String,
    pub name: String,
}

/// A service of the catalogue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A plan of the catalogue, with the services it makes eligible (R2).
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub paid: bool,
    pub eligible: bool,
    pub services: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PlanRow {
    pub id: String,
    pub name: String,
    pub paid: bool,
    pub eligible: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A tenant's subscription to a plan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: String,
    pub org_id: String,
    pub plan_id: String,
    pub seats: i64,
    pub state: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new subscription, already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub org_id: String,
    pub plan_id: String,
    pub seats: i64,
    pub state: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

/// A subscription with what R1 needs of its plan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionWithPlan {
    pub plan_id: String,
    pub paid: bool,
    pub eligible: bool,
    pub seats: i64,
    pub state: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

/// Filters for listing subscriptions.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub org_id: Option<String>,
    pub state: Option<String>,
    pub plan_id: Option<String>,
}

/// A partner–customer relationship (R9, R16).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Relationship {
    pub id: String,
    pub partner_org_id: String,
    pub customer_org_id: String,
    pub status: String,
    /// JSON array of scope actions.
    pub scope_actions: String,
    /// JSON array of services, or NULL for every service.
    pub scope_services: Option<String>,
    pub requested_days: i64,
    pub requested_at: i64,
    pub requested_by: String,
    pub approved_at: Option<i64>,
    pub approved_by: Option<String>,
    pub expires_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
    pub updated_at: i64,
}

/// Filters for listing relationships.
#[derive(Debug, Clone, Default)]
pub struct RelationshipFilter {
    pub partner_org_id: Option<String>,
    pub customer_org_id: Option<String>,
    /// Either side: the caller's own organization.
    pub party: Option<String>,
    pub status: Option<String>,
}

/// A user of any organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What programme staff have beyond a user: region, capacity, spoken languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffProfile {
    pub region_id: String,
    pub weekly_capacity: i64,
    pub languages: Vec<String>,
}

/// A new user, already validated (and the password already hashed) by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub staff: Option<StaffProfile>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    pub password_hash: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub disabled: Option<bool>,
    pub staff: Option<StaffProfile>,
}

/// Filters for listing users.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub org_id: Option<String>,
    pub role: Option<String>,
    pub q: Option<String>,
}

/// A personal API token (its secret is never stored, only its SHA-256).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A signed-in session, found by the SHA-256 of its cookie.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// One audit record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub acting_for_org_id: Option<String>,
    pub tenant_org_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// JSON of what changed.
    pub changes: String,
}

inline_row!(Organization {
    id,
    kind,
    name,
    tenant_id,
    region_id,
    country,
    time_zone,
    language,
    domains,
    partner_of_record,
    created_at,
    updated_at,
});
inline_row!(User {
    id,
    org_id,
    email,
    name,
    role,
    password_hash,
    language,
    time_zone,
    disabled,
    created_at,
    updated_at,
});
inline_row!(SubscriptionWithPlan {
    plan_id,
    paid,
    eligible,
    seats,
    state,
    starts_at,
    ends_at,
});
