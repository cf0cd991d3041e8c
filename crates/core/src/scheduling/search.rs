//! R10/R11: the meeting slots a request can be offered, best first.

use std::borrow::Cow;
use std::collections::{BTreeSet, BinaryHeap};

use jiff::{SignedDuration, Timestamp};

use super::engine::{
    earliest_fit, grid_spans, intersect, language_bit, merge_busy, rotation_ranks, GridSpan,
    Params, Window,
};
use crate::calendar::{CustomerHours, RegionCalendar};
use crate::error::Invalid;
use crate::language::{Language, SpokenLanguage};

/// The default slot grid, in minutes (a programme setting).
pub const DEFAULT_GRID_MINUTES: u32 = 30;

/// The default search horizon, in days.
pub const DEFAULT_HORIZON_DAYS: u32 = 28;

/// What the scheduler knows about one staff member.
#[derive(Debug, Clone)]
pub struct StaffAvailability {
    pub staff_id: String,
    /// R11: the languages the staff member holds meetings in.
    pub languages: BTreeSet<SpokenLanguage>,
    /// R12: the staff member's region calendar.
    pub calendar: RegionCalendar,
    /// Leave and other absences, half-open.
    pub time_off: Vec<(Timestamp, Timestamp)>,
    /// Meetings already booked, half-open.
    pub bookings: Vec<(Timestamp, Timestamp)>,
    /// How many meetings the staff member already has, for fair tie-breaking.
    pub load: u32,
}

impl StaffAvailability {
    /// R11: whether this staff member can hold a meeting in `language`.
    pub fn speaks(&self, language: Language) -> bool {
        self.languages.contains(&language.spoken())
    }
}

/// A request for meeting slots.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    /// R11: the request's language.
    pub language: Language,
    /// The meeting's length.
    pub length: SignedDuration,
    /// R10: the customer's time zone and working hours.
    pub customer: CustomerHours,
    /// Windows the customer prefers; slots wholly inside one come first.
    pub preferred: Vec<(Timestamp, Timestamp)>,
    /// The search starts here.
    pub now: Timestamp,
    /// Slot starts lie in `[now, now + horizon_days × 24 h)`.
    pub horizon_days: u32,
    /// Slots start at multiples of this many minutes after local midnight in the staff's region.
    pub grid_minutes: u32,
    /// At most this many slots are returned.
    pub limit: usize,
    /// Round-robin cursor: equal-load staff are ordered by id, rotated by this many places.
    pub rotation: u64,
}

impl SlotQuery {
    /// A query with the default grid and horizon, ten results and no preferred windows.
    pub fn new(
        language: Language,
        length: SignedDuration,
        customer: CustomerHours,
        now: Timestamp,
    ) -> SlotQuery {
        SlotQuery {
            language,
            length,
            customer,
            preferred: Vec::new(),
            now,
            horizon_days: DEFAULT_HORIZON_DAYS,
            grid_minutes: DEFAULT_GRID_MINUTES,
            limit: 10,
            rotation: 0,
        }
    }
}

/// A meeting slot offered with one staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub staff_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Whether the slot lies wholly inside one of the customer's preferred windows.
    pub preferred: bool,
}

/// Ordering of candidate slots: preferred first, then earliest, least loaded, rotation rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    class: u8,
    start: i64,
    load: u32,
    rank: u32,
    staff: u32,
}

/// R10/R11/R12: up to `query.limit` slots, preferred ones first, each class earliest first.
///
/// A slot is held by staff who speak the request's language, lies on the staff region's grid,
/// inside one working interval of the staff (never on a holiday, never across a break) and one
/// working interval of the customer, and clear of the staff's time off and bookings. Equal
/// starts go to the least-loaded staff first, then in round-robin order.
pub fn find_slots(staff: &[StaffAvailability], query: &SlotQuery) -> Result<Vec<Slot>, Invalid> {
    search(staff, &SearchLayout::build(staff, None, 0), query)
}

/// [`find_slots`] over staff laid out beforehand with [`SearchLayout::new`]: the same answer,
/// with the work that depends on the staff alone done once for every search that shares them.
pub fn find_slots_in(
    staff: &[StaffAvailability],
    layout: &SearchLayout,
    query: &SlotQuery,
) -> Result<Vec<Slot>, Invalid> {
    if layout.staff != staff.len() {
        // Laid out for other staff: nothing of it can be trusted.
        return find_slots(staff, query);
    }
    search(staff, layout, query)
}

/// What slot search derives from the staff alone, worked out once for a team that many searches
/// share: members grouped by calendar with each calendar's working intervals over a window, each
/// member's busy time merged and languages as a mask, and the id order fair rotation starts from.
/// The staff must not change after it is laid out.
#[derive(Debug, Clone)]
pub struct SearchLayout {
    /// How many staff it was laid out for.
    staff: usize,
    /// Each member's place in id order (ties by position).
    id_order: Vec<u32>,
    /// Each member's languages, one bit each.
    languages: Vec<u16>,
    /// Each member's time off and bookings, merged, in seconds.
    busy: Vec<Vec<(i64, i64)>>,
    groups: Vec<CalendarGroup>,
    /// `[from, to)` (UTC seconds) whose working intervals the groups hold; empty if none.
    window: (i64, i64),
    /// The grid (seconds) laid on those intervals.
    grid: i64,
}

/// Staff who share one calendar.
#[derive(Debug, Clone)]
struct CalendarGroup {
    /// The member whose calendar it is (the first of them).
    first: usize,
    members: Vec<usize>,
    /// The calendar's working intervals overlapping the layout's window, with the layout's grid.
    spans: Vec<GridSpan>,
}

impl SearchLayout {
    /// Lays out `staff`, with each calendar's working intervals over `[from, to)` and the slot
    /// grid of `grid_minutes` worked out: searches on that grid whose horizon lies inside the
    /// window read them instead of the time-zone rules.
    pub fn new(
        staff: &[StaffAvailability],
        from: Timestamp,
        to: Timestamp,
        grid_minutes: u32,
    ) -> SearchLayout {
        let grid = i64::from(grid_minutes.max(1)) * 60;
        SearchLayout::build(staff, Some((from.as_second(), to.as_second())), grid)
    }

    fn build(staff: &[StaffAvailability], window: Option<(i64, i64)>, grid: i64) -> SearchLayout {
        let n = staff.len();
        let ranks = rotation_ranks(staff.iter().map(|s| s.staff_id.as_str()), 0);
        let mut groups: Vec<CalendarGroup> = Vec::new();
        for (i, s) in staff.iter().enumerate() {
            match groups
                .iter_mut()
                .find(|g| staff[g.first].calendar == s.calendar)
            {
                Some(g) => g.members.push(i),
                None => groups.push(CalendarGroup {
                    first: i,
                    members: vec![i],
                    spans: window
                        .map_or_else(Vec::new, |(f, t)| grid_spans(&s.calendar, f, t, grid)),
                }),
            }
        }
        SearchLayout {
            staff: n,
            id_order: ranks,
            languages: staff
                .iter()
                .map(|s| s.languages.iter().fold(0u16, |m, &l| m | language_bit(l)))
                .collect(),
            busy: staff
                .iter()
                .map(|s| merge_busy(s.time_off.iter().chain(&s.bookings)))
                .collect(),
            groups,
            window: window.unwrap_or((0, 0)),
            grid,
        }
    }

    /// The grid spans of group `g` overlapping `[from, to)` on `grid`, in order: the layout's
    /// own when its window holds the range on its grid, else worked out from the calendar.
    fn grid_spans<'a>(
        &'a self,
        staff: &[StaffAvailability],
        g: &'a CalendarGroup,
        from: i64,
        to: i64,
        grid: i64,
    ) -> Cow<'a, [GridSpan]> {
        if grid == self.grid && self.window.0 <= from && to <= self.window.1 {
            if let Some(run) = overlapping_run(&g.spans, from, to) {
                return Cow::Borrowed(run);
            }
        }
        Cow::Owned(grid_spans(&staff[g.first].calendar, from, to, grid))
    }
}

/// The spans of `spans` that overlap `[from, to)`, when they lie side by side (they do unless a
/// time-zone change reorders a day's intervals); `None` otherwise.
fn overlapping_run(spans: &[GridSpan], from: i64, to: i64) -> Option<&[GridSpan]> {
    let overlaps = |s: &GridSpan| s.end > from && s.start < to;
    let first = spans.iter().position(overlaps).unwrap_or(spans.len());
    let end = first + spans[first..].iter().take_while(|s| overlaps(s)).count();
    if spans[end..].iter().any(overlaps) {
        return None;
    }
    Some(&spans[first..end])
}

fn search(
    staff: &[StaffAvailability],
    layout: &SearchLayout,
    query: &SlotQuery,
) -> Result<Vec<Slot>, Invalid> {
    let p = Params::new(
        query.length,
        query.grid_minutes,
        query.now,
        query.horizon_days,
    )?;
    if query.limit == 0 {
        return Ok(Vec::new());
    }
    let want = language_bit(query.language.spoken());
    let n = staff.len();
    // Fair rotation: staff in id order, rotated by `rotation` places.
    let shift = if n == 0 {
        0
    } else {
        (query.rotation % n as u64) as usize
    };
    let rank = |i: usize| ((layout.id_order[i] as usize + n - shift) % n) as u32;
    let until = p.horizon_end + p.len;
    let customer: Vec<(i64, i64)> = query
        .customer
        .spans(p.now, until)
        .iter()
        .map(|s| (s.start, s.end))
        .collect();
    let preferred = merge_busy(&query.preferred);

    let mut best: BinaryHeap<Key> = BinaryHeap::with_capacity(query.limit.min(1024));
    for g in &layout.groups {
        let speaks = |i: usize| layout.languages[i] & want != 0;
        if !g.members.iter().any(|&i| speaks(i)) {
            continue;
        }
        let spans = layout.grid_spans(staff, g, p.now, until, p.grid);
        let windows = intersect(&spans, &customer, p.now);
        if windows.is_empty() {
            continue;
        }
        for &i in g.members.iter().filter(|&&i| speaks(i)) {
            let base = Key {
                class: 1,
                start: 0,
                load: staff[i].load,
                rank: rank(i),
                staff: i as u32,
            };
            collect(
                &windows,
                &spans,
                &layout.busy[i],
                &preferred,
                &p,
                base,
                query.limit,
                &mut best,
            );
        }
    }

    let mut out = Vec::with_capacity(best.len());
    for k in best.into_sorted_vec() {
        let Ok(start) = Timestamp::from_second(k.start) else {
            continue;
        };
        let Ok(end) = start.checked_add(query.length) else {
            continue;
        };
        out.push(Slot {
            staff_id: staff[k.staff as usize].staff_id.clone(),
            start,
            end,
            preferred: k.class == 0,
        });
    }
    Ok(out)
}

/// Offers one staff member's free slots to the bounded heap of the best `limit` so far.
#[allow(clippy::too_many_arguments)]
fn collect(
    windows: &[Window],
    spans: &[GridSpan],
    busy: &[(i64, i64)],
    preferred: &[(i64, i64)],
    p: &Params,
    base: Key,
    limit: usize,
    best: &mut BinaryHeap<Key>,
) {
    let mut from = p.now;
    let mut pi = 0;
    while let Some(s) = earliest_fit(windows, spans, busy, from, p, i64::MAX) {
        while preferred.get(pi).is_some_and(|w| w.1 < s + p.len) {
            pi += 1;
        }
        let inside = preferred.get(pi).is_some_and(|w| w.0 <= s);
        let key = Key {
            class: u8::from(!inside),
            start: s,
            ..base
        };
        if best.len() < limit {
            best.push(key);
        } else if let Some(worst) = best.peek() {
            if worst.class == 0 && s > worst.start {
                // Later slots of this staff member cannot beat a full list of preferred ones.
                return;
            }
            if key < *worst {
                best.pop();
                best.push(key);
            } else if key.class == 1 {
                // Keys order by class, then start: this member's later ordinary slots start later
                // and lose too. Only a preferred window still ahead can hold a better one.
                match preferred.get(pi) {
                    Some(w) => {
                        from = w.0.max(s + 1);
                        continue;
                    }
                    None => return,
                }
            }
        }
        from = s + 1;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::calendar::WorkingHours;
    use crate::types::IanaZone;
    use jiff::civil::date;

    pub(crate) fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    pub(crate) fn cal(zone: &str, days: &str, hours: &str) -> RegionCalendar {
        RegionCalendar::new(
            IanaZone::parse(zone).unwrap(),
            WorkingHours::parse(days, hours).unwrap(),
        )
    }

    pub(crate) fn member(
        id: &str,
        langs: &[SpokenLanguage],
        calendar: RegionCalendar,
    ) -> StaffAvailability {
        StaffAvailability {
            staff_id: id.into(),
            languages: langs.iter().copied().collect(),
            calendar,
            time_off: vec![],
            bookings: vec![],
            load: 0,
        }
    }

    fn rome() -> RegionCalendar {
        cal("Europe/Rome", "mon-fri", "09:00-12:30,13:30-18:00")
    }

    fn query(customer: CustomerHours, now: &str) -> SlotQuery {
        SlotQuery::new(
            Language::Italian,
            SignedDuration::from_mins(60),
            customer,
            ts(now),
        )
    }

    fn starts(v: &[Slot]) -> Vec<(String, String)> {
        v.iter()
            .map(|s| (s.staff_id.clone(), s.start.to_string()))
            .collect()
    }

    #[test]
    fn r10_slots_start_on_the_grid_inside_working_hours_and_never_span_the_break() {
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        let mut q = query(rome(), "2024-06-03T09:40:00Z"); // Mon 11:40 Rome
        q.limit = 4;
        let v = find_slots(&staff, &q).unwrap();
        // 12:00 would run into the lunch break; 13:30 is the next start, then every 30 minutes.
        assert_eq!(
            v.iter().map(|s| s.start.to_string()).collect::<Vec<_>>(),
            vec![
                "2024-06-03T11:30:00Z",
                "2024-06-03T12:00:00Z",
                "2024-06-03T12:30:00Z",
                "2024-06-03T13:00:00Z"
            ]
        );
        assert!(v
            .iter()
            .all(|s| s.end.duration_since(s.start) == SignedDuration::from_mins(60)));
    }

    #[test]
    fn r10_a_slot_may_end_exactly_when_a_booking_starts() {
        let mut anna = member("anna", &[SpokenLanguage::Italian], rome());
        anna.bookings = vec![(ts("2024-06-03T08:00:00Z"), ts("2024-06-03T09:00:00Z"))];
        let mut q = query(rome(), "2024-06-03T06:00:00Z");
        q.limit = 3;
        let v = find_slots(&[anna], &q).unwrap();
        // 09:00 Rome (07:00Z) ends at 08:00Z, when the booking starts; 09:30 would overlap it.
        assert_eq!(
            v.iter().map(|s| s.start.to_string()).collect::<Vec<_>>(),
            vec![
                "2024-06-03T07:00:00Z",
                "2024-06-03T09:00:00Z",
                "2024-06-03T09:30:00Z"
            ]
        );
    }

    #[test]
    fn r10_customer_hours_in_another_zone_narrow_the_slots() {
        // A New York customer working 09:00-17:00 (13:00Z-21:00Z in June) meets Rome staff
        // only 15:00-18:00 Rome (13:00Z-16:00Z).
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        let mut q = query(
            cal("America/New_York", "mon-fri", "09:00-17:00"),
            "2024-06-03T00:00:00Z",
        );
        q.limit = 20;
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(v[0].start, ts("2024-06-03T13:00:00Z"));
        assert_eq!(v[4].start, ts("2024-06-03T15:00:00Z"));
        assert_eq!(v[5].start, ts("2024-06-04T13:00:00Z"));
    }

    #[test]
    fn r11_chinese_requests_go_to_mandarin_speakers_only() {
        let staff = [
            member("en", &[SpokenLanguage::English], rome()),
            member(
                "zh",
                &[SpokenLanguage::Mandarin, SpokenLanguage::English],
                rome(),
            ),
        ];
        let mut q = query(rome(), "2024-06-03T06:00:00Z");
        q.language = Language::ChineseTraditional;
        let v = find_slots(&staff, &q).unwrap();
        assert!(!v.is_empty() && v.iter().all(|s| s.staff_id == "zh"));
        q.language = Language::Thai;
        assert!(find_slots(&staff, &q).unwrap().is_empty());
    }

    #[test]
    fn r12_no_slot_on_a_holiday_or_in_time_off() {
        let mut anna = member(
            "anna",
            &[SpokenLanguage::Italian],
            rome().with_holidays([date(2024, 6, 3)]),
        );
        anna.time_off = vec![(ts("2024-06-04T00:00:00Z"), ts("2024-06-05T00:00:00Z"))];
        let v = find_slots(&[anna], &query(rome(), "2024-06-03T00:00:00Z")).unwrap();
        assert_eq!(v[0].start, ts("2024-06-05T07:00:00Z"));
    }

    #[test]
    fn r10_the_horizon_bounds_slot_starts_not_ends() {
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        // Now is Mon 17:00 Rome; one day of horizon allows starts up to Tue 16:59:59 Rome.
        let mut q = query(rome(), "2024-06-03T15:00:00Z");
        q.horizon_days = 1;
        q.limit = 100;
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(v.first().unwrap().start, ts("2024-06-03T15:00:00Z"));
        assert_eq!(v.last().unwrap().start, ts("2024-06-04T14:30:00Z"));
    }

    #[test]
    fn r10_preferred_windows_order_the_results_but_do_not_exclude() {
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        let mut q = query(rome(), "2024-06-03T06:00:00Z");
        q.limit = 3;
        // Tue 14:00-15:30 Rome: 14:00 and 14:30 fit; 15:00 would end outside the window.
        q.preferred = vec![(ts("2024-06-04T12:00:00Z"), ts("2024-06-04T13:30:00Z"))];
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(
            v.iter()
                .map(|s| (s.start.to_string(), s.preferred))
                .collect::<Vec<_>>(),
            vec![
                ("2024-06-04T12:00:00Z".to_string(), true),
                ("2024-06-04T12:30:00Z".to_string(), true),
                ("2024-06-03T07:00:00Z".to_string(), false),
            ]
        );
    }

    #[test]
    fn r10_equal_starts_go_to_the_least_loaded_then_round_robin() {
        let mut a = member("a", &[SpokenLanguage::Italian], rome());
        let b = member("b", &[SpokenLanguage::Italian], rome());
        let c = member("c", &[SpokenLanguage::Italian], rome());
        a.load = 3;
        let staff = [a, b, c];
        let mut q = query(rome(), "2024-06-03T07:00:00Z");
        q.limit = 3;
        let v = find_slots(&staff, &q).unwrap();
        let at = "2024-06-03T07:00:00Z".to_string();
        assert_eq!(
            starts(&v),
            vec![
                ("b".into(), at.clone()),
                ("c".into(), at.clone()),
                ("a".into(), at.clone())
            ]
        );
        q.rotation = 2; // order c, a, b rotated: b and c have equal load, c now comes first
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(
            starts(&v),
            vec![
                ("c".into(), at.clone()),
                ("b".into(), at.clone()),
                ("a".into(), at)
            ]
        );
    }

    #[test]
    fn r10_a_bad_query_is_refused_field_by_field() {
        let mut q = query(rome(), "2024-06-03T07:00:00Z");
        q.length = SignedDuration::ZERO;
        q.grid_minutes = 0;
        q.horizon_days = 0;
        let err = find_slots(&[], &q).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["length", "grid_minutes", "horizon_days"]);
    }

    #[test]
    fn r10_extreme_queries_are_answered_or_refused_without_panicking() {
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        let mut q = query(rome(), "2024-06-03T06:00:00Z");
        q.limit = usize::MAX;
        q.horizon_days = 1;
        // Monday 09:00-11:30 and 13:30-17:00 Rome, every half hour.
        assert_eq!(find_slots(&staff, &q).unwrap().len(), 6 + 8);
        q.length = SignedDuration::MAX;
        assert!(find_slots(&staff, &q).is_err());
        q.length = SignedDuration::MIN;
        assert!(find_slots(&staff, &q).is_err());
    }

    #[test]
    fn r12_grid_counts_wall_clock_time_on_a_dst_day() {
        // A round-the-clock Sunday team in New York; 2024-03-10 skips 02:00-03:00. The
        // 30-minute grid gives 01:00, 01:30, then 03:00 (the jump, also what 02:00 and 02:30
        // mean), 03:30 local.
        let team = cal("America/New_York", "sun", "00:00-24:00");
        let staff = [member("x", &[SpokenLanguage::English], team.clone())];
        let mut q = SlotQuery::new(
            Language::English,
            SignedDuration::from_mins(30),
            team,
            ts("2024-03-10T06:00:00Z"),
        );
        q.limit = 4;
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(
            v.iter().map(|s| s.start.to_string()).collect::<Vec<_>>(),
            vec![
                "2024-03-10T06:00:00Z",
                "2024-03-10T06:30:00Z",
                "2024-03-10T07:00:00Z",
                "2024-03-10T07:30:00Z"
            ]
        );
        // With a 45-minute grid, wall-clock 02:15 is skipped (-> 03:00) and 03:00 is next.
        q.grid_minutes = 45;
        let v = find_slots(&staff, &q).unwrap();
        assert_eq!(
            v.iter().map(|s| s.start.to_string()).collect::<Vec<_>>(),
            // 01:30 EST, 03:00 EDT (= 02:15 resolved, = 03:00), 03:45 EDT, 04:30 EDT
            vec![
                "2024-03-10T06:30:00Z",
                "2024-03-10T07:00:00Z",
                "2024-03-10T07:45:00Z",
                "2024-03-10T08:30:00Z"
            ]
        );
    }

    #[test]
    fn a_layout_made_for_other_staff_is_not_used() {
        let anna = member("anna", &[SpokenLanguage::Italian], rome());
        let layout = SearchLayout::new(
            &[],
            ts("2024-06-01T00:00:00Z"),
            ts("2024-07-01T00:00:00Z"),
            30,
        );
        let q = query(rome(), "2024-06-03T06:00:00Z");
        let staff = [anna];
        let laid_out = find_slots_in(&staff, &layout, &q).unwrap();
        assert_eq!(laid_out, find_slots(&staff, &q).unwrap());
        assert!(!laid_out.is_empty());
    }

    #[test]
    fn a_layout_hands_out_its_own_spans_for_a_horizon_inside_its_window_on_its_grid() {
        let staff = [member("anna", &[SpokenLanguage::Italian], rome())];
        let layout = SearchLayout::new(
            &staff,
            ts("2024-06-01T00:00:00Z"),
            ts("2024-07-01T00:00:00Z"),
            30,
        );
        let g = &layout.groups[0];
        let (from, to) = (ts("2024-06-03T06:00:00Z"), ts("2024-06-10T06:00:00Z"));
        let (from, to) = (from.as_second(), to.as_second());
        let held = layout.grid_spans(&staff, g, from, to, 1800);
        assert!(matches!(held, Cow::Borrowed(_)), "read from the layout");
        let fresh = grid_spans(&staff[0].calendar, from, to, 1800);
        assert_eq!(
            held.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
            fresh.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>()
        );
        assert!(matches!(
            layout.grid_spans(&staff, g, from, to, 900),
            Cow::Owned(_)
        ));
        let late = ts("2024-07-05T00:00:00Z").as_second();
        assert!(matches!(
            layout.grid_spans(&staff, g, from, late, 1800),
            Cow::Owned(_)
        ));
    }

    #[test]
    fn spans_overlapping_a_range_are_handed_out_only_when_side_by_side() {
        let cal = rome();
        let all = grid_spans(
            &cal,
            ts("2024-06-03T00:00:00Z").as_second(),
            ts("2024-06-06T00:00:00Z").as_second(),
            1800,
        );
        let (a, b) = (all[1].start, all[3].end);
        let run = overlapping_run(&all, a, b).map(|r| r.len());
        assert_eq!(run, Some(3));
        assert_eq!(overlapping_run(&all, 0, 1).map(|r| r.len()), Some(0));
        // One of them moved past a span outside the range: no longer side by side.
        assert_eq!(all.len(), 6);
        let mut split = all.clone();
        split.swap(1, 5);
        assert!(overlapping_run(&split, a, b).is_none());
    }
}
