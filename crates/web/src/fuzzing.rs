//! The parsers of outside data as pure functions of bytes, for fuzzing: holiday calendars (.ics),
//! template sets (JSON and YAML), JSON bodies, query strings and the pages' form bodies. Each
//! answers [`Outcome`]: accepted, or refused with the status of the problem the API would send.
//! The proptest suite (`tests/fuzz_parsers.rs`) and the cargo-fuzz targets (`fuzz/`) feed them
//! arbitrary input and check [`Outcome::is_clean`]: a panic or a 5xx is a bug. The backup
//! document's parser, `fasttrack_store::backup::parse_backup`, has a cargo-fuzz target of its own.

use crate::api;
use crate::error::ApiError;
use crate::site::FormData;

/// What a parser made of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The input was read.
    Accepted,
    /// The input was refused with this status (and a problem document).
    Refused(u16),
}

impl Outcome {
    fn of<T>(r: Result<T, ApiError>) -> Outcome {
        match r {
            Ok(_) => Outcome::Accepted,
            Err(e) => Outcome::Refused(e.to_problem().status),
        }
    }

    /// Whether the answer is one a client may get: accepted, or refused with a 4xx.
    pub fn is_clean(&self) -> bool {
        match self {
            Outcome::Accepted => true,
            Outcome::Refused(s) => (400..500).contains(s),
        }
    }

    /// The worse of two outcomes (a refusal that is not a 4xx wins), to check several at once.
    fn and(self, other: Outcome) -> Outcome {
        if !self.is_clean() {
            self
        } else {
            other
        }
    }
}

/// R12: an uploaded holiday calendar, as `POST /api/v1/regions/{id}/holidays.ics` reads it.
pub fn ics_import(body: &[u8]) -> Outcome {
    Outcome::of(api::calendars::parse_holiday_import(body))
}

/// R7: an uploaded template set, as `PUT /api/v1/templates` reads it, in JSON.
pub fn template_import_json(body: &[u8]) -> Outcome {
    Outcome::of(api::templates::parse_template_set(
        body,
        api::templates::TemplateFormat::Json,
    ))
}

/// R7: an uploaded template set in YAML.
pub fn template_import_yaml(body: &[u8]) -> Outcome {
    Outcome::of(api::templates::parse_template_set(
        body,
        api::templates::TemplateFormat::Yaml,
    ))
}

/// A JSON body, read as the documents of the busiest endpoints (and as any JSON value).
pub fn json_body(body: &[u8]) -> Outcome {
    use crate::extract::parse_json;
    Outcome::of(parse_json::<api::requests::RequestCreate>(body))
        .and(Outcome::of(parse_json::<api::orgs::OrgCreate>(body)))
        .and(Outcome::of(parse_json::<api::users::UserCreate>(body)))
        .and(Outcome::of(parse_json::<api::meetings::MeetingCreate>(
            body,
        )))
        .and(Outcome::of(parse_json::<api::migration::CheckBody>(body)))
        .and(Outcome::of(parse_json::<serde_json::Value>(body)))
}

/// A query string, read as the list endpoints' filters.
pub fn query_string(query: &[u8]) -> Outcome {
    use crate::extract::parse_query;
    // The URI a query comes in is text; hyper refuses anything else before we see it.
    let q = String::from_utf8_lossy(query);
    Outcome::of(parse_query::<api::requests::RequestQuery>(&q))
        .and(Outcome::of(parse_query::<api::users::UserQuery>(&q)))
        .and(Outcome::of(parse_query::<api::audit::AuditQuery>(&q)))
        .and(Outcome::of(parse_query::<api::meetings::MeetingQuery>(&q)))
        .and(Outcome::of(parse_query::<api::orgs::OrgQuery>(&q)))
}

/// A page's form body (`application/x-www-form-urlencoded`): the request form, read into the
/// API's request document as the page does; the sign-in form's `next` must stay on this site.
pub fn form_body(body: &[u8]) -> Outcome {
    let form = FormData::parse(body);
    let next = redirect_target(form.get("next"));
    if !is_local(&next) {
        // An open redirect: report it as the worst outcome there is.
        return Outcome::Refused(500);
    }
    Outcome::of(crate::site::doc::<api::requests::RequestCreate>(
        crate::site::pages::request_body(&form),
    ))
}

/// Where a sign-in or language change sends the browser for a `next`/`back` of `next`.
pub fn redirect_target(next: &str) -> String {
    crate::site::pages::local_path(Some(next), "/")
}

/// Whether a browser that follows `Location: {target}` stays on this site: it drops tabs and
/// line breaks and reads `\` as `/` (WHATWG URL), then must see a path, not `//host`.
pub fn is_local(target: &str) -> bool {
    let seen: String = target
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let seen = seen.trim_start_matches(|c: char| c <= ' ');
    seen.starts_with('/') && !seen.starts_with("//")
}
