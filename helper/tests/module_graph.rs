//! The module graphs of the helper's three crates, read from their sources:
//! no import circle between modules in the library core (`helper/core`), the
//! binary (`helper`) or the bench harness (`bench`); a core that knows
//! nothing of clap, the command line or bench.
//!
//! An edge `a -> b` is any path in `a` that names module `b`: `crate::b::...`
//! (also inside `use crate::{...}` groups), `super::...`, and a child module
//! `a` declares (`mod b;` then `b::...`). Comments are ignored, so a doc link
//! is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`bench::config`; `main` for the binary) to its source.
type Modules = BTreeMap<String, String>;
/// Module to the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every module under `src`; the library root `lib` only with `keep_root`
/// (the core's root only declares modules).
fn read_modules(src: &Path, keep_root: bool) -> Modules {
    let mut out = Modules::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            if name == "lib" && !keep_root {
                continue;
            }
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths that follow `prefix` (e.g. `crate::`) in `line`, as segment
/// lists, expanding one level of `{a, b::c}` groups.
fn paths_after(line: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut path: Vec<String> = Vec::new();
        let mut cursor = rest;
        loop {
            if let Some(group) = cursor.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let mut full = path.clone();
                    full.extend(
                        item.trim()
                            .split("::")
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty() && s.chars().all(is_ident)),
                    );
                    out.push(full);
                }
                path.clear();
                break;
            }
            let len = cursor.find(|c: char| !is_ident(c)).unwrap_or(cursor.len());
            if len == 0 {
                break;
            }
            path.push(cursor[..len].to_string());
            cursor = &cursor[len..];
            match cursor.strip_prefix("::") {
                Some(next) => cursor = next,
                None => break,
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// The longest module that `base` followed by a prefix of `path` names
/// (`base` itself when only an item of it is named).
fn resolve(modules: &Modules, base: &str, path: &[String]) -> Option<String> {
    // An item of the base module itself (`super::Item`) names the base.
    let mut found = modules.contains_key(base).then(|| base.to_string());
    let mut current = base.to_string();
    for segment in path {
        current = if current.is_empty() {
            segment.clone()
        } else {
            format!("{current}::{segment}")
        };
        if modules.contains_key(&current) {
            found = Some(current.clone());
        }
    }
    found
}

/// The import graph of `modules`.
fn graph(modules: &Modules) -> Graph {
    let mut graph = Graph::new();
    for (name, text) in modules {
        let crate_prefix = "crate::";
        // A crate root's children are top-level modules.
        let is_root = name == "main" || name == "lib";
        let mut children = BTreeSet::new();
        let mut in_tests = false;
        let mut edges = BTreeSet::new();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let trimmed = code.trim();
            if trimmed.starts_with("mod tests") {
                in_tests = true;
            }
            for decl in ["pub mod ", "mod "] {
                if let Some(child) = trimmed.strip_prefix(decl).and_then(|r| r.strip_suffix(';')) {
                    children.insert(child.trim().to_string());
                }
            }
            for path in paths_after(code, crate_prefix) {
                edges.extend(resolve(modules, "", &path));
            }
            let super_base = if in_tests { name.clone() } else { parent(name) };
            for path in paths_after(code, "super::") {
                edges.extend(resolve(modules, &super_base, &path));
            }
            for path in paths_after(code, "self::") {
                edges.extend(resolve(modules, name, &path));
            }
            for child in &children {
                for path in paths_after(code, &format!("{child}::")) {
                    let mut full = vec![child.clone()];
                    full.extend(path);
                    let base = if is_root { "" } else { name.as_str() };
                    edges.extend(resolve(modules, base, &full));
                }
            }
        }
        edges.remove(name);
        graph.insert(name.clone(), edges);
    }
    graph
}

/// One import circle of `graph`, as the modules along it, if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The graph with every module folded into its top-level module.
fn top_level(graph: &Graph) -> Graph {
    let top = |m: &str| m.split("::").next().unwrap().to_string();
    let mut out = Graph::new();
    for (from, tos) in graph {
        let entry = out.entry(top(from)).or_default();
        entry.extend(tos.iter().map(|t| top(t)).filter(|t| *t != top(from)));
    }
    out
}

/// The modules of the crate in `dir` (relative to the helper package).
fn crate_modules(dir: &str, keep_root: bool) -> Modules {
    read_modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join("src"),
        keep_root,
    )
}

/// Panics with the circle if `g`, or `g` folded into top-level modules, has one.
fn assert_no_circle(crate_name: &str, g: &Graph) {
    if let Some(cycle) = find_cycle(g) {
        panic!("{crate_name}: import circle: {}", cycle.join(" -> "));
    }
    if let Some(cycle) = find_cycle(&top_level(g)) {
        panic!(
            "{crate_name}: import circle between top-level modules: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn no_import_circle_between_modules() {
    for (dir, keep_root, min, edges) in [
        (
            "core",
            false,
            20,
            &[("plan", "config"), ("plan", "manifest"), ("build", "exec")][..],
        ),
        (
            ".",
            true,
            5,
            &[
                ("commands", "commands::why"),
                ("commands::audit", "cli"),
                ("commands::build", "cli"),
                ("main", "commands"),
            ][..],
        ),
        (
            "../bench",
            true,
            5,
            &[("lib", "config"), ("scenarios", "measure")][..],
        ),
    ] {
        let modules = crate_modules(dir, keep_root);
        assert!(
            modules.len() > min,
            "{dir}: found only {:?}",
            modules.keys()
        );
        let g = graph(&modules);
        for (from, to) in edges {
            assert!(
                g[*from].contains(*to),
                "the parser misses {from} -> {to}: {g:#?}"
            );
        }
        assert_no_circle(dir, &g);
    }
}

#[test]
fn the_core_knows_nothing_of_the_command_line_or_bench() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("core/Cargo.toml"))
            .unwrap();
    let deps: toml::Table = toml::from_str(&manifest).unwrap();
    let deps = deps["dependencies"].as_table().unwrap();
    for outer in ["clap", "cargo-buildplan", "buildplan-bench"] {
        assert!(!deps.contains_key(outer), "the core depends on {outer}");
    }
    for (module, text) in crate_modules("core", true) {
        assert!(!text.contains("clap"), "core module {module} mentions clap");
        assert!(
            !text.contains("buildplan_bench"),
            "core module {module} mentions the bench harness"
        );
    }
}

#[test]
fn the_detector_finds_planted_circles() {
    let m = |pairs: &[(&str, &str)]| -> Modules {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // Through `crate::` paths and a `use` group.
    let plain = m(&[
        ("a", "use crate::{model, b::Thing};\n"),
        ("b", "fn f() { crate::c::g() }\n"),
        ("c", "// crate::a is only mentioned\nuse crate::a::X;\n"),
        ("model", ""),
    ]);
    let cycle = find_cycle(&graph(&plain)).expect("a -> b -> c -> a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    // A comment is not an import.
    let commented = m(&[("a", "use crate::b::X;\n"), ("b", "//! see crate::a\n")]);
    assert_eq!(find_cycle(&graph(&commented)), None);
    // A child using its parent that uses it.
    let family = m(&[
        ("p", "mod c;\nuse c::Z;\n"),
        (
            "p::c",
            "use super::W;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
    ]);
    assert!(find_cycle(&graph(&family)).is_some());
    // `super` inside a file's test module is the file itself, not a cycle.
    let tests_only = m(&[
        ("p", "mod c;\nuse c::Z;\n"),
        (
            "p::c",
            "pub struct Z;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
    ]);
    assert_eq!(find_cycle(&graph(&tests_only)), None);
    // Folding into top-level modules finds a circle through submodules.
    let nested = m(&[
        ("x", "use crate::y::inner::A;\n"),
        ("y::inner", "use crate::x::B;\n"),
        ("y", ""),
    ]);
    assert!(find_cycle(&top_level(&graph(&nested))).is_some());
}

#[test]
fn source_files_stay_under_600_lines_outside_their_tests() {
    let crates = ["core", ".", "../bench"];
    for (module, text) in crates.iter().flat_map(|dir| crate_modules(dir, true)) {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let lines = code.lines().count();
        assert!(lines <= 600, "{module}: {lines} lines before its tests");
    }
}
