//! R9 and R16: partner–customer relationships (ask, approve, scopes, expiry, extension, ending).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Rule, RuleViolation};

/// How long an unapproved ask stays open (R16).
pub const ASK_LAPSES_AFTER_DAYS: i64 = 90;
/// The longest a relationship may last from approval or extension (R16: two years).
pub const MAX_DURATION_DAYS: i64 = 730;
/// Days before expiry when both sides are warned (R16).
pub const EXPIRY_WARNING_DAYS: [i64; 2] = [30, 7];

/// What a partner may do for a customer, as granted by the customer (R16 scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScopeAction {
    /// See the customer, its services, requests and engagements.
    View,
    /// File requests for assistance on the customer's behalf.
    FileRequests,
    /// Own and complete tasks that change the customer's tenant (R6).
    OwnTenantTasks,
}

impl ScopeAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeAction::View => "view",
            ScopeAction::FileRequests => "file_requests",
            ScopeAction::OwnTenantTasks => "own_tenant_tasks",
        }
    }
}

/// The scopes of a relationship: which actions, for which services (`None` = every service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes {
    pub actions: Vec<ScopeAction>,
    pub services: Option<Vec<String>>,
}

impl Scopes {
    /// Whether the scopes allow `action`, for `service` when one is named.
    pub fn allows(&self, action: ScopeAction, service: Option<&str>) -> bool {
        // Filing or owning tasks implies seeing the customer.
        let action_ok = self.actions.contains(&action)
            || (action == ScopeAction::View && !self.actions.is_empty());
        let service_ok = match (&self.services, service) {
            (None, _) | (_, None) => true,
            (Some(list), Some(s)) => list.iter().any(|x| x == s),
        };
        action_ok && service_ok
    }

    /// Checks that scopes name at least one action and no duplicate.
    pub fn validate(&self) -> Result<(), String> {
        if self.actions.is_empty() {
            return Err(
                "a relationship needs at least one action (view, file_requests, own_tenant_tasks)"
                    .into(),
            );
        }
        if let Some(s) = &self.services {
            if s.is_empty() {
                return Err("omit services for every service, or name at least one".into());
            }
        }
        Ok(())
    }
}

/// The recorded state of a relationship; time turns `Requested` into lapsed and `Active` into expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredStatus {
    Requested,
    Active,
    Declined,
    Ended,
}

/// The state of a relationship at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Requested,
    Active,
    Declined,
    Ended,
    /// The customer never approved it within 90 days.
    Lapsed,
    /// Its term ran out.
    Expired,
}

impl Status {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Active => "active",
            Status::Declined => "declined",
            Status::Ended => "ended",
            Status::Lapsed => "lapsed",
            Status::Expired => "expired",
        }
    }
}

impl StoredStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredStatus::Requested => "requested",
            StoredStatus::Active => "active",
            StoredStatus::Declined => "declined",
            StoredStatus::Ended => "ended",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<StoredStatus, String> {
        match s {
            "requested" => Ok(StoredStatus::Requested),
            "active" => Ok(StoredStatus::Active),
            "declined" => Ok(StoredStatus::Declined),
            "ended" => Ok(StoredStatus::Ended),
            _ => Err(format!("unknown relationship status '{s}'")),
        }
    }
}

/// Which side of a relationship acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Partner,
    Customer,
    Programme,
}

/// A partner–customer relationship as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub status: StoredStatus,
    pub scopes: Scopes,
    pub requested_at: Timestamp,
    /// The term asked for, in days (at most two years).
    pub requested_days: i64,
    pub approved_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

impl Relationship {
    /// R16: a partner asks a customer for a relationship with scopes and a term of at most two years.
    pub fn ask(
        scopes: Scopes,
        requested_days: i64,
        now: Timestamp,
    ) -> Result<Relationship, RuleViolation> {
        scopes
            .validate()
            .map_err(|m| RuleViolation::new(Rule::R16, m).on_field("scopes"))?;
        check_term(requested_days)?;
        Ok(Relationship {
            status: StoredStatus::Requested,
            scopes,
            requested_at: now,
            requested_days,
            approved_at: None,
            expires_at: None,
            ended_at: None,
        })
    }

    /// R16: the relationship's state at `now`: an unapproved ask lapses after 90 days, an active one expires.
    pub fn status(&self, now: Timestamp) -> Status {
        match self.status {
            StoredStatus::Requested if now >= self.requested_at + days(ASK_LAPSES_AFTER_DAYS) => {
                Status::Lapsed
            }
            StoredStatus::Requested => Status::Requested,
            StoredStatus::Active if self.expires_at.is_some_and(|e| now >= e) => Status::Expired,
            StoredStatus::Active => Status::Active,
            StoredStatus::Declined => Status::Declined,
            StoredStatus::Ended => Status::Ended,
        }
    }

    /// R9: whether the relationship lets the partner do `action` (for `service`) at `now`.
    pub fn allows(&self, action: ScopeAction, service: Option<&str>, now: Timestamp) -> bool {
        self.status(now) == Status::Active && self.scopes.allows(action, service)
    }

    /// R16: the customer approves a pending ask, possibly narrowing scopes and term; the term starts now.
    pub fn approve(
        &mut self,
        scopes: Option<Scopes>,
        term_days: Option<i64>,
        now: Timestamp,
    ) -> Result<(), RuleViolation> {
        match self.status(now) {
            Status::Requested => {}
            Status::Lapsed => return Err(RuleViolation::new(
                Rule::R16,
                "the ask lapsed: it was not approved within 90 days; the partner must ask again",
            )),
            other => {
                return Err(RuleViolation::new(
                    Rule::R16,
                    format!(
                        "only a pending ask can be approved; this relationship is {}",
                        other.as_str()
                    ),
                ))
            }
        }
        if let Some(s) = scopes {
            s.validate()
                .map_err(|m| RuleViolation::new(Rule::R16, m).on_field("scopes"))?;
            self.scopes = s;
        }
        let term = term_days.unwrap_or(self.requested_days);
        check_term(term)?;
        self.status = StoredStatus::Active;
        self.approved_at = Some(now);
        self.expires_at = Some(now + days(term));
        Ok(())
    }

    /// R16: the customer refuses a pending ask.
    pub fn decline(&mut self, now: Timestamp) -> Result<(), RuleViolation> {
        if self.status(now) != Status::Requested {
            return Err(RuleViolation::new(
                Rule::R16,
                format!(
                    "only a pending ask can be declined; this relationship is {}",
                    self.status(now).as_str()
                ),
            ));
        }
        self.status = StoredStatus::Declined;
        self.ended_at = Some(now);
        Ok(())
    }

    /// R16: extends an active relationship to end `term_days` from now (never more than two years ahead).
    pub fn extend(&mut self, term_days: i64, now: Timestamp) -> Result<(), RuleViolation> {
        if self.status(now) != Status::Active {
            return Err(RuleViolation::new(
                Rule::R16,
                format!(
                    "only an active relationship can be extended; this one is {}",
                    self.status(now).as_str()
                ),
            ));
        }
        check_term(term_days)?;
        let new_end = now + days(term_days);
        if self.expires_at.is_some_and(|e| new_end <= e) {
            return Err(
                RuleViolation::new(Rule::R16, "an extension must move the expiry later")
                    .on_field("term_days"),
            );
        }
        self.expires_at = Some(new_end);
        Ok(())
    }

    /// R16: either side ends the relationship at once (a pending ask can be withdrawn the same way).
    pub fn end(&mut self, now: Timestamp) -> Result<(), RuleViolation> {
        match self.status(now) {
            Status::Active | Status::Requested => {
                self.status = StoredStatus::Ended;
                self.ended_at = Some(now);
                Ok(())
            }
            other => Err(RuleViolation::new(
                Rule::R16,
                format!("the relationship is already {}", other.as_str()),
            )),
        }
    }

    /// R16: which expiry warning (30 or 7 days before) is due at `now`, if any.
    pub fn expiry_warning_due(&self, now: Timestamp) -> Option<i64> {
        if self.status(now) != Status::Active {
            return None;
        }
        let left = self.expires_at? - now;
        EXPIRY_WARNING_DAYS
            .into_iter()
            .filter(|d| left <= days(*d))
            .min()
    }
}

fn check_term(term_days: i64) -> Result<(), RuleViolation> {
    if !(1..=MAX_DURATION_DAYS).contains(&term_days) {
        return Err(RuleViolation::new(
            Rule::R16,
            format!("a relationship lasts 1 to {MAX_DURATION_DAYS} days (two years); asked for {term_days}"),
        )
        .on_field("term_days"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn scopes() -> Scopes {
        Scopes {
            actions: vec![ScopeAction::View, ScopeAction::FileRequests],
            services: Some(vec!["mail".into()]),
        }
    }

    const T0: &str = "2026-01-10T09:00:00Z";

    #[test]
    fn r16_ask_then_approve_makes_it_active_for_its_term() {
        let mut r = Relationship::ask(scopes(), 365, ts(T0)).unwrap();
        assert_eq!(r.status(ts(T0)), Status::Requested);
        assert!(
            !r.allows(ScopeAction::View, None, ts(T0)),
            "an ask grants nothing"
        );
        r.approve(None, None, ts("2026-01-11T09:00:00Z")).unwrap();
        assert!(r.allows(
            ScopeAction::FileRequests,
            Some("mail"),
            ts("2026-06-01T00:00:00Z")
        ));
        assert_eq!(r.expires_at, Some(ts("2027-01-11T09:00:00Z")));
    }

    #[test]
    fn r16_unapproved_ask_lapses_after_90_days() {
        let mut r = Relationship::ask(scopes(), 365, ts(T0)).unwrap();
        assert_eq!(r.status(ts("2026-04-10T08:59:59Z")), Status::Requested);
        assert_eq!(r.status(ts("2026-04-10T09:00:00Z")), Status::Lapsed);
        assert!(r.approve(None, None, ts("2026-04-10T09:00:00Z")).is_err());
    }

    #[test]
    fn r16_term_is_at_most_two_years() {
        assert!(Relationship::ask(scopes(), 730, ts(T0)).is_ok());
        let err = Relationship::ask(scopes(), 731, ts(T0)).unwrap_err();
        assert_eq!(
            (err.rule, err.field.as_deref()),
            (Rule::R16, Some("term_days"))
        );
    }

    #[test]
    fn r16_relationship_expires_at_its_end_instant() {
        let mut r = Relationship::ask(scopes(), 30, ts(T0)).unwrap();
        r.approve(None, None, ts(T0)).unwrap();
        assert_eq!(r.status(ts("2026-02-09T08:59:59Z")), Status::Active);
        assert_eq!(r.status(ts("2026-02-09T09:00:00Z")), Status::Expired);
        assert!(!r.allows(ScopeAction::View, None, ts("2026-02-09T09:00:00Z")));
    }

    #[test]
    fn r16_extension_moves_expiry_later_within_two_years() {
        let mut r = Relationship::ask(scopes(), 30, ts(T0)).unwrap();
        r.approve(None, None, ts(T0)).unwrap();
        r.extend(730, ts("2026-02-01T00:00:00Z")).unwrap();
        assert_eq!(r.expires_at, Some(ts("2028-02-01T00:00:00Z")));
        assert!(r.extend(731, ts("2026-02-01T00:00:00Z")).is_err());
    }

    #[test]
    fn r16_either_side_ends_it_at_once() {
        let mut r = Relationship::ask(scopes(), 30, ts(T0)).unwrap();
        r.approve(None, None, ts(T0)).unwrap();
        r.end(ts("2026-01-12T00:00:00Z")).unwrap();
        assert_eq!(r.status(ts("2026-01-12T00:00:00Z")), Status::Ended);
        assert!(!r.allows(ScopeAction::View, None, ts("2026-01-12T00:00:00Z")));
    }

    #[test]
    fn r16_expiry_warnings_at_30_and_7_days() {
        let mut r = Relationship::ask(scopes(), 100, ts(T0)).unwrap();
        r.approve(None, None, ts(T0)).unwrap();
        let end = r.expires_at.unwrap();
        assert_eq!(r.expiry_warning_due(end - days(31)), None);
        assert_eq!(r.expiry_warning_due(end - days(30)), Some(30));
        assert_eq!(r.expiry_warning_due(end - days(7)), Some(7));
    }

    #[test]
    fn r9_scopes_limit_services_and_actions() {
        let mut r = Relationship::ask(scopes(), 30, ts(T0)).unwrap();
        r.approve(None, None, ts(T0)).unwrap();
        assert!(r.allows(ScopeAction::View, Some("mail"), ts(T0)));
        assert!(!r.allows(ScopeAction::FileRequests, Some("files"), ts(T0)));
        assert!(!r.allows(ScopeAction::OwnTenantTasks, Some("mail"), ts(T0)));
    }
}
