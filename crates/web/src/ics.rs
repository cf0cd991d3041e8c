//! RFC 5545 invitations for online meetings (R10, R13), written by hand: CRLF line ends, lines
//! folded at 75 octets, TEXT values escaped, UTC `DTSTART`/`DTEND`, a UID that survives
//! reschedules and a SEQUENCE that grows with each change. The meeting's place is its online link
//! (`URL`, `CONFERENCE` and the description); an invite never carries a `LOCATION`.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The iTIP method of an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new or changed meeting.
    Request,
    /// A cancelled meeting.
    Cancel,
}

impl Method {
    /// The method's name as RFC 5546 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// A person on an invite: an optional display name and an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub email: String,
}

/// Everything an invite says.
#[derive(Debug, Clone)]
pub struct Invite {
    pub method: Method,
    pub uid: String,
    pub sequence: i64,
    /// When this version of the invite was made (`DTSTAMP`).
    pub stamp: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: String,
    pub description: String,
    /// R13: the online-meeting link.
    pub online_link: String,
    pub organizer: Person,
    pub attendees: Vec<Person>,
}

/// Renders the invite as an iCalendar object (`text/calendar`).
pub fn render(inv: &Invite) -> String {
    let mut out = String::with_capacity(1024);
    let mut line = |s: String| fold_into(&mut out, &s);
    line("BEGIN:VCALENDAR".into());
    line("PRODID:-//fasttrack//online meetings//EN".into());
    line("VERSION:2.0".into());
    line("CALSCALE:GREGORIAN".into());
    line(format!("METHOD:{}", inv.method.as_str()));
    line("BEGIN:VEVENT".into());
    line(format!("UID:{}", escape_text(&inv.uid)));
    line(format!("SEQUENCE:{}", inv.sequence.max(0)));
    line(format!("DTSTAMP:{}", utc(inv.stamp)));
    line(format!("DTSTART:{}", utc(inv.start)));
    line(format!("DTEND:{}", utc(inv.end)));
    line(format!("SUMMARY:{}", escape_text(&inv.summary)));
    let description = if inv.description.is_empty() {
        format!("Online meeting: {}", inv.online_link)
    } else {
        format!("{}\n\nOnline meeting: {}", inv.description, inv.online_link)
    };
    line(format!("DESCRIPTION:{}", escape_text(&description)));
    line(format!("URL;VALUE=URI:{}", inv.online_link));
    line(format!(
        "CONFERENCE;VALUE=URI;FEATURE=VIDEO,AUDIO;LABEL=Online meeting:{}",
        inv.online_link
    ));
    line(format!(
        "ORGANIZER{}:mailto:{}",
        cn(&inv.organizer),
        inv.organizer.email
    ));
    for a in &inv.attendees {
        line(format!(
            "ATTENDEE{};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}",
            cn(a),
            a.email
        ));
    }
    line(format!(
        "STATUS:{}",
        match inv.method {
            Method::Request => "CONFIRMED",
            Method::Cancel => "CANCELLED",
        }
    ));
    line("TRANSP:OPAQUE".into());
    line("END:VEVENT".into());
    line("END:VCALENDAR".into());
    out
}

/// An instant as an iCalendar UTC date-time (`20261124T090000Z`).
fn utc(t: Timestamp) -> String {
    let d = TimeZone::UTC.to_datetime(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// The `;CN="…"` parameter of a person, when they have a name (quotes cannot be escaped in a
/// parameter value, so they are dropped, as are control characters).
fn cn(p: &Person) -> String {
    match &p.name {
        Some(n) if !n.trim().is_empty() => {
            let clean: String = n.chars().filter(|c| *c != '"' && !c.is_control()).collect();
            format!(";CN=\"{clean}\"")
        }
        _ => String::new(),
    }
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded so that no line exceeds 75 octets (never splitting a UTF-8
/// character), each ending with CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(method: Method) -> Invite {
        Invite {
            method,
            uid: "0190@fasttrack.example".into(),
            sequence: 2,
            stamp: "2026-11-20T10:00:00Z".parse().unwrap(),
            start: "2026-11-24T09:00:00Z".parse().unwrap(),
            end: "2026-11-24T10:00:00Z".parse().unwrap(),
            summary: "FastTrack: kick-off, Contoso; mail".into(),
            description: "Kick-off of the onboarding\nBring your questions".into(),
            online_link: "https://meet.fasttrack.example/0190".into(),
            organizer: Person {
                name: Some("Anna \"the\" Bianchi".into()),
                email: "anna@fasttrack.example".into(),
            },
            attendees: vec![Person {
                name: None,
                email: "ada@contoso.example".into(),
            }],
        }
    }

    #[test]
    fn r13_an_invite_has_utc_times_a_link_and_no_location() {
        let s = render(&invite(Method::Request));
        assert!(s.contains("METHOD:REQUEST\r\n"));
        assert!(s.contains("DTSTART:20261124T090000Z\r\n"));
        assert!(s.contains("DTEND:20261124T100000Z\r\n"));
        assert!(s.contains("SEQUENCE:2\r\n"));
        assert!(s.contains("URL;VALUE=URI:https://meet.fasttrack.example/0190\r\n"));
        assert!(s.contains("SUMMARY:FastTrack: kick-off\\, Contoso\\; mail\r\n"));
        assert!(s.contains("ORGANIZER;CN=\"Anna the Bianchi\":mailto:anna@fasttrack.example"));
        assert!(!s.contains("LOCATION"));
        assert!(s.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn r10_long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut inv = invite(Method::Cancel);
        inv.description = "è".repeat(100);
        let s = render(&inv);
        for l in s.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
        let unfolded = s.replace("\r\n ", "");
        assert!(unfolded.contains(&"è".repeat(100)));
        assert!(unfolded.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn text_values_escape_backslashes_and_newlines() {
        assert_eq!(escape_text("a\\b\r\nc,d;e"), "a\\\\b\\nc\\,d\\;e");
    }
}
