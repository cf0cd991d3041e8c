//! `fasttrack_web::fuzzing::form_body` on arbitrary bytes: a panic, or a refusal that is not a 4xx,
//! is a finding; a `next` that would send the browser off the site counts as a 500.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = fasttrack_web::fuzzing::form_body(data);
    assert!(outcome.is_clean(), "form_body answered {outcome:?}");
});
