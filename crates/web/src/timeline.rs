//! The engagement timeline as a server-rendered SVG (Gantt-like): one lane per track, one bar per
//! phase, a marker for today, overdue tasks and meetings. Pure: given the engagement and `today`.

use std::collections::BTreeMap;
use std::fmt::Write;

use fasttrack_core::rules::engagement::{Engagement, Phase, TaskState};
use jiff::civil::Date;

/// A meeting to draw on the timeline.
#[derive(Debug, Clone)]
pub struct TimelineMeeting {
    pub day: Date,
    pub label: String,
}

const LEFT: i64 = 230;
const CHART: i64 = 880;
const TOP: i64 = 64;
const ROW: i64 = 22;
const LANE_GAP: i64 = 14;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0; drop them rather than emit invalid XML.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn phase_colour(p: Phase) -> &'static str {
    // A colour-blind-safe palette (Okabe–Ito), dark enough for white labels.
    match p {
        Phase::Initiate => "#0072B2",
        Phase::Assess => "#6A3D9A",
        Phase::Remediate => "#B35806",
        Phase::Enable => "#007A5E",
        Phase::Migrate => "#A6005C",
    }
}

fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Initiate => "Initiate",
        Phase::Assess => "Assess",
        Phase::Remediate => "Remediate",
        Phase::Enable => "Enable",
        Phase::Migrate => "Migrate",
    }
}

fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

/// Renders the timeline of `e` titled `title`, with `today` marked and tasks due before it flagged overdue.
pub fn render(title: &str, e: &Engagement, today: Date, meetings: &[TimelineMeeting]) -> String {
    let tasks = e.tracks.iter().flat_map(|t| t.tasks.iter());
    let first = tasks
        .clone()
        .map(|t| t.starts_on)
        .chain([e.start, today])
        .chain(meetings.iter().map(|m| m.day))
        .min()
        .unwrap_or(today);
    let last = tasks
        .map(|t| t.due_on)
        .chain([e.start, today])
        .chain(meetings.iter().map(|m| m.day))
        .max()
        .unwrap_or(today);
    let span = days_between(first, last).max(1) + 2;
    let x_of = |d: Date| LEFT + (days_between(first, d).clamp(0, span) * CHART) / span;

    let rows: i64 = e
        .tracks
        .iter()
        .map(|t| {
            let phases: std::collections::BTreeSet<Phase> =
                t.tasks.iter().map(|x| x.phase).collect();
            phases.len().max(1) as i64
        })
        .sum();
    let meeting_lane = if meetings.is_empty() {
        0
    } else {
        ROW + LANE_GAP
    };
    let height = TOP + meeting_lane + rows * ROW + e.tracks.len() as i64 * LANE_GAP + 40;
    let width = LEFT + CHART + 30;

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="tl-title" font-family="system-ui, sans-serif" font-size="12">
<title id="tl-title">{}</title>
<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>
<text x="10" y="22" font-size="16" font-weight="bold" fill="#111111">{}</text>
"##,
        escape(&format!("Timeline: {title}")),
        escape(title)
    );
    // Month ticks (or the first day when the span is short), so that the axis reads as dates.
    let mut tick = first;
    let mut ticks = vec![first];
    while tick < last {
        tick = match tick
            .first_of_month()
            .checked_add(jiff::Span::new().months(1))
        {
            Ok(t) => t,
            Err(_) => break,
        };
        if tick <= last {
            ticks.push(tick);
        }
    }
    for t in &ticks {
        let x = x_of(*t);
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#dddddd"/><text x="{}" y="{}" fill="#444444">{}</text>"##,
            TOP - 16,
            height - 30,
            x + 2,
            TOP - 20,
            escape(&t.to_string())
        );
    }
    let mut y = TOP;
    if !meetings.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="10" y="{}" font-weight="bold" fill="#111111">Meetings</text>"##,
            y + 15
        );
        for m in meetings {
            let x = x_of(m.day);
            let cy = y + ROW / 2;
            let _ = writeln!(
                s,
                r##"<g class="meeting"><title>{}</title><path d="M {x} {} L {} {cy} L {x} {} L {} {cy} Z" fill="#FFB000" stroke="#7a5500"/></g>"##,
                escape(&format!("Meeting {}: {}", m.day, m.label)),
                cy - 7,
                x + 7,
                cy + 7,
                x - 7
            );
        }
        y += ROW + LANE_GAP;
    }
    for track in &e.tracks {
        let mut phases: BTreeMap<Phase, (Date, Date, u32, u32)> = BTreeMap::new();
        for t in &track.tasks {
            let entry = phases
                .entry(t.phase)
                .or_insert((t.starts_on, t.due_on, 0, 0));
            entry.0 = entry.0.min(t.starts_on);
            entry.1 = entry.1.max(t.due_on);
            entry.2 += 1;
            if t.state.is_settled() {
                entry.3 += 1;
            }
        }
        let lane_rows = phases.len().max(1) as i64;
        let _ = write!(
            s,
            r##"<g class="track"><rect x="0" y="{}" width="{width}" height="{}" fill="#f6f7f9"/>
<text x="10" y="{}" font-weight="bold" fill="#111111">{}</text>
"##,
            y - 2,
            lane_rows * ROW + 4,
            y + 15,
            escape(&track.name)
        );
        for (i, (phase, (from, to, total, settled))) in phases.iter().enumerate() {
            let row_y = y + i as i64 * ROW;
            let x1 = x_of(*from);
            let x2 = x_of(*to).max(x1 + 4);
            let done_w = if *total == 0 {
                0
            } else {
                (x2 - x1) * i64::from(*settled) / i64::from(*total)
            };
            let colour = phase_colour(*phase);
            let _ = writeln!(
                s,
                r##"<g class="phase"><title>{}</title><text x="{}" y="{}" fill="#333333" text-anchor="end">{}</text><rect x="{x1}" y="{}" width="{}" height="{}" rx="3" fill="{colour}" fill-opacity="0.35"/><rect x="{x1}" y="{}" width="{done_w}" height="{}" rx="3" fill="{colour}"/></g>"##,
                escape(&format!(
                    "{} · {}: {from} to {to}, {settled} of {total} tasks settled",
                    track.name,
                    phase_label(*phase)
                )),
                LEFT - 8,
                row_y + 15,
                phase_label(*phase),
                row_y + 3,
                x2 - x1,
                ROW - 6,
                row_y + 3,
                ROW - 6,
            );
            for t in track
                .tasks
                .iter()
                .filter(|t| t.phase == *phase && t.state == TaskState::Open && t.due_on < today)
            {
                let x = x_of(t.due_on);
                let _ = writeln!(
                    s,
                    r##"<g class="overdue"><title>{}</title><circle cx="{x}" cy="{}" r="5" fill="#D55E00" stroke="#ffffff"/></g>"##,
                    escape(&format!("Overdue since {}: {}", t.due_on, t.title)),
                    row_y + ROW / 2
                );
            }
        }
        s.push_str("</g>\n");
        y += lane_rows * ROW + LANE_GAP;
    }
    let tx = x_of(today);
    let _ = writeln!(
        s,
        r##"<g class="today"><line x1="{tx}" y1="{}" x2="{tx}" y2="{}" stroke="#C00000" stroke-width="2" stroke-dasharray="4 3"/><text x="{}" y="{}" fill="#C00000">{}</text></g>"##,
        TOP - 10,
        height - 24,
        tx + 3,
        height - 12,
        escape(&format!("today {today}"))
    );
    // A legend: the phase colours and the overdue marker.
    let mut lx = LEFT;
    for p in Phase::ALL {
        let _ = writeln!(
            s,
            r##"<rect x="{lx}" y="32" width="12" height="12" fill="{}"/><text x="{}" y="42" fill="#333333">{}</text>"##,
            phase_colour(p),
            lx + 16,
            phase_label(p)
        );
        lx += 90;
    }
    let _ = write!(
        s,
        r##"<circle cx="{}" cy="38" r="5" fill="#D55E00"/><text x="{}" y="42" fill="#333333">overdue</text>
</svg>
"##,
        lx + 6,
        lx + 16
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fasttrack_core::rules::engagement::{plan_engagement, HelpKind};

    #[test]
    fn timeline_escapes_names_and_names_every_track() {
        let mut e = Engagement::new(plan_engagement(
            &[HelpKind::CoreOnboarding, HelpKind::DataMigration],
            &["mail"],
            jiff::civil::date(2026, 1, 5),
        ));
        e.tracks[0].name = "Core <&> \"onboarding\"".into();
        let svg = render(
            "Contoso & Co",
            &e,
            jiff::civil::date(2026, 3, 1),
            &[TimelineMeeting {
                day: jiff::civil::date(2026, 1, 7),
                label: "Kick-off <call>".into(),
            }],
        );
        assert!(svg.contains("Core &lt;&amp;&gt; &quot;onboarding&quot;"));
        assert!(svg.contains("Contoso &amp; Co"));
        assert!(!svg.contains("<call>"));
        for t in &e.tracks[1..] {
            assert!(svg.contains(&escape(&t.name)), "{}", t.name);
        }
        assert!(svg.contains("class=\"overdue\""));
        assert!(svg.contains("class=\"today\""));
    }
}
