//! R12: working hours as local wall-clock intervals per weekday, and their text forms.

use jiff::civil::Weekday;
use serde::{Deserialize, Serialize};

use crate::error::{Errors, Invalid};

/// Minutes in a civil day; an interval may end at 24:00 (the next midnight).
const DAY_MINUTES: u16 = 24 * 60;

/// One local working interval of a day, `[start, end)` in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DayInterval {
    start: u16,
    end: u16,
}

impl DayInterval {
    /// An interval from `start` to `end` minutes after local midnight (`end` at most 1440).
    pub fn new(start: u16, end: u16) -> Result<DayInterval, String> {
        if end > DAY_MINUTES {
            return Err("a working interval ends at 24:00 at the latest".into());
        }
        if start >= end {
            return Err(format!(
                "{} must start before it ends",
                DayInterval { start, end }
            ));
        }
        Ok(DayInterval { start, end })
    }

    /// An interval from `h1:m1` to `h2:m2`; `24:00` is accepted as an end.
    pub fn hm(h1: u16, m1: u16, h2: u16, m2: u16) -> Result<DayInterval, String> {
        if m1 >= 60 || m2 >= 60 {
            return Err("minutes run from 00 to 59".into());
        }
        let at = |h: u16, m: u16| h.checked_mul(60).and_then(|x| x.checked_add(m));
        match (at(h1, m1), at(h2, m2)) {
            (Some(a), Some(b)) => DayInterval::new(a, b),
            _ => Err("a working interval ends at 24:00 at the latest".into()),
        }
    }

    /// Parses `HH:MM-HH:MM` (an en dash is accepted too).
    pub fn parse(input: &str) -> Result<DayInterval, String> {
        let s = input.trim();
        let (a, b) = s
            .split_once('-')
            .or_else(|| s.split_once('–'))
            .ok_or_else(|| format!("'{s}' is not an interval like 09:00-12:30"))?;
        let start = parse_clock(a.trim())
            .ok_or_else(|| format!("'{}' is not a time like 09:00", a.trim()))?;
        let end = parse_clock(b.trim())
            .ok_or_else(|| format!("'{}' is not a time like 18:00", b.trim()))?;
        if start == DAY_MINUTES {
            return Err("an interval cannot start at 24:00".into());
        }
        DayInterval::new(start, end)
    }

    /// Minutes after local midnight at which the interval starts.
    pub fn start_minute(self) -> u16 {
        self.start
    }

    /// Minutes after local midnight at which the interval ends (1440 means the next midnight).
    pub fn end_minute(self) -> u16 {
        self.end
    }
}

/// `HH:MM` with `00:00 ..= 24:00`; `None` for anything else.
fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().all(|b| b.is_ascii_digit()) || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    let total = h.checked_mul(60)?.checked_add(m)?;
    (m < 60 && total <= DAY_MINUTES).then_some(total)
}

impl std::fmt::Display for DayInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

impl TryFrom<String> for DayInterval {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        DayInterval::parse(&s)
    }
}

impl From<DayInterval> for String {
    fn from(i: DayInterval) -> String {
        i.to_string()
    }
}

/// Parses `09:00-12:30,13:30-18:00`: sorted, non-overlapping intervals of one day.
pub fn parse_intervals(input: &str) -> Result<Vec<DayInterval>, String> {
    let parts: Vec<&str> = input
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err("at least one interval like 09:00-18:00 is required".into());
    }
    let intervals = parts
        .into_iter()
        .map(DayInterval::parse)
        .collect::<Result<Vec<_>, _>>()?;
    check_day(&intervals)?;
    Ok(intervals)
}

/// Checks that a day's intervals are sorted and do not overlap (touching is allowed: a zero break).
fn check_day(intervals: &[DayInterval]) -> Result<(), String> {
    for pair in intervals.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(format!(
                "{} and {} overlap or are out of order; list intervals from earliest to latest",
                pair[0], pair[1]
            ));
        }
    }
    Ok(())
}

/// The three-letter name of a weekday, as the parsers accept it.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Parses a weekday name: `mon`..`sun` or the full English name, any case.
pub fn parse_weekday(input: &str) -> Result<Weekday, String> {
    let s = input.trim().to_ascii_lowercase();
    let day = match s.as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tues" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "'{}' is not a weekday; use mon, tue, wed, thu, fri, sat or sun",
                input.trim()
            ))
        }
    };
    Ok(day)
}

/// Parses a list of weekdays such as `mon-fri`, `mon,wed,fri` or `sun-thu` (ranges may wrap).
pub fn parse_weekdays(input: &str) -> Result<Vec<Weekday>, String> {
    let mut days = [false; 7];
    let mut any = false;
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        any = true;
        match part.split_once('-') {
            Some((a, b)) => {
                let a = parse_weekday(a)?;
                let b = parse_weekday(b)?;
                let mut d = a;
                loop {
                    days[index(d)] = true;
                    if d == b {
                        break;
                    }
                    d = d.next();
                }
            }
            None => days[index(parse_weekday(part)?)] = true,
        }
    }
    if !any {
        return Err("at least one working day is required, for example mon-fri".into());
    }
    Ok((0..7)
        .filter(|&i| days[i])
        .filter_map(|i| Weekday::from_monday_zero_offset(i as i8).ok())
        .collect())
}

/// Monday-based index of a weekday.
fn index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

/// R12: the working intervals of each weekday; a day without intervals is not a working day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "WeekRepr", into = "WeekRepr")]
pub struct WorkingHours {
    week: [Vec<DayInterval>; 7],
}

impl WorkingHours {
    /// Hours given day by day, Monday first; each day's intervals must be sorted and disjoint.
    pub fn new(week: [Vec<DayInterval>; 7]) -> Result<WorkingHours, String> {
        for (i, day) in week.iter().enumerate() {
            let name = Weekday::from_monday_zero_offset(i as i8)
                .map(weekday_name)
                .unwrap_or("?");
            check_day(day).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(WorkingHours { week })
    }

    /// The same intervals on each of `days`, no work on the others.
    pub fn uniform(days: &[Weekday], intervals: &[DayInterval]) -> Result<WorkingHours, String> {
        check_day(intervals)?;
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        for &d in days {
            week[index(d)] = intervals.to_vec();
        }
        Ok(WorkingHours { week })
    }

    /// Parses working days (`mon-fri`) and hours (`09:00-12:30,13:30-18:00`), naming the bad field.
    pub fn parse(days: &str, hours: &str) -> Result<WorkingHours, Invalid> {
        let mut errors = Errors::new();
        let days = errors.take("working_days", parse_weekdays(days));
        let hours = errors.take("working_hours", parse_intervals(hours));
        errors.finish()?;
        match (days, hours) {
            (Some(d), Some(h)) => {
                WorkingHours::uniform(&d, &h).map_err(|e| Invalid::one("working_hours", e))
            }
            _ => Err(Invalid::one("working_hours", "invalid working hours")),
        }
    }

    /// The intervals of a weekday, earliest first.
    pub fn on(&self, day: Weekday) -> &[DayInterval] {
        &self.week[index(day)]
    }

    /// Whether anyone works on that weekday.
    pub fn is_working_day(&self, day: Weekday) -> bool {
        !self.week[index(day)].is_empty()
    }

    /// Whether no day has any working interval.
    pub fn is_empty(&self) -> bool {
        self.week.iter().all(Vec::is_empty)
    }
}

/// The serialized form: one optional list of `HH:MM-HH:MM` strings per weekday.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WeekRepr {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mon: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tue: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    wed: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    thu: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fri: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sat: Vec<DayInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sun: Vec<DayInterval>,
}

impl TryFrom<WeekRepr> for WorkingHours {
    type Error = String;
    fn try_from(r: WeekRepr) -> Result<Self, String> {
        WorkingHours::new([r.mon, r.tue, r.wed, r.thu, r.fri, r.sat, r.sun])
    }
}

impl From<WorkingHours> for WeekRepr {
    fn from(h: WorkingHours) -> WeekRepr {
        let [mon, tue, wed, thu, fri, sat, sun] = h.week;
        WeekRepr {
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_split_hours_parse_into_two_intervals() {
        let v = parse_intervals("09:00-12:30, 13:30-18:00").unwrap();
        assert_eq!(
            v,
            vec![
                DayInterval::hm(9, 0, 12, 30).unwrap(),
                DayInterval::hm(13, 30, 18, 0).unwrap()
            ]
        );
        assert_eq!(v[1].to_string(), "13:30-18:00");
    }

    #[test]
    fn r12_overlapping_or_unsorted_intervals_are_rejected() {
        assert!(parse_intervals("09:00-13:00,12:00-18:00").is_err());
        assert!(parse_intervals("13:00-18:00,09:00-12:00").is_err());
        assert!(parse_intervals("18:00-09:00").is_err());
        assert!(parse_intervals("09:00-09:00").is_err());
        assert!(parse_intervals("").is_err());
        assert!(parse_intervals("9-18").is_err());
        assert!(parse_intervals("09:60-10:00").is_err());
        assert!(parse_intervals("24:00-24:00").is_err());
        assert!(parse_intervals("25:00-26:00").is_err());
    }

    #[test]
    fn r12_out_of_range_clock_values_are_refused() {
        assert!(DayInterval::hm(2000, 0, 9000, 0).is_err());
        assert!(DayInterval::hm(9, 0, 24, 1).is_err());
        assert!(DayInterval::hm(9, 0, 24, 0).is_ok());
    }

    #[test]
    fn r12_an_interval_may_end_at_midnight() {
        let v = parse_intervals("18:00-24:00").unwrap();
        assert_eq!(v[0].end_minute(), 1440);
    }

    #[test]
    fn r12_weekday_lists_and_ranges_parse_including_wrapping_ranges() {
        use Weekday::*;
        assert_eq!(
            parse_weekdays("mon-fri").unwrap(),
            vec![Monday, Tuesday, Wednesday, Thursday, Friday]
        );
        assert_eq!(
            parse_weekdays("sun-thu").unwrap(),
            vec![Monday, Tuesday, Wednesday, Thursday, Sunday]
        );
        assert_eq!(
            parse_weekdays("Monday, wed,SUN").unwrap(),
            vec![Monday, Wednesday, Sunday]
        );
        assert!(parse_weekdays("mon-funday").is_err());
        assert!(parse_weekdays(" ").is_err());
    }

    #[test]
    fn r12_working_hours_parse_reports_each_bad_field() {
        let err = WorkingHours::parse("mon-xyz", "09:00").unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["working_days", "working_hours"]);
        let ok = WorkingHours::parse("mon-fri", "09:00-18:00").unwrap();
        assert!(ok.is_working_day(Weekday::Friday));
        assert!(!ok.is_working_day(Weekday::Saturday));
    }

    #[test]
    fn r12_working_hours_round_trip_through_their_serialized_form() {
        let h = WorkingHours::parse("mon-fri", "09:00-12:30,13:30-18:00").unwrap();
        let repr: WeekRepr = h.clone().into();
        assert_eq!(repr.mon[0].to_string(), "09:00-12:30");
        assert_eq!(WorkingHours::try_from(repr).unwrap(), h);
    }
}
