//! The shared machinery of slot search: grids, windows and busy lists in UTC seconds.
//!
//! Everything here works on integer seconds so that a search touches no time-zone data once
//! the calendars have been turned into intervals.

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};

use crate::calendar::region::{resolve_local, WorkSpan, DAY_SECONDS};
use crate::calendar::RegionCalendar;
use crate::error::{Errors, Invalid};
use crate::language::SpokenLanguage;

/// The longest meeting a search accepts.
pub(crate) const MAX_LENGTH_SECONDS: i64 = DAY_SECONDS;

/// The longest search horizon, in days.
pub(crate) const MAX_HORIZON_DAYS: u32 = 366;

/// A working interval with the slot grid laid on it.
#[derive(Debug, Clone)]
pub(crate) struct GridSpan {
    pub start: i64,
    pub end: i64,
    /// The UTC second of wall-clock local midnight, valid while the offset does not change.
    anchor: i64,
    /// The grid points themselves, for the rare interval that contains an offset change.
    points: Option<Box<[i64]>>,
}

impl GridSpan {
    /// The first grid point at or after `t` inside the interval.
    #[inline]
    pub fn ceil(&self, t: i64, grid: i64) -> Option<i64> {
        let t = t.max(self.start);
        let s = match &self.points {
            None => self.anchor + (t - self.anchor + grid - 1).div_euclid(grid) * grid,
            Some(points) => *points.get(points.partition_point(|&p| p < t))?,
        };
        (s < self.end).then_some(s)
    }
}

/// The working intervals of `cal` overlapping `[from, to)`, each with its grid.
///
/// Grid points are the wall-clock times at whole multiples of `grid` seconds after local
/// midnight; a point the DST jump skips is the jump itself (SPEC), a repeated one its first
/// occurrence.
pub(crate) fn grid_spans(cal: &RegionCalendar, from: i64, to: i64, grid: i64) -> Vec<GridSpan> {
    cal.spans(from, to)
        .into_iter()
        .map(|w| GridSpan {
            start: w.start,
            end: w.end,
            anchor: w.start - i64::from(w.local_start),
            points: (!w.regular).then(|| irregular_points(cal, &w, grid)),
        })
        .collect()
}

/// The grid points of an interval whose UTC offset changes inside it, resolved one by one.
fn irregular_points(cal: &RegionCalendar, w: &WorkSpan, grid: i64) -> Box<[i64]> {
    let first = (i64::from(w.local_start) + grid - 1).div_euclid(grid) * grid;
    let mut points: Vec<i64> = (0..)
        .map(|k| first + k * grid)
        .take_while(|&wall| wall < i64::from(w.local_end))
        .filter_map(|wall| wall_clock(cal, w.date, wall))
        .filter(|&p| p >= w.start && p < w.end)
        .collect();
    points.sort_unstable();
    points.dedup();
    points.into_boxed_slice()
}

/// The UTC second of `wall` seconds after local midnight of `date`.
fn wall_clock(cal: &RegionCalendar, date: Date, wall: i64) -> Option<i64> {
    let (h, m, s) = (wall / 3600, wall / 60 % 60, wall % 60);
    let time = Time::new(h as i8, m as i8, s as i8, 0).ok()?;
    resolve_local(cal.tz(), date.to_datetime(time)).map(|t| t.as_second())
}

/// A piece of one working interval (`span`) that a slot may occupy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: i64,
    pub end: i64,
    pub span: u32,
}

/// The working intervals as windows, from `lo` on.
pub(crate) fn span_windows(spans: &[GridSpan], lo: i64) -> Vec<Window> {
    spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.end > lo)
        .map(|(i, s)| Window {
            start: s.start.max(lo),
            end: s.end,
            span: i as u32,
        })
        .collect()
}

/// The windows where staff intervals meet the customer's (both sorted and disjoint), from `lo`.
pub(crate) fn intersect(spans: &[GridSpan], customer: &[(i64, i64)], lo: i64) -> Vec<Window> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < spans.len() && j < customer.len() {
        let (s, c) = (&spans[i], customer[j]);
        let a = s.start.max(c.0).max(lo);
        let b = s.end.min(c.1);
        if a < b {
            out.push(Window {
                start: a,
                end: b,
                span: i as u32,
            });
        }
        if s.end <= c.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The parts of `windows` inside the (sorted, disjoint) preferred intervals.
pub(crate) fn restrict(windows: &[Window], preferred: &[(i64, i64)]) -> Vec<Window> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < windows.len() && j < preferred.len() {
        let (w, p) = (windows[i], preferred[j]);
        let a = w.start.max(p.0);
        let b = w.end.min(p.1);
        if a < b {
            out.push(Window {
                start: a,
                end: b,
                span: w.span,
            });
        }
        if w.end <= p.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Sorted, disjoint intervals in whole seconds, widened outward so that nothing busy is lost.
pub(crate) fn merge_busy<'a>(
    parts: impl IntoIterator<Item = &'a (Timestamp, Timestamp)>,
) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = parts
        .into_iter()
        .filter(|(a, b)| a < b)
        .map(|(a, b)| (floor_second(*a), ceil_second(*b)))
        .collect();
    v.sort_unstable();
    merge_sorted(v)
}

/// Merges sorted intervals that overlap or touch.
pub(crate) fn merge_sorted(v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Inserts `[a, b)` into a sorted, disjoint busy list, keeping it so.
pub(crate) fn insert_busy(busy: &mut Vec<(i64, i64)>, a: i64, b: i64) {
    let i = busy.partition_point(|x| x.1 < a);
    let mut j = i;
    let (mut na, mut nb) = (a, b);
    while j < busy.len() && busy[j].0 <= b {
        na = na.min(busy[j].0);
        nb = nb.max(busy[j].1);
        j += 1;
    }
    busy.splice(i..j, std::iter::once((na, nb)));
}

/// The whole second at or before `t`.
pub(crate) fn floor_second(t: Timestamp) -> i64 {
    t.as_nanosecond().div_euclid(1_000_000_000) as i64
}

/// The whole second at or after `t`.
pub(crate) fn ceil_second(t: Timestamp) -> i64 {
    let n = t.as_nanosecond();
    (n.div_euclid(1_000_000_000) + i128::from(n.rem_euclid(1_000_000_000) != 0)) as i64
}

/// What one search needs to know about a slot, in seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub len: i64,
    pub grid: i64,
    pub now: i64,
    /// Slot starts must be before this (now + horizon days × 24 h).
    pub horizon_end: i64,
}

impl Params {
    /// Checks a meeting length, grid and horizon, naming the bad fields.
    pub fn new(
        length: SignedDuration,
        grid_minutes: u32,
        now: Timestamp,
        horizon_days: u32,
    ) -> Result<Params, Invalid> {
        let mut errors = Errors::new();
        let len = length_seconds(length);
        errors.take("length", len.clone());
        if grid_minutes == 0 || grid_minutes > 24 * 60 {
            errors.add(
                "grid_minutes",
                "the slot grid is between 1 and 1440 minutes",
            );
        }
        if horizon_days == 0 || horizon_days > MAX_HORIZON_DAYS {
            errors.add(
                "horizon_days",
                format!("the horizon is between 1 and {MAX_HORIZON_DAYS} days"),
            );
        }
        errors.finish()?;
        let now = ceil_second(now);
        Ok(Params {
            len: len.unwrap_or(1),
            grid: i64::from(grid_minutes) * 60,
            now,
            horizon_end: now + i64::from(horizon_days) * DAY_SECONDS,
        })
    }
}

/// A meeting length in whole seconds (a fraction of a second counts as a whole one).
pub(crate) fn length_seconds(length: SignedDuration) -> Result<i64, String> {
    let secs = length
        .as_secs()
        .saturating_add(i64::from(length.subsec_nanos() > 0));
    if length.is_negative() || secs <= 0 {
        Err("a meeting lasts more than zero minutes".into())
    } else if secs > MAX_LENGTH_SECONDS {
        Err("a meeting lasts at most 24 hours".into())
    } else {
        Ok(secs)
    }
}

/// The earliest grid start `s` with `[s, s + len)` inside one window and clear of `busy`.
///
/// Starts before `from` or `p.now`, at or after the horizon, or after `bound` are not wanted.
#[inline]
pub(crate) fn earliest_fit(
    windows: &[Window],
    spans: &[GridSpan],
    busy: &[(i64, i64)],
    from: i64,
    p: &Params,
    bound: i64,
) -> Option<i64> {
    let from = from.max(p.now);
    let mut wi = windows.partition_point(|w| w.end <= from);
    let mut bi = busy.partition_point(|b| b.1 <= from);
    while let Some(w) = windows.get(wi) {
        if w.start > bound || w.start >= p.horizon_end {
            return None;
        }
        let span = &spans[w.span as usize];
        let mut t = w.start.max(from);
        while let Some(s) = span.ceil(t, p.grid) {
            if s > bound || s >= p.horizon_end {
                return None;
            }
            if s + p.len > w.end {
                break;
            }
            while busy.get(bi).is_some_and(|b| b.1 <= s) {
                bi += 1;
            }
            match busy.get(bi) {
                Some(&(bs, be)) if bs < s + p.len => t = be,
                _ => return Some(s),
            }
        }
        wi += 1;
    }
    None
}

/// A bit per spoken language, for quick membership tests.
pub(crate) fn language_bit(l: SpokenLanguage) -> u16 {
    let i = SpokenLanguage::ALL
        .iter()
        .position(|&x| x == l)
        .unwrap_or(0);
    1 << i
}

/// Fair-rotation ranks: staff ordered by id, then rotated by `rotation` places.
pub(crate) fn rotation_ranks<'a>(
    ids: impl ExactSizeIterator<Item = &'a str>,
    rotation: u64,
) -> Vec<u32> {
    let ids: Vec<&str> = ids.collect();
    let n = ids.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ids[a].cmp(ids[b]).then(a.cmp(&b)));
    let mut ranks = vec![0u32; n];
    if n == 0 {
        return ranks;
    }
    let shift = (rotation % n as u64) as usize;
    for (pos, &i) in order.iter().enumerate() {
        ranks[i] = ((pos + n - shift) % n) as u32;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r10_busy_intervals_merge_when_they_touch_or_overlap() {
        let mut b = vec![(10, 20), (30, 40)];
        insert_busy(&mut b, 20, 25);
        assert_eq!(b, vec![(10, 25), (30, 40)]);
        insert_busy(&mut b, 24, 31);
        assert_eq!(b, vec![(10, 40)]);
        insert_busy(&mut b, 0, 5);
        insert_busy(&mut b, 50, 60);
        assert_eq!(b, vec![(0, 5), (10, 40), (50, 60)]);
    }

    #[test]
    fn r10_round_robin_rotates_the_order_of_staff_ids() {
        let ids = ["c", "a", "b"];
        assert_eq!(rotation_ranks(ids.iter().copied(), 0), vec![2, 0, 1]);
        assert_eq!(rotation_ranks(ids.iter().copied(), 1), vec![1, 2, 0]);
        assert_eq!(rotation_ranks(ids.iter().copied(), 4), vec![1, 2, 0]);
    }

    #[test]
    fn r10_sub_second_instants_round_outward() {
        let t: Timestamp = "2024-01-01T00:00:00.5Z".parse().unwrap();
        assert_eq!(ceil_second(t) - floor_second(t), 1);
        let t: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(ceil_second(t), floor_second(t));
    }
}
