//! What a build adds for bit-identical binaries: `--remap-path-prefix`s and
//! `SOURCE_DATE_EPOCH` (why: `docs/helper-notes.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// The directories and time a build depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproInputs {
    /// The workspace root (rustc's working directory).
    pub workspace_root: PathBuf,
    /// `$CARGO_HOME` (registry and git sources live under it).
    pub cargo_home: PathBuf,
    /// cargo's target directory.
    pub target_dir: PathBuf,
    /// cargo's build directory, when it is not the target directory.
    pub build_dir: Option<PathBuf>,
    /// rustc's sysroot, when known.
    pub sysroot: Option<PathBuf>,
    /// `SOURCE_DATE_EPOCH` to use when the user set none.
    pub source_date_epoch: u64,
}

/// What a reproducible build adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproSettings {
    /// Path remappings (prefix, replacement), general first.
    pub remaps: Vec<(PathBuf, &'static str)>,
    /// `SOURCE_DATE_EPOCH` when the user set none.
    pub source_date_epoch: u64,
}

impl ReproSettings {
    /// The settings for `inputs`; a directory that is a symlink is
    /// remapped under both its names.
    pub fn new(inputs: &ReproInputs) -> ReproSettings {
        let dirs = [
            (Some(&inputs.workspace_root), "/workspace"),
            (Some(&inputs.cargo_home), "/cargo-home"),
            (inputs.sysroot.as_ref(), "/rust-sysroot"),
            (Some(&inputs.target_dir), "/target"),
            (inputs.build_dir.as_ref(), "/build-dir"),
        ];
        let mut remaps: Vec<(PathBuf, &'static str)> = Vec::new();
        for (dir, to) in dirs.into_iter().filter_map(|(dir, to)| Some((dir?, to))) {
            let real = std::fs::canonicalize(dir).ok().filter(|r| r != dir);
            for from in std::iter::once(dir.clone()).chain(real) {
                if !remaps.iter().any(|(known, _)| *known == from) {
                    remaps.push((from, to));
                }
            }
        }
        // General first: a longer prefix (a directory inside another) last.
        remaps.sort_by_key(|(from, _)| from.as_os_str().len());
        ReproSettings {
            remaps,
            source_date_epoch: inputs.source_date_epoch,
        }
    }

    /// The rustflags to add, in order.
    pub fn rustflags(&self) -> Result<Vec<String>, Error> {
        let flag = |(from, to): &(PathBuf, &str)| {
            let bad = || Error::invalid(format!("path is not UTF-8: {}", from.display()));
            Ok(format!(
                "--remap-path-prefix={}={to}",
                from.to_str().ok_or_else(bad)?
            ))
        };
        self.remaps.iter().map(flag).collect()
    }
}

/// `rustc --print sysroot` (`$RUSTC`, else `rustc`).
pub fn sysroot() -> Result<PathBuf, Error> {
    let sysroot = crate::exec::rustc(&["--print", "sysroot"])?;
    Ok(PathBuf::from(sysroot.trim()))
}

/// The inputs of a build of `workspace_root` into `target_dir`.
pub fn discover(
    workspace_root: &Path,
    target_dir: &Path,
    build_dir: Option<&Path>,
) -> Result<ReproInputs, Error> {
    let home = || Some(PathBuf::from(std::env::var_os("HOME")?).join(".cargo"));
    let cargo_home = std::env::var_os("CARGO_HOME").map(PathBuf::from);
    let cargo_home = cargo_home.or_else(home).ok_or_else(|| {
        Error::invalid("cannot locate $CARGO_HOME: neither CARGO_HOME nor HOME is set")
    })?;
    let build_dir = build_dir.filter(|b| *b != target_dir);
    Ok(ReproInputs {
        workspace_root: workspace_root.to_path_buf(),
        cargo_home,
        target_dir: target_dir.to_path_buf(),
        build_dir: build_dir.map(Path::to_path_buf),
        sysroot: Some(sysroot()?),
        source_date_epoch: source_date_epoch(workspace_root),
    })
}

/// The commit time of `HEAD` in `dir`, or 1 (Nix's choice) outside git.
pub fn source_date_epoch(dir: &Path) -> u64 {
    let mut git = Command::new("git");
    git.current_dir(dir).args(["log", "-1", "--format=%ct"]);
    let out = git.output().ok().filter(|o| o.status.success());
    out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> ReproInputs {
        ReproInputs {
            workspace_root: "/w/ws".into(),
            cargo_home: "/h/.cargo".into(),
            target_dir: "/w/ws/target".into(),
            build_dir: None,
            sysroot: Some("/r/toolchain".into()),
            source_date_epoch: 1234,
        }
    }

    #[test]
    fn remaps_general_first() {
        let s = ReproSettings::new(&inputs());
        assert_eq!(
            s.rustflags().unwrap(),
            [
                "--remap-path-prefix=/w/ws=/workspace",
                "--remap-path-prefix=/h/.cargo=/cargo-home",
                "--remap-path-prefix=/r/toolchain=/rust-sysroot",
                "--remap-path-prefix=/w/ws/target=/target",
            ]
        );
    }

    #[test]
    fn commit_time_or_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(source_date_epoch(dir.path()), 1);
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
                .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@t")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@t")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["commit", "-q", "--allow-empty", "-m", "x"]);
        assert_eq!(source_date_epoch(dir.path()), 1_700_000_000);
    }
}
