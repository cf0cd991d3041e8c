//! `fasttrack_web::fuzzing::template_import_json` on arbitrary bytes: a panic, or a refusal that is not a 4xx,
//! is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let outcome = fasttrack_web::fuzzing::template_import_json(data);
    assert!(
        outcome.is_clean(),
        "template_import_json answered {outcome:?}"
    );
});
