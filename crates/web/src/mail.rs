//! E-mails the worker sends: a template name, a language (R11) and variables become a plain-text
//! subject and body. The wording of every template in every language lives in `mail/texts.rs`.

mod texts;

use std::collections::HashMap;

use fasttrack_core::Language;
use serde_json::Value;

/// A rendered e-mail: one-line subject and UTF-8 plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// A template and the variables it uses.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    /// Variables that must be given.
    pub required: &'static [&'static str],
    /// Variables that may be missing, null or empty: the body lines that show them are left out.
    pub optional: &'static [&'static str],
}

const MEETING: &[&str] = &[
    "request_id",
    "tenant",
    "purpose",
    "start_local",
    "end_local",
    "time_zone",
];

/// Every template.
pub const TEMPLATES: [Template; 10] = [
    Template {
        name: "request_acknowledged",
        required: &["request_id", "tenant", "services", "channel"],
        optional: &[],
    },
    Template {
        name: "request_received_staff",
        required: &["request_id", "tenant", "language", "services"],
        optional: &[],
    },
    Template {
        name: "request_accepted",
        required: &["request_id", "tenant", "manager_name"],
        optional: &[],
    },
    Template {
        name: "request_declined",
        required: &["request_id", "tenant", "reason"],
        optional: &[],
    },
    Template {
        name: "request_info_needed",
        required: &["request_id", "tenant", "question"],
        optional: &[],
    },
    Template {
        name: "relationship_expiry_warning",
        required: &["partner", "customer", "days", "expires_at"],
        optional: &[],
    },
    Template {
        name: "meeting_invite",
        required: MEETING,
        optional: &["staff_name", "online_link"],
    },
    Template {
        name: "meeting_cancelled",
        required: MEETING,
        optional: &["cancel_reason"],
    },
    Template {
        name: "meeting_reminder",
        required: MEETING,
        optional: &["staff_name", "online_link"],
    },
    Template {
        name: "sla_near_breach",
        required: &["request_id", "tenant", "clock", "minutes_left"],
        optional: &[],
    },
];

/// A wall-clock date and time as a reader of `lang` writes it (for the pages too).
pub fn local_date_time(dt: jiff::civil::DateTime, lang: Language) -> String {
    texts::date_time(dt, lang)
}

/// Renders `template` in `language` with `vars` (a JSON object); an error names what is wrong
/// (unknown template, missing variable), which retrying cannot fix.
pub fn render(template: &str, language: Language, vars: &Value) -> Result<Rendered, String> {
    let spec = TEMPLATES
        .iter()
        .find(|t| t.name == template)
        .ok_or_else(|| format!("unknown mail template '{template}'"))?;
    let text = texts::text(template, language)
        .ok_or_else(|| format!("mail template '{template}' has no {language} text"))?;
    let given = |name: &str| {
        vars.get(name)
            .filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
    };
    let mut values = HashMap::new();
    for name in spec.required.iter().copied() {
        let value = given(name)
            .ok_or_else(|| format!("mail template '{template}' needs the variable '{name}'"))?;
        values.insert(name, format_var(name, value, language, vars)?);
    }
    let mut absent = Vec::new();
    for name in spec.optional.iter().copied() {
        match given(name) {
            Some(value) => {
                values.insert(name, format_var(name, value, language, vars)?);
            }
            None => absent.push(format!("{{{name}}}")),
        }
    }
    // A line about something not given ("Reason: …" without a reason) is left out entirely.
    let body: String = text
        .body
        .split_inclusive('\n')
        .filter(|line| !absent.iter().any(|p| line.contains(p.as_str())))
        .collect();
    Ok(Rendered {
        subject: one_line(&fill(text.subject, &values)?),
        text: fill(&body, &values)?,
    })
}

/// Formats one variable the way a reader of `language` expects it.
fn format_var(
    name: &str,
    value: &Value,
    language: Language,
    vars: &Value,
) -> Result<String, String> {
    Ok(match (name, value) {
        ("services", Value::Array(items)) => items
            .iter()
            .map(plain)
            .collect::<Vec<_>>()
            .join(texts::list_separator(language)),
        ("channel", Value::String(code)) => texts::channel(code, language)
            .map(str::to_string)
            .unwrap_or_else(|| code.clone()),
        ("clock", Value::String(code)) => texts::clock(code, language)
            .map(str::to_string)
            .unwrap_or_else(|| code.clone()),
        ("language", Value::String(tag)) => match Language::parse(tag) {
            Ok(l) => format!("{} ({})", l.native_name(), l.tag()),
            Err(_) => tag.clone(),
        },
        ("days", v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| format!("the variable 'days' must be a whole number, not {v}"))?;
            texts::days(n, language)
        }
        ("expires_at", v) => {
            // An instant: UTC seconds or an RFC 3339 text; anything else is shown as given.
            let instant = match v {
                Value::Number(n) => n
                    .as_i64()
                    .and_then(|s| jiff::Timestamp::from_second(s).ok()),
                Value::String(s) => s.parse::<jiff::Timestamp>().ok(),
                _ => None,
            };
            match instant {
                Some(t) => texts::instant(t, language),
                None => plain(v),
            }
        }
        // A meeting's local wall-clock times (RFC 3339 with the zone's offset), shown as the
        // reader writes them; the zone's name follows in the template.
        ("start_local", Value::String(s)) => match s.parse::<jiff::civil::DateTime>() {
            Ok(dt) => texts::date_time(dt, language),
            Err(_) => s.clone(),
        },
        ("end_local", Value::String(s)) => {
            let end = s.parse::<jiff::civil::DateTime>();
            let start = vars
                .get("start_local")
                .and_then(Value::as_str)
                .and_then(|v| v.parse::<jiff::civil::DateTime>().ok());
            match (start, end) {
                // Same day: the end's time is enough ("10:00–11:00").
                (Some(a), Ok(b)) if a.date() == b.date() => texts::time(b),
                (_, Ok(b)) => texts::date_time(b, language),
                (_, Err(_)) => s.clone(),
            }
        }
        (_, v) => plain(v),
    })
}

/// A JSON value as text: strings without quotes, lists joined by commas.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Replaces each `{name}` in `template` once, in one pass, so a value that itself contains
/// `{…}` (a free-text reason, say) is never expanded again.
fn fill(template: &str, values: &HashMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| "unclosed '{' in a mail template".to_string())?;
        let name = &after[..end];
        let value = values.get(name).ok_or_else(|| {
            format!("a mail template uses '{{{name}}}', which it does not declare")
        })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A subject is one header line: line breaks and other control characters in values become spaces.
fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_vars() -> Value {
        json!({
            "request_id": "REQ-7F3A",
            "tenant": "Contoso Ltd",
            "services": ["Exchange Online", "SharePoint"],
            "channel": "admin_center_widget",
            "language": "pt-BR",
            "manager_name": "Giulia Rossi",
            "reason": "Subscription below 150 seats",
            "question": "How many mailboxes will move?",
            "partner": "Northwind Partners",
            "customer": "Fabrikam",
            "days": 7,
            "expires_at": 1_956_528_000,
            "meeting_id": "m-1",
            "purpose": "Kick-off",
            "start_utc": "2026-03-02T09:00:00Z",
            "end_utc": "2026-03-02T10:00:00Z",
            "start_local": "2026-03-02T10:00:00+01:00",
            "end_local": "2026-03-02T11:30:00+01:00",
            "time_zone": "Europe/Rome",
            "staff_name": "Kenji Sato",
            "online_link": "https://meet.example/abc",
            "sequence": 0,
            "cancel_reason": "The customer asked for another day",
            "clock": "first_meeting",
            "minutes_left": 42,
        })
    }

    /// The text each variable must leave in the output.
    fn expected(name: &str) -> &'static [&'static str] {
        match name {
            "request_id" => &["REQ-7F3A"],
            "tenant" => &["Contoso Ltd"],
            "services" => &["Exchange Online", "SharePoint"],
            "language" => &["Português (Brasil)"],
            "manager_name" => &["Giulia Rossi"],
            "reason" => &["Subscription below 150 seats"],
            "question" => &["How many mailboxes will move?"],
            "partner" => &["Northwind Partners"],
            "customer" => &["Fabrikam"],
            "days" => &["7"],
            "expires_at" => &["2032"],
            "purpose" => &["Kick-off"],
            "start_local" => &["2026", "10:00"],
            "end_local" => &["11:30"],
            "time_zone" => &["Europe/Rome"],
            "staff_name" => &["Kenji Sato"],
            "online_link" => &["https://meet.example/abc"],
            "cancel_reason" => &["The customer asked for another day"],
            "minutes_left" => &["42"],
            // The channel's code never shows; its localized description does (checked below).
            _ => &[],
        }
    }

    fn assert_clean(what: &str, r: &Rendered) {
        let all = format!("{}\n{}", r.subject, r.text);
        assert!(
            !all.contains('{') && !all.contains('}'),
            "{what} left a placeholder: {all}"
        );
        assert!(!r.subject.is_empty() && !r.text.trim().is_empty(), "{what}");
        assert!(!r.subject.contains('\n'), "{what}");
    }

    #[test]
    fn r11_every_template_renders_in_every_language_with_every_variable() {
        let vars = sample_vars();
        for t in TEMPLATES {
            for lang in Language::ALL {
                let what = format!("{} in {lang}", t.name);
                let r = render(t.name, lang, &vars).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_clean(&what, &r);
                let all = format!("{}\n{}", r.subject, r.text);
                for name in t.required.iter().chain(t.optional).copied() {
                    for want in expected(name) {
                        assert!(all.contains(want), "{what} lacks {name} ({want}): {all}");
                    }
                }
                if t.required.contains(&"channel") {
                    assert!(
                        !all.contains("admin_center_widget"),
                        "{what} shows the channel's code"
                    );
                }
            }
        }
    }

    #[test]
    fn r11_without_optional_variables_their_lines_are_left_out() {
        let mut vars = sample_vars();
        for t in TEMPLATES.iter().filter(|t| !t.optional.is_empty()) {
            for name in t.optional {
                vars[*name] = Value::Null;
            }
            vars["staff_name"] = json!("");
            for lang in Language::ALL {
                let what = format!("{} in {lang} without optional variables", t.name);
                let r = render(t.name, lang, &vars).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_clean(&what, &r);
                assert!(r.text.contains("REQ-7F3A"), "{what}");
                for name in t.optional {
                    for gone in expected(name) {
                        assert!(!r.text.contains(gone), "{what} still shows {name}");
                    }
                }
            }
        }
    }

    #[test]
    fn r11_each_language_has_its_own_wording() {
        let vars = sample_vars();
        for t in TEMPLATES {
            let english = render(t.name, Language::English, &vars).unwrap();
            for lang in Language::ALL {
                if lang == Language::English {
                    continue;
                }
                let r = render(t.name, lang, &vars).unwrap();
                assert_ne!(r.subject, english.subject, "{} in {lang}", t.name);
                assert_ne!(r.text, english.text, "{} in {lang}", t.name);
            }
            let hant = render(t.name, Language::ChineseTraditional, &vars).unwrap();
            let hans = render(t.name, Language::ChineseSimplified, &vars).unwrap();
            assert_ne!(hant.text, hans.text, "{}: both Chinese scripts", t.name);
        }
    }

    #[test]
    fn every_channel_has_a_description_in_every_language() {
        for code in texts::CHANNELS {
            for lang in Language::ALL {
                assert!(texts::channel(code, lang).is_some(), "{code} in {lang}");
            }
        }
    }

    #[test]
    fn a_missing_variable_is_an_error_naming_it() {
        let err = render(
            "request_accepted",
            Language::Italian,
            &json!({"request_id": "R1", "tenant": "Contoso"}),
        )
        .unwrap_err();
        assert!(err.contains("manager_name"), "{err}");
    }

    #[test]
    fn an_unknown_template_is_an_error() {
        let err = render("nope", Language::English, &json!({})).unwrap_err();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn values_are_not_expanded_twice_and_subjects_stay_on_one_line() {
        let r = render(
            "request_declined",
            Language::English,
            &json!({"request_id": "R1", "tenant": "Evil\r\nBcc: x@y", "reason": "see {tenant}"}),
        )
        .unwrap();
        assert!(r.text.contains("see {tenant}"));
        assert!(!r.subject.contains('\r') && !r.subject.contains('\n'));
    }

    #[test]
    fn meeting_times_are_the_local_wall_clock_of_the_meeting() {
        let r = render("meeting_invite", Language::English, &sample_vars()).unwrap();
        assert!(
            r.text.contains("2026-03-02 10:00–11:30 (Europe/Rome)"),
            "{}",
            r.text
        );
        let r = render("meeting_invite", Language::German, &sample_vars()).unwrap();
        assert!(
            r.text.contains("02.03.2026 10:00–11:30 Uhr (Europe/Rome)"),
            "{}",
            r.text
        );
    }

    #[test]
    fn days_take_the_singular_where_the_language_has_one() {
        assert_eq!(texts::days(1, Language::English), "1 day");
        assert_eq!(texts::days(30, Language::English), "30 days");
        assert_eq!(texts::days(1, Language::German), "1 Tag");
        assert_eq!(texts::days(7, Language::German), "7 Tagen");
        assert_eq!(texts::days(0, Language::French), "0 jour");
        assert_eq!(texts::days(7, Language::Japanese), "7 日");
    }
}
