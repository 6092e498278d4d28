//! A small, strict element tree for SAML messages and metadata that arrive from outside.
//!
//! libxml2 (under xmlsec) parses in recover mode and would accept and "repair" what a client
//! sends, so nothing from outside reaches it before this reader has accepted the document: UTF-8
//! only, no DOCTYPE (and so no entities beyond XML's five), no processing instructions, no
//! character XML does not allow (raw or as a reference), bounded size, depth and element count.
//! Names are resolved to namespace URIs, never compared by prefix, and have at most one prefix.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::SamlError;

/// Limits for one document. A real AuthnRequest is a few kB, and even large SP metadata (many
/// certificates and endpoints) stays far below these.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Limits {
    pub const MESSAGE: Limits = Limits {
        max_bytes: 64 * 1024,
        max_depth: 24,
        max_elements: 2_000,
    };
    pub const METADATA: Limits = Limits {
        max_bytes: 1024 * 1024,
        max_depth: 32,
        max_elements: 20_000,
    };
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Character data directly inside this element (concatenated).
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    /// An unqualified attribute (SAML's own attributes carry no namespace).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// A namespaced attribute such as `xml:lang`.
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn children<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every descendant (depth first, document order) with this name.
    pub fn descendants<'a>(&'a self, ns: &'a str, name: &'a str) -> Vec<&'a Element> {
        let mut found = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(e) = stack.pop() {
            if e.is(ns, name) {
                found.push(e);
            }
            stack.extend(e.children.iter().rev());
        }
        found
    }

    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }
}

fn refuse(reason: impl Into<String>) -> SamlError {
    SamlError::Malformed(reason.into())
}

/// XML 1.0's `Char` production. quick-xml does not check it, and libxml2 reads a document with
/// a NUL or another control character differently from this reader (it stops or "recovers"),
/// so that what is checked here and what is verified there would not be the same document.
fn is_xml_char(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..
    )
}

fn check_chars(text: &str) -> Result<(), SamlError> {
    match text.chars().find(|&c| !is_xml_char(c)) {
        Some(c) => Err(refuse(format!(
            "the character U+{:04X} is not allowed in XML",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

fn resolved(ns: ResolveResult<'_>) -> Result<Option<String>, SamlError> {
    match ns {
        ResolveResult::Bound(n) => Ok(Some(n.as_ref().to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(refuse(format!("undeclared namespace prefix `{p}`"))),
    }
}

/// A name with its prefix split off must be an NCName, without a colon (Namespaces in XML 1.0):
/// `a:b:c` is not prefix `a` and name `b:c` to libxml2, which would read the document otherwise.
fn check_local_name(name: &str) -> Result<(), SamlError> {
    if name.is_empty() || name.contains(':') {
        return Err(refuse(format!(
            "`{name}` is not a name with at most one prefix"
        )));
    }
    Ok(())
}

fn element(
    reader: &NsReader<&[u8]>,
    ns: Option<String>,
    start: &BytesStart<'_>,
) -> Result<Element, SamlError> {
    let name = start.local_name().into_inner().to_owned();
    check_local_name(&name)?;
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| refuse(format!("attribute of <{name}>: {e}")))?;
        let key = a.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ans, local) = reader.resolver().resolve_attribute(key);
        check_local_name(local.into_inner())?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| refuse(format!("attribute of <{name}>: {e}")))?;
        // A character reference (`&#1;`) can carry what the raw text may not.
        check_chars(&value)?;
        attrs.push(Attr {
            ns: resolved(ans)?,
            name: local.into_inner().to_owned(),
            value: value.into_owned(),
        });
    }
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

/// Parses `xml` into its root element under `limits`.
pub fn parse(xml: &[u8], limits: Limits) -> Result<Element, SamlError> {
    if xml.len() > limits.max_bytes {
        return Err(SamlError::TooLarge {
            size: xml.len(),
            limit: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(xml).map_err(|_| refuse("the document is not UTF-8"))?;
    check_chars(text)?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| refuse(format!("not well-formed XML: {e}")))?;
        match event {
            Event::DocType(_) => return Err(SamlError::Doctype),
            Event::PI(_) => return Err(refuse("processing instructions are not allowed")),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Start(start) => {
                if root.is_some() {
                    return Err(refuse("content after the root element"));
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(refuse(format!(
                        "more than {} elements",
                        limits.max_elements
                    )));
                }
                if stack.len() >= limits.max_depth {
                    return Err(refuse(format!("nested deeper than {}", limits.max_depth)));
                }
                let ns = resolved(ns)?;
                let e = element(&reader, ns, &start)?;
                stack.push(e);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| refuse("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Empty(_) => unreachable!("expand_empty_elements is set"),
            Event::Text(t) => {
                let content: Cow<'_, str> = t.xml10_content();
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(refuse("text outside the root element")),
                }
            }
            Event::CData(c) => {
                let content: &str = c.as_ref();
                match stack.last_mut() {
                    Some(e) => e.text.push_str(content),
                    None => return Err(refuse("text outside the root element")),
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or_else(|| refuse("bad character reference"))?
                } else {
                    let name: &str = r.as_ref();
                    predefined(name).ok_or_else(|| refuse(format!("unknown entity &{name};")))?
                };
                check_chars(c.encode_utf8(&mut [0; 4]))?;
                match stack.last_mut() {
                    Some(e) => e.text.push(c),
                    None => return Err(refuse("text outside the root element")),
                }
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(refuse("the document ends inside an element"));
    }
    root.ok_or_else(|| refuse("no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_namespaces_not_prefixes() {
        let root = parse(
            br#"<x:A xmlns:x="urn:a" xmlns="urn:b"><B y="1"/><x:C>t&amp;u</x:C></x:A>"#,
            Limits::MESSAGE,
        )
        .unwrap();
        assert!(root.is("urn:a", "A"));
        assert_eq!(root.child("urn:b", "B").unwrap().attr("y"), Some("1"));
        assert_eq!(root.child("urn:a", "C").unwrap().text, "t&u");
    }

    #[test]
    fn a_doctype_is_refused_before_anything_is_expanded() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>"#;
        assert!(matches!(
            parse(bomb, Limits::MESSAGE),
            Err(SamlError::Doctype)
        ));
    }

    #[test]
    fn undeclared_entities_and_prefixes_are_refused() {
        assert!(parse(b"<r>&nbsp;</r>", Limits::MESSAGE).is_err());
        assert!(parse(b"<p:r/>", Limits::MESSAGE).is_err());
    }

    #[test]
    fn size_depth_and_element_limits_hold() {
        let big = vec![b' '; Limits::MESSAGE.max_bytes + 1];
        assert!(matches!(
            parse(&big, Limits::MESSAGE),
            Err(SamlError::TooLarge { .. })
        ));
        let deep = "<a>".repeat(30) + &"</a>".repeat(30);
        assert!(parse(deep.as_bytes(), Limits::MESSAGE).is_err());
        let wide = format!("<a>{}</a>", "<b/>".repeat(2_100));
        assert!(parse(wide.as_bytes(), Limits::MESSAGE).is_err());
    }

    #[test]
    fn a_character_xml_does_not_allow_is_refused_raw_or_as_a_reference() {
        for doc in [
            "<a b=\"x\0y\"/>",
            "<a b=\"\u{2}\"/>",
            "<a>x\u{1}</a>",
            "<a>\u{FFFE}</a>",
            "<a><!-- \0 --></a>",
            "<a>&#0;</a>",
            "<a>&#x1;</a>",
            "<a b=\"&#1;\"/>",
            "<a b=\"&#xFFFF;\"/>",
        ] {
            assert!(
                matches!(
                    parse(doc.as_bytes(), Limits::MESSAGE),
                    Err(SamlError::Malformed(_))
                ),
                "{doc:?}"
            );
        }
        let fine = parse(
            "<a b=\"&#9;&#x10000;\">\t&#xD;\u{E000}</a>".as_bytes(),
            Limits::MESSAGE,
        );
        assert_eq!(fine.unwrap().text, "\t\r\u{E000}");
    }

    #[test]
    fn a_name_with_more_than_one_colon_is_refused() {
        for doc in [
            r#"<x:a:b xmlns:x="urn:a"/>"#,
            r#"<x:a xmlns:x="urn:a"><x:b:c/></x:a>"#,
            r#"<x:a xmlns:x="urn:a" x:b:c="1"/>"#,
        ] {
            assert!(
                matches!(
                    parse(doc.as_bytes(), Limits::MESSAGE),
                    Err(SamlError::Malformed(_))
                ),
                "{doc}"
            );
        }
    }

    #[test]
    fn mismatched_tags_and_trailing_content_are_refused() {
        assert!(parse(b"<a><b></a></b>", Limits::MESSAGE).is_err());
        assert!(parse(b"<a/><b/>", Limits::MESSAGE).is_err());
        assert!(parse(b"<a/><?pi x?>", Limits::MESSAGE).is_err());
    }
}
