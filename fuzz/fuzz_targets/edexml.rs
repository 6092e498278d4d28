//! The EDEXML reader (a school's upload): a file is either read into a snapshot or refused with
//! problems, each in Dutch and English with a place in the file, in file order.
#![no_main]

use directory::edexml::{Limits, parse};
use libfuzzer_sys::fuzz_target;
use openpoort_fuzz::last_line;

fuzz_target!(|data: &[u8]| {
    // Small enough that the size check is reached by the fuzzer too.
    let limits = Limits {
        max_bytes: 64 * 1024,
    };
    match parse(data, &limits) {
        Ok(snapshot) => {
            assert!(data.len() <= limits.max_bytes);
            let _ = snapshot.school_code();
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a problem");
            for p in &problems.0 {
                assert!(!p.message_nl.trim().is_empty(), "{p:?}");
                assert!(!p.message_en.trim().is_empty(), "{p:?}");
                assert!(!p.rule.is_empty(), "{p:?}");
                assert!(p.path.starts_with('/'), "{p:?}");
                assert!(p.line >= 1 && p.column >= 1, "{p:?}");
                assert!(
                    p.line <= last_line(data),
                    "{p:?} beyond the file's last line"
                );
            }
            assert!(
                problems
                    .0
                    .windows(2)
                    .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)),
                "problems out of file order: {problems:?}"
            );
        }
    }
});
