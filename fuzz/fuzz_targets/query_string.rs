//! `fasttrack_web::fuzzing::query_string` on arbitrary bytes (read as the five list filters): a
//! panic, or a refusal that is not a 4xx, is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = fasttrack_web::fuzzing::query_string(data);
    assert!(outcome.is_clean(), "query_string answered {outcome:?}");
});
