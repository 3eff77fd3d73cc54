//! The cache key: what saved artifacts depend on.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Everything a saved dependency target directory depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// `rustc -vV`, verbatim (version, commit, host, LLVM).
    pub toolchain: String,
    /// The plan's target name and triple (e.g. `x86_64-musl x86_64-unknown-linux-musl`).
    pub target: String,
    /// The plan's profile.
    pub profile: String,
    /// The plan's variant.
    pub variant: String,
    /// The dependency build's cargo invocations (the variant's
    /// `deps_cargo_args` with the profile's `--config` arguments).
    pub cargo_args: Vec<Vec<String>>,
    /// The workspace's member names, sorted.
    pub members: Vec<String>,
    /// The base lock's third-party packages.
    pub base_lock: LockIdentity,
}

/// A lock's third-party packages, sorted (no members: their version bumps keep identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockIdentity {
    /// `name version source` of every package with a source.
    pub packages: Vec<String>,
}

impl LockIdentity {
    /// The identity of a Cargo.lock's text; `path` names it in errors.
    pub fn from_lock(text: &str, path: &str) -> Result<Self, Error> {
        let mut packages: Vec<String> = crate::base_lock::packages(text, path)?
            .into_iter()
            .filter_map(|p| Some(format!("{} {} {}", p.name, p.version, p.source?)))
            .collect();
        packages.sort();
        Ok(LockIdentity { packages })
    }

    /// Reads and identifies a lock file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_lock(&text, &path.display().to_string())
    }

    /// Packages in `self` and not in `other` (new or other versions).
    pub fn not_in(&self, other: &LockIdentity) -> Vec<String> {
        self.packages
            .iter()
            .filter(|p| other.packages.binary_search(p).is_err())
            .cloned()
            .collect()
    }
}

/// `rustc -vV` of the compiler builds run (`$RUSTC`, else `rustc`).
pub fn toolchain() -> Result<String, Error> {
    Ok(crate::exec::rustc(&["-vV"])?.trim().to_string())
}

impl CacheKey {
    /// The entry directory's name: FNV-1a (64 bits) of the key's JSON; a
    /// lookup still compares the stored key in full.
    pub fn id(&self) -> String {
        let json = serde_json::to_string(self).expect("a key serializes");
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in json.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// The names of the fields in which `self` and `other` differ.
    pub fn differences(&self, other: &CacheKey) -> Vec<&'static str> {
        [
            ("toolchain", self.toolchain != other.toolchain),
            ("target", self.target != other.target),
            ("profile", self.profile != other.profile),
            ("variant", self.variant != other.variant),
            ("cargo arguments", self.cargo_args != other.cargo_args),
            ("workspace members", self.members != other.members),
            ("base lock", self.base_lock != other.base_lock),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::sample::{key, LOCK};
    use super::*;

    #[test]
    fn lock_identity_ignores_member_versions_not_third_party_ones() {
        let base = LockIdentity::from_lock(LOCK, "l").unwrap();
        assert_eq!(
            base.packages,
            vec!["itoa 1.0.15 registry+https://github.com/rust-lang/crates.io-index"]
        );
        let member_bump = LOCK.replace("version = \"0.1.0\"", "version = \"0.2.0\"");
        assert_eq!(LockIdentity::from_lock(&member_bump, "l").unwrap(), base);
        let leaf_bump = LOCK.replace("1.0.15", "1.0.16");
        let bumped = LockIdentity::from_lock(&leaf_bump, "l").unwrap();
        assert_ne!(bumped, base);
        assert_eq!(
            bumped.not_in(&base),
            vec!["itoa 1.0.16 registry+https://github.com/rust-lang/crates.io-index"]
        );
    }

    #[test]
    fn a_lock_that_is_not_toml_is_an_error_naming_the_file() {
        let err = LockIdentity::from_lock("[[package]\nname =", "nix/base.lock").unwrap_err();
        assert!(
            err.to_string().starts_with("nix/base.lock: not valid TOML"),
            "{err}"
        );
    }

    #[test]
    fn the_key_id_moves_with_every_field() {
        let k = key(LOCK);
        assert_eq!(k.id(), key(LOCK).id());
        assert_eq!(k.id().len(), 16);
        let variants = [
            CacheKey {
                toolchain: "rustc 1.96.0".into(),
                ..k.clone()
            },
            CacheKey {
                target: "x86_64-musl".into(),
                ..k.clone()
            },
            CacheKey {
                profile: "dev".into(),
                ..k.clone()
            },
            CacheKey {
                variant: "full".into(),
                ..k.clone()
            },
            CacheKey {
                cargo_args: vec![],
                ..k.clone()
            },
            CacheKey {
                members: vec!["other".into()],
                ..k.clone()
            },
            key(&LOCK.replace("1.0.15", "1.0.16")),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(v.id(), k.id(), "field {i}");
            assert_eq!(
                v.differences(&k).len(),
                1,
                "field {i}: {:?}",
                v.differences(&k)
            );
        }
    }

    #[test]
    fn toolchain_is_rustc_verbose_version() {
        let t = toolchain().unwrap();
        assert!(t.starts_with("rustc ") && t.contains("\nhost: "), "{t}");
    }
}

/// A sample key and lock for the tests of this module tree.
#[cfg(test)]
pub(crate) mod sample {
    use super::*;

    pub(crate) const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa"]

[[package]]
name = "itoa"
version = "1.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000"
"#;

    pub(crate) fn key(lock: &str) -> CacheKey {
        CacheKey {
            toolchain: "rustc 1.95.0 (abc 2026-01-01)\nhost: x86_64-unknown-linux-gnu".into(),
            target: "host x86_64-unknown-linux-gnu".into(),
            profile: "release".into(),
            variant: "minimal".into(),
            cargo_args: vec![vec!["--package".into(), "app".into()]],
            members: vec!["app".into()],
            base_lock: LockIdentity::from_lock(lock, "Cargo.lock").unwrap(),
        }
    }
}
