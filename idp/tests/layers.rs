//! The idp crate's modules in layers: a module may use its own layer and those below it, never
//! one above; the front ends (pages, OpenID Connect, SAML, the admin API) never use each other;
//! and no modules use each other in a circle. README's Layout section describes the same table.
//!
//! The check reads the sources: every `crate::<module>` path outside a `#[cfg(test)] mod tests`
//! block (tests may build whatever they need) counts as a use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A new module must be placed here, or the tests fail.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "accept", "clock", "config", "homecode", "mail", "metrics", "password", "pictures",
            "state", "tls", "totp", "webauthn",
        ],
    ),
    ("shared state", &["app_state"]),
    ("http", &["http"]),
    (
        "services",
        &[
            "clients",
            "grants",
            "import",
            "links",
            "operator_admin",
            "party_certificates",
            "school_admin",
            "service_providers",
            "session",
            "upstream",
            "xml_signing",
        ],
    ),
    ("flow", &["flow"]),
    ("front ends", &["api", "oidc", "partner", "saml", "web"]),
    (
        "assembly",
        &[
            "app",
            "cli",
            "demo",
            "demo_product",
            "las",
            "lib",
            "main",
            "operator",
            "server",
        ],
    ),
];

const FRONT_ENDS: &[&str] = &["api", "oidc", "partner", "saml", "web"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("src entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to: `oidc/token.rs` → `oidc`, `app.rs` → `app`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("below src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// The code of a file without line comments and without its unit-test module.
fn production_code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules named by `crate::…` paths, including `crate::{a, b::c}` groups.
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = 0usize;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.insert(identifier(group[start..j].trim()).to_owned());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(identifier(group[start..j].trim()).to_owned());
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(identifier(rest).to_owned());
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// Module → the modules it uses, with the files that do.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        let text = std::fs::read_to_string(&file).expect("source is readable");
        let entry = graph.entry(module.clone()).or_default();
        for used in uses(&production_code(&text)) {
            if used != module {
                entry.entry(used).or_default().insert(
                    file.strip_prefix(&src)
                        .expect("below src")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    graph
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = graph()
        .keys()
        .filter(|m| layer_of(m).is_none())
        .cloned()
        .collect();
    assert!(
        unplaced.is_empty(),
        "place these modules in LAYERS (tests/layers.rs) and README's Layout: {unplaced:?}"
    );
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let mut wrong = Vec::new();
    for (module, used) in graph() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for (target, files) in used {
            let Some(theirs) = layer_of(&target) else {
                continue;
            };
            if theirs > own {
                wrong.push(format!(
                    "{module} ({}) uses {target} ({}) in {files:?}",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "upward uses:\n{}", wrong.join("\n"));
}

#[test]
fn front_ends_do_not_use_each_other() {
    let mut wrong = Vec::new();
    for (module, used) in graph() {
        if !FRONT_ENDS.contains(&module.as_str()) {
            continue;
        }
        for (target, files) in used {
            if FRONT_ENDS.contains(&target.as_str()) {
                wrong.push(format!("{module} uses {target} in {files:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "front ends share code through a layer below them (http, session, flow), not with each other:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn modules_use_each_other_in_no_circle() {
    let graph = graph();
    // Depth-first search with the path on a stack: a module met again on the path closes a circle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut circle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module);
        for target in graph.get(module).into_iter().flat_map(|u| u.keys()) {
            if let Some(circle) = visit(target, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module);
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(circle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("modules use each other in a circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_reader_finds_grouped_and_nested_uses() {
    let code = "use crate::{http::{Text, page}, session::Who};\nlet x = crate::clock::unix_now();";
    let found: Vec<String> = uses(code).into_iter().collect();
    assert_eq!(found, ["clock", "http", "session"]);
    assert!(uses(&production_code("// crate::web is only mentioned\n")).is_empty());
}
