//! Property tests: slot search against a brute-force oracle over random zones, hours and DST days.

use std::collections::BTreeSet;

use jiff::civil::{date, Date};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::calendar::region::resolve_local;
use crate::calendar::{DayInterval, RegionCalendar, WorkingHours};
use crate::language::{Language, SpokenLanguage};
use crate::types::IanaZone;

const ZONES: [&str; 9] = [
    "Europe/Rome",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Asia/Jerusalem",
    "America/Santiago",
    "Australia/Lord_Howe",
    "UTC",
];

/// Days on which at least one of the zones above changes its offset.
const DST_DAYS: [(i16, i8, i8); 10] = [
    (2024, 3, 10),
    (2024, 3, 31),
    (2024, 10, 27),
    (2024, 11, 3),
    (2024, 4, 7),
    (2024, 10, 6),
    (2018, 11, 4),
    (2019, 2, 17),
    (2024, 9, 8),
    (2024, 3, 29),
];

fn zone() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&ZONES[..])
}

/// One to three sorted, disjoint intervals on a 15-minute raster, any of them possibly at night.
fn day_intervals() -> impl Strategy<Value = Vec<DayInterval>> {
    proptest::collection::btree_set(0u16..=96, 2..=6).prop_map(|set| {
        let v: Vec<u16> = set.into_iter().collect();
        v.chunks_exact(2)
            .filter_map(|c| DayInterval::new(c[0] * 15, c[1] * 15).ok())
            .collect()
    })
}

fn calendar(base: Date) -> impl Strategy<Value = RegionCalendar> {
    (
        zone(),
        1u8..=127,
        day_intervals(),
        proptest::collection::vec(0i32..10, 0..3),
    )
        .prop_map(move |(z, mask, ivs, holidays)| {
            let days: Vec<_> = (0..7)
                .filter(|i| mask & (1 << i) != 0)
                .filter_map(|i| jiff::civil::Weekday::from_monday_zero_offset(i).ok())
                .collect();
            let hours = WorkingHours::uniform(&days, &ivs).unwrap();
            let holidays = holidays.into_iter().filter_map(|d| {
                base.checked_add(jiff::Span::new().days(i64::from(d) - 3))
                    .ok()
            });
            RegionCalendar::new(IanaZone::parse(z).unwrap(), hours).with_holidays(holidays)
        })
}

/// A customer reachable round the clock, so that staff hours decide.
fn customer_all_week() -> impl Strategy<Value = RegionCalendar> {
    zone().prop_map(|z| {
        let hours = WorkingHours::parse("mon-sun", "00:00-24:00").unwrap();
        RegionCalendar::new(IanaZone::parse(z).unwrap(), hours)
    })
}

fn languages() -> impl Strategy<Value = BTreeSet<SpokenLanguage>> {
    proptest::collection::btree_set(proptest::sample::select(&SpokenLanguage::ALL[..4]), 1..=3)
}

fn busy(now: Timestamp) -> impl Strategy<Value = Vec<(Timestamp, Timestamp)>> {
    proptest::collection::vec((0i64..4 * 24 * 60, 1i64..300), 0..5).prop_map(move |v| {
        v.into_iter()
            .map(|(start, len)| {
                let a = now + SignedDuration::from_mins(start - 12 * 60);
                (a, a + SignedDuration::from_mins(len))
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Case {
    staff: Vec<StaffAvailability>,
    query: SlotQuery,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(&DST_DAYS[..]),
        -72i64..72,
        0i64..60,
    )
        .prop_flat_map(|((y, m, d), hours, minutes)| {
            let base = date(y, m, d);
            let now = base
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp()
                + SignedDuration::from_mins(hours * 60 + minutes);
            let member = (languages(), calendar(base), busy(now), busy(now), 0u32..3).prop_map(
                |(languages, calendar, time_off, bookings, load)| StaffAvailability {
                    staff_id: String::new(),
                    languages,
                    calendar,
                    time_off,
                    bookings,
                    load,
                },
            );
            (
                proptest::collection::vec(member, 1..=4),
                proptest::sample::select(&Language::ALL[..]),
                proptest::sample::select(&[15i64, 30, 45, 60, 90][..]),
                proptest::sample::select(&[15u32, 30, 45, 60][..]),
                1u32..=3,
                prop_oneof![calendar(base), customer_all_week()],
                busy(now),
                0u64..5,
                Just(now),
            )
        })
        .prop_map(
            |(mut staff, language, len, grid, horizon, customer, preferred, rotation, now)| {
                for (i, s) in staff.iter_mut().enumerate() {
                    s.staff_id = format!("s{i}");
                }
                let mut query = SlotQuery::new(
                    language,
                    SignedDuration::from_mins(len),
                    customer.with_holidays([]),
                    now,
                );
                query.grid_minutes = grid;
                query.horizon_days = horizon;
                query.preferred = preferred;
                query.rotation = rotation;
                query.limit = 100_000;
                Case { staff, query }
            },
        )
        .prop_filter("some staff speak the language", |c| {
            c.staff.iter().any(|s| s.speaks(c.query.language))
        })
}

/// Whether `[s, e)` lies in one working interval of `cal`, worked out wall-clock by wall-clock.
fn inside(cal: &RegionCalendar, s: Timestamp, e: Timestamp) -> Option<(Date, DayInterval)> {
    let local = cal.tz().to_datetime(s).date();
    [local.yesterday().ok()?, local].into_iter().find_map(|d| {
        if !cal.is_working_day(d) {
            return None;
        }
        cal.hours().on(d.weekday()).iter().copied().find_map(|iv| {
            let a = at(cal, d, i64::from(iv.start_minute()) * 60)?;
            let b = at(cal, d, i64::from(iv.end_minute()) * 60)?;
            (a <= s && e <= b).then_some((d, iv))
        })
    })
}

/// The instant of `wall` seconds after local midnight of `d` (SPEC's DST rules).
fn at(cal: &RegionCalendar, d: Date, wall: i64) -> Option<Timestamp> {
    let (d, wall) = if wall >= 86_400 {
        (d.tomorrow().ok()?, wall - 86_400)
    } else {
        (d, wall)
    };
    let t = jiff::civil::Time::new((wall / 3600) as i8, (wall / 60 % 60) as i8, 0, 0).ok()?;
    resolve_local(cal.tz(), d.to_datetime(t))
}

fn overlaps(list: &[(Timestamp, Timestamp)], s: Timestamp, e: Timestamp) -> bool {
    list.iter().any(|&(a, b)| a < e && s < b)
}

/// Every slot the rules allow, found by trying each grid point of each day.
fn oracle(c: &Case) -> BTreeSet<(String, Timestamp)> {
    let q = &c.query;
    let len = q.length;
    let grid = i64::from(q.grid_minutes) * 60;
    let end = q.now + SignedDuration::from_hours(24 * i64::from(q.horizon_days));
    let mut out = BTreeSet::new();
    for s in c.staff.iter().filter(|s| s.speaks(q.language)) {
        let cal = &s.calendar;
        let mut d = cal.tz().to_datetime(q.now).date().yesterday().unwrap();
        let last = cal.tz().to_datetime(end).date();
        while d <= last {
            if cal.is_working_day(d) {
                for iv in cal.hours().on(d.weekday()) {
                    let (lo, hi) = (
                        i64::from(iv.start_minute()) * 60,
                        i64::from(iv.end_minute()) * 60,
                    );
                    let first = (lo + grid - 1) / grid * grid;
                    let (Some(a), Some(b)) = (at(cal, d, lo), at(cal, d, hi)) else {
                        continue;
                    };
                    for wall in (first..hi).step_by(grid as usize) {
                        let Some(start) = at(cal, d, wall) else {
                            continue;
                        };
                        let stop = start + len;
                        if start < q.now || start >= end || start < a || stop > b {
                            continue;
                        }
                        if inside(&q.customer, start, stop).is_none() {
                            continue;
                        }
                        if overlaps(&s.time_off, start, stop) || overlaps(&s.bookings, start, stop)
                        {
                            continue;
                        }
                        out.insert((s.staff_id.clone(), start));
                    }
                }
            }
            d = d.tomorrow().unwrap();
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn r10_r11_r12_slots_are_exactly_those_the_rules_allow(c in case()) {
        let slots = find_slots(&c.staff, &c.query).unwrap();
        let q = &c.query;
        for slot in &slots {
            let s = c.staff.iter().find(|s| s.staff_id == slot.staff_id).unwrap();
            prop_assert!(s.speaks(q.language), "R11: {slot:?}");
            let (day, _) = inside(&s.calendar, slot.start, slot.end)
                .ok_or_else(|| TestCaseError::fail(format!("R12 staff hours: {slot:?}")))?;
            prop_assert!(!s.calendar.is_holiday(day), "R12 holiday: {slot:?}");
            prop_assert!(inside(&q.customer, slot.start, slot.end).is_some(), "R10 customer: {slot:?}");
            prop_assert!(!overlaps(&s.bookings, slot.start, slot.end), "R10 booking: {slot:?}");
            prop_assert!(!overlaps(&s.time_off, slot.start, slot.end), "R10 time off: {slot:?}");
            prop_assert!(validate_booking(s, q.language, &q.customer, slot.start, slot.end).is_ok());
        }
        for w in slots.windows(2) {
            prop_assert!((!w[0].preferred, w[0].start) <= (!w[1].preferred, w[1].start), "order: {w:?}");
        }
        let got: BTreeSet<_> = slots.iter().map(|s| (s.staff_id.clone(), s.start)).collect();
        prop_assert_eq!(got.len(), slots.len());
        prop_assert_eq!(got, oracle(&c));
    }

    #[test]
    fn r10_limited_results_are_a_prefix_of_the_full_list(c in case(), limit in 1usize..6) {
        let all = find_slots(&c.staff, &c.query).unwrap();
        let mut q = c.query.clone();
        q.limit = limit;
        let some = find_slots(&c.staff, &q).unwrap();
        prop_assert_eq!(&some[..], &all[..limit.min(all.len())]);
    }

    /// A team laid out once (calendars' intervals over a window that may or may not hold the
    /// search's horizon, staff sharing calendars or not) offers exactly what a search from
    /// scratch offers.
    #[test]
    fn r10_a_laid_out_team_offers_exactly_what_find_slots_offers(
        c in case(),
        shared in any::<bool>(),
        limit in 1usize..12,
        lead_hours in -6i64..30,
        past_hours in -30i64..48,
        other_grid in proptest::option::weighted(0.25, proptest::sample::select(&[15u32, 30, 45, 60][..])),
    ) {
        let mut staff = c.staff.clone();
        // Ids against position, so that the id order is the layout's own work.
        let n = staff.len();
        for (i, s) in staff.iter_mut().enumerate() {
            s.staff_id = format!("s{}", n - i);
        }
        if shared {
            let cal = staff[0].calendar.clone();
            for s in staff.iter_mut().skip(1).step_by(2) {
                s.calendar = cal.clone();
            }
        }
        let q = SlotQuery { limit, ..c.query.clone() };
        let from = q.now - SignedDuration::from_hours(lead_hours);
        let to = q.now + SignedDuration::from_hours(past_hours + 24 * (i64::from(q.horizon_days) + 1));
        let layout = SearchLayout::new(&staff, from, to, other_grid.unwrap_or(q.grid_minutes));
        prop_assert_eq!(find_slots_in(&staff, &layout, &q).unwrap(), find_slots(&staff, &q).unwrap());
    }

    #[test]
    fn r10_batch_books_what_find_slots_ranks_first_at_each_step(c in case(), n in 1usize..8) {
        let q = &c.query;
        let requests: Vec<BatchRequest> = (0..n)
            .map(|i| BatchRequest {
                request_id: format!("r{i}"),
                language: q.language,
                length: q.length + SignedDuration::from_mins(15 * (i as i64 % 3)),
                customer: q.customer.clone(),
                preferred: if i % 2 == 0 { q.preferred.clone() } else { vec![] },
            })
            .collect();
        let settings = BatchSettings {
            now: q.now,
            horizon_days: q.horizon_days,
            grid_minutes: q.grid_minutes,
            rotation: q.rotation,
        };
        let out = batch(&c.staff, &requests, &settings).unwrap();
        let mut staff = c.staff.clone();
        let mut placed = out.assignments.iter();
        for r in &requests {
            let mut step = q.clone();
            step.length = r.length;
            step.preferred = r.preferred.clone();
            step.limit = 1;
            match find_slots(&staff, &step).unwrap().into_iter().next() {
                Some(slot) => {
                    let a = placed.next().unwrap();
                    prop_assert_eq!(&a.request_id, &r.request_id);
                    prop_assert_eq!(&a.slot, &slot);
                    let s = staff.iter_mut().find(|s| s.staff_id == slot.staff_id).unwrap();
                    s.bookings.push((slot.start, slot.end));
                    s.load += 1;
                }
                None => prop_assert!(out.unplaced.iter().any(|u| u.request_id == r.request_id)),
            }
        }
        prop_assert!(placed.next().is_none());
    }
}
