//! The reasons a unit was compiled, and their groups.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value as Json;

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
    /// Never built in this build directory, or an output of it is gone.
    MissingArtifact,
    /// Only a modification time moved, not the content.
    Mtime,
    /// An environment variable the unit reads changed.
    Environment,
    /// A reason of cargo's outside the groups above; the text says which.
    Other,
    /// Nothing tells why: no `Dirty` line and no fingerprint to compare with.
    Unknown,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The serialized name (`source-file`, `mtime`).
        let name = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(name.as_str().unwrap_or_default())
    }
}

/// Whether a changed file's content was compared with the recorded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentCheck {
    /// The content differs from the recorded content.
    Differs,
    /// No usable record of the earlier content: it may or may not differ.
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
    /// The source path, or what a build script watches, changed.
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
    /// Other build configuration (target or config settings, target kind).
    BuildConfigChanged {
        /// Which.
        what: String,
    },
    /// A dependency was rebuilt or changed.
    DependencyChanged {
        /// The changed dependencies' crate names, when known.
        names: Vec<String>,
    },
    /// A new version of the package, or the package from another source.
    NewVersion {
        /// How this was concluded.
        evidence: String,
    },
    /// No earlier unit of this package and target in the build directory.
    NeverBuilt,
    /// An output of the unit (or its fingerprint) is missing.
    ArtifactMissing {
        /// The missing file.
        path: PathBuf,
    },
    /// A file is newer than the unit's dep-info, its content the same.
    Touched {
        /// The file.
        path: PathBuf,
    },
    /// The package's build script ran again, for the reason given.
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

/// Fingerprint fields in comparison order, with cargo's `Dirty` words.
pub(super) const FIELDS: [(&str, &str); 8] = [
    ("rustc", "the toolchain changed"),
    ("compile_kind", "the rustc compile kind changed"),
    ("features", "the list of features changed"),
    ("declared_features", "the list of declared features changed"),
    ("profile", "the profile configuration changed"),
    ("rustflags", "the rustflags changed"),
    ("config", "the config settings changed"),
    ("target", "the target configuration changed"),
];

impl Reason {
    /// The reason for a change of [`FIELDS`] `field` (values when known).
    pub(super) fn field_changed(field: &str, old: Option<&Json>, new: Option<&Json>) -> Reason {
        let text = |v: Option<&Json>| Some(v?.as_str()?.to_string());
        let list = |v: Option<&Json>| serde_json::from_value(v?.clone()).ok();
        let config = |what: &str| Reason::BuildConfigChanged { what: what.into() };
        match field {
            "rustc" => Reason::ToolchainChanged,
            "compile_kind" => config("compile target"),
            "features" => Reason::FeaturesChanged {
                old: text(old),
                new: text(new),
            },
            "declared_features" => Reason::DeclaredFeaturesChanged {
                old: text(old),
                new: text(new),
            },
            "profile" => Reason::ProfileChanged,
            "rustflags" => Reason::RustflagsChanged {
                old: list(old),
                new: list(new),
            },
            "config" => config("config settings"),
            _ => config("target settings"),
        }
    }

    /// The reason's group.
    pub fn category(&self) -> Category {
        use Reason::*;
        match self {
            SourceChanged { .. } | SourceMissing { .. } => Category::SourceFile,
            SourceInputs { .. } => Category::SourceFile,
            FeaturesChanged { .. } | DeclaredFeaturesChanged { .. } => Category::Features,
            RustflagsChanged { .. }
            | ProfileChanged
            | ToolchainChanged
            | BuildConfigChanged { .. } => Category::RustflagsOrProfile,
            DependencyChanged { .. } => Category::Dependency,
            NewVersion { .. } => Category::NewVersion,
            NeverBuilt | ArtifactMissing { .. } => Category::MissingArtifact,
            Touched { .. } => Category::Mtime,
            EnvChanged { .. } => Category::Environment,
            BuildScriptRan { because } => because.category(),
            Other { .. } => Category::Other,
            Unknown { .. } => Category::Unknown,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "?".into());
        let flags = |v: &Option<Vec<String>>| v.as_ref().map_or("?".into(), |v| format!("{v:?}"));
        use Reason::*;
        match self {
            SourceChanged { path, content } => {
                let path = path.display();
                match content {
                    ContentCheck::Differs => write!(f, "{path} changed"),
                    ContentCheck::NotCompared => write!(
                        f,
                        "{path} is newer than the last build (content not compared: no record)"
                    ),
                }
            }
            SourceMissing { path } => write!(f, "{} is gone", path.display()),
            SourceInputs { what } => write!(f, "its source inputs changed ({what})"),
            FeaturesChanged { old, new } => {
                write!(f, "features changed: {} -> {}", opt(old), opt(new))
            }
            DeclaredFeaturesChanged { old, new } => {
                write!(f, "declared features changed: {} -> {}", opt(old), opt(new))
            }
            RustflagsChanged { old, new } => {
                write!(f, "rustflags changed: {} -> {}", flags(old), flags(new))
            }
            ProfileChanged => f.write_str("profile settings changed"),
            ToolchainChanged => f.write_str("the rustc version changed"),
            BuildConfigChanged { what } => write!(f, "build configuration changed ({what})"),
            DependencyChanged { names } if names.is_empty() => {
                f.write_str("a dependency was rebuilt")
            }
            DependencyChanged { names } => {
                write!(f, "dependency rebuilt or changed: {}", names.join(", "))
            }
            NewVersion { evidence } => write!(f, "new version ({evidence})"),
            NeverBuilt => f.write_str("never built in this build directory"),
            ArtifactMissing { path } => write!(f, "{} is missing", path.display()),
            Touched { path } => {
                let path = path.display();
                write!(f, "{path} has a newer mtime but the same content (touched)")
            }
            EnvChanged { name } => write!(f, "environment variable {name} changed"),
            BuildScriptRan { because } => write!(f, "its build script ran again: {because}"),
            Other { cargo } => write!(f, "cargo: {cargo}"),
            Unknown { why } => write!(f, "unknown ({why})"),
        }
    }
}
