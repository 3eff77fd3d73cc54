//! The reasons a unit was compiled, and their groups.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::debug_value::Value;

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
    /// The log says nothing usable about the unit.
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
        /// have changed; empty when the log does not say which.
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
    /// Nothing usable in the log for this unit.
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

/// What [`from_dirty`] needs besides the reason: where outputs live, and
/// how to tell a touch from an edit.
pub trait Context {
    /// Whether `path` is a build output (inside the target or build
    /// directory) rather than a source.
    fn is_output(&self, path: &Path) -> bool;
    /// Whether `path`, newer than `reference_mtime` (seconds, nanoseconds),
    /// has the content it had when the unit was compiled; `None` when that
    /// cannot be told.
    fn same_content(&self, path: &Path, reference_mtime: Option<(i64, u32)>) -> Option<bool>;
}

fn path_of(v: Option<&Value>) -> PathBuf {
    PathBuf::from(v.and_then(Value::as_str).unwrap_or("?"))
}

fn file_time(v: Option<&Value>) -> Option<(i64, u32)> {
    let v = v?;
    let s = v.field("seconds")?.as_i64()?;
    let n = u32::try_from(v.field("nanos")?.as_i64()?).ok()?;
    Some((s, n))
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_list()?
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// Maps cargo's `DirtyReason` (parsed from `dirty: …`) to a [`Reason`].
/// `printed` is the reason as cargo printed it, kept for variants this
/// version does not know.
pub fn from_dirty(reason: &Value, printed: &str, cx: &dyn Context) -> Reason {
    let name = reason.name().unwrap_or("");
    match name {
        "RustcChanged" => Reason::ToolchainChanged,
        "FeaturesChanged" => Reason::FeaturesChanged {
            old: text(reason.field("old")),
            new: text(reason.field("new")),
        },
        "DeclaredFeaturesChanged" => Reason::DeclaredFeaturesChanged {
            old: text(reason.field("old")),
            new: text(reason.field("new")),
        },
        "ProfileConfigurationChanged" => Reason::ProfileChanged,
        "RustflagsChanged" => Reason::RustflagsChanged {
            old: strings(reason.field("old")),
            new: strings(reason.field("new")),
        },
        "TargetConfigurationChanged" => Reason::BuildConfigChanged {
            what: "target settings".into(),
        },
        "ConfigSettingsChanged" => Reason::BuildConfigChanged {
            what: "config settings".into(),
        },
        "CompileKindChanged" => Reason::BuildConfigChanged {
            what: "compile target".into(),
        },
        "ChecksumUseChanged" => Reason::BuildConfigChanged {
            what: "checksum freshness".into(),
        },
        "PathToSourceChanged"
        | "LocalLengthsChanged"
        | "DepInfoOutputChanged"
        | "RerunIfChangedOutputFileChanged"
        | "RerunIfChangedOutputPathsChanged"
        | "LocalFingerprintTypeChanged" => Reason::SourceInputs {
            what: name.to_string(),
        },
        "PrecalculatedComponentsChanged" => Reason::NewVersion {
            evidence: format!(
                "the package's precalculated fingerprint changed: {} -> {}",
                text(reason.field("old")).unwrap_or_default(),
                text(reason.field("new")).unwrap_or_default()
            ),
        },
        "EnvVarsChanged" => Reason::EnvChanged {
            name: "(the set of tracked variables)".into(),
        },
        "EnvVarChanged" => Reason::EnvChanged {
            name: text(reason.field("name")).unwrap_or_else(|| "?".into()),
        },
        "NumberOfDependenciesChanged" | "UnitDependencyInfoChanged" => {
            Reason::DependencyChanged { names: Vec::new() }
        }
        "UnitDependencyNameChanged" => Reason::DependencyChanged {
            names: text(reason.field("new")).into_iter().collect(),
        },
        "FsStatusOutdated" => from_fs_status(reason.item(0), printed, cx),
        "FreshBuild" => Reason::NeverBuilt,
        _ => Reason::Other {
            cargo: printed.to_string(),
        },
    }
}

fn from_fs_status(status: Option<&Value>, printed: &str, cx: &dyn Context) -> Reason {
    let Some(status) = status else {
        return Reason::Other {
            cargo: printed.to_string(),
        };
    };
    match status.name().unwrap_or("") {
        "StaleDependency" | "StaleDepFingerprint" => {
            Reason::DependencyChanged { names: Vec::new() }
        }
        "StaleItem" => {
            let Some(item) = status.item(0) else {
                return Reason::Other {
                    cargo: printed.to_string(),
                };
            };
            match item.name().unwrap_or("") {
                "MissingFile" | "UnableToReadFile" | "FailedToReadMetadata" => {
                    let path = path_of(item.field("path"));
                    if cx.is_output(&path) {
                        Reason::ArtifactMissing { path }
                    } else {
                        Reason::SourceMissing { path }
                    }
                }
                "ChangedFile" => {
                    let path = path_of(item.field("stale"));
                    let reference = file_time(item.field("reference_mtime"));
                    match cx.same_content(&path, reference) {
                        Some(true) => Reason::Touched { path },
                        Some(false) => Reason::SourceChanged {
                            path,
                            content: ContentCheck::Differs,
                        },
                        None => Reason::SourceChanged {
                            path,
                            content: ContentCheck::NotCompared,
                        },
                    }
                }
                // With checksum freshness cargo compares content itself.
                "FileSizeChanged" | "ChangedChecksum" => Reason::SourceChanged {
                    path: path_of(item.field("path").or_else(|| item.field("source"))),
                    content: ContentCheck::Differs,
                },
                "MissingChecksum" => Reason::SourceChanged {
                    path: path_of(item.field("path")),
                    content: ContentCheck::NotCompared,
                },
                "ChangedEnv" => Reason::EnvChanged {
                    name: text(item.field("var")).unwrap_or_else(|| "?".into()),
                },
                _ => Reason::Other {
                    cargo: printed.to_string(),
                },
            }
        }
        _ => Reason::Other {
            cargo: printed.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cx(Option<bool>);
    impl Context for Cx {
        fn is_output(&self, path: &Path) -> bool {
            path.starts_with("/t")
        }
        fn same_content(&self, _: &Path, _: Option<(i64, u32)>) -> Option<bool> {
            self.0
        }
    }

    fn map(text: &str, cx: &Cx) -> Reason {
        from_dirty(&Value::parse(text).unwrap(), text, cx)
    }

    #[test]
    fn every_group_from_cargo_text() {
        let cx = Cx(None);
        let changed = r#"FsStatusOutdated(StaleItem(ChangedFile { reference: "/t/dep", reference_mtime: FileTime { seconds: 1, nanos: 2 }, stale: "/w/src/lib.rs", stale_mtime: FileTime { seconds: 3, nanos: 4 } }))"#;
        assert_eq!(map(changed, &cx).category(), Category::SourceFile);
        assert_eq!(map(changed, &Cx(Some(true))).category(), Category::Mtime);
        assert_eq!(
            map(changed, &Cx(Some(false))),
            Reason::SourceChanged {
                path: "/w/src/lib.rs".into(),
                content: ContentCheck::Differs
            }
        );
        for (text, cat) in [
            (
                r#"FeaturesChanged { old: "[]", new: "[\"x\"]" }"#,
                Category::Features,
            ),
            (
                r#"RustflagsChanged { old: [], new: ["-Cx"] }"#,
                Category::RustflagsOrProfile,
            ),
            ("ProfileConfigurationChanged", Category::RustflagsOrProfile),
            ("RustcChanged", Category::RustflagsOrProfile),
            (
                "UnitDependencyInfoChanged { unit: UnitIndex(3) }",
                Category::Dependency,
            ),
            (
                "FsStatusOutdated(StaleDepFingerprint { unit: UnitIndex(2) })",
                Category::Dependency,
            ),
            (
                r#"FsStatusOutdated(StaleItem(FailedToReadMetadata { path: "/t/debug/deps/libx.rlib" }))"#,
                Category::MissingArtifact,
            ),
            (
                r#"FsStatusOutdated(StaleItem(MissingFile { path: "/w/src/gone.rs" }))"#,
                Category::SourceFile,
            ),
            (
                r#"FsStatusOutdated(StaleItem(ChangedEnv { var: "X", previous: None, current: Some("1") }))"#,
                Category::Environment,
            ),
            ("NothingObvious", Category::Other),
            ("SomethingCargoAddsLater { x: 1 }", Category::Other),
        ] {
            assert_eq!(map(text, &cx).category(), cat, "{text}");
        }
    }
}
