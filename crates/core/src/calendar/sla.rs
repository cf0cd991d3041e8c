//! R15: service-level clocks that run only in a region's business hours, minus pauses.
//!
//! Instants are taken to the whole second (sub-second parts dropped); a count of business
//! minutes is the floor of the counted seconds divided by 60.

use jiff::Timestamp;

use super::region::{RegionCalendar, DAY_SECONDS};

/// How far ahead a deadline is looked for before giving up (a calendar with almost no hours).
const DEADLINE_SEARCH_DAYS: i64 = 3 * 366;

/// Days of calendar computed at a time while looking for a deadline.
const CHUNK_DAYS: i64 = 35;

/// R15: business minutes of `cal` in `[start, end)`, skipping holidays and the union of `pauses`.
pub fn business_minutes(
    cal: &RegionCalendar,
    start: Timestamp,
    end: Timestamp,
    pauses: &[(Timestamp, Timestamp)],
) -> i64 {
    business_seconds(cal, start.as_second(), end.as_second(), pauses) / 60
}

/// Business seconds in `[start, end)` (UTC seconds); 0 when `end` is not after `start`.
fn business_seconds(
    cal: &RegionCalendar,
    start: i64,
    end: i64,
    pauses: &[(Timestamp, Timestamp)],
) -> i64 {
    if end <= start {
        return 0;
    }
    let pauses = merged_pauses(pauses);
    cal.spans(start, end)
        .iter()
        .map(|s| counted(s.start.max(start), s.end.min(end), &pauses))
        .sum()
}

/// R15: the instant at which `minutes` business minutes have run since `start`.
///
/// `pauses` are the pauses known so far (an ongoing one clipped by the caller to `now`); the
/// deadline assumes no further pause. `None` when the calendar has no such time within 3 years.
pub fn deadline(
    cal: &RegionCalendar,
    start: Timestamp,
    minutes: i64,
    pauses: &[(Timestamp, Timestamp)],
) -> Option<Timestamp> {
    let mut left = minutes.max(0).checked_mul(60)?;
    let start = start.as_second();
    if left == 0 {
        return Timestamp::from_second(start).ok();
    }
    let pauses = merged_pauses(pauses);
    let mut from = start;
    let limit = start.checked_add(DEADLINE_SEARCH_DAYS * DAY_SECONDS)?;
    while from < limit {
        let to = from + CHUNK_DAYS * DAY_SECONDS;
        for s in cal.spans(from, to) {
            let (a, b) = (s.start.max(from), s.end.min(to));
            for (ra, rb) in running(a, b, &pauses) {
                let len = rb - ra;
                if len >= left {
                    return Timestamp::from_second(ra + left).ok();
                }
                left -= len;
            }
        }
        from = to;
    }
    None
}

/// R15: where a service-level clock stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaStatus {
    /// Business minutes run so far.
    pub elapsed: i64,
    /// Business minutes left before the target (0 once it is reached).
    pub remaining: i64,
    /// The clock has run past the target.
    pub breached: bool,
    /// Not breached, but at least the near-breach fraction of the target has run.
    pub near_breach: bool,
    /// When the target is reached if nothing else pauses the clock.
    pub deadline: Option<Timestamp>,
}

impl SlaStatus {
    /// R15: the clock of a `target_minutes` promise started at `start`, seen at `now`.
    ///
    /// `near_breach_fraction` (for example 0.8) says how much of the target may run before the
    /// queue flags it; it is clamped to `0.0..=1.0`.
    pub fn at(
        cal: &RegionCalendar,
        start: Timestamp,
        now: Timestamp,
        target_minutes: i64,
        pauses: &[(Timestamp, Timestamp)],
        near_breach_fraction: f64,
    ) -> SlaStatus {
        let target = target_minutes.max(0);
        let seconds = business_seconds(cal, start.as_second(), now.as_second(), pauses);
        let breached = seconds > target.saturating_mul(60);
        let fraction = if near_breach_fraction.is_nan() {
            1.0
        } else {
            near_breach_fraction.clamp(0.0, 1.0)
        };
        let near_breach = !breached && seconds as f64 >= fraction * (target as f64) * 60.0;
        SlaStatus {
            elapsed: seconds / 60,
            remaining: (target - seconds / 60).max(0),
            breached,
            near_breach,
            deadline: deadline(cal, start, target, pauses),
        }
    }
}

/// Pauses as sorted, disjoint UTC-second intervals.
fn merged_pauses(pauses: &[(Timestamp, Timestamp)]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = pauses
        .iter()
        .map(|(a, b)| (a.as_second(), b.as_second()))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Seconds of `[a, b)` outside every pause.
fn counted(a: i64, b: i64, pauses: &[(i64, i64)]) -> i64 {
    running(a, b, pauses).map(|(x, y)| y - x).sum()
}

/// The pieces of `[a, b)` outside the (sorted, disjoint) pauses, in order.
fn running(a: i64, b: i64, pauses: &[(i64, i64)]) -> impl Iterator<Item = (i64, i64)> + '_ {
    let first = pauses.partition_point(|p| p.1 <= a);
    let mut cur = a;
    let mut i = first;
    std::iter::from_fn(move || {
        while cur < b {
            match pauses.get(i) {
                Some(&(pa, pb)) if pa < b => {
                    i += 1;
                    if pa > cur {
                        let piece = (cur, pa);
                        cur = pb.max(cur);
                        return Some(piece);
                    }
                    cur = cur.max(pb);
                }
                _ => {
                    let piece = (cur, b);
                    cur = b;
                    return Some(piece);
                }
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::hours::WorkingHours;
    use crate::types::IanaZone;
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cal(zone: &str, days: &str, hours: &str) -> RegionCalendar {
        RegionCalendar::new(
            IanaZone::parse(zone).unwrap(),
            WorkingHours::parse(days, hours).unwrap(),
        )
    }

    fn rome() -> RegionCalendar {
        cal("Europe/Rome", "mon-fri", "09:00-12:30,13:30-18:00")
    }

    #[test]
    fn r15_minutes_within_one_day_skip_the_lunch_break() {
        // Mon 2024-06-03 10:00 to 15:00 Rome (08:00Z to 13:00Z): 150 + 90 minutes.
        let m = business_minutes(
            &rome(),
            ts("2024-06-03T08:00:00Z"),
            ts("2024-06-03T13:00:00Z"),
            &[],
        );
        assert_eq!(m, 240);
    }

    #[test]
    fn r15_the_clock_stops_over_the_weekend() {
        // Fri 2024-06-07 17:00 Rome to Mon 2024-06-10 10:00 Rome: 60 + 60 minutes.
        let m = business_minutes(
            &rome(),
            ts("2024-06-07T15:00:00Z"),
            ts("2024-06-10T08:00:00Z"),
            &[],
        );
        assert_eq!(m, 120);
    }

    #[test]
    fn r15_the_clock_stops_on_a_holiday() {
        // Wed 2024-08-14 17:00 to Fri 2024-08-16 10:00 Rome; Thursday 15 August is Ferragosto.
        let c = rome().with_holidays([date(2024, 8, 15)]);
        let m = business_minutes(
            &c,
            ts("2024-08-14T15:00:00Z"),
            ts("2024-08-16T08:00:00Z"),
            &[],
        );
        assert_eq!(m, 120);
        let without = business_minutes(
            &rome(),
            ts("2024-08-14T15:00:00Z"),
            ts("2024-08-16T08:00:00Z"),
            &[],
        );
        assert_eq!(without, 120 + 8 * 60);
    }

    #[test]
    fn r15_pauses_are_subtracted_once_even_when_they_overlap() {
        // Mon 2024-06-03 09:00-18:00 Rome is 480 business minutes; pauses cover 10:00-11:30 Rome
        // twice over and 12:00-14:00 Rome (30 + 30 business minutes there).
        let pauses = [
            (ts("2024-06-03T08:00:00Z"), ts("2024-06-03T09:00:00Z")),
            (ts("2024-06-03T08:30:00Z"), ts("2024-06-03T09:30:00Z")),
            (ts("2024-06-03T10:00:00Z"), ts("2024-06-03T12:00:00Z")),
        ];
        let m = business_minutes(
            &rome(),
            ts("2024-06-03T07:00:00Z"),
            ts("2024-06-03T16:00:00Z"),
            &pauses,
        );
        assert_eq!(m, 480 - 90 - 60);
    }

    #[test]
    fn r15_an_end_before_the_start_counts_zero() {
        assert_eq!(
            business_minutes(
                &rome(),
                ts("2024-06-03T13:00:00Z"),
                ts("2024-06-03T08:00:00Z"),
                &[]
            ),
            0
        );
    }

    #[test]
    fn r15_partial_minutes_are_floored() {
        let m = business_minutes(
            &rome(),
            ts("2024-06-03T07:00:00Z"),
            ts("2024-06-03T07:01:59Z"),
            &[],
        );
        assert_eq!(m, 1);
    }

    #[test]
    fn r15_spring_forward_day_counts_the_true_hours() {
        // A region working Sundays 00:00-06:00; Rome jumps 02:00 -> 03:00 on 2024-03-31,
        // so that day's interval is five real hours (23:00Z to 04:00Z).
        let c = cal("Europe/Rome", "sun", "00:00-06:00");
        let m = business_minutes(
            &c,
            ts("2024-03-30T12:00:00Z"),
            ts("2024-04-01T00:00:00Z"),
            &[],
        );
        assert_eq!(m, 5 * 60);
    }

    #[test]
    fn r15_fall_back_day_counts_the_true_hours() {
        // Rome repeats 02:00-03:00 on 2024-10-27: 00:00-06:00 local is seven real hours.
        let c = cal("Europe/Rome", "sun", "00:00-06:00");
        let m = business_minutes(
            &c,
            ts("2024-10-26T12:00:00Z"),
            ts("2024-10-28T00:00:00Z"),
            &[],
        );
        assert_eq!(m, 7 * 60);
    }

    #[test]
    fn r15_a_round_the_clock_region_has_a_23_and_a_25_hour_day() {
        let c = cal("Europe/Rome", "mon-sun", "00:00-24:00");
        // Rome's Sunday 2024-03-31 runs from 23:00Z to 22:00Z; 2024-10-27 from 22:00Z to 23:00Z.
        let spring = business_minutes(
            &c,
            ts("2024-03-30T23:00:00Z"),
            ts("2024-03-31T22:00:00Z"),
            &[],
        );
        assert_eq!(spring, 23 * 60);
        let autumn = business_minutes(
            &c,
            ts("2024-10-26T22:00:00Z"),
            ts("2024-10-27T23:00:00Z"),
            &[],
        );
        assert_eq!(autumn, 25 * 60);
    }

    #[test]
    fn r15_dst_change_on_a_working_sunday_in_jerusalem() {
        // Israel works Sunday to Thursday; it fell back 02:00 -> 01:00 on Sunday 2024-10-27.
        // Local Sunday runs from Saturday 21:00Z (+03) to Sunday 22:00Z (+02): 25 hours.
        let c = cal("Asia/Jerusalem", "sun-thu", "00:00-24:00");
        let m = business_minutes(
            &c,
            ts("2024-10-26T12:00:00Z"),
            ts("2024-10-27T22:00:00Z"),
            &[],
        );
        assert_eq!(m, 25 * 60);
        // 24 business hours from local Sunday midnight end at 23:00 local, 21:00Z.
        let d = deadline(&c, ts("2024-10-26T21:00:00Z"), 24 * 60, &[]).unwrap();
        assert_eq!(d, ts("2024-10-27T21:00:00Z"));
        // It sprang forward 02:00 -> 03:00 on Friday 2024-03-29: a 23-hour Friday for a
        // region that works it; an hour's pause in the afternoon leaves 22.
        let c = cal("Asia/Jerusalem", "mon-sun", "00:00-24:00");
        let pause = [(ts("2024-03-29T10:00:00Z"), ts("2024-03-29T11:00:00Z"))];
        let m = business_minutes(
            &c,
            ts("2024-03-28T22:00:00Z"),
            ts("2024-03-29T21:00:00Z"),
            &pause,
        );
        assert_eq!(m, 22 * 60);
    }

    #[test]
    fn r15_a_skipped_midnight_starts_the_day_at_the_jump() {
        // Chile sprang forward at 24:00 on Saturday 2024-09-07: Sunday's 00:00 never happened,
        // so a 00:00-02:00 interval runs from the jump (04:00Z) to 02:00 -03 (05:00Z).
        let c = cal("America/Santiago", "mon-sun", "00:00-02:00");
        let iv = c.working_intervals(ts("2024-09-08T00:00:00Z"), ts("2024-09-09T00:00:00Z"));
        assert_eq!(
            iv,
            vec![(ts("2024-09-08T04:00:00Z"), ts("2024-09-08T05:00:00Z"))]
        );
        let sept = business_minutes(
            &c,
            ts("2024-09-08T00:00:00Z"),
            ts("2024-09-09T00:00:00Z"),
            &[],
        );
        assert_eq!(sept, 60);
    }

    #[test]
    fn r15_deadline_runs_over_the_weekend_and_a_holiday() {
        // 4 business hours from Fri 2024-08-09 16:00 Rome: 2 h on Friday, Monday 12 August
        // 09:00-11:00 Rome, i.e. 09:00Z.
        let d = deadline(&rome(), ts("2024-08-09T14:00:00Z"), 240, &[]).unwrap();
        assert_eq!(d, ts("2024-08-12T09:00:00Z"));
        // Thu 15 August is a holiday: 8 h from Wed 17:00 are 1 h on Wednesday, then Friday's
        // 3.5 h morning and 3.5 h from 13:30, ending at 17:00 Rome (15:00Z).
        let c = rome().with_holidays([date(2024, 8, 15)]);
        let d = deadline(&c, ts("2024-08-14T15:00:00Z"), 8 * 60, &[]).unwrap();
        assert_eq!(d, ts("2024-08-16T15:00:00Z"));
    }

    #[test]
    fn r15_deadline_moves_by_the_pauses_and_ends_at_an_interval_end_exactly() {
        // 210 minutes from Mon 09:00 Rome end exactly at the lunch break (12:30 Rome, 10:30Z).
        let d = deadline(&rome(), ts("2024-06-03T07:00:00Z"), 210, &[]).unwrap();
        assert_eq!(d, ts("2024-06-03T10:30:00Z"));
        // A one-hour pause at 10:00 Rome pushes it past lunch to 14:30 Rome.
        let p = [(ts("2024-06-03T08:00:00Z"), ts("2024-06-03T09:00:00Z"))];
        let d = deadline(&rome(), ts("2024-06-03T07:00:00Z"), 210, &p).unwrap();
        assert_eq!(d, ts("2024-06-03T12:30:00Z"));
        assert_eq!(
            business_minutes(&rome(), ts("2024-06-03T07:00:00Z"), d, &p),
            210
        );
    }

    #[test]
    fn r15_deadline_on_a_calendar_without_hours_is_none() {
        let c = RegionCalendar::new(IanaZone::parse("UTC").unwrap(), WorkingHours::default());
        assert_eq!(deadline(&c, ts("2024-06-03T07:00:00Z"), 1, &[]), None);
    }

    #[test]
    fn r15_status_flags_near_breach_and_breach() {
        let start = ts("2024-06-03T07:00:00Z");
        let s = SlaStatus::at(&rome(), start, ts("2024-06-03T09:00:00Z"), 240, &[], 0.8);
        assert_eq!(
            (s.elapsed, s.remaining, s.breached, s.near_breach),
            (120, 120, false, false)
        );
        let s = SlaStatus::at(&rome(), start, ts("2024-06-03T12:00:00Z"), 240, &[], 0.8);
        // 09:00-12:30 and 13:30-14:00 Rome: 240 minutes, exactly on target.
        assert_eq!(
            (s.elapsed, s.remaining, s.breached, s.near_breach),
            (240, 0, false, true)
        );
        assert_eq!(s.deadline, Some(ts("2024-06-03T12:00:00Z")));
        let s = SlaStatus::at(&rome(), start, ts("2024-06-03T12:01:00Z"), 240, &[], 0.8);
        assert!(s.breached && !s.near_breach);
    }
}
