//! Fuzzes the whole front end: bytes → UTF-8 check → lex → parse → check. Any panic,
//! stack overflow or out-of-range span is a bug.
#![no_main]

use agentc_frontend::{CheckMode, CheckOptions, check_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = CheckOptions {
        mode: CheckMode::Check,
        base_dir: std::env::temp_dir().join("agentc-fuzz-no-models"),
    };
    let checked = check_bytes(data, &options);
    for diagnostic in &checked.diagnostics {
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end && label.span.end as usize <= data.len());
        }
    }
    assert_eq!(checked.module.is_none(), checked.diagnostics.iter().any(|d| d.is_error()));
});
