//! Bounded fuzzing of every parser of outside data, in the normal test suite: arbitrary bytes and
//! mutations of valid inputs go to the .ics import, the template import (JSON and YAML), JSON
//! bodies, query strings and the pages' form bodies. None may panic, and each refusal must be a
//! 4xx problem. `PROPTEST_CASES` raises the number of cases (default 256 per property).
//! The same entry points are the cargo-fuzz targets in `fuzz/`, for unbounded runs.

use fasttrack_core::rules::engagement::TemplateSet;
use fasttrack_web::api::templates::{render_template_set, TemplateFormat};
use fasttrack_web::fuzzing::{self, Outcome};
use proptest::prelude::*;

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1@test\r\nDTSTART;VALUE=DATE:20241225\r\nDTEND;VALUE=DATE:20241227\r\n\
SUMMARY:Natale\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2@test\r\nDTSTART;VALUE=DATE:20240815\r\nSUMMARY:Ferragosto\\, Assunzione\r\n  di Maria\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

const REQUEST: &str = r#"{"kinds":["service_onboarding"],"services":["mail"],"contact":{"name":"Ada Rossi","email":"ada@contoso.example","phone":"+39 02 1234 5678"},"language":"it","preferred_windows":[["2026-12-01T08:00:00Z","2026-12-01T11:00:00Z"]],"description":"Onboarding della posta","migration":{"sources":[{"kind":"exchange","name":"Exchange","version":null}],"volumes":{"mailboxes":10,"users":10,"gigabytes":5,"files":0},"waves":[]}}"#;

/// A query of the request list (the other lists refuse some of its parameters, which is fine).
const QUERY: &str = "org_id=01J&state=submitted&limit=20&after=01H&service=mail&language=it&region_id=emea&older_than_hours=4&newer_than_hours=48";

const FORM: &str = "csrf_token=abc&org_id=01J&channel=customer_portal&kinds=service_onboarding&kinds=data_migration&services=mail&contact_name=Ada+Rossi&contact_email=ada%40contoso.example&contact_phone=%2B39+02&language=it&description=Posta&migration_source=exchange&migration_mailboxes=10&migration_users=3&migration_gigabytes=2&next=%2Frequests%3Fstate%3Dsubmitted";

fn template_json() -> Vec<u8> {
    render_template_set(&TemplateSet::recommended(), TemplateFormat::Json)
        .expect("render")
        .into_bytes()
}

fn template_yaml() -> Vec<u8> {
    render_template_set(&TemplateSet::recommended(), TemplateFormat::Yaml)
        .expect("render")
        .into_bytes()
}

/// One edit of a mutation: where (a fraction of the length) and what.
#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Flip(f64, u8),
    Duplicate(f64, usize),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let tokens = prop::sample::select(vec![
        b"\xff\xfe".to_vec(),
        b"\0".to_vec(),
        b"{".to_vec(),
        b"[[[[[[[[".to_vec(),
        b"\"".to_vec(),
        b"\\u0000".to_vec(),
        b"\\ud800".to_vec(),
        b"%".to_vec(),
        b"%ff%fe".to_vec(),
        b"&&==".to_vec(),
        b"\r\n ".to_vec(),
        b"\r\nEND:VEVENT\r\n".to_vec(),
        b"\r\nBEGIN:VEVENT\r\n".to_vec(),
        b"DTSTART;VALUE=DATE:99991231".to_vec(),
        b"DTEND;VALUE=DATE:00000101".to_vec(),
        b"- ".to_vec(),
        b": &a [*a, *a]".to_vec(),
        b"!!binary".to_vec(),
        b"1e99999".to_vec(),
        b"-9223372036854775809".to_vec(),
        b"18446744073709551616".to_vec(),
        "\u{202e}é漢字".as_bytes().to_vec(),
    ]);
    prop_oneof![
        (0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (0.0..1.0f64, tokens).prop_map(|(p, b)| Edit::Insert(p, b)),
        (0.0..1.0f64, 1..64usize).prop_map(|(p, n)| Edit::Delete(p, n)),
        (0.0..1.0f64, any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (0.0..1.0f64, 1..256usize).prop_map(|(p, n)| Edit::Duplicate(p, n)),
        (0.0..1.0f64).prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for e in edits {
        let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len);
        match e {
            Edit::Insert(p, b) => {
                let i = at(*p, v.len());
                v.splice(i..i, b.iter().copied());
            }
            Edit::Delete(p, n) => {
                let i = at(*p, v.len());
                let j = (i + n).min(v.len());
                v.drain(i..j);
            }
            Edit::Flip(p, b) => {
                if !v.is_empty() {
                    let i = at(*p, v.len() - 1);
                    v[i] ^= b | 1;
                }
            }
            Edit::Duplicate(p, n) => {
                let i = at(*p, v.len());
                let j = (i + n).min(v.len());
                let chunk = v[i..j].to_vec();
                v.splice(j..j, chunk);
            }
            Edit::Truncate(p) => {
                let i = at(*p, v.len());
                v.truncate(i);
            }
        }
    }
    v
}

/// Mutations of `seed`: up to eight edits each.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit(), 1..8).prop_map(move |edits| apply(&seed, &edits))
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..2048)
}

fn assert_clean(what: &str, input: &[u8], outcome: Outcome) {
    assert!(
        outcome.is_clean(),
        "{what} answered {outcome:?} for {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn the_seeds_themselves_are_accepted() {
    // Otherwise the mutations would only ever explore the refusal paths.
    assert_eq!(fuzzing::ics_import(ICS.as_bytes()), Outcome::Accepted);
    assert_eq!(
        fuzzing::template_import_json(&template_json()),
        Outcome::Accepted
    );
    assert_eq!(
        fuzzing::template_import_yaml(&template_yaml()),
        Outcome::Accepted
    );
    assert_eq!(
        fasttrack_web::extract::parse_json::<fasttrack_web::api::requests::RequestCreate>(
            REQUEST.as_bytes()
        )
        .map(|_| ())
        .map_err(|e| e.to_string()),
        Ok(())
    );
    assert!(
        fasttrack_web::extract::parse_query::<fasttrack_web::api::requests::RequestQuery>(QUERY)
            .is_ok()
    );
    assert!(fuzzing::form_body(FORM.as_bytes()).is_clean());
}

/// The files of `fuzz/seeds/<target>`, the cargo-fuzz targets' starting corpus.
fn fuzz_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

#[test]
fn the_cargo_fuzz_seeds_are_valid_documents() {
    // Each seed must be accepted by what it stands for, or the fuzzer starts from refusals only.
    use fasttrack_web::api;
    use fasttrack_web::extract::{parse_json, parse_query};
    for (name, seed) in fuzz_seeds("ics_import") {
        assert_eq!(fuzzing::ics_import(&seed), Outcome::Accepted, "{name}");
    }
    for (name, seed) in fuzz_seeds("template_import_json") {
        assert_eq!(
            fuzzing::template_import_json(&seed),
            Outcome::Accepted,
            "{name}"
        );
    }
    for (name, seed) in fuzz_seeds("template_import_yaml") {
        assert_eq!(
            fuzzing::template_import_yaml(&seed),
            Outcome::Accepted,
            "{name}"
        );
    }
    for (name, seed) in fuzz_seeds("json_body") {
        let read = match name.as_str() {
            "request.json" => parse_json::<api::requests::RequestCreate>(&seed).map(|_| ()),
            "org.json" => parse_json::<api::orgs::OrgCreate>(&seed).map(|_| ()),
            "user.json" => parse_json::<api::users::UserCreate>(&seed).map(|_| ()),
            "meeting.json" => parse_json::<api::meetings::MeetingCreate>(&seed).map(|_| ()),
            other => panic!("json_body seed {other}: which document is it?"),
        };
        assert!(
            read.is_ok(),
            "{name}: {:?}",
            read.map_err(|e| e.to_string())
        );
    }
    for (name, seed) in fuzz_seeds("query_string") {
        let q = std::str::from_utf8(&seed).expect("UTF-8");
        let read = match name.as_str() {
            "requests.txt" => parse_query::<api::requests::RequestQuery>(q).map(|_| ()),
            "audit.txt" => parse_query::<api::audit::AuditQuery>(q).map(|_| ()),
            "meetings.txt" => parse_query::<api::meetings::MeetingQuery>(q).map(|_| ()),
            other => panic!("query_string seed {other}: which list is it?"),
        };
        assert!(
            read.is_ok(),
            "{name}: {:?}",
            read.map_err(|e| e.to_string())
        );
    }
    for (name, seed) in fuzz_seeds("form_body") {
        assert!(fuzzing::form_body(&seed).is_clean(), "{name}");
    }
    assert_eq!(
        fuzzing::form_body(&fuzz_seeds("form_body")[0].1),
        Outcome::Accepted,
        "the request form seed"
    );
    for (name, seed) in fuzz_seeds("backup_import") {
        let text = std::str::from_utf8(&seed).expect("UTF-8");
        let parsed = fasttrack_store::backup::parse_backup(text);
        assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
    }
}

#[test]
fn deeply_nested_json_is_refused_as_malformed_not_a_crash() {
    for depth in [129usize, 1_000, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            fuzzing::json_body(deep.as_bytes()),
            Outcome::Refused(400),
            "{depth}"
        );
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert_eq!(
            fuzzing::json_body(objects.as_bytes()),
            Outcome::Refused(400)
        );
    }
}

#[test]
fn yaml_alias_bombs_are_refused_quickly() {
    // The "billion laughs": nine levels of nine aliases each.
    let mut doc = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        doc.push_str(&format!(
            "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = n;
    }
    let started = std::time::Instant::now();
    let outcome = fuzzing::template_import_yaml(doc.as_bytes());
    assert!(outcome.is_clean(), "{outcome:?}");
    assert_ne!(outcome, Outcome::Accepted);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn redirects_after_sign_in_never_leave_the_site() {
    for next in [
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "https://evil.example/",
        "/%2F%2Fevil.example",
    ] {
        let target = fuzzing::redirect_target(next);
        assert!(fuzzing::is_local(&target), "{next:?} -> {target:?}");
    }
    assert_eq!(fuzzing::redirect_target("/requests?x=1"), "/requests?x=1");
}

proptest! {
    // 256 cases per property unless PROPTEST_CASES says otherwise (ProptestConfig::default reads it).
    #![proptest_config(ProptestConfig { max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn ics_import_refuses_garbage_cleanly(input in prop_oneof![bytes(), mutated(ICS.as_bytes().to_vec())]) {
        assert_clean("ics", &input, fuzzing::ics_import(&input));
    }

    #[test]
    fn template_import_json_refuses_garbage_cleanly(input in prop_oneof![bytes(), mutated(template_json())]) {
        assert_clean("templates json", &input, fuzzing::template_import_json(&input));
    }

    #[test]
    fn template_import_yaml_refuses_garbage_cleanly(input in prop_oneof![bytes(), mutated(template_yaml())]) {
        assert_clean("templates yaml", &input, fuzzing::template_import_yaml(&input));
    }

    #[test]
    fn json_bodies_refuse_garbage_cleanly(input in prop_oneof![bytes(), mutated(REQUEST.as_bytes().to_vec())]) {
        assert_clean("json", &input, fuzzing::json_body(&input));
    }

    #[test]
    fn query_strings_refuse_garbage_cleanly(input in prop_oneof![bytes(), mutated(QUERY.as_bytes().to_vec())]) {
        assert_clean("query", &input, fuzzing::query_string(&input));
    }

    #[test]
    fn form_bodies_refuse_garbage_cleanly_and_never_redirect_away(input in prop_oneof![bytes(), mutated(FORM.as_bytes().to_vec())]) {
        assert_clean("form", &input, fuzzing::form_body(&input));
    }

    #[test]
    fn any_next_parameter_stays_on_the_site(next in "[/\\\\\t\n\r a-z.:%]{0,12}") {
        let target = fuzzing::redirect_target(&next);
        prop_assert!(fuzzing::is_local(&target), "{:?} -> {:?}", next, target);
    }
}
