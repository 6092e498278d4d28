//! The streaming layer: quick-xml events, the element path, content models, attributes and
//! text, with every XML-level problem reported in place.
//!
//! Nothing here expands entities: a DOCTYPE ends the read at once (there is no DTD to declare
//! entities in, so a billion-laughs file never gets past its first line), and only the five
//! predefined entities and character references are resolved; any other `&name;` is a problem.
//! The element stack is capped at [`MAX_DEPTH`] and the text kept per element at [`MAX_TEXT`]
//! bytes, so memory follows what the snapshot holds, not how a file is nested or padded.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::problem::{Issue, Problems, Sink};
use super::schema::{Attrs, Slot};
use super::values::Text;

/// EDEXML itself nests six levels deep; the rest of the allowance is for party-specific
/// `toevoegingen`.
pub(super) const MAX_DEPTH: usize = 64;

/// More than any EDEXML field may hold (the longest is 256 characters of up to 4 bytes); the
/// rest of an overlong text is only measured, never kept.
const MAX_TEXT: usize = 4096;

/// The read cannot go on (malformed XML, a DOCTYPE, …); the reason is already reported.
#[derive(Debug)]
pub(super) struct Stop;

/// An element accepted by its parent's content model; its frame is on the stack until it is
/// consumed with [`Xml::leaf`], [`Xml::skip`], [`Xml::no_content`] or a [`Xml::child`] loop
/// followed by [`Xml::close`].
pub(super) struct Child {
    pub name: &'static str,
    pub key: Option<String>,
    pub eckid: Option<String>,
}

/// Where an element was, for a problem found after it has been read.
#[derive(Clone, Debug)]
pub(super) struct Site {
    pub offset: usize,
    pub path: String,
}

struct Frame {
    name: Cow<'static, str>,
    index: u32,
    show_index: bool,
    offset: usize,
    /// How many children of each name were seen, for `leerling[3]`-style paths.
    children: Vec<(Cow<'static, str>, u32)>,
    text_reported: bool,
}

/// Progress through a content model (see `schema`).
pub(super) struct Cursor {
    slots: &'static [Slot],
    at: usize,
    count: u32,
}

impl Cursor {
    pub fn new(slots: &'static [Slot]) -> Cursor {
        Cursor {
            slots,
            at: 0,
            count: 0,
        }
    }
}

enum Verdict {
    Take(&'static Slot, &'static str),
    Late(&'static Slot, &'static str, &'static str),
    TooMany(&'static Slot, &'static str),
    Unknown,
}

pub(super) struct Xml<'a> {
    reader: Reader<&'a [u8]>,
    frames: Vec<Frame>,
    /// The top frame came from an empty-element tag (`<groep key="x"/>`): its end is implied.
    empty_pending: bool,
    text_buffer: String,
    spare_children: Vec<Vec<(Cow<'static, str>, u32)>>,
    sink: Sink,
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// XML 1.0's Char production, for characters that arrive through character references.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn resolve(r: &BytesRef<'_>) -> Result<char, Issue> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(c),
            _ => Err(Issue::new(
                "xml.teken.ongeldig",
                format!(
                    "de tekenverwijzing &{}; staat voor een teken dat in XML niet is \
                     toegestaan. Exporteer het bestand opnieuw uit de leerlingadministratie.",
                    &**r
                ),
                format!(
                    "the character reference &{}; stands for a character XML does not allow. \
                     Export the file again from the pupil administration.",
                    &**r
                ),
            )),
        };
    }
    match &**r {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(unknown_entity(other)),
    }
}

fn unknown_entity(name: &str) -> Issue {
    Issue::new(
        "xml.entiteit.onbekend",
        format!(
            "de verwijzing &{name}; is niet toegestaan: EDEXML kent alleen &lt; &gt; &amp; \
             &apos; &quot; en tekenverwijzingen zoals &#233;. Exporteer het bestand opnieuw uit \
             de leerlingadministratie."
        ),
        format!(
            "the reference &{name}; is not allowed: EDEXML knows only &lt; &gt; &amp; &apos; \
             &quot; and character references such as &#233;. Export the file again from the \
             pupil administration."
        ),
    )
}

fn malformed_detail(e: &XmlError) -> (String, String) {
    match e {
        XmlError::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => (
            format!("de eindtag </{found}> hoort niet bij de begintag <{expected}>"),
            format!("the end tag </{found}> does not match the start tag <{expected}>"),
        ),
        XmlError::IllFormed(IllFormedError::UnmatchedEndTag(name)) => (
            format!("de eindtag </{name}> heeft geen begintag"),
            format!("the end tag </{name}> has no start tag"),
        ),
        XmlError::IllFormed(IllFormedError::UnclosedReference) => (
            "er staat een los &-teken; in XML moet dat &amp; zijn".into(),
            "there is a bare & character; XML requires &amp;".into(),
        ),
        XmlError::IllFormed(IllFormedError::DoubleHyphenInComment) => (
            "commentaar bevat -- (twee streepjes), wat in XML niet mag".into(),
            "a comment contains -- (two hyphens), which XML does not allow".into(),
        ),
        XmlError::Syntax(
            SyntaxError::UnclosedTag
            | SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue,
        ) => (
            "een tag of attribuutwaarde is niet afgesloten".into(),
            "a tag or attribute value is not closed".into(),
        ),
        XmlError::Syntax(
            SyntaxError::UnclosedComment
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedPI
            | SyntaxError::UnclosedXmlDecl
            | SyntaxError::UnclosedDoctype,
        ) => (
            "commentaar, CDATA of een verwerkingsinstructie is niet afgesloten".into(),
            "a comment, CDATA section or processing instruction is not closed".into(),
        ),
        XmlError::InvalidAttr(a) => (
            format!("een attribuut is onjuist geschreven ({a})"),
            format!("an attribute is written incorrectly ({a})"),
        ),
        other => (format!("{other}"), format!("{other}")),
    }
}

fn malformed(detail: (String, String)) -> Issue {
    Issue::new(
        "xml.onjuist",
        format!(
            "het bestand is geen geldige XML: {}. Meestal is het bestand beschadigd of niet \
             volledig; exporteer het opnieuw uit de leerlingadministratie.",
            detail.0
        ),
        format!(
            "the file is not well-formed XML: {}. Usually the file is damaged or incomplete; \
             export it again from the pupil administration.",
            detail.1
        ),
    )
}

impl<'a> Xml<'a> {
    pub fn new(text: &'a str, max_problems: usize) -> Xml<'a> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.trim_text(false);
        Xml {
            reader,
            frames: Vec::new(),
            empty_pending: false,
            text_buffer: String::new(),
            spare_children: Vec::new(),
            sink: Sink::new(max_problems),
        }
    }

    pub fn finish(self, text: &str) -> Problems {
        self.sink.finish(text)
    }

    pub fn is_clean(&self) -> bool {
        self.sink.is_empty()
    }

    // ----- reporting -----

    fn path(&self) -> String {
        if self.frames.is_empty() {
            return "/".into();
        }
        let mut p = String::with_capacity(64);
        for f in &self.frames {
            p.push('/');
            p.push_str(&f.name);
            if f.show_index || f.index > 1 {
                p.push('[');
                p.push_str(&f.index.to_string());
                p.push(']');
            }
        }
        p
    }

    /// The current element, for problems found after it has been read.
    pub fn site(&self) -> Site {
        Site {
            offset: self.frames.last().map_or(0, |f| f.offset),
            path: self.path(),
        }
    }

    /// Reports a problem at the start of the current element.
    pub fn report(&mut self, issue: Issue) {
        let offset = self.frames.last().map_or(0, |f| f.offset);
        self.report_offset(offset, issue);
    }

    /// Reports a problem at `offset` with the current element's path.
    fn report_offset(&mut self, offset: usize, issue: Issue) {
        if self.sink.full() {
            self.sink.count_unlisted();
        } else {
            let path = self.path();
            self.sink.push(offset, path, issue);
        }
    }

    pub fn report_at(&mut self, offset: usize, path: String, issue: Issue) {
        self.sink.push(offset, path, issue);
    }

    /// The current element's place among its same-named siblings (1-based), as in its path.
    pub fn index(&self) -> u32 {
        self.frames.last().map_or(1, |f| f.index)
    }

    /// Where the current element starts.
    pub fn offset(&self) -> usize {
        self.frames.last().map_or(0, |f| f.offset)
    }

    fn fatal(&mut self, offset: usize, issue: Issue) -> Stop {
        self.report_offset(offset, issue);
        Stop
    }

    fn unclosed(&mut self, offset: usize) -> Stop {
        let name = self
            .frames
            .last()
            .map(|f| f.name.to_string())
            .unwrap_or_default();
        self.fatal(
            offset,
            Issue::new(
                "xml.niet_afgesloten",
                format!(
                    "het bestand houdt op terwijl <{name}> nog niet is afgesloten. Het bestand \
                     is waarschijnlijk niet volledig; exporteer het opnieuw uit de \
                     leerlingadministratie."
                ),
                format!(
                    "the file ends while <{name}> is still open. The file is probably \
                     incomplete; export it again from the pupil administration."
                ),
            ),
        )
    }

    // ----- events -----

    /// The next event that matters, with the byte offset where it starts. Comments and
    /// processing instructions are passed over; a DOCTYPE or a misplaced XML declaration ends
    /// the read.
    fn event(&mut self) -> Result<(usize, Event<'a>), Stop> {
        loop {
            let offset = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
            match self.reader.read_event() {
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Decl(_)) if offset == 0 => {}
                Ok(Event::Decl(_)) => {
                    return Err(self.fatal(
                        offset,
                        Issue::new(
                            "xml.declaratie.positie",
                            "de XML-declaratie (<?xml …?>) staat niet helemaal aan het begin van \
                             het bestand. Exporteer het bestand opnieuw uit de \
                             leerlingadministratie.",
                            "the XML declaration (<?xml …?>) is not at the very start of the \
                             file. Export the file again from the pupil administration.",
                        ),
                    ));
                }
                Ok(Event::DocType(_)) => {
                    return Err(self.fatal(
                        offset,
                        Issue::new(
                            "xml.doctype",
                            "het bestand bevat een DOCTYPE-declaratie. EDEXML gebruikt geen \
                             DTD, en openpoort weigert DTD's omdat ze misbruikt kunnen worden \
                             (bijvoorbeeld om de server te overbelasten). Exporteer het bestand \
                             opnieuw uit de leerlingadministratie, zonder DOCTYPE.",
                            "the file contains a DOCTYPE declaration. EDEXML does not use a DTD, \
                             and openpoort refuses DTDs because they can be abused (for example \
                             to overload the server). Export the file again from the pupil \
                             administration, without a DOCTYPE.",
                        ),
                    ));
                }
                Ok(ev) => return Ok((offset, ev)),
                Err(e) => {
                    let at = usize::try_from(self.reader.error_position()).unwrap_or(offset);
                    let issue = malformed(malformed_detail(&e));
                    return Err(self.fatal(at, issue));
                }
            }
        }
    }

    fn push_frame(
        &mut self,
        name: Cow<'static, str>,
        show_index: bool,
        offset: usize,
    ) -> Result<(), Stop> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.too_deep(offset));
        }
        let index = match self.frames.last_mut() {
            Some(parent) => match parent.children.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    parent.children.push((name.clone(), 1));
                    1
                }
            },
            None => 1,
        };
        self.frames.push(Frame {
            name,
            index,
            show_index,
            offset,
            children: self.spare_children.pop().unwrap_or_default(),
            text_reported: false,
        });
        Ok(())
    }

    fn too_deep(&mut self, offset: usize) -> Stop {
        self.fatal(
            offset,
            Issue::new(
                "xml.te_diep",
                format!(
                    "de elementen zijn hier meer dan {MAX_DEPTH} niveaus diep genest; zo'n \
                     bestand is geen EDEXML. Exporteer het bestand opnieuw uit de \
                     leerlingadministratie."
                ),
                format!(
                    "the elements here are nested more than {MAX_DEPTH} levels deep; such a \
                     file is not EDEXML. Export the file again from the pupil administration."
                ),
            ),
        )
    }

    /// Ends the current element (after its last child was read).
    pub fn close(&mut self) {
        // Sibling counts are kept per open element; their vectors are reused, since a large file
        // opens hundreds of thousands of elements.
        if let Some(mut frame) = self.frames.pop() {
            frame.children.clear();
            self.spare_children.push(frame.children);
        }
    }

    fn unexpected_text(&mut self, offset: usize) {
        let parent = match self.frames.last_mut() {
            Some(f) if !f.text_reported => {
                f.text_reported = true;
                f.name.to_string()
            }
            _ => return,
        };
        self.report_offset(
            offset,
            Issue::new(
                "tekst.onverwacht",
                format!(
                    "in <{parent}> staat losse tekst tussen de elementen; daar horen alleen \
                     elementen te staan. Exporteer het bestand opnieuw uit de \
                     leerlingadministratie."
                ),
                format!(
                    "<{parent}> has loose text between its elements, where only elements belong. \
                     Export the file again from the pupil administration."
                ),
            ),
        );
    }

    // ----- structure -----

    /// Reads up to the root element, which must be `<EDEX>`, and enters it.
    pub fn root(&mut self) -> Result<(), Stop> {
        loop {
            let (offset, ev) = self.event()?;
            match ev {
                Event::Start(s) | Event::Empty(s) if s.name().as_ref() != "EDEX" => {
                    let name = s.name().as_ref().to_owned();
                    return Err(self.fatal(
                        offset,
                        Issue::new(
                            "edex.root",
                            format!(
                                "dit is geen EDEXML-bestand: het begint met <{name}> in plaats \
                                 van <EDEX>. Kies in de leerlingadministratie de export naar \
                                 EDEXML."
                            ),
                            format!(
                                "this is not an EDEXML file: it starts with <{name}> instead of \
                                 <EDEX>. Choose the EDEXML export in the pupil administration."
                            ),
                        ),
                    ));
                }
                Event::Start(s) => {
                    self.push_frame(Cow::Borrowed("EDEX"), false, offset)?;
                    self.attributes(&s, Attrs::None, offset)?;
                    return Ok(());
                }
                Event::Empty(s) => {
                    self.push_frame(Cow::Borrowed("EDEX"), false, offset)?;
                    self.attributes(&s, Attrs::None, offset)?;
                    self.empty_pending = true;
                    return Ok(());
                }
                Event::Text(t) if is_blank(&t) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    self.outside_root(offset);
                }
                Event::End(_) | Event::Eof => {
                    return Err(self.fatal(
                        offset,
                        Issue::new(
                            "bestand.leeg",
                            "het bestand bevat geen EDEXML-gegevens (er is geen element \
                             <EDEX>). Kies in de leerlingadministratie de export naar EDEXML.",
                            "the file contains no EDEXML data (there is no <EDEX> element). \
                             Choose the EDEXML export in the pupil administration.",
                        ),
                    ));
                }
                // Declarations, comments, PIs and DOCTYPEs are dealt with by `event`.
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
    }

    fn outside_root(&mut self, offset: usize) {
        self.report_offset(
            offset,
            Issue::new(
                "xml.inhoud_buiten_edex",
                "er staat inhoud buiten het element <EDEX>; een EDEXML-bestand bevat precies één \
                 <EDEX> en verder niets. Exporteer het bestand opnieuw uit de \
                 leerlingadministratie.",
                "there is content outside the <EDEX> element; an EDEXML file holds exactly one \
                 <EDEX> and nothing else. Export the file again from the pupil administration.",
            ),
        );
    }

    /// Reads what follows the root element: only whitespace, comments and PIs may.
    pub fn epilogue(&mut self) -> Result<(), Stop> {
        loop {
            let (offset, ev) = self.event()?;
            match ev {
                Event::Eof => return Ok(()),
                Event::Text(t) if is_blank(&t) => {}
                Event::Start(s) => {
                    self.outside_root(offset);
                    let name = s.name().as_ref().to_owned();
                    self.push_frame(Cow::Owned(name), false, offset)?;
                    self.skip()?;
                }
                _ => self.outside_root(offset),
            }
        }
    }

    fn verdict(&mut self, cur: &mut Cursor, raw: &str) -> Verdict {
        let found = cur.slots.iter().enumerate().find_map(|(j, slot)| {
            slot.names
                .iter()
                .find(|n| **n == raw)
                .map(|n| (j, slot, *n))
        });
        let Some((j, slot, name)) = found else {
            return Verdict::Unknown;
        };
        if j == cur.at && cur.count > 0 {
            if cur.count >= slot.max {
                return Verdict::TooMany(slot, name);
            }
            cur.count += 1;
            return Verdict::Take(slot, name);
        }
        if j >= cur.at {
            for k in cur.at..j {
                let seen = if k == cur.at { cur.count } else { 0 };
                self.report_missing(&cur.slots[k], seen);
            }
            cur.at = j;
            cur.count = 1;
            return Verdict::Take(slot, name);
        }
        Verdict::Late(slot, name, cur.slots[cur.at].names[0])
    }

    fn report_missing(&mut self, slot: &Slot, seen: u32) {
        if seen < slot.min
            && let Some(m) = &slot.missing
        {
            self.report(Issue::new(m.rule, m.nl, m.en));
        }
    }

    /// Checks that nothing required is left in the model; the element itself stays open.
    fn finish_model(&mut self, cur: &Cursor) {
        for k in cur.at..cur.slots.len() {
            let seen = if k == cur.at { cur.count } else { 0 };
            self.report_missing(&cur.slots[k], seen);
        }
    }

    /// The next child element the content model admits, or `None` at the end of the current
    /// element (which then still has to be [`close`](Self::close)d). Unknown elements, elements
    /// that occur too often and loose text are reported and passed over; an element in the wrong
    /// place is reported and still returned, so that its content is checked too.
    pub fn child(&mut self, cur: &mut Cursor) -> Result<Option<Child>, Stop> {
        loop {
            if self.empty_pending {
                self.empty_pending = false;
                self.finish_model(cur);
                return Ok(None);
            }
            let (offset, ev) = self.event()?;
            let (start, empty) = match ev {
                Event::Start(s) => (s, false),
                Event::Empty(s) => (s, true),
                Event::End(_) => {
                    self.finish_model(cur);
                    return Ok(None);
                }
                Event::Text(t) => {
                    if !is_blank(&t) {
                        self.unexpected_text(offset);
                    }
                    continue;
                }
                Event::CData(_) => {
                    self.unexpected_text(offset);
                    continue;
                }
                Event::GeneralRef(r) => {
                    match resolve(&r) {
                        Ok(_) => self.unexpected_text(offset),
                        Err(issue) => self.report_offset(offset, issue),
                    }
                    continue;
                }
                Event::Eof => return Err(self.unclosed(offset)),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            };
            let qname = start.name();
            let raw: &str = qname.as_ref();
            match self.verdict(cur, raw) {
                Verdict::Take(slot, name) => {
                    self.push_frame(Cow::Borrowed(name), slot.max > 1, offset)?;
                    self.empty_pending = empty;
                    let (key, eckid) = self.attributes(&start, slot.attrs, offset)?;
                    return Ok(Some(Child { name, key, eckid }));
                }
                Verdict::Late(slot, name, before) => {
                    self.push_frame(Cow::Borrowed(name), slot.max > 1, offset)?;
                    self.empty_pending = empty;
                    let parent = self.parent_name();
                    self.report(Issue::new(
                        "element.volgorde",
                        format!(
                            "<{name}> staat op de verkeerde plaats in <{parent}>: het hoort vóór \
                             <{before}> te staan. Exporteer het bestand opnieuw uit de \
                             leerlingadministratie."
                        ),
                        format!(
                            "<{name}> is in the wrong place in <{parent}>: it belongs before \
                             <{before}>. Export the file again from the pupil administration."
                        ),
                    ));
                    let (key, eckid) = self.attributes(&start, slot.attrs, offset)?;
                    return Ok(Some(Child { name, key, eckid }));
                }
                Verdict::TooMany(slot, name) => {
                    self.push_frame(Cow::Borrowed(name), slot.max > 1, offset)?;
                    self.empty_pending = empty;
                    let issue = match &slot.too_many {
                        Some(m) => Issue::new(m.rule, m.nl, m.en),
                        None => {
                            let parent = self.parent_name();
                            Issue::new(
                                "element.te_vaak",
                                format!(
                                    "<{name}> komt vaker voor in <{parent}> dan toegestaan \
                                     (hoogstens {} keer). Exporteer het bestand opnieuw uit de \
                                     leerlingadministratie.",
                                    slot.max
                                ),
                                format!(
                                    "<{name}> occurs more often in <{parent}> than allowed (at \
                                     most {} times). Export the file again from the pupil \
                                     administration.",
                                    slot.max
                                ),
                            )
                        }
                    };
                    self.report(issue);
                    self.check_attribute_syntax(&start, offset)?;
                    self.skip()?;
                }
                Verdict::Unknown => {
                    self.push_frame(Cow::Owned(raw.to_owned()), false, offset)?;
                    self.empty_pending = empty;
                    let parent = self.parent_name();
                    self.report(Issue::new(
                        "element.onbekend",
                        format!(
                            "het element <{raw}> hoort niet in <{parent}> volgens EDEXML. Eigen \
                             gegevens van een leverancier horen in een blok <toevoegingen>. \
                             Exporteer het bestand opnieuw uit de leerlingadministratie."
                        ),
                        format!(
                            "the element <{raw}> does not belong in <{parent}> in EDEXML. A \
                             supplier's own data belongs in a <toevoegingen> block. Export the \
                             file again from the pupil administration."
                        ),
                    ));
                    self.check_attribute_syntax(&start, offset)?;
                    self.skip()?;
                }
            }
        }
    }

    fn parent_name(&self) -> String {
        let n = self.frames.len();
        if n >= 2 {
            self.frames[n - 2].name.to_string()
        } else {
            String::new()
        }
    }

    /// Consumes an element that has no content (a reference such as `<groep key="x"/>`).
    pub fn no_content(&mut self) -> Result<(), Stop> {
        let mut cur = Cursor::new(super::schema::EMPTY);
        while self.child(&mut cur)?.is_some() {
            // The empty model admits no child; `child` reports and skips every one.
        }
        self.close();
        Ok(())
    }

    /// Consumes the current element and everything in it without judging the content (used for
    /// `toevoegingen` and for elements already reported), still requiring well-formed XML and
    /// refusing unknown entities.
    pub fn skip(&mut self) -> Result<(), Stop> {
        if self.empty_pending {
            self.empty_pending = false;
            self.close();
            return Ok(());
        }
        let mut depth = 0usize;
        loop {
            let (offset, ev) = self.event()?;
            match ev {
                Event::Start(s) => {
                    depth += 1;
                    if self.frames.len() + depth > MAX_DEPTH {
                        return Err(self.too_deep(offset));
                    }
                    self.check_attribute_syntax(&s, offset)?;
                }
                Event::Empty(s) => self.check_attribute_syntax(&s, offset)?,
                Event::End(_) if depth == 0 => {
                    self.close();
                    return Ok(());
                }
                Event::End(_) => depth -= 1,
                Event::GeneralRef(r) => {
                    if let Err(issue) = resolve(&r) {
                        self.report_offset(offset, issue);
                    }
                }
                Event::Eof => return Err(self.unclosed(offset)),
                _ => {}
            }
        }
    }

    /// Reads the text of a simple element, checks it, and ends the element. `None` when the
    /// text is missing or wrong (the problem is reported).
    pub fn leaf<T>(
        &mut self,
        check: impl FnOnce(&Text) -> Result<T, Issue>,
    ) -> Result<Option<T>, Stop> {
        let text = self.text()?;
        let out = match &text {
            Some(t) => match check(t) {
                Ok(v) => Some(v),
                Err(issue) => {
                    self.report(issue);
                    None
                }
            },
            None => None,
        };
        if let Some(t) = text {
            // The buffer goes back for the next field: one allocation per file, not per field.
            self.text_buffer = t.value;
        }
        self.close();
        Ok(out)
    }

    /// Reads a simple element's text up to its end tag, leaving the element open.
    fn text(&mut self) -> Result<Option<Text>, Stop> {
        let mut value = std::mem::take(&mut self.text_buffer);
        value.clear();
        let mut t = Text {
            value,
            truncated: false,
        };
        if self.empty_pending {
            self.empty_pending = false;
            return Ok(Some(t));
        }
        let mut sound = true;
        let append = |t: &mut Text, s: &str| {
            let room = MAX_TEXT - t.value.len();
            if s.len() <= room {
                t.value.push_str(s);
            } else {
                // Keep a valid-UTF-8 start for the message; the rest is only known to exist.
                let mut cut = room;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.value.push_str(&s[..cut]);
                t.truncated = true;
            }
        };
        loop {
            let (offset, ev) = self.event()?;
            match ev {
                Event::Text(x) => append(&mut t, &x.xml10_content()),
                Event::CData(x) => append(&mut t, &x.xml10_content()),
                Event::GeneralRef(r) => match resolve(&r) {
                    Ok(c) => append(&mut t, c.encode_utf8(&mut [0; 4])),
                    Err(issue) => {
                        self.report_offset(offset, issue);
                        sound = false;
                    }
                },
                Event::Start(s) => {
                    self.element_in_text(&s, false, offset)?;
                    sound = false;
                }
                Event::Empty(s) => {
                    self.element_in_text(&s, true, offset)?;
                    sound = false;
                }
                Event::End(_) => return Ok(sound.then_some(t)),
                Event::Eof => return Err(self.unclosed(offset)),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
    }

    /// An element inside a simple element: reported and passed over.
    fn element_in_text(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        offset: usize,
    ) -> Result<(), Stop> {
        let raw = start.name().as_ref().to_owned();
        self.push_frame(Cow::Owned(raw.clone()), false, offset)?;
        self.empty_pending = empty;
        let parent = self.parent_name();
        self.report(Issue::new(
            "element.onbekend",
            format!(
                "het element <{raw}> hoort niet in <{parent}>: daar hoort alleen tekst te staan. \
                 Exporteer het bestand opnieuw uit de leerlingadministratie."
            ),
            format!(
                "the element <{raw}> does not belong in <{parent}>, which holds text only. \
                 Export the file again from the pupil administration."
            ),
        ));
        self.check_attribute_syntax(start, offset)?;
        self.skip()
    }

    /// The attributes of an element: `key` and `eckid` where the model has them; namespace
    /// declarations and `xsi:`/`xml:` attributes are allowed anywhere; anything else is a
    /// problem. Reports a missing `key`.
    fn attributes(
        &mut self,
        start: &BytesStart<'_>,
        spec: Attrs,
        offset: usize,
    ) -> Result<(Option<String>, Option<String>), Stop> {
        let mut key = None;
        let mut eckid = None;
        let mut key_seen = false;
        for attr in start.attributes() {
            let attr = match attr {
                Ok(a) => a,
                Err(e) => {
                    let issue = malformed(malformed_detail(&XmlError::InvalidAttr(e)));
                    return Err(self.fatal(offset, issue));
                }
            };
            let name = attr.key.as_ref();
            if name == "xmlns" {
                if !attr.value.is_empty() {
                    self.report(Issue::new(
                        "xml.namespace",
                        "het bestand zet de elementen in een XML-namespace (xmlns=\"…\"); \
                         EDEXML-elementen hebben geen namespace. Exporteer het bestand opnieuw \
                         uit de leerlingadministratie.",
                        "the file puts its elements in an XML namespace (xmlns=\"…\"); EDEXML \
                         elements have no namespace. Export the file again from the pupil \
                         administration.",
                    ));
                }
                continue;
            }
            if name.starts_with("xmlns:") || name.starts_with("xsi:") || name.starts_with("xml:") {
                continue;
            }
            let wanted = match name {
                "key" if spec != Attrs::None => Some(true),
                "eckid" if spec == Attrs::KeyEckid => Some(false),
                _ => None,
            };
            let Some(is_key) = wanted else {
                let attr_name = name.to_owned();
                let element = self
                    .frames
                    .last()
                    .map(|f| f.name.to_string())
                    .unwrap_or_default();
                self.report(Issue::new(
                    "attribuut.onbekend",
                    format!(
                        "het attribuut {attr_name} hoort niet bij <{element}> volgens EDEXML. \
                         Exporteer het bestand opnieuw uit de leerlingadministratie."
                    ),
                    format!(
                        "the attribute {attr_name} does not belong on <{element}> in EDEXML. \
                         Export the file again from the pupil administration."
                    ),
                ));
                continue;
            };
            if is_key {
                key_seen = true;
            }
            let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => Some(v.into_owned()),
                Err(XmlError::Escape(EscapeError::UnrecognizedEntity(_, entity))) => {
                    self.report(unknown_entity(&entity));
                    None
                }
                Err(e) => {
                    self.report(malformed(malformed_detail(&e)));
                    None
                }
            };
            if is_key {
                key = value;
            } else {
                eckid = value;
            }
        }
        if spec != Attrs::None && !key_seen {
            let element = self
                .frames
                .last()
                .map(|f| f.name.to_string())
                .unwrap_or_default();
            self.report(Issue::new(
                "key.verplicht",
                format!(
                    "<{element}> heeft geen sleutel (attribuut key). Elke leerling, groep, \
                     leerkracht en vestiging heeft een vaste sleutel uit de \
                     leerlingadministratie. Exporteer het bestand opnieuw."
                ),
                format!(
                    "<{element}> has no key (attribute key). Every pupil, group, teacher and \
                     location has a fixed key from the pupil administration. Export the file \
                     again."
                ),
            ));
        }
        Ok((key, eckid))
    }

    /// Attributes of elements whose content is passed over must still be well-formed XML.
    fn check_attribute_syntax(
        &mut self,
        start: &BytesStart<'_>,
        offset: usize,
    ) -> Result<(), Stop> {
        for attr in start.attributes() {
            match attr {
                Ok(a) => match a.normalized_value(XmlVersion::Implicit1_0) {
                    Ok(_) => {}
                    Err(XmlError::Escape(EscapeError::UnrecognizedEntity(_, entity))) => {
                        self.report_offset(offset, unknown_entity(&entity));
                    }
                    Err(e) => self.report_offset(offset, malformed(malformed_detail(&e))),
                },
                Err(e) => {
                    let issue = malformed(malformed_detail(&XmlError::InvalidAttr(e)));
                    return Err(self.fatal(offset, issue));
                }
            }
        }
        Ok(())
    }

    /// Characters XML 1.0 does not allow at all (most C0 control characters, U+FFFE, U+FFFF)
    /// are not rejected by quick-xml, so the whole text is scanned for them once.
    pub fn scan_characters(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let bad = match b {
                0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F => Some(1),
                0xEF if bytes.get(i + 1) == Some(&0xBF)
                    && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
                {
                    Some(3)
                }
                _ => None,
            };
            match bad {
                Some(len) => {
                    self.sink.push(
                        i,
                        "/".into(),
                        Issue::new(
                            "xml.teken.ongeldig",
                            format!(
                                "het bestand bevat hier een teken dat in XML niet is toegestaan \
                                 (code U+{:04X}). Exporteer het bestand opnieuw uit de \
                                 leerlingadministratie.",
                                text[i..i + len].chars().next().map_or(0, u32::from)
                            ),
                            format!(
                                "the file contains a character here that XML does not allow \
                                 (code U+{:04X}). Export the file again from the pupil \
                                 administration.",
                                text[i..i + len].chars().next().map_or(0, u32::from)
                            ),
                        ),
                    );
                    i += len;
                }
                None => i += 1,
            }
        }
    }
}
