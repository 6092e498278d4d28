//! What the targets share. The client-address logic lives in `idp`, whose instrumented build
//! took most of an hour here; its file has no dependency beyond `std` and `directory`, so it is
//! compiled into this crate from the same source instead (the file says so at its top).

#[path = "../../idp/src/http/forwarded.rs"]
pub mod forwarded;

/// Every line starts at 1 and grows only at a line end (CR LF, LF or a lone CR), whichever of
/// UTF-8, UTF-16 or Windows-1252 the file is in: each line end of the decoded text has a byte
/// 0x0A or 0x0D of its own in the file.
pub fn last_line(bytes: &[u8]) -> usize {
    1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count()
}
