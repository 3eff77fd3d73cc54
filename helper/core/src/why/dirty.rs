//! cargo's standard error: the `Dirty <package>: <reason>` lines of `cargo
//! build -v` (since cargo 1.68) and, as an extra, its fingerprint log.

use std::collections::HashMap;

use super::reason::{ContentCheck, Reason, FIELDS};
use super::record::BuildDirs;

/// The modules of cargo's fingerprint log, since and before cargo 1.99.
pub const LOG_MODULES: [&str; 2] = [
    "cargo::compiler::fingerprint",
    "cargo::core::compiler::fingerprint",
];

/// (package name, version).
pub type Package = (String, String);

/// Removes ANSI colour sequences.
fn strip_ansi(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

/// The message of a fingerprint log line, when `line` is one.
pub fn log_message(line: &str) -> Option<&str> {
    LOG_MODULES
        .iter()
        .find_map(|m| line.split_once(&format!("{m}: ")).map(|(_, msg)| msg))
}

/// `name v1.2.3…` → (name, version, the text after the version).
fn package(display: &str) -> Option<(Package, &str)> {
    let (name, rest) = display.split_once(" v")?;
    let (version, rest) = rest.split_at(rest.find([' ', '/', ':']).unwrap_or(rest.len()));
    (!name.is_empty() && !name.contains(' ') && !version.is_empty())
        .then(|| ((name.to_string(), version.to_string()), rest))
}

/// The reason of each package's first `Dirty` line.
pub fn dirty_lines(stderr: &str) -> HashMap<Package, String> {
    // Reversed, so that a package's first line is inserted last.
    let lines = stderr.lines().rev().map(strip_ansi);
    let found = lines.filter_map(|line| {
        let (pkg, rest) = package(line.trim_start().strip_prefix("Dirty ")?)?;
        // `name vX (source): reason` or `name vX: reason`.
        let reason = match rest.strip_prefix(" (") {
            Some(r) => r.split_once("): ")?.1,
            None => rest.strip_prefix(": ")?,
        };
        Some((pkg, reason.to_string()))
    });
    found.collect()
}

/// Whether `stderr` is from `cargo -v`: it shows each rustc as ``Running `…` ``.
pub fn is_verbose(stderr: &str) -> bool {
    let mut lines = stderr.lines().map(strip_ansi);
    lines.any(|l| l.trim_start().starts_with("Running `"))
}

/// The fingerprint log's first reason by package (`fingerprint dirty for …`, then `dirty: …`).
pub fn logged(stderr: &str) -> HashMap<Package, String> {
    let lines: Vec<String> = stderr.lines().map(strip_ansi).collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| log_message(l)).collect();
    let found = messages.windows(2).rev().filter_map(|pair| {
        let (pkg, _) = package(pair[0].strip_prefix("fingerprint dirty for ")?)?;
        let reason = pair[1].trim_start().strip_prefix("dirty: ")?;
        Some((pkg, reason.to_string()))
    });
    found.collect()
}

/// `… after last build at 1796605567.451392048s)` → (seconds, nanoseconds).
fn last_build(text: &str) -> Option<(i64, u32)> {
    let t = text.rsplit_once(" at ")?.1.strip_suffix("s)")?;
    let (s, n) = t.split_once('.')?;
    Some((s.parse().ok()?, n.parse().ok()?))
}

/// A `Dirty` line's reason (`build_script`: a build script run) as a [`Reason`].
pub fn from_cargo(text: &str, build_script: bool, dirs: &BuildDirs) -> Reason {
    if let Some((field, _)) = FIELDS.iter().find(|(_, words)| *words == text) {
        return Reason::field_changed(field, None, None);
    }
    let word_after = |prefix: &str| {
        let rest = text.strip_prefix(prefix)?;
        Some(rest.split([' ', '`']).find(|w| !w.is_empty())?.to_string())
    };
    let renamed = text
        .strip_prefix("name of dependency changed (")
        .and_then(|n| n.trim_end_matches(')').rsplit(" => ").next());
    let deps = |name: Option<String>| Reason::DependencyChanged {
        names: name.into_iter().collect(),
    };
    let tracked = word_after("the env variable ");
    match text {
        "the precalculated components changed" => Reason::NewVersion {
            evidence: "the package's precalculated fingerprint changed".into(),
        },
        "the environment variables changed" => Reason::EnvChanged {
            name: "(the set of tracked variables)".into(),
        },
        "dependency info changed" => deps(None),
        "the path to the source changed"
        | "the local lengths changed"
        | "the dependency info output changed"
        | "rerun-if-changed output file path changed"
        | "the rerun-if-changed instructions changed"
        | "the local fingerprint type changed" => Reason::SourceInputs { what: text.into() },
        t if t.starts_with("the file `") || t.starts_with("couldn't read metadata for file `") => {
            file_reason(text, dirs)
        }
        t if t.starts_with("the dependency ") || t.starts_with("info of dependency ") => {
            let quoted = text.split('`').nth(1).map(str::to_string);
            deps(quoted.or_else(|| word_after("the dependency ")))
        }
        t if t.starts_with("number of dependencies changed") => deps(None),
        _ if renamed.is_some() => deps(renamed.map(str::to_string)),
        // Only a build script run tracks `rerun-if-env-changed` variables:
        // another unit compiled because the script ran.
        _ => match (tracked, word_after("the environment variable ")) {
            (Some(name), _) if !build_script => Reason::BuildScriptRan {
                because: Box::new(Reason::EnvChanged { name }),
            },
            (Some(name), _) | (None, Some(name)) => Reason::EnvChanged { name },
            (None, None) => Reason::Other { cargo: text.into() },
        },
    }
}

/// A `Dirty` line's reason about the file `` `quoted` `` in `text`.
fn file_reason(text: &str, dirs: &BuildDirs) -> Reason {
    let path = dirs.path(text.split('`').nth(1).unwrap_or_default());
    if !text.starts_with("the file `")
        || text.contains("` is missing")
        || text.contains("could not be read")
    {
        return if dirs.is_output(&path) {
            Reason::ArtifactMissing { path }
        } else {
            Reason::SourceMissing { path }
        };
    }
    let content = match dirs.record.same_content(&path, last_build(text)) {
        _ if !text.contains("` has changed") => ContentCheck::Differs,
        Some(true) => return Reason::Touched { path },
        None if !text.contains("checksum") => ContentCheck::NotCompared,
        Some(false) | None => ContentCheck::Differs,
    };
    Reason::SourceChanged { path, content }
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
        assert_eq!(
            from_cargo(changed, true, &dirs(root, Some("before"))),
            edited
        );
        assert_eq!(
            from_cargo(changed, true, &dirs(root, None)),
            Reason::SourceChanged {
                path: root.join("util/src/lib.rs"),
                content: ContentCheck::NotCompared,
            }
        );
        assert_eq!(
            from_cargo(changed, true, &dirs(root, Some("now"))).category(),
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
            assert_eq!(from_cargo(text, true, &cx).category(), cat, "{text}");
        }
        assert_eq!(
            from_cargo("the dependency `util` was rebuilt", true, &cx),
            Reason::DependencyChanged {
                names: vec!["util".into()]
            }
        );
        assert_eq!(
            from_cargo("the env variable WHY_TEST_ENV changed", true, &cx),
            Reason::EnvChanged {
                name: "WHY_TEST_ENV".into()
            }
        );
    }
}
