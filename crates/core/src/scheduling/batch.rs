//! R10/R11: books first meetings for many requests at once, greedily and fairly.

use std::collections::{BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::engine::{
    earliest_fit, grid_spans, insert_busy, intersect, language_bit, length_seconds, merge_busy,
    restrict, rotation_ranks, span_windows, GridSpan, Params, Window,
};
use super::search::{Slot, StaffAvailability};
use crate::calendar::{CustomerHours, RegionCalendar};
use crate::error::Invalid;
use crate::language::{Language, SpokenLanguage};

/// One request that needs a first meeting.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub request_id: String,
    pub language: Language,
    pub length: SignedDuration,
    pub customer: CustomerHours,
    /// Windows the customer prefers; a slot wholly inside one is taken before an earlier one.
    pub preferred: Vec<(Timestamp, Timestamp)>,
}

/// What every request of a batch shares.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    pub now: Timestamp,
    pub horizon_days: u32,
    pub grid_minutes: u32,
    /// Round-robin cursor for equal-load staff, as in [`super::SlotQuery::rotation`].
    pub rotation: u64,
}

/// A request and the slot booked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub request_id: String,
    pub slot: Slot,
}

/// Why a request got no meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnplacedReason {
    /// R11: nobody speaks the request's language.
    NoStaffSpeaksLanguage,
    /// R10/R12: no staff member who speaks it has a fitting slot within the horizon.
    NoSlotInHorizon,
    /// The request itself cannot be scheduled (for example a zero length).
    InvalidRequest(String),
}

/// A request that got no meeting, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub request_id: String,
    pub reason: UnplacedReason,
}

/// The outcome of a batch: bookings made, in request order, and requests left over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub assignments: Vec<Assignment>,
    pub unplaced: Vec<Unplaced>,
}

/// A staff member's changing state during the batch.
struct Member {
    group: usize,
    langs: u16,
    busy: Vec<(i64, i64)>,
    load: u32,
    rank: u32,
    /// No fitting slot of this member starts earlier (for the shortest request): a search
    /// bound that only grows as bookings are added.
    lb: Option<i64>,
}

/// Staff of one calendar, in the order a search should try them.
type Queue = BTreeSet<(i64, u32, u32, u32)>;

/// Staff sharing one calendar: its intervals are laid out once.
struct Group {
    spans: Vec<GridSpan>,
    all: Vec<Window>,
}

/// R10/R11: gives each request, in order, the slot [`super::find_slots`] would rank first.
///
/// Each booking is added to its staff member's calendar and load before the next request, so
/// later requests see it. Rotation stays fixed; loads spread equal-start ties around the team.
pub fn batch(
    staff: &[StaffAvailability],
    requests: &[BatchRequest],
    settings: &BatchSettings,
) -> Result<BatchOutcome, Invalid> {
    let min_len = requests
        .iter()
        .filter_map(|r| length_seconds(r.length).ok())
        .min()
        .unwrap_or(60);
    let base = Params::new(
        SignedDuration::from_secs(min_len),
        settings.grid_minutes,
        settings.now,
        settings.horizon_days,
    )?;
    let until = base.horizon_end + super::engine::MAX_LENGTH_SECONDS;

    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<&RegionCalendar, usize> = HashMap::new();
    let ranks = rotation_ranks(staff.iter().map(|s| s.staff_id.as_str()), settings.rotation);
    let mut members = Vec::with_capacity(staff.len());
    for (i, s) in staff.iter().enumerate() {
        let group = *group_of.entry(&s.calendar).or_insert_with(|| {
            let spans = grid_spans(&s.calendar, base.now, until, base.grid);
            let all = span_windows(&spans, base.now);
            groups.push(Group { spans, all });
            groups.len() - 1
        });
        let busy = merge_busy(s.time_off.iter().chain(&s.bookings));
        let g = &groups[group];
        let lb = earliest_fit(&g.all, &g.spans, &busy, base.now, &base, i64::MAX);
        members.push(Member {
            group,
            langs: s.languages.iter().fold(0, |m, &l| m | language_bit(l)),
            busy,
            load: s.load,
            rank: ranks[i],
            lb,
        });
    }

    // queues[language][group]: who to try, soonest free first.
    let mut queues: Vec<Vec<Queue>> = (0..SpokenLanguage::ALL.len())
        .map(|_| (0..groups.len()).map(|_| Queue::new()).collect())
        .collect();
    for (i, m) in members.iter().enumerate() {
        enqueue(&mut queues, m, i as u32);
    }

    let spoken = members.iter().fold(0u16, |acc, m| acc | m.langs);
    let mut customers: HashMap<&CustomerHours, usize> = HashMap::new();
    let mut customer_windows: Vec<Vec<Option<Vec<Window>>>> = Vec::new();
    let mut customer_spans: Vec<Vec<(i64, i64)>> = Vec::new();

    let mut out = BatchOutcome::default();
    for req in requests {
        let unplaced = |reason| Unplaced {
            request_id: req.request_id.clone(),
            reason,
        };
        let p = match length_seconds(req.length) {
            Ok(len) => Params { len, ..base },
            Err(e) => {
                out.unplaced
                    .push(unplaced(UnplacedReason::InvalidRequest(e)));
                continue;
            }
        };
        let lang = language_index(req.language.spoken());
        if spoken & language_bit(req.language.spoken()) == 0 {
            out.unplaced
                .push(unplaced(UnplacedReason::NoStaffSpeaksLanguage));
            continue;
        }
        let ci = *customers.entry(&req.customer).or_insert_with(|| {
            customer_spans.push(
                req.customer
                    .spans(base.now, until)
                    .iter()
                    .map(|s| (s.start, s.end))
                    .collect(),
            );
            customer_windows.push(vec![None; groups.len()]);
            customer_spans.len() - 1
        });
        let preferred = merge_busy(&req.preferred);
        let mut found = None;
        for class in [0u8, 1] {
            if class == 0 && preferred.is_empty() {
                continue;
            }
            let mut best: Option<(i64, u32, u32, u32)> = None;
            for (g, group) in groups.iter().enumerate() {
                let queue = &queues[lang][g];
                if queue.is_empty() {
                    continue;
                }
                let windows = customer_windows[ci][g]
                    .get_or_insert_with(|| intersect(&group.spans, &customer_spans[ci], base.now));
                let restricted;
                let windows: &[Window] = if class == 0 {
                    restricted = restrict(windows, &preferred);
                    &restricted
                } else {
                    windows
                };
                if windows.is_empty() {
                    continue;
                }
                for &(lb, load, rank, idx) in queue {
                    if best.is_some_and(|b| (lb, load, rank) > (b.0, b.1, b.2)) {
                        break;
                    }
                    let m = &members[idx as usize];
                    let bound = best.map_or(i64::MAX, |b| b.0);
                    if let Some(s) = earliest_fit(windows, &group.spans, &m.busy, lb, &p, bound) {
                        let key = (s, load, rank, idx);
                        if best.is_none_or(|b| key < b) {
                            best = Some(key);
                        }
                    }
                }
            }
            if let Some(b) = best {
                found = Some((b, class == 0));
                break;
            }
        }
        let Some(((start, _, _, idx), preferred)) = found else {
            out.unplaced.push(unplaced(UnplacedReason::NoSlotInHorizon));
            continue;
        };
        let i = idx as usize;
        dequeue(&mut queues, &members[i], idx);
        let m = &mut members[i];
        insert_busy(&mut m.busy, start, start + p.len);
        m.load += 1;
        let g = &groups[m.group];
        m.lb =
            m.lb.and_then(|lb| earliest_fit(&g.all, &g.spans, &m.busy, lb, &base, i64::MAX));
        enqueue(&mut queues, &members[i], idx);
        let (Ok(start), Ok(end)) = (
            Timestamp::from_second(start),
            Timestamp::from_second(start).and_then(|s| s.checked_add(req.length)),
        ) else {
            out.unplaced.push(unplaced(UnplacedReason::NoSlotInHorizon));
            continue;
        };
        out.assignments.push(Assignment {
            request_id: req.request_id.clone(),
            slot: Slot {
                staff_id: staff[i].staff_id.clone(),
                start,
                end,
                preferred,
            },
        });
    }
    Ok(out)
}

/// Index of a spoken language in [`SpokenLanguage::ALL`].
fn language_index(l: SpokenLanguage) -> usize {
    SpokenLanguage::ALL
        .iter()
        .position(|&x| x == l)
        .unwrap_or(0)
}

/// Puts a member in the queue of each language it speaks, if it has any time left.
fn enqueue(queues: &mut [Vec<Queue>], m: &Member, idx: u32) {
    let Some(lb) = m.lb else { return };
    for (li, q) in queues.iter_mut().enumerate() {
        if m.langs & (1 << li) != 0 {
            q[m.group].insert((lb, m.load, m.rank, idx));
        }
    }
}

/// Takes a member out of its queues, before its key changes.
fn dequeue(queues: &mut [Vec<Queue>], m: &Member, idx: u32) {
    let Some(lb) = m.lb else { return };
    for (li, q) in queues.iter_mut().enumerate() {
        if m.langs & (1 << li) != 0 {
            q[m.group].remove(&(lb, m.load, m.rank, idx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduling::search::tests::{cal, member, ts};
    use crate::scheduling::{find_slots, SlotQuery};

    fn rome() -> RegionCalendar {
        cal("Europe/Rome", "mon-fri", "09:00-12:30,13:30-18:00")
    }

    fn req(id: &str, language: Language, customer: CustomerHours) -> BatchRequest {
        BatchRequest {
            request_id: id.into(),
            language,
            length: SignedDuration::from_mins(60),
            customer,
            preferred: vec![],
        }
    }

    fn settings(now: &str) -> BatchSettings {
        BatchSettings {
            now: ts(now),
            horizon_days: 28,
            grid_minutes: 30,
            rotation: 0,
        }
    }

    #[test]
    fn r10_batch_spreads_equal_starts_over_the_team_then_moves_on() {
        let staff = [
            member("a", &[SpokenLanguage::Italian], rome()),
            member("b", &[SpokenLanguage::Italian], rome()),
        ];
        let reqs: Vec<_> = (0..3)
            .map(|i| req(&format!("r{i}"), Language::Italian, rome()))
            .collect();
        let out = batch(&staff, &reqs, &settings("2024-06-03T07:00:00Z")).unwrap();
        let got: Vec<_> = out
            .assignments
            .iter()
            .map(|a| (a.slot.staff_id.as_str(), a.slot.start.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "2024-06-03T07:00:00Z".to_string()),
                ("b", "2024-06-03T07:00:00Z".to_string()),
                ("a", "2024-06-03T08:00:00Z".to_string()),
            ]
        );
    }

    #[test]
    fn r11_batch_says_why_a_request_was_not_placed() {
        let staff = [member("a", &[SpokenLanguage::Italian], rome())];
        let tokyo = cal("Asia/Tokyo", "sat", "03:00-04:00");
        let reqs = [
            req("thai", Language::Thai, rome()),
            req("night", Language::Italian, tokyo),
            BatchRequest {
                length: SignedDuration::ZERO,
                ..req("zero", Language::Italian, rome())
            },
        ];
        let out = batch(&staff, &reqs, &settings("2024-06-03T07:00:00Z")).unwrap();
        assert!(out.assignments.is_empty());
        let reasons: Vec<_> = out
            .unplaced
            .iter()
            .map(|u| (u.request_id.as_str(), u.reason.clone()))
            .collect();
        assert_eq!(reasons[0], ("thai", UnplacedReason::NoStaffSpeaksLanguage));
        assert_eq!(reasons[1], ("night", UnplacedReason::NoSlotInHorizon));
        assert!(matches!(reasons[2].1, UnplacedReason::InvalidRequest(_)));
    }

    #[test]
    fn r10_batch_takes_a_preferred_window_before_an_earlier_slot() {
        let staff = [member("a", &[SpokenLanguage::Italian], rome())];
        let mut r = req("r", Language::Italian, rome());
        r.preferred = vec![(ts("2024-06-05T12:00:00Z"), ts("2024-06-05T14:00:00Z"))];
        let out = batch(&staff, &[r], &settings("2024-06-03T07:00:00Z")).unwrap();
        assert_eq!(out.assignments[0].slot.start, ts("2024-06-05T12:00:00Z"));
        assert!(out.assignments[0].slot.preferred);
    }

    #[test]
    fn r10_batch_books_what_find_slots_ranks_first_at_every_step() {
        let zones = ["Europe/Rome", "America/New_York", "Asia/Tokyo"];
        let mut staff: Vec<StaffAvailability> = (0..9)
            .map(|i| {
                let langs: &[SpokenLanguage] = if i % 2 == 0 {
                    &[SpokenLanguage::English, SpokenLanguage::Italian]
                } else {
                    &[SpokenLanguage::English]
                };
                member(
                    &format!("s{i}"),
                    langs,
                    cal(zones[i % 3], "mon-fri", "09:00-12:00,13:00-17:00"),
                )
            })
            .collect();
        let customers = [
            cal("Europe/London", "mon-fri", "08:00-18:00"),
            cal("America/Chicago", "mon-sat", "07:00-15:00"),
            cal("Australia/Sydney", "mon-fri", "09:00-17:00"),
        ];
        let reqs: Vec<BatchRequest> = (0..60)
            .map(|i| BatchRequest {
                length: SignedDuration::from_mins(if i % 4 == 0 { 90 } else { 60 }),
                preferred: if i % 5 == 0 {
                    vec![(ts("2024-06-06T14:00:00Z"), ts("2024-06-06T18:00:00Z"))]
                } else {
                    vec![]
                },
                ..req(
                    &format!("r{i}"),
                    if i % 3 == 0 {
                        Language::Italian
                    } else {
                        Language::English
                    },
                    customers[i % 3].clone(),
                )
            })
            .collect();
        let set = BatchSettings {
            rotation: 5,
            horizon_days: 7,
            ..settings("2024-06-03T05:10:00Z")
        };
        let out = batch(&staff, &reqs, &set).unwrap();
        let mut placed = out.assignments.iter();
        for r in &reqs {
            let mut q = SlotQuery::new(r.language, r.length, r.customer.clone(), set.now);
            q.preferred = r.preferred.clone();
            q.horizon_days = set.horizon_days;
            q.rotation = set.rotation;
            q.limit = 1;
            let first = find_slots(&staff, &q).unwrap().into_iter().next();
            match first {
                Some(slot) => {
                    let a = placed.next().unwrap();
                    assert_eq!(a.request_id, r.request_id);
                    assert_eq!(a.slot, slot);
                    let s = staff
                        .iter_mut()
                        .find(|s| s.staff_id == slot.staff_id)
                        .unwrap();
                    s.bookings.push((slot.start, slot.end));
                    s.load += 1;
                }
                None => assert!(out.unplaced.iter().any(|u| u.request_id == r.request_id)),
            }
        }
        assert!(placed.next().is_none());
    }
}

#[cfg(test)]
mod scale {
    //! Many staff, regions and requests at once: what must hold whatever the size. How fast it
    //! runs is measured by `benches/scheduler.rs` (figures in BENCHMARKS.md), never here.
    use super::*;
    use crate::calendar::WorkingHours;
    use crate::scheduling::search::tests::ts;
    use crate::scheduling::{find_slots, SlotQuery};
    use crate::types::IanaZone;

    const REGIONS: [&str; 8] = [
        "Europe/Rome",
        "Europe/London",
        "America/New_York",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Asia/Singapore",
        "Australia/Sydney",
        "Asia/Bangkok",
    ];

    const CUSTOMER_ZONES: [&str; 12] = [
        "Europe/Rome",
        "Europe/Paris",
        "Europe/Berlin",
        "Europe/Madrid",
        "America/Chicago",
        "America/New_York",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Asia/Seoul",
        "Asia/Shanghai",
        "Asia/Ho_Chi_Minh",
        "Australia/Sydney",
    ];

    /// A small deterministic generator, so that every run sees the same input.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    fn region(zone: &str) -> RegionCalendar {
        let hours = WorkingHours::parse("mon-fri", "09:00-12:30,13:30-18:00").unwrap();
        RegionCalendar::new(IanaZone::parse(zone).unwrap(), hours).with_holidays([
            jiff::civil::date(2025, 3, 19),
            jiff::civil::date(2025, 4, 1),
        ])
    }

    fn team(n: usize) -> Vec<StaffAvailability> {
        let regions: Vec<_> = REGIONS.iter().map(|z| region(z)).collect();
        let mut rng = Lcg(7);
        (0..n)
            .map(|i| {
                let mut languages: BTreeSet<SpokenLanguage> = BTreeSet::new();
                languages.insert(SpokenLanguage::English);
                languages.insert(SpokenLanguage::ALL[rng.next(11)]);
                languages.insert(SpokenLanguage::ALL[rng.next(11)]);
                StaffAvailability {
                    staff_id: format!("staff-{i:05}"),
                    languages,
                    calendar: regions[i % 8].clone(),
                    time_off: vec![],
                    bookings: vec![],
                    load: rng.next(5) as u32,
                }
            })
            .collect()
    }

    /// Whether `[start, end)` lies wholly inside one working interval of `cal`.
    fn inside(cal: &RegionCalendar, start: Timestamp, end: Timestamp) -> bool {
        cal.working_intervals(start, end) == vec![(start, end)]
    }

    #[test]
    fn r10_a_slot_search_over_fifty_staff_and_four_weeks_offers_ten_slots_earliest_first() {
        let staff = team(50);
        let customer = region("Europe/Paris");
        let mut q = SlotQuery::new(
            Language::English,
            SignedDuration::from_mins(60),
            customer.clone(),
            ts("2025-03-03T06:00:00Z"),
        );
        q.horizon_days = 28;
        for rotation in 0..5 {
            q.rotation = rotation;
            let v = find_slots(&staff, &q).unwrap();
            assert_eq!(v.len(), 10);
            assert!(v.windows(2).all(|w| w[0].start <= w[1].start));
            for s in &v {
                let member = staff.iter().find(|m| m.staff_id == s.staff_id).unwrap();
                assert!(inside(&member.calendar, s.start, s.end), "{s:?}");
                assert!(inside(&customer, s.start, s.end), "{s:?}");
            }
        }
    }

    #[test]
    fn r10_a_batch_over_eight_regions_places_nearly_every_request_and_never_double_books() {
        let staff = team(200);
        let mut rng = Lcg(11);
        let customers: Vec<_> = CUSTOMER_ZONES
            .iter()
            .map(|z| region(z).with_holidays([]))
            .collect();
        let now = ts("2025-03-03T00:00:00Z");
        let n = 2_000;
        let requests: Vec<BatchRequest> = (0..n)
            .map(|i| {
                let language = Language::ALL[rng.next(12)];
                let preferred = if rng.next(10) == 0 {
                    let day = rng.next(20) as i64;
                    let a = now + SignedDuration::from_hours(24 * day + 8);
                    vec![(a, a + SignedDuration::from_hours(4))]
                } else {
                    vec![]
                };
                BatchRequest {
                    request_id: format!("req-{i}"),
                    language,
                    length: SignedDuration::from_mins([30, 60, 60, 90][rng.next(4)]),
                    customer: customers[rng.next(customers.len())].clone(),
                    preferred,
                }
            })
            .collect();
        let settings = BatchSettings {
            now,
            horizon_days: 28,
            grid_minutes: 30,
            rotation: 0,
        };
        let out = batch(&staff, &requests, &settings).unwrap();
        assert_eq!(out.assignments.len() + out.unplaced.len(), requests.len());
        assert!(
            out.assignments.len() * 10 > n * 9,
            "{} of {n} placed",
            out.assignments.len()
        );

        let request: HashMap<&str, &BatchRequest> = requests
            .iter()
            .map(|r| (r.request_id.as_str(), r))
            .collect();
        let member: HashMap<&str, &StaffAvailability> =
            staff.iter().map(|s| (s.staff_id.as_str(), s)).collect();
        let mut booked: HashMap<&str, Vec<(Timestamp, Timestamp)>> = HashMap::new();
        for a in &out.assignments {
            let (r, s, slot) = (
                request[a.request_id.as_str()],
                member[a.slot.staff_id.as_str()],
                &a.slot,
            );
            assert!(s.speaks(r.language), "{a:?}");
            assert_eq!(slot.end.duration_since(slot.start), r.length, "{a:?}");
            assert!(inside(&s.calendar, slot.start, slot.end), "{a:?}");
            assert!(inside(&r.customer, slot.start, slot.end), "{a:?}");
            booked
                .entry(&slot.staff_id)
                .or_default()
                .push((slot.start, slot.end));
        }
        for (id, meetings) in &mut booked {
            meetings.sort();
            assert!(
                meetings.windows(2).all(|w| w[0].1 <= w[1].0),
                "{id} is double-booked"
            );
        }
    }
}
