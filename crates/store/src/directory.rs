//! A partner's "My customers" (R9), served from memory.
//!
//! A partner sees only its own customers, a few hundred at most; but on a programme of a million
//! tenants the statement that finds them descends two B-trees per customer, with 36-character
//! keys, on every keystroke of a search (BENCHMARKS.md). So each partner's customers are kept with
//! the partner's directory version, which triggers move in the same commit as any change to its
//! relationships or to one of its customers' rows, whichever server process made it (migration
//! 11), and with the moment the first of those customers stops being visible, when its last live
//! relationship expires. Until one of the two moves, a search filters the copy.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::inline::{Arg, InlineRow};
use crate::{Organization, OrganizationFilter, Page, Paged, Store, StoreError};

/// Customers held across all partners: about 45 MB at most, at some 750 bytes each.
const HELD_CUSTOMERS: usize = 60_000;

/// Each customer a partner has a live relationship with at `$2`, and until when it stays visible;
/// the organization's columns (`orgs::COLUMNS`) follow the `SELECT`.
const CUSTOMERS_FROM: &str = ", mine.visible_until
   FROM (SELECT customer_org_id, MAX(expires_at) AS visible_until FROM relationships
          WHERE partner_org_id = $1 AND status = 'active' AND expires_at > $2
          GROUP BY customer_org_id) AS mine
   JOIN organizations ON organizations.id = mine.customer_org_id";

/// A customer as read: its row, and the last expiry among its live relationships.
#[derive(sqlx::FromRow)]
struct CustomerRow {
    #[sqlx(flatten)]
    org: Organization,
    visible_until: i64,
}

impl InlineRow for CustomerRow {
    fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(CustomerRow {
            org: Organization::from_inline(row)?,
            visible_until: row.get("visible_until")?,
        })
    }
}

/// A customer as held: its row and what a search compares, lowercase.
#[derive(Debug)]
struct Customer {
    org: Organization,
    /// Name, domains (as stored, JSON) and tenant id, as the programme-wide search builds it.
    text: String,
    name: String,
    domains: Vec<String>,
}

impl Customer {
    fn new(org: Organization) -> Customer {
        let text = format!(
            "{} {} {}",
            org.name,
            org.domains,
            org.tenant_id.as_deref().unwrap_or("")
        )
        .to_lowercase();
        let name = org.name.to_lowercase();
        let domains = org.domain_list().iter().map(|d| d.to_lowercase()).collect();
        Customer {
            org,
            text,
            name,
            domains,
        }
    }

    /// R9's search: `q` (trimmed, lowercase) of three characters or more is found anywhere in the
    /// name, domains or tenant id; shorter, at the start of the name or of a domain. Case-blind
    /// beyond ASCII, on both backends (SQLite's own `lower` folds only A–Z), and `%` or `_` are
    /// characters like any other.
    fn matches(&self, q: &str) -> bool {
        if q.chars().count() >= 3 {
            return self.text.contains(q);
        }
        self.name.starts_with(q) || self.domains.iter().any(|d| d.starts_with(q))
    }
}

/// One partner's customers, sorted by id, as they were at `version` from `read_at` on.
#[derive(Debug)]
struct Customers {
    version: i64,
    read_at: i64,
    /// The first moment one of them stops being visible.
    until: i64,
    rows: Vec<Customer>,
}

impl Customers {
    /// Whether these are exactly the partner's customers at `version` and `now`: no customer can
    /// become visible without moving the version, and none stops before `until`.
    fn serve(&self, version: i64, now: i64) -> bool {
        self.version == version && self.read_at <= now && now < self.until
    }

    /// One page of the customers that pass `f` (kind, region, search, one organization) after
    /// the page's cursor, with one more row when there are more.
    fn page(&self, f: &OrganizationFilter, q: Option<&str>, page: &Page) -> Vec<Organization> {
        let start = page.after.as_deref().map_or(0, |after| {
            self.rows.partition_point(|c| c.org.id.as_str() <= after)
        });
        let want = usize::try_from(page.limit + 1).unwrap_or(0);
        self.rows[start..]
            .iter()
            .filter(|c| f.kind.as_deref().is_none_or(|k| c.org.kind == k))
            .filter(|c| {
                f.region_id
                    .as_deref()
                    .is_none_or(|r| c.org.region_id.as_deref() == Some(r))
            })
            .filter(|c| f.only.as_deref().is_none_or(|id| c.org.id == id))
            .filter(|c| q.is_none_or(|q| c.matches(q)))
            .take(want)
            .map(|c| c.org.clone())
            .collect()
    }
}

/// The partners' customers last read, by partner (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct PartnerDirectory(RwLock<Held>);

#[derive(Debug, Default)]
struct Held {
    partners: HashMap<String, Arc<Customers>>,
    customers: usize,
}

impl PartnerDirectory {
    fn get(&self, partner: &str, version: i64, now: i64) -> Option<Arc<Customers>> {
        // A panic while the lock was held leaves whole values behind (they are only replaced).
        let held = self.0.read().unwrap_or_else(|e| e.into_inner());
        held.partners
            .get(partner)
            .filter(|c| c.serve(version, now))
            .cloned()
    }

    fn put(&self, partner: &str, customers: Arc<Customers>) {
        let size = customers.rows.len();
        if size > HELD_CUSTOMERS {
            return;
        }
        let mut held = self.0.write().unwrap_or_else(|e| e.into_inner());
        // Two searches may read at once: a copy read at an older version never replaces a newer.
        if held
            .partners
            .get(partner)
            .is_some_and(|c| c.version > customers.version)
        {
            return;
        }
        if let Some(old) = held.partners.remove(partner) {
            held.customers -= old.rows.len();
        }
        // Past the budget, other partners' copies go, in no particular order: each is read again
        // on its next search.
        while held.customers + size > HELD_CUSTOMERS {
            let Some(victim) = held.partners.keys().next().cloned() else {
                break;
            };
            if let Some(old) = held.partners.remove(&victim) {
                held.customers -= old.rows.len();
            }
        }
        held.customers += size;
        held.partners.insert(partner.to_string(), customers);
    }
}

impl Store {
    /// R9: one page of a partner's customers at `now` that pass `f`'s filters and search.
    pub(crate) async fn partner_customers(
        &self,
        partner: &str,
        now: i64,
        f: &OrganizationFilter,
        q: Option<&str>,
        page: &Page,
    ) -> Result<Paged<Organization>, StoreError> {
        // The version first: a change committed between the two reads costs a read, never a
        // stale copy.
        let version: Option<(i64,)> = self
            .inline_row(
                "SELECT v FROM partner_directory_version WHERE partner_org_id = $1",
                &[partner.into()],
            )
            .await?;
        let version = version.map_or(0, |(v,)| v);
        let customers = match self.directory.get(partner, version, now) {
            Some(held) => held,
            None => {
                let sql = format!("SELECT {}{CUSTOMERS_FROM}", crate::orgs::COLUMNS);
                let rows: Vec<CustomerRow> = self
                    .inline_rows(&sql, &[Arg::from(partner), now.into()])
                    .await?;
                // Pages follow byte order (the cursor compares so), whatever the database's
                // collation orders text by.
                let mut rows = rows;
                rows.sort_by(|a, b| a.org.id.cmp(&b.org.id));
                let until = rows
                    .iter()
                    .map(|r| r.visible_until)
                    .min()
                    .unwrap_or(i64::MAX);
                let read = Arc::new(Customers {
                    version,
                    read_at: now,
                    until,
                    rows: rows.into_iter().map(|r| Customer::new(r.org)).collect(),
                });
                self.directory.put(partner, read.clone());
                read
            }
        };
        let rows = customers.page(f, q, page);
        Ok(Paged::from_rows(rows, page.limit, |o| o.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::{Customer, Customers, PartnerDirectory, HELD_CUSTOMERS};
    use crate::{Organization, OrganizationFilter, Page};
    use std::sync::Arc;

    fn org(id: &str, name: &str, domains: &[&str]) -> Organization {
        Organization {
            id: id.into(),
            kind: "customer".into(),
            name: name.into(),
            tenant_id: Some(format!("{id}-tenant")),
            region_id: Some("emea".into()),
            country: "IT".into(),
            time_zone: "Europe/Rome".into(),
            language: "it".into(),
            domains: serde_json::to_string(domains).unwrap_or_default(),
            partner_of_record: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn customers(orgs: Vec<Organization>) -> Customers {
        Customers {
            version: 3,
            read_at: 100,
            until: 200,
            rows: orgs.into_iter().map(Customer::new).collect(),
        }
    }

    fn ids(rows: &[Organization]) -> Vec<&str> {
        rows.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn r9_a_long_search_finds_a_case_blind_substring_and_a_short_one_a_prefix() {
        let c = Customer::new(org("a", "Ünïcode Contoso S.p.A.", &["contoso.example"]));
        assert!(c.matches("ntos"), "inside the name");
        assert!(c.matches("ünï"), "lowercase beyond ASCII");
        assert!(c.matches("a-tenant"), "the tenant id");
        assert!(c.matches("o.exa"), "inside a domain");
        assert!(c.matches("ün"), "a short search: the start of the name");
        assert!(c.matches("co"), "a short search: the start of a domain");
        assert!(!c.matches("nt"), "a short search is not a substring search");
        assert!(!c.matches("c%o"), "`%` is a character to find");
        assert!(!c.matches("_"), "`_` is a character to find");
    }

    #[test]
    fn a_page_filters_then_stops_one_row_past_its_limit_after_its_cursor() {
        let held = customers(vec![
            org("a", "Alpha North", &[]),
            org("b", "Beta North", &[]),
            org("c", "Gamma South", &[]),
            org("d", "Delta North", &[]),
            org("e", "Epsilon North", &[]),
        ]);
        let f = OrganizationFilter::default();
        let page = |after: Option<&str>, limit| Page {
            after: after.map(String::from),
            limit,
        };
        let first = held.page(&f, Some("north"), &page(None, 2));
        assert_eq!(ids(&first), ["a", "b", "d"], "the third says more exist");
        let next = held.page(&f, Some("north"), &page(Some("b"), 2));
        assert_eq!(ids(&next), ["d", "e"]);
        let only = OrganizationFilter {
            only: Some("c".into()),
            ..Default::default()
        };
        assert_eq!(ids(&held.page(&only, None, &page(None, 10))), ["c"]);
        let elsewhere = OrganizationFilter {
            region_id: Some("apac".into()),
            ..Default::default()
        };
        assert!(held.page(&elsewhere, None, &page(None, 10)).is_empty());
    }

    #[test]
    fn a_copy_serves_only_its_version_from_its_reading_until_a_customer_expires() {
        let held = customers(vec![org("a", "Alpha", &[])]);
        assert!(held.serve(3, 100));
        assert!(held.serve(3, 199));
        assert!(!held.serve(3, 200), "a relationship expired at 200");
        assert!(
            !held.serve(3, 99),
            "before it was read, an expired customer was visible"
        );
        assert!(!held.serve(4, 150), "something under it changed");
    }

    #[test]
    fn a_copy_read_at_an_older_version_never_replaces_a_newer_one() {
        let directory = PartnerDirectory::default();
        let at = |version| {
            Arc::new(Customers {
                version,
                ..customers(vec![org("a", "Alpha", &[])])
            })
        };
        directory.put("p", at(5));
        directory.put("p", at(4));
        assert!(directory.get("p", 5, 150).is_some());
        assert!(directory.get("p", 4, 150).is_none());
        directory.put("p", at(6));
        assert!(directory.get("p", 6, 150).is_some());
    }

    #[test]
    fn the_directory_holds_at_most_its_budget_of_customers() {
        let directory = PartnerDirectory::default();
        let many = |n: usize| {
            Arc::new(customers(
                (0..n).map(|i| org(&i.to_string(), "x", &[])).collect(),
            ))
        };
        directory.put("p1", many(HELD_CUSTOMERS / 2));
        directory.put("p2", many(HELD_CUSTOMERS / 2));
        directory.put("p3", many(10));
        let held = directory.0.read().unwrap_or_else(|e| e.into_inner());
        assert!(held.customers <= HELD_CUSTOMERS);
        assert_eq!(
            held.customers,
            held.partners.values().map(|c| c.rows.len()).sum::<usize>()
        );
        assert!(held.partners.contains_key("p3"), "the newest copy is kept");
        drop(held);
        directory.put("huge", many(HELD_CUSTOMERS + 1));
        assert!(directory.get("huge", 3, 150).is_none(), "too large to hold");
    }
}
