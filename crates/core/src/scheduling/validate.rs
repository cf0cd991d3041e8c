//! R10/R11/R12: the last check on a booking, which the store runs before it inserts one.

use jiff::Timestamp;

use super::engine::{ceil_second, floor_second};
use super::search::StaffAvailability;
use crate::calendar::{CustomerHours, RegionCalendar};
use crate::error::{Rule, RuleViolation};
use crate::language::Language;

/// R10/R11/R12: refuses a meeting `[start, end)` with `staff` that breaks a scheduling rule.
///
/// The meeting must end after it starts, be held in a language the staff member speaks, lie
/// inside one of the staff member's working intervals (not on a holiday) and one of the
/// customer's, and overlap none of the staff member's time off or bookings.
pub fn validate_booking(
    staff: &StaffAvailability,
    language: Language,
    customer: &CustomerHours,
    start: Timestamp,
    end: Timestamp,
) -> Result<(), RuleViolation> {
    if end <= start {
        return Err(
            RuleViolation::new(Rule::R10, "a meeting must end after it starts").on_field("end"),
        );
    }
    if !staff.speaks(language) {
        return Err(RuleViolation::new(
            Rule::R11,
            format!(
                "{} does not hold meetings in {}",
                staff.staff_id,
                language.native_name()
            ),
        )
        .on_field("staff_id")
        .with("language", language.tag()));
    }
    if !inside_one_interval(&staff.calendar, start, end) {
        let why = if holiday_at(&staff.calendar, start) || holiday_at(&staff.calendar, end) {
            "falls on a public holiday of"
        } else {
            "is outside the business hours of"
        };
        return Err(RuleViolation::new(
            Rule::R12,
            format!(
                "the meeting {why} {}'s region ({})",
                staff.staff_id,
                staff.calendar.zone().as_str()
            ),
        )
        .on_field("start"));
    }
    if !inside_one_interval(customer, start, end) {
        return Err(RuleViolation::new(
            Rule::R10,
            format!(
                "the meeting is outside the customer's working hours ({})",
                customer.zone().as_str()
            ),
        )
        .on_field("start"));
    }
    let clash = |list: &[(Timestamp, Timestamp)]| list.iter().any(|&(a, b)| a < end && start < b);
    if clash(&staff.time_off) {
        return Err(RuleViolation::new(
            Rule::R10,
            format!("{} is away at that time", staff.staff_id),
        )
        .on_field("start"));
    }
    if clash(&staff.bookings) {
        return Err(RuleViolation::new(
            Rule::R10,
            format!("{} already has a meeting at that time", staff.staff_id),
        )
        .on_field("start"));
    }
    Ok(())
}

/// Whether `[start, end)` lies inside a single working interval of `cal`.
fn inside_one_interval(cal: &RegionCalendar, start: Timestamp, end: Timestamp) -> bool {
    // Working intervals have whole-second ends, so rounding the meeting outward is exact.
    let (s, e) = (floor_second(start), ceil_second(end));
    cal.spans(s, e).iter().any(|w| w.start <= s && e <= w.end)
}

/// Whether the local date at `t` is a holiday of `cal`.
fn holiday_at(cal: &RegionCalendar, t: Timestamp) -> bool {
    cal.is_holiday(cal.tz().to_datetime(t).date())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::SpokenLanguage;
    use crate::scheduling::search::tests::{cal, member, ts};
    use jiff::civil::date;

    fn rome() -> RegionCalendar {
        cal("Europe/Rome", "mon-fri", "09:00-12:30,13:30-18:00")
    }

    fn anna() -> StaffAvailability {
        let mut a = member(
            "anna",
            &[SpokenLanguage::Italian, SpokenLanguage::Mandarin],
            rome(),
        );
        a.bookings = vec![(ts("2024-06-03T13:00:00Z"), ts("2024-06-03T14:00:00Z"))];
        a.time_off = vec![(ts("2024-06-04T00:00:00Z"), ts("2024-06-05T00:00:00Z"))];
        a
    }

    fn check(lang: Language, start: &str, end: &str) -> Result<(), RuleViolation> {
        validate_booking(&anna(), lang, &rome(), ts(start), ts(end))
    }

    #[test]
    fn r10_a_booking_inside_all_hours_and_touching_another_is_accepted() {
        check(
            Language::Italian,
            "2024-06-03T12:00:00Z",
            "2024-06-03T13:00:00Z",
        )
        .unwrap();
        check(
            Language::ChineseSimplified,
            "2024-06-03T14:00:00Z",
            "2024-06-03T15:00:00Z",
        )
        .unwrap();
    }

    #[test]
    fn r11_a_booking_in_a_language_the_staff_does_not_speak_is_refused() {
        let e = check(
            Language::English,
            "2024-06-03T12:00:00Z",
            "2024-06-03T13:00:00Z",
        )
        .unwrap_err();
        assert_eq!(e.rule, Rule::R11);
    }

    #[test]
    fn r12_a_booking_across_the_break_or_on_a_holiday_is_refused() {
        let e = check(
            Language::Italian,
            "2024-06-03T10:00:00Z",
            "2024-06-03T11:00:00Z",
        )
        .unwrap_err();
        assert_eq!(e.rule, Rule::R12);
        let mut a = anna();
        a.calendar = rome().with_holidays([date(2024, 6, 3)]);
        let e = validate_booking(
            &a,
            Language::Italian,
            &rome(),
            ts("2024-06-03T08:00:00Z"),
            ts("2024-06-03T09:00:00Z"),
        )
        .unwrap_err();
        assert_eq!(e.rule, Rule::R12);
        assert!(e.message.contains("holiday"), "{e}");
    }

    #[test]
    fn r10_a_booking_outside_customer_hours_overlapping_or_backwards_is_refused() {
        let ny = cal("America/New_York", "mon-fri", "09:00-17:00");
        let e = validate_booking(
            &anna(),
            Language::Italian,
            &ny,
            ts("2024-06-03T08:00:00Z"),
            ts("2024-06-03T09:00:00Z"),
        )
        .unwrap_err();
        assert_eq!((e.rule, e.message.contains("customer")), (Rule::R10, true));
        let e = check(
            Language::Italian,
            "2024-06-03T13:30:00Z",
            "2024-06-03T14:30:00Z",
        )
        .unwrap_err();
        assert!(e.message.contains("already has a meeting"), "{e}");
        let e = check(
            Language::Italian,
            "2024-06-04T08:00:00Z",
            "2024-06-04T09:00:00Z",
        )
        .unwrap_err();
        assert!(e.message.contains("away"), "{e}");
        let e = check(
            Language::Italian,
            "2024-06-03T09:00:00Z",
            "2024-06-03T09:00:00Z",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("end"));
    }
}
