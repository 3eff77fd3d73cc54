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
//! [`from_cargo`] maps those words to a [`Reason`]. A unit new in the build
//! directory has no earlier fingerprint and gets no `Dirty` line. The
//! optional extra is cargo's internal fingerprint log ([`CARGO_LOG`], under
//! its module names before and since cargo 1.99): its `dirty:` lines hold
//! cargo's reason as a Rust `Debug` value, kept as text.

use std::collections::HashMap;

use super::reason::{ContentCheck, Reason};
use super::record::BuildDirs;

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

/// The reason of each package's first `Dirty` line.
pub fn dirty_lines(stderr: &str) -> HashMap<Package, String> {
    let mut found = HashMap::new();
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
            found.entry(pkg).or_insert_with(|| reason.to_string());
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

/// The fingerprint log's first reason (`dirty: <Debug value>`) by package.
pub fn logged(stderr: &str) -> HashMap<Package, String> {
    let mut found = HashMap::new();
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
            found.entry(p).or_insert_with(|| reason.to_string());
        }
    }
    found
}

/// The first `` `quoted` `` word of `text`.
fn quoted(text: &str) -> Option<&str> {
    text.split('`').nth(1)
}

/// `… after last build at 1796605567.451392048s)` → (seconds, nanoseconds).
fn last_build(text: &str) -> Option<(i64, u32)> {
    let t = text.rsplit_once(" at ")?.1.strip_suffix("s)")?;
    let (s, n) = t.split_once('.')?;
    Some((s.parse().ok()?, n.parse().ok()?))
}

/// Maps the reason of a `Dirty` line to a [`Reason`]; words this version
/// does not know are kept as [`Reason::Other`].
pub fn from_cargo(text: &str, dirs: &BuildDirs) -> Reason {
    let file = quoted(text).map(|q| dirs.path(q));
    let word_after = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|r| r.split([' ', '`']).find(|w| !w.is_empty()))
            .map(str::to_string)
    };
    if let (Some(path), true) = (&file, text.starts_with("the file `")) {
        let path = path.clone();
        if text.contains("` has changed") {
            let content = match dirs.record.same_content(&path, last_build(text)) {
                Some(true) => return Reason::Touched { path },
                Some(false) => ContentCheck::Differs,
                None if text.contains("checksum") => ContentCheck::Differs,
                None => ContentCheck::NotCompared,
            };
            return Reason::SourceChanged { path, content };
        }
        if !text.contains("` is missing") && !text.contains("could not be read") {
            return Reason::SourceChanged {
                path,
                content: ContentCheck::Differs,
            };
        }
    }
    if text.starts_with("the file `") || text.starts_with("couldn't read metadata for file `") {
        let path = file.unwrap_or_default();
        return if dirs.is_output(&path) {
            Reason::ArtifactMissing { path }
        } else {
            Reason::SourceMissing { path }
        };
    }
    if let Some(name) =
        word_after("the env variable ").or_else(|| word_after("the environment variable "))
    {
        return Reason::EnvChanged { name };
    }
    if text.starts_with("the dependency ") || text.starts_with("info of dependency ") {
        let name = quoted(text)
            .map(str::to_string)
            .or_else(|| word_after("the dependency "));
        return Reason::DependencyChanged {
            names: name.into_iter().collect(),
        };
    }
    if let Some(names) = text.strip_prefix("name of dependency changed (") {
        let new = names.trim_end_matches(')').rsplit(" => ").next();
        return Reason::DependencyChanged {
            names: new.map(str::to_string).into_iter().collect(),
        };
    }
    let config = |what: &str| Reason::BuildConfigChanged { what: what.into() };
    match text {
        "the toolchain changed" => Reason::ToolchainChanged,
        "the list of features changed" => Reason::FeaturesChanged {
            old: None,
            new: None,
        },
        "the list of declared features changed" => Reason::DeclaredFeaturesChanged {
            old: None,
            new: None,
        },
        "the profile configuration changed" => Reason::ProfileChanged,
        "the rustflags changed" => Reason::RustflagsChanged {
            old: None,
            new: None,
        },
        "the target configuration changed" => config("target settings"),
        "the config settings changed" => config("config settings"),
        "the rustc compile kind changed" => config("compile target"),
        "the precalculated components changed" => Reason::NewVersion {
            evidence: "the package's precalculated fingerprint changed".into(),
        },
        "the environment variables changed" => Reason::EnvChanged {
            name: "(the set of tracked variables)".into(),
        },
        "dependency info changed" => Reason::DependencyChanged { names: Vec::new() },
        t if t.starts_with("number of dependencies changed") => {
            Reason::DependencyChanged { names: Vec::new() }
        }
        "the path to the source changed"
        | "the local lengths changed"
        | "the dependency info output changed"
        | "rerun-if-changed output file path changed"
        | "the rerun-if-changed instructions changed"
        | "the local fingerprint type changed" => Reason::SourceInputs {
            what: text.to_string(),
        },
        _ => Reason::Other {
            cargo: text.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FileState;
    use crate::why::reason::Category;
    use crate::why::record::{FileRecord, SourceRecord};
    use std::fs;
    use std::path::Path;

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
            "the file `util/src/lib.rs` has changed (2.000000001s, 1s after last build at 1.000000000s)"
        );
        assert_eq!(d[&key("itoa", "1.0.19")], "the dependency `x` was rebuilt");
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
                r#"FeaturesChanged { old: "[]", new: "[\"x\"]" }"#,
                "{module}"
            );
            assert_eq!(log.len(), 1);
        }
        assert!(logged("INFO cargo::util::other: dirty: X\n").is_empty());
    }

    /// Build dirs at `root`, whose record holds `recorded` as the content
    /// of `util/src/lib.rs` when the `Dirty` line's last build started
    /// (none: no record); the file now holds `now`.
    fn dirs(root: &Path, recorded: Option<&str>) -> BuildDirs {
        let file = root.join("util/src/lib.rs");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        let mut record = SourceRecord::default();
        if let Some(text) = recorded {
            fs::write(&file, text).unwrap();
            let at = (1796605567, 451392048);
            let state = FileState {
                mtime: at,
                ..FileState::of(&file).unwrap()
            };
            let rec = FileRecord {
                state,
                hashed_at: at,
            };
            record.files.insert(file.clone(), rec);
        }
        fs::write(&file, "now").unwrap();
        BuildDirs {
            workspace_root: Some(root.to_path_buf()),
            target_dir: Some(root.join("target")),
            record,
            ..BuildDirs::default()
        }
    }

    #[test]
    fn every_group_from_cargo_words() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let changed = "the file `util/src/lib.rs` has changed (1796605571.295392164s, 4s after last build at 1796605567.451392048s)";
        let edited = Reason::SourceChanged {
            path: root.join("util/src/lib.rs"),
            content: ContentCheck::Differs,
        };
        assert_eq!(from_cargo(changed, &dirs(root, Some("before"))), edited);
        assert_eq!(
            from_cargo(changed, &dirs(root, None)),
            Reason::SourceChanged {
                path: root.join("util/src/lib.rs"),
                content: ContentCheck::NotCompared,
            }
        );
        assert_eq!(
            from_cargo(changed, &dirs(root, Some("now"))).category(),
            Category::Mtime
        );
        let cx = dirs(root, None);
        for (text, cat) in [
            ("the list of features changed", Category::Features),
            ("the rustflags changed", Category::RustflagsOrProfile),
            (
                "the profile configuration changed",
                Category::RustflagsOrProfile,
            ),
            ("the toolchain changed", Category::RustflagsOrProfile),
            ("info of dependency `util` changed", Category::Dependency),
            ("the dependency `util` was rebuilt", Category::Dependency),
            (
                "number of dependencies changed (1 => 2)",
                Category::Dependency,
            ),
            (
                "couldn't read metadata for file `target/debug/deps/libutil-0123456789abcdef.rlib`",
                Category::MissingArtifact,
            ),
            ("the file `src/gone.rs` is missing", Category::SourceFile),
            (
                "the env variable WHY_TEST_ENV changed",
                Category::Environment,
            ),
            ("the environment variable X changed", Category::Environment),
            ("the precalculated components changed", Category::NewVersion),
            (
                "the fingerprint comparison turned up nothing obvious",
                Category::Other,
            ),
            ("something cargo says later", Category::Other),
        ] {
            assert_eq!(from_cargo(text, &cx).category(), cat, "{text}");
        }
        assert_eq!(
            from_cargo("the dependency `util` was rebuilt", &cx),
            Reason::DependencyChanged {
                names: vec!["util".into()]
            }
        );
        assert_eq!(
            from_cargo("the env variable WHY_TEST_ENV changed", &cx),
            Reason::EnvChanged {
                name: "WHY_TEST_ENV".into()
            }
        );
    }
}
