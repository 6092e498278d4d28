//! The command line refuses a file that is too large by its size, before reading it.

use std::time::{Duration, Instant};

use openpoort_e2e::{openpoort, run, text};

#[test]
fn import_commands_refuse_an_oversized_file_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge");
    // Sparse: 200 MiB on paper, nothing on disk; the limit below is 1 MiB.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let file = huge.to_str().unwrap();
    for args in [["import", "edexml", file], ["import", "duo", file]] {
        let start = Instant::now();
        let out = run(openpoort(dir.path())
            .env("OPENPOORT_IMPORT_MAX_MIB", "1")
            .args(args));
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("te groot: meer dan 1 MiB (import.max_mib); niets gelezen"),
            "{args:?}: {stderr}"
        );
        assert!(start.elapsed() < Duration::from_secs(30), "{args:?}");
    }
}
