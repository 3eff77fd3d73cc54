//! What cargo prints on standard error about dirty units.
//!
//! The stable source is the `Dirty` status line of `cargo build -v` (since
//! cargo 1.68), printed once per package before its first dirty unit
//! compiles, with cargo's reason in words:
//!
//! ```text
//!        Dirty util v0.1.0 (/w/util): the file `util/src/lib.rs` has changed (1796605571.295392164s, 4s after last build at 1796605567.451392048s)
//! ```
//!
//! A unit that is new in the build directory (its unit hash changed, or it
//! was never built) has no earlier fingerprint and gets no `Dirty` line.
//!
//! The optional extra is cargo's internal fingerprint log
//! ([`CARGO_LOG`]): its `dirty:` lines hold cargo's reason as a Rust
//! `Debug` value, kept as text. The module logging it moved in cargo 1.99
//! (`cargo::core::compiler::fingerprint` before, `cargo::compiler::fingerprint`
//! since); both are read. Nothing depends on it.

use std::collections::HashMap;

/// The `CARGO_LOG` filter for the fingerprint log, under both module names.
pub const CARGO_LOG: &str =
    "cargo::compiler::fingerprint=info,cargo::core::compiler::fingerprint=info";

/// The `tracing` targets of the fingerprint log lines.
const LOG_TARGETS: [&str; 2] = [
    "cargo::compiler::fingerprint: ",
    "cargo::core::compiler::fingerprint: ",
];

/// (package name, version).
pub type Package = (String, String);

/// Removes ANSI colour sequences.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
        } else if chars.next() == Some('[') {
            // CSI: parameters up to a final byte in @..~
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) {
                    break;
                }
            }
        }
    }
    out
}

/// The message of a fingerprint log line, when `line` is one.
pub fn log_message(line: &str) -> Option<&str> {
    LOG_TARGETS
        .iter()
        .find_map(|t| line.find(t).map(|at| &line[at + t.len()..]))
}

/// `name v1.2.3…` → (name, version, the text after the version).
fn package(display: &str) -> Option<(Package, &str)> {
    let (name, rest) = display.split_once(" v")?;
    let end = rest.find([' ', '/', ':']).unwrap_or(rest.len());
    let (version, rest) = rest.split_at(end);
    (!name.is_empty() && !name.contains(' ') && !version.is_empty())
        .then(|| ((name.to_string(), version.to_string()), rest))
}

/// The reason of every `Dirty` line, by package, in order.
pub fn dirty_lines(stderr: &str) -> HashMap<Package, Vec<String>> {
    let mut found: HashMap<Package, Vec<String>> = HashMap::new();
    for line in stderr.lines().map(strip_ansi) {
        let Some((pkg, rest)) = line.trim_start().strip_prefix("Dirty ").and_then(package) else {
            continue;
        };
        // ` (source): reason` or `: reason`.
        let reason = match rest.strip_prefix(" (") {
            Some(r) => r.split_once("): ").map(|(_, reason)| reason),
            None => rest.strip_prefix(": "),
        };
        if let Some(reason) = reason {
            found.entry(pkg).or_default().push(reason.to_string());
        }
    }
    found
}

/// Whether `stderr` is from a verbose (`-v`) cargo run: it shows each
/// rustc it runs as ``Running `…` ``.
pub fn is_verbose(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|l| strip_ansi(l).trim_start().starts_with("Running `"))
}

/// The fingerprint log's reasons (`dirty: <Debug value>`), by package.
pub fn logged(stderr: &str) -> HashMap<Package, Vec<String>> {
    let mut found: HashMap<Package, Vec<String>> = HashMap::new();
    let mut current: Option<Package> = None;
    for line in stderr.lines().map(strip_ansi) {
        let Some(message) = log_message(&line) else {
            continue;
        };
        if let Some(unit) = message.strip_prefix("fingerprint dirty for ") {
            current = package(unit).map(|(p, _)| p);
        } else if let (Some(p), Some(reason)) =
            (current.take(), message.trim_start().strip_prefix("dirty: "))
        {
            found.entry(p).or_default().push(reason.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str, v: &str) -> Package {
        (n.into(), v.into())
    }

    #[test]
    fn dirty_lines_by_package() {
        let err = "       Dirty util v0.1.0 (/w/a b/util): the file `util/src/lib.rs` has changed (2.000000001s, 1s after last build at 1.000000000s)\n\
                   \x1b[1m\x1b[32m   Compiling\x1b[0m util v0.1.0 (/w/a b/util)\n\
                   \x1b[1m\x1b[36m       Dirty\x1b[0m itoa v1.0.19: the dependency `x` was rebuilt\n\
                   warning: Dirty is not a status here\n";
        let d = dirty_lines(err);
        assert_eq!(
            d[&key("util", "0.1.0")],
            ["the file `util/src/lib.rs` has changed (2.000000001s, 1s after last build at 1.000000000s)"]
        );
        assert_eq!(
            d[&key("itoa", "1.0.19")],
            ["the dependency `x` was rebuilt"]
        );
        assert_eq!(d.len(), 2);
        assert!(!is_verbose(err));
        assert!(is_verbose("     Running `rustc --crate-name util`\n"));
    }

    #[test]
    fn the_log_under_both_module_names() {
        for module in [
            "cargo::core::compiler::fingerprint",
            "cargo::compiler::fingerprint",
        ] {
            let p = format!("   0.02s  INFO prepare_target{{force=false package_id=util v0.1.0 (/w/util) target=\"util\"}}: {module}: ");
            let text = format!(
                "{p}stale: changed \"/w/util/src/lib.rs\"\n\
                 {p}fingerprint dirty for util v0.1.0 (/w/util)/Build/TargetInner {{ name: \"util\" }}\n\
                 {p}    dirty: FeaturesChanged {{ old: \"[]\", new: \"[\\\"x\\\"]\" }}\n\
                 {p}fingerprint error for itoa v1.0.19/Build/TargetInner {{ name: \"itoa\" }}\n\
                 {p}    err: failed to read `/t/x`\n"
            );
            let log = logged(&text);
            assert_eq!(
                log[&key("util", "0.1.0")],
                [r#"FeaturesChanged { old: "[]", new: "[\"x\"]" }"#],
                "{module}"
            );
            assert_eq!(log.len(), 1);
        }
        assert!(logged("INFO cargo::util::other: dirty: X\n").is_empty());
    }
}
