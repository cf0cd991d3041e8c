//! R12: reads public holidays from an iCalendar (`.ics`) file of all-day events.

use jiff::civil::Date;

use crate::error::Invalid;

/// The longest single holiday event accepted, in days; longer ones are surely a mistake.
const MAX_EVENT_DAYS: i32 = 31;

/// A problem in a holidays file, with the (unfolded) line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IcsError {
    /// 1-based number of the physical line where the problem starts.
    pub line: usize,
    pub message: String,
}

impl From<IcsError> for Invalid {
    fn from(e: IcsError) -> Invalid {
        Invalid::one("holidays", e.to_string())
    }
}

/// The event being read, between `BEGIN:VEVENT` and `END:VEVENT`.
#[derive(Default)]
struct Event {
    line: usize,
    start: Option<Date>,
    end: Option<Date>,
    summary: Option<String>,
}

/// R12: the holidays of an `.ics` file as (date, name), one entry per day, in file order.
///
/// Each `VEVENT` needs `DTSTART;VALUE=DATE:YYYYMMDD`; an optional `DTEND` (exclusive, as RFC 5545
/// says) makes it span several days. Folded lines and CRLF or LF endings are accepted. Timed
/// events and recurrence rules are refused rather than guessed at.
pub fn parse_holidays_ics(input: &str) -> Result<Vec<(Date, String)>, IcsError> {
    let mut out = Vec::new();
    let mut event: Option<Event> = None;
    let mut events = 0usize;
    for (line_no, line) in unfold(input) {
        let err = |message: String| IcsError {
            line: line_no,
            message,
        };
        if line.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = line.split_once(':') else {
            return Err(err(format!("expected NAME:VALUE, found '{}'", clip(&line))));
        };
        let mut params = head.split(';');
        let name = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        let params: Vec<String> = params.map(|p| p.trim().to_ascii_uppercase()).collect();
        let value = value.trim();
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VEVENT") => {
                if event.is_some() {
                    return Err(err("BEGIN:VEVENT inside another VEVENT".into()));
                }
                event = Some(Event {
                    line: line_no,
                    ..Event::default()
                });
            }
            "END" if value.eq_ignore_ascii_case("VEVENT") => {
                let Some(ev) = event.take() else {
                    return Err(err("END:VEVENT without BEGIN:VEVENT".into()));
                };
                events += 1;
                push_event(ev, &mut out).map_err(err)?;
            }
            _ => {
                let Some(ev) = event.as_mut() else {
                    continue;
                };
                match name.as_str() {
                    "DTSTART" => ev.start = Some(parse_date(&params, value).map_err(err)?),
                    "DTEND" => ev.end = Some(parse_date(&params, value).map_err(err)?),
                    "SUMMARY" => ev.summary = Some(unescape(value)),
                    "RRULE" | "RDATE" => return Err(err(
                        "recurring events are not supported; list each holiday as its own event"
                            .into(),
                    )),
                    _ => {}
                }
            }
        }
    }
    if let Some(ev) = event {
        return Err(IcsError {
            line: ev.line,
            message: "BEGIN:VEVENT is never closed by END:VEVENT".into(),
        });
    }
    if events == 0 {
        return Err(IcsError {
            line: 1,
            message: "the file holds no VEVENT; expected all-day holiday events".into(),
        });
    }
    Ok(out)
}

/// Adds the days of a finished event.
fn push_event(ev: Event, out: &mut Vec<(Date, String)>) -> Result<(), String> {
    let start = ev
        .start
        .ok_or_else(|| format!("the VEVENT that begins on line {} has no DTSTART", ev.line))?;
    let name = ev.summary.unwrap_or_default();
    let Some(end) = ev.end else {
        out.push((start, name));
        return Ok(());
    };
    if end <= start {
        return Err(format!("DTEND {end} is not after DTSTART {start}"));
    }
    let mut day = start;
    let mut n = 0;
    while day < end {
        n += 1;
        if n > MAX_EVENT_DAYS {
            return Err(format!("a holiday longer than {MAX_EVENT_DAYS} days ({start} to {end}) is surely a mistake"));
        }
        out.push((day, name.clone()));
        day = day.tomorrow().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A `DTSTART`/`DTEND` value that must be a plain date `YYYYMMDD`.
fn parse_date(params: &[String], value: &str) -> Result<Date, String> {
    let timed = params.iter().any(|p| p == "VALUE=DATE-TIME") || value.contains('T');
    if timed {
        return Err(format!(
            "'{}' has a time of day; a holiday must be an all-day date (VALUE=DATE:YYYYMMDD)",
            clip(value)
        ));
    }
    let b = value.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(format!("'{}' is not a date YYYYMMDD", clip(value)));
    }
    let num = |r: std::ops::Range<usize>| -> i32 {
        b[r].iter().fold(0, |acc, d| acc * 10 + i32::from(d - b'0'))
    };
    let (y, m, d) = (num(0..4), num(4..6), num(6..8));
    Date::new(y as i16, m as i8, d as i8).map_err(|_| format!("'{value}' is not a real date"))
}

/// Undoes RFC 5545 text escapes (`\\`, `\;`, `\,`, `\n`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') | Some('N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Joins folded lines (a line starting with a space or tab continues the previous one).
fn unfold(input: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in input.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.strip_prefix([' ', '\t']), out.last_mut()) {
            (Some(rest), Some(last)) => last.1.push_str(rest),
            _ => out.push((i + 1, line.to_string())),
        }
    }
    out
}

/// At most 40 characters of `s`, for error messages.
fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        c.push('…');
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const ITALY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1@test\r\nDTSTART;VALUE=DATE:20241225\r\nDTEND;VALUE=DATE:20241226\r\n\
SUMMARY:Natale\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2@test\r\nDTSTART;VALUE=DATE:20240815\r\nSUMMARY:Ferragosto\\, Assunzione\r\n  di Maria\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn r12_holidays_are_read_from_an_ics_file_with_folding_and_crlf() {
        let v = parse_holidays_ics(ITALY).unwrap();
        assert_eq!(
            v,
            vec![
                (date(2024, 12, 25), "Natale".to_string()),
                (
                    date(2024, 8, 15),
                    "Ferragosto, Assunzione di Maria".to_string()
                ),
            ]
        );
        assert_eq!(parse_holidays_ics(&ITALY.replace("\r\n", "\n")).unwrap(), v);
    }

    #[test]
    fn r12_a_multi_day_holiday_covers_each_day_up_to_the_exclusive_end() {
        let ics = "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20241231\nDTEND;VALUE=DATE:20250102\nSUMMARY:New year\nEND:VEVENT\n";
        let days: Vec<Date> = parse_holidays_ics(ics)
            .unwrap()
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(days, vec![date(2024, 12, 31), date(2025, 1, 1)]);
    }

    #[test]
    fn r12_bad_holiday_files_get_clear_errors_with_line_numbers() {
        let e = parse_holidays_ics("BEGIN:VEVENT\nDTSTART:20240230\nEND:VEVENT\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not a real date"), "{e}");
        let e =
            parse_holidays_ics("BEGIN:VEVENT\nDTSTART:20240101T090000Z\nEND:VEVENT\n").unwrap_err();
        assert!(e.message.contains("all-day"), "{e}");
        let e = parse_holidays_ics("BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n").unwrap_err();
        assert!(e.message.contains("no DTSTART"), "{e}");
        let e = parse_holidays_ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\n").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        let e = parse_holidays_ics("BEGIN:VCALENDAR\nEND:VCALENDAR\n").unwrap_err();
        assert!(e.message.contains("no VEVENT"), "{e}");
        let e = parse_holidays_ics(
            "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\nRRULE:FREQ=YEARLY\nEND:VEVENT\n",
        )
        .unwrap_err();
        assert!(e.message.contains("recurring"), "{e}");
        let e = parse_holidays_ics(
            "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240105\nDTEND;VALUE=DATE:20240101\nEND:VEVENT\n",
        )
        .unwrap_err();
        assert!(e.message.contains("not after"), "{e}");
        let invalid: Invalid = e.into();
        assert_eq!(invalid.0[0].field, "holidays");
    }

    proptest! {
        #[test]
        fn r12_holiday_parsing_never_panics(s in "\\PC{0,400}") {
            let _ = parse_holidays_ics(&s);
        }

        #[test]
        fn r12_holiday_parsing_never_panics_on_near_valid_input(
            lines in proptest::collection::vec(prop_oneof![
                Just("BEGIN:VEVENT".to_string()),
                Just("END:VEVENT".to_string()),
                "DTSTART(;VALUE=DATE)?:[0-9T]{0,10}",
                "DTEND(;VALUE=DATE(-TIME)?)?:[0-9]{6,9}",
                "SUMMARY:[^\\r\\n]{0,20}",
                " [a-z\\\\]{0,5}",
                "[A-Z;=:]{0,12}",
            ], 0..20),
            crlf in any::<bool>(),
        ) {
            let sep = if crlf { "\r\n" } else { "\n" };
            let _ = parse_holidays_ics(&lines.join(sep));
        }
    }
}
