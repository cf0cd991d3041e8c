//! R12: a region's calendar (zone, working hours, holidays) turned into exact UTC intervals.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use super::hours::WorkingHours;
use crate::types::IanaZone;

/// Seconds in a civil day without a daylight-saving change.
pub(crate) const DAY_SECONDS: i64 = 86_400;

/// R12: when a region (or a customer) works: its zone, weekly hours and public holidays.
#[derive(Debug, Clone)]
pub struct RegionCalendar {
    zone: IanaZone,
    tz: TimeZone,
    hours: WorkingHours,
    holidays: BTreeSet<Date>,
}

/// A customer's working hours (R10): the same calendar, with no holidays unless configured.
pub type CustomerHours = RegionCalendar;

impl PartialEq for RegionCalendar {
    fn eq(&self, other: &Self) -> bool {
        self.zone == other.zone && self.hours == other.hours && self.holidays == other.holidays
    }
}

impl Eq for RegionCalendar {}

impl std::hash::Hash for RegionCalendar {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.zone.as_str().hash(state);
        self.hours.hash(state);
        self.holidays.hash(state);
    }
}

/// One working interval of one local day, in UTC seconds, with what the slot grid needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorkSpan {
    /// First instant, UTC seconds.
    pub start: i64,
    /// Instant just past the end, UTC seconds.
    pub end: i64,
    /// The local day the interval belongs to.
    pub date: Date,
    /// Wall-clock seconds after local midnight at which it starts and ends, as configured.
    pub local_start: i32,
    pub local_end: i32,
    /// Whether the UTC offset is the same throughout, so wall-clock and elapsed time agree.
    pub regular: bool,
}

impl RegionCalendar {
    /// A calendar in `zone` with weekly `hours` and no holidays.
    pub fn new(zone: IanaZone, hours: WorkingHours) -> RegionCalendar {
        let tz = zone.tz();
        RegionCalendar {
            zone,
            tz,
            hours,
            holidays: BTreeSet::new(),
        }
    }

    /// Adds public holidays (local dates on which nobody works).
    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = Date>) -> RegionCalendar {
        self.holidays.extend(holidays);
        self
    }

    /// The zone's name.
    pub fn zone(&self) -> &IanaZone {
        &self.zone
    }

    /// The zone, for arithmetic.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The weekly working hours.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// The public holidays.
    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    /// Whether `date` is a public holiday here.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date)
    }

    /// Whether `date` is a working day: its weekday has hours and it is not a holiday.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.hours.is_working_day(date.weekday()) && !self.is_holiday(date)
    }

    /// R12: the working intervals within `[from, to)`, in UTC, half-open, clipped to the range.
    pub fn working_intervals(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let (f, t) = (from.as_second(), to.as_second());
        self.spans(f, t.saturating_add(1))
            .into_iter()
            .filter_map(|s| {
                let a = Timestamp::from_second(s.start).ok()?.max(from);
                let b = Timestamp::from_second(s.end).ok()?.min(to);
                (a < b).then_some((a, b))
            })
            .collect()
    }

    /// Every working interval that overlaps `[from, to)` (UTC seconds), whole, earliest first.
    pub(crate) fn spans(&self, from: i64, to: i64) -> Vec<WorkSpan> {
        let mut out = Vec::new();
        if from >= to || self.hours.is_empty() {
            return out;
        }
        let (Some(first), Some(last)) = (self.local_date(from), self.local_date(to)) else {
            return out;
        };
        // A DST jump can move an interval's ends across midnight, so look one day either side.
        let mut date = first.yesterday().unwrap_or(first);
        let last = last.tomorrow().unwrap_or(last);
        loop {
            if self.is_working_day(date) {
                for iv in self.hours.on(date.weekday()) {
                    if let Some(span) = self.span(date, iv.start_minute(), iv.end_minute()) {
                        if span.end > from && span.start < to {
                            out.push(span);
                        }
                    }
                }
            }
            if date >= last {
                break;
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out
    }

    /// The local date at UTC second `t`.
    fn local_date(&self, t: i64) -> Option<Date> {
        Some(self.tz.to_datetime(Timestamp::from_second(t).ok()?).date())
    }

    /// The interval `[start_min, end_min)` of local `date`, resolved by SPEC's DST rules.
    fn span(&self, date: Date, start_min: u16, end_min: u16) -> Option<WorkSpan> {
        let start = local_minute(&self.tz, date, start_min)?.as_second();
        let end = local_minute(&self.tz, date, end_min)?.as_second();
        if start >= end {
            // The whole interval fell into a skipped hour.
            return None;
        }
        let local_start = i32::from(start_min) * 60;
        let local_end = i32::from(end_min) * 60;
        let regular = end - start == i64::from(local_end - local_start)
            && Timestamp::from_second(start)
                .ok()
                .and_then(|ts| self.tz.following(ts).next())
                .is_none_or(|tr| tr.timestamp().as_second() >= end);
        Some(WorkSpan {
            start,
            end,
            date,
            local_start,
            local_end,
            regular,
        })
    }
}

/// The instant of `minute` minutes after local midnight of `date` (1440 is the next midnight).
pub(crate) fn local_minute(tz: &TimeZone, date: Date, minute: u16) -> Option<Timestamp> {
    let (date, minute) = if minute >= 1440 {
        (date.tomorrow().ok()?, minute - 1440)
    } else {
        (date, minute)
    };
    let dt = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
    resolve_local(tz, dt)
}

/// SPEC: a skipped local time is the instant of the jump; a repeated one is its first occurrence.
pub fn resolve_local(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, the wall-clock time lands just before the jump, so the
            // next transition from there is the jump itself.
            let before_jump = after.to_timestamp(dt).ok()?;
            tz.following(before_jump).next().map(|tr| tr.timestamp())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::hours::{parse_intervals, WorkingHours};
    use jiff::civil::{date, Weekday};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn cal(zone: &str, days: &str, hours: &str) -> RegionCalendar {
        RegionCalendar::new(
            IanaZone::parse(zone).unwrap(),
            WorkingHours::parse(days, hours).unwrap(),
        )
    }

    #[test]
    fn r12_skipped_local_time_is_the_instant_of_the_jump() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // 2024-03-10 02:00 EST jumps to 03:00 EDT at 07:00Z: 02:30 does not exist.
        let t = resolve_local(&tz, date(2024, 3, 10).at(2, 30, 0, 0)).unwrap();
        assert_eq!(t, ts("2024-03-10T07:00:00Z"));
        assert_eq!(tz.to_datetime(t).time(), jiff::civil::time(3, 0, 0, 0));
    }

    #[test]
    fn r12_repeated_local_time_is_its_first_occurrence() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // 2024-11-03 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
        let t = resolve_local(&tz, date(2024, 11, 3).at(1, 30, 0, 0)).unwrap();
        assert_eq!(t, ts("2024-11-03T05:30:00Z"));
    }

    #[test]
    fn r12_split_hours_are_separate_utc_intervals() {
        let c = cal("Europe/Rome", "mon-fri", "09:00-12:30,13:30-18:00");
        // Monday 2024-06-03, Rome is UTC+2.
        let v = c.working_intervals(ts("2024-06-03T00:00:00Z"), ts("2024-06-04T00:00:00Z"));
        assert_eq!(
            v,
            vec![
                (ts("2024-06-03T07:00:00Z"), ts("2024-06-03T10:30:00Z")),
                (ts("2024-06-03T11:30:00Z"), ts("2024-06-03T16:00:00Z")),
            ]
        );
    }

    #[test]
    fn r12_intervals_are_clipped_to_the_range_asked_for() {
        let c = cal("Europe/Rome", "mon-fri", "09:00-18:00");
        let v = c.working_intervals(ts("2024-06-03T10:00:00Z"), ts("2024-06-03T12:00:00Z"));
        assert_eq!(
            v,
            vec![(ts("2024-06-03T10:00:00Z"), ts("2024-06-03T12:00:00Z"))]
        );
        assert!(c
            .working_intervals(ts("2024-06-03T12:00:00Z"), ts("2024-06-03T10:00:00Z"))
            .is_empty());
    }

    #[test]
    fn r12_weekends_and_holidays_have_no_intervals() {
        let c = cal("Europe/Rome", "mon-fri", "09:00-18:00").with_holidays([date(2024, 6, 4)]);
        // Sat 1 June .. Wed 5 June: only Monday 3 and Wednesday 5 work.
        let v = c.working_intervals(ts("2024-06-01T00:00:00Z"), ts("2024-06-06T00:00:00Z"));
        assert_eq!(
            v,
            vec![
                (ts("2024-06-03T07:00:00Z"), ts("2024-06-03T16:00:00Z")),
                (ts("2024-06-05T07:00:00Z"), ts("2024-06-05T16:00:00Z")),
            ]
        );
    }

    #[test]
    fn r12_an_interval_across_spring_forward_has_its_true_length() {
        let c = cal("America/New_York", "sun", "01:00-05:00");
        let v = c.working_intervals(ts("2024-03-09T00:00:00Z"), ts("2024-03-12T00:00:00Z"));
        // 01:00 EST = 06:00Z; 05:00 EDT = 09:00Z: three real hours.
        assert_eq!(
            v,
            vec![(ts("2024-03-10T06:00:00Z"), ts("2024-03-10T09:00:00Z"))]
        );
    }

    #[test]
    fn r12_an_interval_starting_in_the_gap_starts_at_the_jump() {
        let c = cal("America/New_York", "sun", "02:30-04:00");
        let v = c.working_intervals(ts("2024-03-09T00:00:00Z"), ts("2024-03-12T00:00:00Z"));
        assert_eq!(
            v,
            vec![(ts("2024-03-10T07:00:00Z"), ts("2024-03-10T08:00:00Z"))]
        );
        // An interval wholly inside the skipped hour does not exist that day.
        let c = cal("America/New_York", "sun", "02:00-02:30");
        assert!(c
            .working_intervals(ts("2024-03-09T00:00:00Z"), ts("2024-03-12T00:00:00Z"))
            .is_empty());
    }

    #[test]
    fn r12_an_interval_across_fall_back_has_its_true_length() {
        let c = cal("America/New_York", "sun", "00:00-03:00");
        let v = c.working_intervals(ts("2024-11-02T00:00:00Z"), ts("2024-11-05T00:00:00Z"));
        // 00:00 EDT = 04:00Z; 03:00 EST = 08:00Z: four real hours.
        assert_eq!(
            v,
            vec![(ts("2024-11-03T04:00:00Z"), ts("2024-11-03T08:00:00Z"))]
        );
    }

    #[test]
    fn r12_a_nine_to_six_day_on_a_dst_change_is_nine_hours_in_utc() {
        let c = cal("Europe/Rome", "sun", "09:00-18:00");
        let spring = c.working_intervals(ts("2024-03-31T00:00:00Z"), ts("2024-04-01T00:00:00Z"));
        assert_eq!(
            spring,
            vec![(ts("2024-03-31T07:00:00Z"), ts("2024-03-31T16:00:00Z"))]
        );
        let autumn = c.working_intervals(ts("2024-10-27T00:00:00Z"), ts("2024-10-28T00:00:00Z"));
        assert_eq!(
            autumn,
            vec![(ts("2024-10-27T08:00:00Z"), ts("2024-10-27T17:00:00Z"))]
        );
    }

    #[test]
    fn r12_an_interval_may_run_to_midnight() {
        let c = RegionCalendar::new(
            IanaZone::parse("Asia/Tokyo").unwrap(),
            WorkingHours::uniform(&[Weekday::Monday], &parse_intervals("20:00-24:00").unwrap())
                .unwrap(),
        );
        let v = c.working_intervals(ts("2024-06-02T00:00:00Z"), ts("2024-06-05T00:00:00Z"));
        assert_eq!(
            v,
            vec![(ts("2024-06-03T11:00:00Z"), ts("2024-06-03T15:00:00Z"))]
        );
    }

    #[test]
    fn r12_spans_know_whether_their_offset_changes() {
        let c = cal("America/New_York", "sun", "01:00-05:00,09:00-10:00");
        let s = c.spans(
            ts("2024-03-09T00:00:00Z").as_second(),
            ts("2024-03-12T00:00:00Z").as_second(),
        );
        assert_eq!(s.len(), 2);
        assert!(!s[0].regular);
        assert!(s[1].regular);
    }
}
