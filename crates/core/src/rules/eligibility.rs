//! R1 (an active subscription with enough paid seats of eligible plans) and R2 (eligible services).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Rule, RuleViolation};

/// The state a subscription is in, as the vendor's billing reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SubscriptionState {
    Active,
    Suspended,
    Expired,
    Cancelled,
}

impl SubscriptionState {
    /// Every state.
    pub const ALL: [SubscriptionState; 4] = [
        SubscriptionState::Active,
        SubscriptionState::Suspended,
        SubscriptionState::Expired,
        SubscriptionState::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Suspended => "suspended",
            SubscriptionState::Expired => "expired",
            SubscriptionState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<SubscriptionState, String> {
        SubscriptionState::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown subscription state '{s}'; one of: active, suspended, expired, cancelled"))
    }
}

/// What R1 needs to know of one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFacts {
    pub plan: String,
    /// Whether the plan is paid; free plans never count (R1).
    pub paid: bool,
    /// Whether the plan is one the programme serves.
    pub plan_eligible: bool,
    pub seats: i64,
    pub state: SubscriptionState,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
}

impl SubscriptionFacts {
    /// R1: a subscription is current when it is active and `now` lies in `[starts_at, ends_at)`.
    pub fn is_current(&self, now: Timestamp) -> bool {
        self.state == SubscriptionState::Active
            && self.starts_at <= now
            && self.ends_at.is_none_or(|end| now < end)
    }
}

/// The programme's eligibility thresholds (R1), with the vendor's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilitySettings {
    pub min_seats_onboarding: i64,
    pub min_seats_migration: i64,
}

impl Default for EligibilitySettings {
    fn default() -> Self {
        Self {
            min_seats_onboarding: 150,
            min_seats_migration: 500,
        }
    }
}

/// How much data-migration help a tenant may receive (R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationLevel {
    /// The team helps with planning and batches (R17).
    Full,
    /// Below the migration seat threshold: guidance only.
    GuidanceOnly,
}

/// What a tenant may receive, once R1 has passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// Paid seats of eligible plans in current subscriptions.
    pub eligible_seats: i64,
    pub migration: MigrationLevel,
    /// Plans of the current, counted subscriptions.
    pub plans: Vec<String>,
}

/// R1: whether a tenant has a current subscription at all (the condition that pauses engagements).
pub fn has_current_subscription(subs: &[SubscriptionFacts], now: Timestamp) -> bool {
    subs.iter().any(|s| s.is_current(now))
}

/// R1: checks that the tenant has a current subscription and enough paid seats of eligible plans.
pub fn ensure_eligible(
    subs: &[SubscriptionFacts],
    settings: &EligibilitySettings,
    now: Timestamp,
) -> Result<Eligibility, RuleViolation> {
    if !has_current_subscription(subs, now) {
        let reason = match subs.iter().max_by_key(|s| s.starts_at) {
            None => "the tenant has no subscription".to_string(),
            Some(s) if s.state != SubscriptionState::Active => {
                format!(
                    "the tenant's subscription ({}) is {}",
                    s.plan,
                    s.state.as_str()
                )
            }
            Some(s) if s.starts_at > now => {
                format!(
                    "the tenant's subscription ({}) starts only at {}",
                    s.plan, s.starts_at
                )
            }
            Some(s) => format!(
                "the tenant's subscription ({}) ended at {}",
                s.plan,
                s.ends_at.map(|e| e.to_string()).unwrap_or_default()
            ),
        };
        return Err(RuleViolation::new(
            Rule::R1,
            format!("{reason}; the programme serves only tenants with an active subscription"),
        )
        .on_field("tenant"));
    }
    let counted: Vec<&SubscriptionFacts> = subs
        .iter()
        .filter(|s| s.is_current(now) && s.paid && s.plan_eligible)
        .collect();
    let seats: i64 = counted.iter().map(|s| s.seats.max(0)).sum();
    if seats < settings.min_seats_onboarding {
        return Err(RuleViolation::new(
            Rule::R1,
            format!(
                "the tenant has {seats} paid seats of eligible plans; the programme needs at least {} (free plans never count)",
                settings.min_seats_onboarding
            ),
        )
        .on_field("tenant")
        .with("eligible_seats", seats.to_string())
        .with("min_seats", settings.min_seats_onboarding.to_string()));
    }
    Ok(Eligibility {
        eligible_seats: seats,
        migration: if seats >= settings.min_seats_migration {
            MigrationLevel::Full
        } else {
            MigrationLevel::GuidanceOnly
        },
        plans: counted.iter().map(|s| s.plan.clone()).collect(),
    })
}

/// R2: checks that every requested service is made eligible by the tenant's plans; names each one that is not.
pub fn ensure_services_eligible(
    requested: &[String],
    eligible: &[String],
) -> Result<(), RuleViolation> {
    let missing: Vec<&str> = requested
        .iter()
        .filter(|s| !eligible.contains(s))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(RuleViolation::new(
        Rule::R2,
        format!(
            "the tenant's subscription does not make these services eligible: {}",
            missing.join(", ")
        ),
    )
    .on_field("services")
    .with("not_eligible", missing.join(","))
    .with("eligible", eligible.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sub(seats: i64, state: SubscriptionState, paid: bool) -> SubscriptionFacts {
        SubscriptionFacts {
            plan: "business".into(),
            paid,
            plan_eligible: true,
            seats,
            state,
            starts_at: ts("2026-01-01T00:00:00Z"),
            ends_at: Some(ts("2027-01-01T00:00:00Z")),
        }
    }

    const NOW: &str = "2026-06-01T12:00:00Z";

    #[test]
    fn r1_inactive_subscription_is_refused_with_the_reason() {
        let err = ensure_eligible(
            &[sub(300, SubscriptionState::Suspended, true)],
            &Default::default(),
            ts(NOW),
        )
        .unwrap_err();
        assert_eq!(err.rule, Rule::R1);
        assert!(err.message.contains("suspended"), "{}", err.message);
    }

    #[test]
    fn r1_subscription_past_its_end_is_not_current() {
        let mut s = sub(300, SubscriptionState::Active, true);
        s.ends_at = Some(ts(NOW));
        let err = ensure_eligible(&[s], &Default::default(), ts(NOW)).unwrap_err();
        assert!(err.message.contains("ended"), "{}", err.message);
    }

    #[test]
    fn r1_needs_150_paid_seats_and_149_is_refused() {
        let ok = ensure_eligible(
            &[sub(150, SubscriptionState::Active, true)],
            &Default::default(),
            ts(NOW),
        )
        .unwrap();
        assert_eq!(ok.migration, MigrationLevel::GuidanceOnly);
        assert!(ensure_eligible(
            &[sub(149, SubscriptionState::Active, true)],
            &Default::default(),
            ts(NOW)
        )
        .is_err());
    }

    #[test]
    fn r1_free_plans_never_count() {
        let subs = [
            sub(100, SubscriptionState::Active, true),
            sub(10_000, SubscriptionState::Active, false),
        ];
        assert!(ensure_eligible(&subs, &Default::default(), ts(NOW)).is_err());
    }

    #[test]
    fn r1_migration_needs_500_seats_below_that_guidance_only() {
        let full = ensure_eligible(
            &[sub(500, SubscriptionState::Active, true)],
            &Default::default(),
            ts(NOW),
        )
        .unwrap();
        assert_eq!(full.migration, MigrationLevel::Full);
        let some = ensure_eligible(
            &[sub(499, SubscriptionState::Active, true)],
            &Default::default(),
            ts(NOW),
        )
        .unwrap();
        assert_eq!(some.migration, MigrationLevel::GuidanceOnly);
    }

    #[test]
    fn r2_ineligible_service_is_refused_by_name() {
        let err = ensure_services_eligible(
            &["mail".into(), "device-management".into()],
            &["mail".into(), "files".into()],
        )
        .unwrap_err();
        assert_eq!(err.rule, Rule::R2);
        assert!(err.message.contains("device-management") && !err.message.contains("mail,"));
    }
}
