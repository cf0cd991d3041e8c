//! `fasttrack_web::fuzzing::json_body` on arbitrary bytes: a panic, or a refusal that is not a 4xx,
//! is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = fasttrack_web::fuzzing::json_body(data);
    assert!(outcome.is_clean(), "json_body answered {outcome:?}");
});
