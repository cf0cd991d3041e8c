//! Bulk loading of a large synthetic programme, for the load benchmark (BENCHMARKS.md).
//!
//! The normal write paths audit every row and send mail; a million tenants through them would take
//! hours. These inserts write the same rows the normal paths would (organizations with their
//! domains and search index, subscriptions, relationships, users, staff profiles) in large
//! multi-row statements of a thousand rows each.

use crate::{Pool, Store, StoreError};

/// Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters.
const BATCH: usize = 1_000;

/// One customer tenant of the synthetic programme.
#[derive(Debug, Clone)]
pub struct BulkTenant {
    pub id: String,
    pub name: String,
    pub tenant_id: String,
    pub domain: String,
    pub region_id: String,
    pub country: String,
    pub time_zone: String,
    pub language: String,
    pub plan_id: String,
    pub seats: i64,
    /// The partner that works with this tenant under an active relationship, if any.
    pub partner_id: Option<String>,
}

/// One partner organization and its single user.
#[derive(Debug, Clone)]
pub struct BulkPartner {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub user_id: String,
}

/// One staff member of the programme.
#[derive(Debug, Clone)]
pub struct BulkStaff {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub region_id: String,
    pub time_zone: String,
    pub languages: Vec<String>,
}

macro_rules! run_batches {
    ($self:expr, $items:expr, $head:expr, |$b:ident, $it:ident| $push:block) => {{
        for chunk in $items.chunks(BATCH) {
            match &$self.pool {
                Pool::Sqlite { write, .. } => {
                    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new($head);
                    q.push_values(chunk, |mut $b, $it| $push);
                    q.build().execute(write).await?;
                }
                Pool::Postgres(p) => {
                    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new($head);
                    q.push_values(chunk, |mut $b, $it| $push);
                    q.build().execute(p).await?;
                }
            }
        }
    }};
}

impl Store {
    /// Inserts partners (each with one `partner_user`), then tenants with their domain, one
    /// active subscription and, when they have a partner, an active relationship until `until`.
    pub async fn bulk_tenants(
        &self,
        partners: &[BulkPartner],
        tenants: &[BulkTenant],
        at: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        run_batches!(
            self,
            partners,
            "INSERT INTO organizations (id, kind, name, tenant_id, region_id, country, time_zone, language, domains, partner_of_record, created_at, updated_at) ",
            |b, p| {
                b.push_bind(p.id.clone())
                    .push_bind("partner")
                    .push_bind(p.name.clone())
                    .push_bind(None::<String>)
                    .push_bind(None::<String>)
                    .push_bind("IT")
                    .push_bind("Europe/Rome")
                    .push_bind("en")
                    .push_bind(format!("[\"{}\"]", p.domain))
                    .push_bind(None::<String>)
                    .push_bind(at)
                    .push_bind(at);
            }
        );
        run_batches!(
            self,
            partners,
            "INSERT INTO org_domains (domain, org_id) ",
            |b, p| {
                b.push_bind(p.domain.clone()).push_bind(p.id.clone());
            }
        );
        run_batches!(
            self,
            partners,
            "INSERT INTO users (id, org_id, email, name, role, password_hash, language, time_zone, disabled, created_at, updated_at) ",
            |b, p| {
                b.push_bind(p.user_id.clone())
                    .push_bind(p.id.clone())
                    .push_bind(format!("user@{}", p.domain))
                    .push_bind(format!("{} consultant", p.name))
                    .push_bind("partner_user")
                    .push_bind(None::<String>)
                    .push_bind("en")
                    .push_bind("Europe/Rome")
                    .push_bind(false)
                    .push_bind(at)
                    .push_bind(at);
            }
        );
        run_batches!(
            self,
            tenants,
            "INSERT INTO organizations (id, kind, name, tenant_id, region_id, country, time_zone, language, domains, partner_of_record, created_at, updated_at) ",
            |b, t| {
                b.push_bind(t.id.clone())
                    .push_bind("customer")
                    .push_bind(t.name.clone())
                    .push_bind(t.tenant_id.clone())
                    .push_bind(t.region_id.clone())
                    .push_bind(t.country.clone())
                    .push_bind(t.time_zone.clone())
                    .push_bind(t.language.clone())
                    .push_bind(format!("[\"{}\"]", t.domain))
                    .push_bind(None::<String>)
                    .push_bind(at)
                    .push_bind(at);
            }
        );
        run_batches!(
            self,
            tenants,
            "INSERT INTO org_domains (domain, org_id) ",
            |b, t| {
                b.push_bind(t.domain.clone()).push_bind(t.id.clone());
            }
        );
        run_batches!(
            self,
            tenants,
            "INSERT INTO subscriptions (id, org_id, plan_id, seats, state, starts_at, ends_at, created_at, updated_at) ",
            |b, t| {
                b.push_bind(format!("sub-{}", t.id))
                    .push_bind(t.id.clone())
                    .push_bind(t.plan_id.clone())
                    .push_bind(t.seats)
                    .push_bind("active")
                    .push_bind(at - 30 * 86_400)
                    .push_bind(Some(until))
                    .push_bind(at)
                    .push_bind(at);
            }
        );
        let linked: Vec<&BulkTenant> = tenants.iter().filter(|t| t.partner_id.is_some()).collect();
        run_batches!(
            self,
            linked,
            "INSERT INTO relationships (id, partner_org_id, customer_org_id, status, scope_actions, scope_services, requested_days, requested_at, requested_by, approved_at, approved_by, expires_at, ended_at, ended_by, updated_at) ",
            |b, t| {
                b.push_bind(format!("rel-{}", t.id))
                    .push_bind(t.partner_id.clone())
                    .push_bind(t.id.clone())
                    .push_bind("active")
                    .push_bind("[\"view\",\"file_requests\"]")
                    .push_bind(None::<String>)
                    .push_bind(365_i64)
                    .push_bind(at - 60 * 86_400)
                    .push_bind("bench")
                    .push_bind(Some(at - 59 * 86_400))
                    .push_bind(Some("bench"))
                    .push_bind(Some(until))
                    .push_bind(None::<i64>)
                    .push_bind(None::<String>)
                    .push_bind(at);
            }
        );
        Ok(())
    }

    /// Inserts staff users with their region and languages.
    pub async fn bulk_staff(
        &self,
        staff: &[BulkStaff],
        org_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        run_batches!(
            self,
            staff,
            "INSERT INTO users (id, org_id, email, name, role, password_hash, language, time_zone, disabled, created_at, updated_at) ",
            |b, s| {
                b.push_bind(s.user_id.clone())
                    .push_bind(org_id.to_string())
                    .push_bind(s.email.clone())
                    .push_bind(format!("Expert {}", s.email))
                    .push_bind(s.role.clone())
                    .push_bind(None::<String>)
                    .push_bind(s.languages.first().cloned().unwrap_or_else(|| "en".into()))
                    .push_bind(s.time_zone.clone())
                    .push_bind(false)
                    .push_bind(at)
                    .push_bind(at);
            }
        );
        run_batches!(
            self,
            staff,
            "INSERT INTO staff_profiles (user_id, region_id, weekly_capacity) ",
            |b, s| {
                b.push_bind(s.user_id.clone())
                    .push_bind(s.region_id.clone())
                    .push_bind(20_i64);
            }
        );
        let langs: Vec<(String, String)> = staff
            .iter()
            .flat_map(|s| s.languages.iter().map(|l| (s.user_id.clone(), l.clone())))
            .collect();
        run_batches!(
            self,
            langs,
            "INSERT INTO staff_languages (user_id, language) ",
            |b, l| {
                b.push_bind(l.0.clone()).push_bind(l.1.clone());
            }
        );
        Ok(())
    }
}
