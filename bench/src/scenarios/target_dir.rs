//! Target directory surgery for the scenarios: forgetting the workspace's
//! own units, removing the final binaries, removing a directory.

use std::path::Path;

use anyhow::Context;

use crate::{config, measure};

/// `cargo clean -p` for the workspace units, with the configuration's
/// profile, environment and target directory.
/// Makes cargo rebuild the workspace `packages` (and nothing else) from
/// scratch in the profile directory `dir`: removes their units' fingerprint
/// directories, in either layout of the build directory
/// ([`buildplan::layout`]; a unit without a fingerprint is rebuilt, and so
/// is every unit depending on it) and the whole `incremental/` directory
/// (cargo keeps incremental state only for local packages, never for
/// registry dependencies, and a cache of dependencies would not hold it).
///
/// Not `cargo clean -p`: it removes files by *target* name, so a test
/// target named like a dependency (`tests/log.rs` beside the `log` crate)
/// also removes that dependency's artifacts, and the "cached" build then
/// recompiles it and all its dependents. Returns how many directories were
/// removed; none is an error (the scenario would measure nothing).
pub fn forget_workspace_units(
    dir: &Path,
    packages: &[String],
    log: &Path,
) -> anyhow::Result<usize> {
    let mut removed = Vec::new();
    for unit in buildplan::layout::unit_dirs(dir) {
        if packages.contains(&unit.package) {
            std::fs::remove_dir_all(&unit.fingerprint)
                .with_context(|| format!("removing {}", unit.fingerprint.display()))?;
            removed.push(format!("{}-{}", unit.package, unit.hash));
        }
    }
    if removed.is_empty() {
        anyhow::bail!(
            "no fingerprint of {} under {}: nothing to rebuild",
            packages.join(", "),
            dir.display()
        );
    }
    removed.sort();
    remove_dir_if_exists(&dir.join("incremental"))?;
    measure::append_log(
        log,
        &format!(
            "\n$ # bench: removed the fingerprints of the units {} under {}, and {}\n",
            removed.join(" "),
            dir.display(),
            dir.join("incremental").display()
        ),
    )?;
    Ok(removed.len())
}

/// Deletes the package's final binaries (the uplifted one and cargo's own
/// copy: `deps/<name>-<hash>`, or `build/<package>/<hash>/out/<name>` in
/// the newer layout); returns how many files went.
pub(super) fn remove_binaries(
    target_dir: &Path,
    profile: &str,
    binaries: &[String],
) -> anyhow::Result<usize> {
    let dir = target_dir.join(config::profile_dir(profile));
    let mut outputs = vec![dir.join("deps")];
    for unit in buildplan::layout::unit_dirs(&dir) {
        outputs.push(unit.fingerprint.with_file_name("out"));
    }
    let mut removed = 0;
    for bin in binaries {
        let uplifted = dir.join(bin);
        if uplifted.exists() {
            std::fs::remove_file(&uplifted)?;
            removed += 1;
        }
        let crate_name = bin.replace('-', "_");
        let prefix = format!("{crate_name}-");
        for entry in outputs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_binary = name == *bin
                || name == crate_name
                || name.strip_prefix(&prefix).is_some_and(|hash| {
                    !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())
                });
            if is_binary {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

pub(super) fn remove_dir_if_exists(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_workspace_units_spares_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let fp = dir.path().join(".fingerprint");
        for d in [
            "smoke-core-0123456789abcdef",
            "smoke-core-fedcba9876543210",
            "smoke-app-00000000000000aa",
            "smoke-core-extra-0123456789abcdef",
            "itoa-0123456789abcdef",
            "smoke-core-notahash",
        ] {
            std::fs::create_dir_all(fp.join(d)).unwrap();
            std::fs::write(fp.join(d).join("lib-x"), "").unwrap();
        }
        // The newer layout: build/<package>/<hash>/fingerprint.
        for d in ["smoke-core/1111111111111111", "itoa/1111111111111111"] {
            let unit = dir.path().join("build").join(d);
            std::fs::create_dir_all(unit.join("fingerprint")).unwrap();
            std::fs::create_dir_all(unit.join("out")).unwrap();
        }
        let incremental = dir.path().join("incremental/smoke_core-1njszorudfcqn");
        std::fs::create_dir_all(&incremental).unwrap();
        let log = dir.path().join("log");
        let n =
            forget_workspace_units(dir.path(), &["smoke-core".into(), "smoke-app".into()], &log)
                .unwrap();
        assert_eq!(n, 4);
        let new = dir.path().join("build");
        assert!(!new.join("smoke-core/1111111111111111/fingerprint").exists());
        assert!(new.join("smoke-core/1111111111111111/out").exists());
        assert!(new.join("itoa/1111111111111111/fingerprint").exists());
        let left: std::collections::BTreeSet<String> = std::fs::read_dir(&fp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left.into_iter().collect::<Vec<_>>(),
            [
                "itoa-0123456789abcdef",
                "smoke-core-extra-0123456789abcdef",
                "smoke-core-notahash"
            ]
        );
        assert!(!dir.path().join("incremental").exists());
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("smoke-app-00000000000000aa smoke-core-0123456789abcdef smoke-core-1111111111111111"),
            "{logged}"
        );
        // Nothing to forget is an error, not a silent no-op measurement.
        let err = forget_workspace_units(dir.path(), &["smoke-core".into()], &log).unwrap_err();
        assert!(err.to_string().contains("nothing to rebuild"), "{err}");
    }

    #[test]
    fn binaries_are_found_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let deps = dir.path().join("release-fast/deps");
        std::fs::create_dir_all(&deps).unwrap();
        for f in [
            "my_app-0123abcd",
            "my_app-0123abcd.d",
            "libmy_app-0123abcd.rlib",
            "my_app_extra-99",
        ] {
            std::fs::write(deps.join(f), "").unwrap();
        }
        std::fs::write(dir.path().join("release-fast/my-app"), "").unwrap();
        // The newer layout: the binary in its unit's out/ directory.
        let unit = dir
            .path()
            .join("release-fast/build/my-app/0123456789abcdef");
        std::fs::create_dir_all(unit.join("fingerprint")).unwrap();
        std::fs::create_dir_all(unit.join("out")).unwrap();
        std::fs::write(unit.join("out/my_app"), "").unwrap();
        std::fs::write(unit.join("out/my_app.d"), "").unwrap();
        let n = remove_binaries(dir.path(), "release-fast", &["my-app".into()]).unwrap();
        assert_eq!(n, 3);
        assert!(!unit.join("out/my_app").exists());
        assert!(unit.join("out/my_app.d").exists());
        assert!(deps.join("my_app-0123abcd.d").exists());
        assert!(deps.join("libmy_app-0123abcd.rlib").exists());
        assert!(deps.join("my_app_extra-99").exists());
        assert!(!deps.join("my_app-0123abcd").exists());
        assert_eq!(
            remove_binaries(dir.path(), "dev", &["my-app".into()]).unwrap(),
            0
        );
    }
}
