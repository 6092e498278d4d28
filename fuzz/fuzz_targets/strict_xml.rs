//! The strict XML reader every SAML message and metadata document from outside passes before
//! libxml2 sees it: what it accepts is UTF-8, within the size, depth and element limits, names
//! resolved (no prefix left in a name), text made of XML characters only, and no element with
//! two attributes of the same expanded name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metadata::saml::dom::{Element, Limits, parse};

// Small limits, so that the fuzzer reaches them.
const LIMITS: Limits = Limits {
    max_bytes: 4096,
    max_depth: 6,
    max_elements: 40,
};

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Depth and element count of a tree, checking each element on the way.
fn walk(e: &Element, depth: usize) -> (usize, usize) {
    assert!(
        !e.name.is_empty() && !e.name.contains(':'),
        "name {:?}",
        e.name
    );
    assert!(e.text.chars().all(is_xml_char), "text {:?}", e.text);
    for (i, a) in e.attrs.iter().enumerate() {
        assert!(
            !a.name.is_empty() && !a.name.contains(':'),
            "attribute {:?}",
            a.name
        );
        assert!(
            a.value.chars().all(is_xml_char),
            "attribute value {:?}",
            a.value
        );
        assert!(
            !e.attrs[..i]
                .iter()
                .any(|b| b.ns == a.ns && b.name == a.name),
            "two attributes {:?} {:?} on <{}>",
            a.ns,
            a.name,
            e.name
        );
    }
    let mut deepest = depth;
    let mut count = 1;
    for c in &e.children {
        let (d, n) = walk(c, depth + 1);
        deepest = deepest.max(d);
        count += n;
    }
    (deepest, count)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = parse(data, LIMITS) {
        assert!(data.len() <= LIMITS.max_bytes);
        assert!(std::str::from_utf8(data).is_ok());
        let (depth, count) = walk(&root, 1);
        assert!(depth <= LIMITS.max_depth, "depth {depth}");
        assert!(count <= LIMITS.max_elements, "{count} elements");
    }
});
