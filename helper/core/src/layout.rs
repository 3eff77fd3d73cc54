//! cargo's build directory: `[<triple>/]<profile>/` holds `.fingerprint/<package>-<hash>/`
//! up to cargo 1.99, `build/<package>/<hash>/fingerprint/` since 1.100.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// One unit's directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitDir {
    /// The package name.
    pub package: String,
    /// The unit hash.
    pub hash: String,
    /// The directory of its fingerprint files.
    pub fingerprint: PathBuf,
}

/// Whether `s` is a unit hash (16 hex digits).
pub fn is_hash(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The directories in `dir`, sorted.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let walk = (WalkDir::new(dir).min_depth(1).max_depth(1)).sort_by_file_name();
    let dirs = (walk.into_iter().flatten()).filter(|e| e.file_type().is_dir());
    dirs.map(walkdir::DirEntry::into_path).collect()
}

fn name(p: &Path) -> String {
    (p.file_name()).map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The units of one profile directory, in either layout.
pub fn unit_dirs(profile_dir: &Path) -> Vec<UnitDir> {
    let mut units = Vec::new();
    for dir in subdirs(&profile_dir.join(".fingerprint")) {
        let n = name(&dir);
        if let Some((package, hash)) = n.rsplit_once('-').filter(|(_, h)| is_hash(h)) {
            units.push(UnitDir {
                package: package.to_string(),
                hash: hash.to_string(),
                fingerprint: dir.clone(),
            });
        }
    }
    for package in subdirs(&profile_dir.join("build")) {
        for unit in subdirs(&package) {
            let hash = name(&unit);
            if is_hash(&hash) && unit.join("fingerprint").is_dir() {
                units.push(UnitDir {
                    package: name(&package),
                    hash,
                    fingerprint: unit.join("fingerprint"),
                });
            }
        }
    }
    units
}

/// The profile directories under `build_dir` that hold units.
pub fn profile_dirs(build_dir: &Path) -> Vec<PathBuf> {
    let holds_units = |d: &Path| d.join(".fingerprint").is_dir() || d.join("build").is_dir();
    let mut found = Vec::new();
    for dir in subdirs(build_dir) {
        if holds_units(&dir) {
            found.push(dir);
        } else {
            found.extend(subdirs(&dir).into_iter().filter(|d| holds_units(d)));
        }
    }
    found
}

/// Every unit under `build_dir`.
pub fn all_unit_dirs(build_dir: &Path) -> Vec<UnitDir> {
    profile_dirs(build_dir)
        .iter()
        .flat_map(|p| unit_dirs(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, "").unwrap();
    }

    #[test]
    fn both_layouts() {
        let t = tempfile::tempdir().unwrap();
        let h = "0123456789abcdef";
        // Old layout in debug, new layout for a cross target's release.
        touch(
            &t.path()
                .join(format!("debug/.fingerprint/cfg-if-{h}/lib-cfg_if.json")),
        );
        touch(&t.path().join(format!("debug/deps/cfg_if-{h}.d")));
        touch(&t.path().join(format!("debug/build/ring-{h}/out/x.o")));
        touch(&t.path().join("debug/.fingerprint/not-a-hash/x"));
        let new = t.path().join("x86_64-unknown-linux-musl/release");
        touch(&new.join(format!("build/itoa/{h}/fingerprint/lib-itoa.json")));
        touch(&new.join(format!("build/itoa/{h}/out/itoa-{h}.d")));
        touch(&new.join("build/itoa/nothash/fingerprint/x"));
        assert_eq!(
            profile_dirs(t.path()),
            [t.path().join("debug"), new.clone()]
        );
        let units = all_unit_dirs(t.path());
        let found: Vec<(&str, &str)> = units
            .iter()
            .map(|u| (u.package.as_str(), u.hash.as_str()))
            .collect();
        assert_eq!(found, [("cfg-if", h), ("itoa", h)]);
        assert_eq!(
            units[1].fingerprint,
            new.join(format!("build/itoa/{h}/fingerprint"))
        );
    }
}
