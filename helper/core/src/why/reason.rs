//! The reasons a unit was compiled, and their groups.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The group of a [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A source file's content changed, or a source file moved or vanished.
    SourceFile,
    /// The unit's enabled (or declared) features changed.
    Features,
    /// RUSTFLAGS, the profile, the toolchain or other build configuration.
    RustflagsOrProfile,
    /// A dependency of the unit was rebuilt or changed identity.
    Dependency,
    /// A new version of the package (or a new source for it).
    NewVersion,
    /// The unit was never built in this build directory, or an output of
    /// it is gone.
    MissingArtifact,
    /// Only a modification time moved: a file is newer than the unit's
    /// dep-info but its content is what the unit was last compiled from.
    Mtime,
    /// An environment variable the unit reads changed.
    Environment,
    /// cargo gave a reason outside the groups above (forced, nothing
    /// obvious, an unknown variant); the text says which.
    Other,
    /// Nothing tells why: no `Dirty` line and no fingerprint to compare with.
    Unknown,
}

impl Category {
    /// The group's name as printed (`source-file`, `mtime`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SourceFile => "source-file",
            Category::Features => "features",
            Category::RustflagsOrProfile => "rustflags-or-profile",
            Category::Dependency => "dependency",
            Category::NewVersion => "new-version",
            Category::MissingArtifact => "missing-artifact",
            Category::Mtime => "mtime",
            Category::Environment => "environment",
            Category::Other => "other",
            Category::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a changed file's content was compared with the content the unit
/// was last compiled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentCheck {
    /// The content differs from the recorded content.
    Differs,
    /// No usable record of the earlier content (the earlier build did not
    /// run through `why`, or the file changed after it was recorded): the
    /// file is newer, its content may or may not differ.
    NotCompared,
}

/// Why cargo compiled one unit: the first difference it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// A source file (dep-info input) is newer than the unit's dep-info.
    SourceChanged {
        /// The file.
        path: PathBuf,
        /// Whether its content was compared.
        content: ContentCheck,
    },
    /// A source file listed in the unit's dep-info is gone or unreadable.
    SourceMissing {
        /// The file.
        path: PathBuf,
    },
    /// The unit's local inputs changed shape: its source path, or the files
    /// and variables a build script watches.
    SourceInputs {
        /// cargo's reason.
        what: String,
    },
    /// The enabled features changed.
    FeaturesChanged {
        /// Features before (cargo's text, `["a", "b"]`), when known.
        old: Option<String>,
        /// Features now.
        new: Option<String>,
    },
    /// The features the package declares changed (a manifest edit).
    DeclaredFeaturesChanged {
        /// Declared before.
        old: Option<String>,
        /// Declared now.
        new: Option<String>,
    },
    /// The flags passed to rustc (RUSTFLAGS, `build.rustflags`) changed.
    RustflagsChanged {
        /// Flags before, when known.
        old: Option<Vec<String>>,
        /// Flags now, when known.
        new: Option<Vec<String>>,
    },
    /// The profile settings (opt-level, debug, lto, codegen-units…) changed.
    ProfileChanged,
    /// The rustc version changed.
    ToolchainChanged,
    /// Other build configuration changed (target settings, `--cfg` checks,
    /// compile target, checksum freshness).
    BuildConfigChanged {
        /// Which.
        what: String,
    },
    /// A dependency was rebuilt or changed.
    DependencyChanged {
        /// The dependencies (crate names as the unit uses them) known to
        /// have changed; empty when cargo does not say which.
        names: Vec<String>,
    },
    /// A new version of the package, or the package from another source.
    NewVersion {
        /// How this was concluded.
        evidence: String,
    },
    /// No unit of this package and target was ever built in this build
    /// directory (or no earlier one is left to compare with).
    NeverBuilt,
    /// An output of the unit (or its fingerprint) is missing.
    ArtifactMissing {
        /// The missing file.
        path: PathBuf,
    },
    /// A file is newer than the unit's dep-info, but its content equals the
    /// content recorded after the unit was last compiled (a touch, a
    /// checkout that rewrote the same bytes).
    Touched {
        /// The file.
        path: PathBuf,
    },
    /// The package's build script ran again (its output is an input of
    /// the unit), for the reason given; the unit's group is that reason's.
    BuildScriptRan {
        /// Why cargo ran the build script.
        because: Box<Reason>,
    },
    /// An environment variable the unit depends on changed.
    EnvChanged {
        /// The variable.
        name: String,
    },
    /// A reason outside the groups.
    Other {
        /// cargo's reason, as printed.
        cargo: String,
    },
    /// Nothing tells why this unit compiled.
    Unknown {
        /// Why not.
        why: String,
    },
}

impl Reason {
    /// The reason's group.
    pub fn category(&self) -> Category {
        match self {
            Reason::SourceChanged { .. }
            | Reason::SourceMissing { .. }
            | Reason::SourceInputs { .. } => Category::SourceFile,
            Reason::FeaturesChanged { .. } | Reason::DeclaredFeaturesChanged { .. } => {
                Category::Features
            }
            Reason::RustflagsChanged { .. }
            | Reason::ProfileChanged
            | Reason::ToolchainChanged
            | Reason::BuildConfigChanged { .. } => Category::RustflagsOrProfile,
            Reason::DependencyChanged { .. } => Category::Dependency,
            Reason::NewVersion { .. } => Category::NewVersion,
            Reason::NeverBuilt | Reason::ArtifactMissing { .. } => Category::MissingArtifact,
            Reason::Touched { .. } => Category::Mtime,
            Reason::EnvChanged { .. } => Category::Environment,
            Reason::BuildScriptRan { because } => because.category(),
            Reason::Other { .. } => Category::Other,
            Reason::Unknown { .. } => Category::Unknown,
        }
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("?")
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SourceChanged { path, content } => match content {
                ContentCheck::Differs => write!(f, "{} changed", path.display()),
                ContentCheck::NotCompared => write!(
                    f,
                    "{} is newer than the last build (content not compared: no record)",
                    path.display()
                ),
            },
            Reason::SourceMissing { path } => write!(f, "{} is gone", path.display()),
            Reason::SourceInputs { what } => write!(f, "its source inputs changed ({what})"),
            Reason::FeaturesChanged { old, new } => {
                write!(f, "features changed: {} -> {}", opt(old), opt(new))
            }
            Reason::DeclaredFeaturesChanged { old, new } => {
                write!(f, "declared features changed: {} -> {}", opt(old), opt(new))
            }
            Reason::RustflagsChanged { old, new } => {
                let show = |v: &Option<Vec<String>>| {
                    v.as_ref().map_or("?".to_string(), |v| format!("{v:?}"))
                };
                write!(f, "rustflags changed: {} -> {}", show(old), show(new))
            }
            Reason::ProfileChanged => f.write_str("profile settings changed"),
            Reason::ToolchainChanged => f.write_str("the rustc version changed"),
            Reason::BuildConfigChanged { what } => {
                write!(f, "build configuration changed ({what})")
            }
            Reason::DependencyChanged { names } if names.is_empty() => {
                f.write_str("a dependency was rebuilt")
            }
            Reason::DependencyChanged { names } => {
                write!(f, "dependency rebuilt or changed: {}", names.join(", "))
            }
            Reason::NewVersion { evidence } => write!(f, "new version ({evidence})"),
            Reason::NeverBuilt => f.write_str("never built in this build directory"),
            Reason::ArtifactMissing { path } => write!(f, "{} is missing", path.display()),
            Reason::Touched { path } => write!(
                f,
                "{} has a newer mtime but the same content (touched)",
                path.display()
            ),
            Reason::EnvChanged { name } => write!(f, "environment variable {name} changed"),
            Reason::BuildScriptRan { because } => {
                write!(f, "its build script ran again: {because}")
            }
            Reason::Other { cargo } => write!(f, "cargo: {cargo}"),
            Reason::Unknown { why } => write!(f, "unknown ({why})"),
        }
    }
}

/// What [`from_cargo`] needs besides cargo's words: where paths are
/// relative to, where outputs live, and how to tell a touch from an edit.
pub trait Context {
    /// The file cargo names (relative to the workspace root when inside it).
    fn path(&self, shown: &str) -> PathBuf;
    /// Whether `path` is a build output (inside the target or build
    /// directory) rather than a source.
    fn is_output(&self, path: &Path) -> bool;
    /// Whether `path`, newer than `reference_mtime` (seconds, nanoseconds),
    /// has the content it had when the unit was compiled; `None` when that
    /// cannot be told.
    fn same_content(&self, path: &Path, reference_mtime: Option<(i64, u32)>) -> Option<bool>;
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

/// Maps the reason of a `Dirty` line (`cargo build -v`, see
/// [`super::dirty`]) to a [`Reason`]; words this version does not know
/// are kept as [`Reason::Other`].
pub fn from_cargo(text: &str, cx: &dyn Context) -> Reason {
    let other = || Reason::Other {
        cargo: text.to_string(),
    };
    let file = quoted(text).map(|q| cx.path(q));
    let word_after = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|r| r.split([' ', '`']).find(|w| !w.is_empty()))
            .map(str::to_string)
    };
    if let (Some(path), true) = (&file, text.starts_with("the file `")) {
        let path = path.clone();
        if text.contains("` has changed") {
            let content = match cx.same_content(&path, last_build(text)) {
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
        return if cx.is_output(&path) {
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
        _ => other(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cx(Option<bool>);
    impl Context for Cx {
        fn path(&self, shown: &str) -> PathBuf {
            Path::new("/w").join(shown)
        }
        fn is_output(&self, path: &Path) -> bool {
            path.starts_with("/w/target")
        }
        fn same_content(&self, _: &Path, at: Option<(i64, u32)>) -> Option<bool> {
            assert_eq!(at, Some((1796605567, 451392048)));
            self.0
        }
    }

    #[test]
    fn every_group_from_cargo_words() {
        let changed = "the file `util/src/lib.rs` has changed (1796605571.295392164s, 4s after last build at 1796605567.451392048s)";
        let edited = Reason::SourceChanged {
            path: "/w/util/src/lib.rs".into(),
            content: ContentCheck::Differs,
        };
        assert_eq!(from_cargo(changed, &Cx(Some(false))), edited);
        assert_eq!(
            from_cargo(changed, &Cx(None)).category(),
            Category::SourceFile
        );
        assert_eq!(
            from_cargo(changed, &Cx(Some(true))).category(),
            Category::Mtime
        );
        let cx = Cx(None);
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
