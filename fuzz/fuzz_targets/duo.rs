//! The DUO reader (the operator's list of school locations): a file is either read or refused
//! with problems, each in Dutch and English with a line in the file.
#![no_main]

use directory::duo::parse;
use libfuzzer_sys::fuzz_target;
use openpoort_fuzz::last_line;

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(list) => {
            for l in &list.locations {
                // Line 1 holds the column names.
                assert!(l.line >= 2 && l.line <= last_line(data), "{l:?}");
                assert!(!l.name.trim().is_empty(), "{l:?}");
            }
        }
        Err(problems) => {
            assert!(!problems.0.is_empty(), "refused without a problem");
            for p in &problems.0 {
                assert!(!p.nl.trim().is_empty() && !p.en.trim().is_empty(), "{p:?}");
                assert!(p.line >= 1 && p.line <= last_line(data), "{p:?}");
            }
        }
    }
});
