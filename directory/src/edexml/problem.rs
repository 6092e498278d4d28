//! Problems found in an EDEXML file, and how they are collected while the file streams by.

use std::fmt;

use serde::Serialize;

/// One problem in an EDEXML file: where it is, which rule it breaks, and what the
/// ICT-coördinator can do about it (Dutch first, English second).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column in characters (not bytes), so that it matches what an editor shows.
    pub column: usize,
    /// Element path in XPath style, e.g. `/EDEX/leerlingen/leerling[3]/achternaam`.
    pub path: String,
    /// Short stable identifier of the rule, e.g. `leerling.jaargroep.verplicht`.
    pub rule: &'static str,
    pub message_nl: String,
    pub message_en: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Regel {}, kolom {} ({}): {} [{}]\nLine {}, column {} ({}): {}",
            self.line,
            self.column,
            self.path,
            self.message_nl,
            self.rule,
            self.line,
            self.column,
            self.path,
            self.message_en
        )
    }
}

/// Every problem of a file, in file order. A file with problems yields no snapshot at all: an
/// import of half a school would remove the other half.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The rule ids, in file order; handy for tests and logs (which must not carry values).
    pub fn rules(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.rule).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        if n == 1 {
            writeln!(
                f,
                "Het EDEXML-bestand is niet ingelezen: er is 1 probleem gevonden. / \
                 The EDEXML file was not imported: 1 problem was found."
            )?;
        } else {
            writeln!(
                f,
                "Het EDEXML-bestand is niet ingelezen: er zijn {n} problemen gevonden. / \
                 The EDEXML file was not imported: {n} problems were found."
            )?;
        }
        for p in &self.0 {
            write!(f, "\n{p}\n")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// What a check found, before it is placed in the file.
#[derive(Debug)]
pub(super) struct Issue {
    pub rule: &'static str,
    pub nl: String,
    pub en: String,
}

impl Issue {
    pub fn new(rule: &'static str, nl: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue {
            rule,
            nl: nl.into(),
            en: en.into(),
        }
    }
}

/// A problem whose place is still a byte offset: line and column are worked out once, at the
/// end, in a single pass over the text, instead of rescanning the file for every problem.
struct Pending {
    offset: usize,
    path: String,
    issue: Issue,
}

/// Collects problems up to a cap. A hostile or badly broken file could otherwise produce a
/// problem for every few bytes and turn 64 MiB of input into gigabytes of messages; past the cap
/// the problems are only counted, and one closing problem says how many were not listed.
pub(super) struct Sink {
    pending: Vec<Pending>,
    unlisted: usize,
    cap: usize,
}

impl Sink {
    pub fn new(cap: usize) -> Sink {
        Sink {
            pending: Vec::new(),
            unlisted: 0,
            cap,
        }
    }

    /// True when the next problem will only be counted: callers skip building its path.
    pub fn full(&self) -> bool {
        self.pending.len() >= self.cap
    }

    pub fn count_unlisted(&mut self) {
        self.unlisted += 1;
    }

    pub fn push(&mut self, offset: usize, path: String, issue: Issue) {
        if self.full() {
            self.unlisted += 1;
        } else {
            self.pending.push(Pending {
                offset,
                path,
                issue,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.unlisted == 0
    }

    /// Places every problem in `text` (the decoded document the offsets refer to) and sorts
    /// them into file order; problems found at the same place keep the order they were found in.
    pub fn finish(mut self, text: &str) -> Problems {
        self.pending.sort_by_key(|p| p.offset);
        let mut locator = Locator::new(text);
        let mut out: Vec<Problem> = Vec::with_capacity(self.pending.len() + 1);
        for p in self.pending {
            let (line, column) = locator.locate(p.offset);
            out.push(Problem {
                line,
                column,
                path: p.path,
                rule: p.issue.rule,
                message_nl: p.issue.nl,
                message_en: p.issue.en,
            });
        }
        if self.unlisted > 0 {
            let (line, column) = out.last().map(|p| (p.line, p.column)).unwrap_or((1, 1));
            let n = self.unlisted;
            out.push(Problem {
                line,
                column,
                path: "/".into(),
                rule: "bestand.te_veel_problemen",
                message_nl: format!(
                    "er zijn nog {n} problemen die hier niet meer worden opgesomd. Los eerst de \
                     problemen hierboven op en lees het bestand daarna opnieuw in."
                ),
                message_en: format!(
                    "there are {n} more problems that are not listed here. Fix the problems \
                     above first, then import the file again."
                ),
            });
        }
        Problems(out)
    }
}

/// Turns byte offsets, visited in increasing order, into 1-based line and character columns.
/// CR LF, LF and a lone CR each end a line, as XML's end-of-line handling has it.
pub(super) struct Locator<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
    column: usize,
    after_cr: bool,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Locator<'a> {
        Locator {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
            column: 1,
            after_cr: false,
        }
    }

    pub fn locate(&mut self, target: usize) -> (usize, usize) {
        let target = target.min(self.bytes.len());
        while self.offset < target {
            let b = self.bytes[self.offset];
            match b {
                b'\n' if self.after_cr => {}
                b'\n' | b'\r' => {
                    self.line += 1;
                    self.column = 1;
                }
                // Continuation bytes belong to the character already counted.
                _ if b & 0xC0 == 0x80 => {}
                _ => self.column += 1,
            }
            self.after_cr = b == b'\r';
            self.offset += 1;
        }
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_counts_lines_and_characters() {
        let text = "ab\r\ncé\rx\ny";
        let mut l = Locator::new(text);
        assert_eq!(l.locate(0), (1, 1));
        assert_eq!(l.locate(1), (1, 2));
        assert_eq!(l.locate(4), (2, 1));
        // "é" is two bytes but one column.
        assert_eq!(l.locate(7), (2, 3));
        assert_eq!(l.locate(8), (3, 1));
        assert_eq!(l.locate(10), (4, 1));
    }

    #[test]
    fn sink_caps_and_counts_the_rest() {
        let mut s = Sink::new(2);
        for i in 0..5 {
            s.push(i, "/EDEX".into(), Issue::new("x", "nl", "en"));
        }
        let p = s.finish("12345");
        assert_eq!(p.len(), 3);
        assert_eq!(p.0[2].rule, "bestand.te_veel_problemen");
        assert!(p.0[2].message_nl.contains("nog 3 problemen"));
    }
}
