//! The one clock of the server: every expiry, timestamp and audit time reads it, so that a test
//! or a future injectable clock has a single place to change.

/// Seconds since the Unix epoch (0 for a clock set before 1970, which no check accepts).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
