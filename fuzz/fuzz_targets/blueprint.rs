//! Any bytes, read as a blueprint file is: load (UTF-8 first, as `Blueprint::load` reads it),
//! validate, expand and plan against an empty organization, offline. No input may panic, and a
//! refused one gives problems that each carry a line and a one-line message.
#![no_main]

use landing_zone::{Actual, Blueprint, expand, plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `Blueprint::load` refuses invalid UTF-8 with one error before any YAML is read.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Blueprint::parse("fuzz.yaml", text) {
        Ok(blueprint) => {
            let actual = Actual::empty();
            let planned = plan(&expand(&blueprint, &actual.known()), &actual);
            assert!(planned.has_changes(), "a valid blueprint creates something");
        }
        Err(invalid) => {
            assert!(!invalid.diagnostics.is_empty());
            for d in &invalid.diagnostics {
                assert!(d.pos.line >= 1, "{d:?}");
                assert!(!d.message.is_empty() && !d.message.contains('\n'), "{d:?}");
            }
        }
    }
});
