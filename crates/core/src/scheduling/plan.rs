//! R5/R10: the meeting plan of an engagement: a kick-off, then one meeting for each phase its
//! tasks reach, each proposed in a slot that keeps every scheduling rule, in timeline order.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::search::{find_slots, Slot, SlotQuery, StaffAvailability};
use crate::error::Invalid;
use crate::rules::engagement::{Engagement, Phase};

/// One meeting the plan calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// The phase the meeting opens.
    pub phase: Phase,
    /// What the meeting is for, as the invite names it.
    pub purpose: String,
    /// It is held no earlier than this: the start of its phase's first task.
    pub not_before: Timestamp,
}

/// A step with the slot proposed for it, or none when no slot fits within the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedMeeting {
    pub step: PlanStep,
    pub slot: Option<Slot>,
}

/// The meeting that opens each phase: the kick-off of Initiate, then the calls of the
/// onboarding timeline (R5).
pub fn phase_purpose(phase: Phase) -> &'static str {
    match phase {
        Phase::Initiate => "kick-off",
        Phase::Assess => "success-planning call",
        Phase::Remediate => "remediation checkpoint",
        Phase::Enable => "enablement review",
        Phase::Migrate => "migration planning",
    }
}

/// R5: the steps of an engagement's meeting plan: one per phase that has tasks, in timeline
/// order, each no earlier than its phase's first task starts (local midnight in `zone`) nor
/// than `now`. The kick-off comes first even when Initiate has no task of its own.
pub fn plan_steps(engagement: &Engagement, zone: &TimeZone, now: Timestamp) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    for phase in Phase::ALL {
        let first = engagement
            .tracks
            .iter()
            .flat_map(|t| t.tasks.iter())
            .filter(|t| t.phase == phase)
            .map(|t| t.starts_on)
            .min();
        let not_before = match (phase, first) {
            (_, Some(day)) => zone
                .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
                .unwrap_or(now)
                .max(now),
            (Phase::Initiate, None) => now,
            (_, None) => continue,
        };
        steps.push(PlanStep {
            phase,
            purpose: phase_purpose(phase).to_string(),
            not_before,
        });
    }
    steps
}

/// R10/R11/R12: proposes a slot for every step, in order and without overlap. The first
/// meeting goes to the fairest slot (earliest, least-loaded staff, round robin); later ones
/// stay with the same staff member where their calendar allows (continuity), and fall back to
/// anyone who speaks the language. Each meeting starts no earlier than its step allows and no
/// earlier than the previous meeting ends; its search covers `base.horizon_days` from there.
/// `customer_busy` holds the customer's meetings already booked: nobody attends two at once.
pub fn propose_plan(
    staff: &[StaffAvailability],
    base: &SlotQuery,
    steps: &[PlanStep],
    customer_busy: &[(Timestamp, Timestamp)],
) -> Result<Vec<ProposedMeeting>, Invalid> {
    // Proposals occupy their staff in the copy, so that later steps never overlap them; the
    // customer's own meetings occupy everyone.
    let mut team: Vec<StaffAvailability> = staff.to_vec();
    for member in &mut team {
        member.bookings.extend_from_slice(customer_busy);
    }
    let mut owner: Option<String> = None;
    let mut earliest = base.now;
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        let query = SlotQuery {
            now: step.not_before.max(earliest),
            limit: 1,
            ..base.clone()
        };
        let mut slot = None;
        if let Some(id) = &owner {
            if let Some(member) = team.iter().find(|s| &s.staff_id == id) {
                slot = find_slots(std::slice::from_ref(member), &query)?
                    .into_iter()
                    .next();
            }
        }
        if slot.is_none() {
            slot = find_slots(&team, &query)?.into_iter().next();
        }
        if let Some(s) = &slot {
            if let Some(member) = team.iter_mut().find(|m| m.staff_id == s.staff_id) {
                member.bookings.push((s.start, s.end));
                member.load = member.load.saturating_add(1);
            }
            owner.get_or_insert_with(|| s.staff_id.clone());
            earliest = s.end;
        }
        out.push(ProposedMeeting {
            step: step.clone(),
            slot,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use jiff::SignedDuration;
    use proptest::prelude::*;

    use super::*;
    use crate::calendar::{RegionCalendar, WorkingHours};
    use crate::language::{Language, SpokenLanguage};
    use crate::rules::engagement::{plan_engagement, HelpKind};
    use crate::scheduling::validate_booking;
    use crate::types::IanaZone;

    fn office(zone: &str) -> RegionCalendar {
        let hours = WorkingHours::parse("mon-fri", "09:00-12:30,13:30-18:00").unwrap();
        RegionCalendar::new(IanaZone::parse(zone).unwrap(), hours)
    }

    fn member(id: &str, zone: &str, langs: &[SpokenLanguage]) -> StaffAvailability {
        StaffAvailability {
            staff_id: id.into(),
            languages: langs.iter().copied().collect(),
            calendar: office(zone),
            time_off: vec![],
            bookings: vec![],
            load: 0,
        }
    }

    fn engagement(kinds: &[HelpKind]) -> Engagement {
        Engagement::new(plan_engagement(kinds, &["mail"], date(2026, 3, 2)))
    }

    fn query(now: Timestamp) -> SlotQuery {
        SlotQuery::new(
            Language::Italian,
            SignedDuration::from_mins(60),
            office("Europe/Rome"),
            now,
        )
    }

    #[test]
    fn r5_the_plan_opens_with_the_kick_off_and_follows_the_phases_in_order() {
        let e = engagement(&[HelpKind::CoreOnboarding, HelpKind::ServiceOnboarding]);
        let zone = TimeZone::get("Europe/Rome").unwrap();
        let now: Timestamp = "2026-03-02T08:00:00Z".parse().unwrap();
        let steps = plan_steps(&e, &zone, now);
        assert_eq!(steps[0].phase, Phase::Initiate);
        assert_eq!(steps[0].purpose, "kick-off");
        let phases: Vec<Phase> = steps.iter().map(|s| s.phase).collect();
        let mut sorted = phases.clone();
        sorted.sort();
        assert_eq!(phases, sorted);
        assert!(
            !phases.contains(&Phase::Migrate),
            "no migration was asked for"
        );
        assert!(steps.windows(2).all(|w| w[0].not_before <= w[1].not_before));
    }

    #[test]
    fn r5_a_migration_engagement_gets_a_migration_planning_meeting() {
        let e = engagement(&[HelpKind::CoreOnboarding, HelpKind::DataMigration]);
        let zone = TimeZone::get("Europe/Rome").unwrap();
        let steps = plan_steps(&e, &zone, "2026-03-02T08:00:00Z".parse().unwrap());
        assert_eq!(steps.last().unwrap().phase, Phase::Migrate);
    }

    #[test]
    fn r10_proposals_keep_one_staff_member_and_never_overlap() {
        let e = engagement(&[HelpKind::CoreOnboarding, HelpKind::ServiceOnboarding]);
        let zone = TimeZone::get("Europe/Rome").unwrap();
        let now: Timestamp = "2026-03-02T08:00:00Z".parse().unwrap();
        let staff = vec![
            member("a", "Europe/Rome", &[SpokenLanguage::Italian]),
            member("b", "Europe/Berlin", &[SpokenLanguage::Italian]),
        ];
        let steps = plan_steps(&e, &zone, now);
        let plan = propose_plan(&staff, &query(now), &steps, &[]).unwrap();
        assert_eq!(plan.len(), steps.len());
        let slots: Vec<&Slot> = plan.iter().map(|p| p.slot.as_ref().unwrap()).collect();
        assert!(slots.iter().all(|s| s.staff_id == slots[0].staff_id));
        assert!(slots.windows(2).all(|w| w[0].end <= w[1].start));
        for p in &plan {
            assert!(p.slot.as_ref().unwrap().start >= p.step.not_before);
        }
    }

    #[test]
    fn r11_nobody_speaking_the_language_leaves_every_step_unplaced() {
        let e = engagement(&[HelpKind::CoreOnboarding]);
        let zone = TimeZone::get("Europe/Rome").unwrap();
        let now: Timestamp = "2026-03-02T08:00:00Z".parse().unwrap();
        let staff = vec![member("a", "Europe/Rome", &[SpokenLanguage::English])];
        let plan = propose_plan(&staff, &query(now), &plan_steps(&e, &zone, now), &[]).unwrap();
        assert!(plan.iter().all(|p| p.slot.is_none()));
    }

    #[test]
    fn r10_a_busy_owner_hands_the_step_to_a_colleague() {
        let now: Timestamp = "2026-03-02T08:00:00Z".parse().unwrap();
        let mut busy = member("a", "Europe/Rome", &[SpokenLanguage::Italian]);
        // "a" is free on the first morning only; every later working day is taken.
        busy.time_off
            .push(("2026-03-02T11:00:00Z".parse().unwrap(), Timestamp::MAX));
        let mut other = member("b", "Europe/Rome", &[SpokenLanguage::Italian]);
        other.load = 5;
        let steps = vec![
            PlanStep {
                phase: Phase::Initiate,
                purpose: "kick-off".into(),
                not_before: now,
            },
            PlanStep {
                phase: Phase::Assess,
                purpose: "success-planning call".into(),
                not_before: "2026-03-04T00:00:00Z".parse().unwrap(),
            },
        ];
        let plan = propose_plan(&[busy, other], &query(now), &steps, &[]).unwrap();
        assert_eq!(plan[0].slot.as_ref().unwrap().staff_id, "a");
        assert_eq!(plan[1].slot.as_ref().unwrap().staff_id, "b");
    }

    #[test]
    fn r10_no_proposal_overlaps_a_meeting_the_customer_already_has() {
        let now: Timestamp = "2026-03-02T08:00:00Z".parse().unwrap();
        let staff = vec![
            member("a", "Europe/Rome", &[SpokenLanguage::Italian]),
            member("b", "Europe/Rome", &[SpokenLanguage::Italian]),
        ];
        let steps = vec![PlanStep {
            phase: Phase::Initiate,
            purpose: "kick-off".into(),
            not_before: now,
        }];
        let free = propose_plan(&staff, &query(now), &steps, &[]).unwrap();
        let first = free[0].slot.clone().unwrap();
        let busy = [(first.start, first.end)];
        let plan = propose_plan(&staff, &query(now), &steps, &busy).unwrap();
        let s = plan[0].slot.as_ref().unwrap();
        assert!(
            s.start >= first.end || s.end <= first.start,
            "{s:?} overlaps {first:?}"
        );
    }

    const ZONES: [&str; 6] = [
        "Europe/Rome",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Tokyo",
        "America/Sao_Paulo",
        "Europe/Berlin",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// R10/R11/R12: whatever the zones and the days (DST changes included), every proposed
        /// meeting passes the booking check, starts no earlier than its step, and none overlaps
        /// another or a booking the staff already had.
        #[test]
        fn r10_every_proposed_meeting_passes_the_booking_check(
            staff_zones in proptest::collection::vec(proptest::sample::select(&ZONES[..]), 1..4),
            customer_zone in proptest::sample::select(&ZONES[..]),
            day_offset in 0i64..400,
            hour in 0i64..24,
            booked in proptest::collection::vec((0i64..20, 0i64..48), 0..12),
        ) {
            let now = Timestamp::from_second(1_740_000_000 + day_offset * 86_400 + hour * 3600).unwrap();
            let mut staff: Vec<StaffAvailability> = staff_zones
                .iter()
                .enumerate()
                .map(|(i, z)| member(&format!("s{i}"), z, &[SpokenLanguage::Italian, SpokenLanguage::English]))
                .collect();
            for (k, (day, half)) in booked.iter().enumerate() {
                let a = Timestamp::from_second(now.as_second() + day * 86_400 + half * 1800).unwrap();
                let b = Timestamp::from_second(a.as_second() + 3600).unwrap();
                let n = staff.len();
                staff[k % n].bookings.push((a, b));
            }
            let e = engagement(&[HelpKind::CoreOnboarding, HelpKind::ServiceOnboarding, HelpKind::DataMigration]);
            let zone = TimeZone::get(customer_zone).unwrap();
            let customer = office(customer_zone);
            let mut q = SlotQuery::new(Language::English, SignedDuration::from_mins(60), customer.clone(), now);
            q.horizon_days = 21;
            let steps = plan_steps(&e, &zone, now);
            let plan = propose_plan(&staff, &q, &steps, &[]).unwrap();
            prop_assert_eq!(plan.len(), steps.len());
            if staff_zones.contains(&customer_zone) {
                // Office hours shared with the customer: three weeks always hold a free hour.
                prop_assert!(plan.iter().all(|p| p.slot.is_some()), "{:?}", plan);
            }
            let mut placed: Vec<(String, Timestamp, Timestamp)> = Vec::new();
            for p in &plan {
                let Some(s) = &p.slot else { continue };
                prop_assert!(s.start >= p.step.not_before && s.start >= now);
                let m = staff.iter().find(|m| m.staff_id == s.staff_id).unwrap();
                prop_assert!(validate_booking(m, Language::English, &customer, s.start, s.end).is_ok());
                if let Some(last) = placed.last() {
                    prop_assert!(last.2 <= s.start, "out of order or overlapping");
                }
                placed.push((s.staff_id.clone(), s.start, s.end));
            }
        }
    }
}
