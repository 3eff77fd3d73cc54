//! Whether this machine has a cross target's toolchain, and if not, which
//! Debian packages provide it and how to install them.

use std::{ffi::OsStr, path::Path};

use crate::model::Target;

/// What a target needs that this machine lacks, one entry per tool or path.
pub fn missing(target: &Target, path: &OsStr) -> Vec<String> {
    let fuse_tool = target.fuse_ld.as_ref().map(|ld| format!("ld.{ld}"));
    let host = target.host_tools.as_ref();
    let tools = [
        (target.linker_driver.as_deref(), "linker driver"),
        (fuse_tool.as_deref(), "linker"),
        (target.cc.as_deref(), "C compiler"),
        (target.cxx.as_deref(), "C++ compiler"),
        (target.ar.as_deref(), "archiver"),
        (host.map(|h| h.cc.as_str()), "build machine's C compiler"),
        (host.map(|h| h.cxx.as_str()), "build machine's C++ compiler"),
        (host.map(|h| h.ar.as_str()), "build machine's archiver"),
    ];
    // Each program once (a tool may carry arguments), with all its roles.
    let mut roles: Vec<(&str, Vec<&str>)> = Vec::new();
    for (tool, role) in tools.into_iter().filter_map(|(t, role)| Some((t?, role))) {
        let program = tool.split_whitespace().next().unwrap_or(tool);
        match roles.iter_mut().find(|(p, _)| *p == program) {
            Some((_, r)) => r.push(role),
            None => roles.push((program, vec![role])),
        }
    }
    let tools = roles
        .into_iter()
        .filter(|(p, _)| crate::exec::find_in_path(p, path).is_none());
    let files = target
        .c_flags
        .iter()
        .filter(|f| f.starts_with('/') && !Path::new(f).exists());
    tools
        .map(|(program, r)| format!("`{program}` ({}) is not on PATH", r.join(", ")))
        .chain(files.map(|f| format!("{f} (named by the C flags) does not exist")))
        .collect()
}

/// The command that installs a target's Debian packages (and architectures).
pub fn install_command(target: &Target) -> Option<String> {
    if target.packages.is_empty() {
        return None;
    }
    let mut steps: Vec<String> = Vec::new();
    for (_, arch) in target.packages.iter().filter_map(|p| p.split_once(':')) {
        let add = format!("sudo dpkg --add-architecture {arch}");
        if !steps.contains(&add) {
            steps.push(add);
        }
    }
    let packages = target.packages.join(" ");
    steps.extend([
        "sudo apt-get update".into(),
        format!("sudo apt-get install {packages}"),
    ]);
    Some(steps.join(" && "))
}

/// What a target misses, with its packages and install command, if anything.
pub fn report(name: &str, target: &Target, path: &OsStr) -> Option<String> {
    let missing = missing(target, path);
    if missing.is_empty() {
        return None;
    }
    let how = match install_command(target) {
        Some(cmd) => format!(
            ". Its toolchain comes from the Debian packages {}; install them with:\n  {cmd}",
            target.packages.join(" ")
        ),
        None => "; install them first".into(),
    };
    Some(format!("target {name}: {}{how}", missing.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::testing::stub_dir;
    use crate::policy::Policy;

    #[test]
    fn names_each_missing_piece_and_the_packages() {
        let targets = crate::targets::resolve(&Policy::default());
        let a = &targets["aarch64-unknown-linux-musl"];
        let empty = tempfile::tempdir().unwrap();
        let text = report("aarch64-unknown-linux-musl", a, empty.path().as_os_str()).unwrap();
        for piece in [
            "`clang` (linker driver, C compiler) is not on PATH; `ld.lld` (linker)",
            "`llvm-ar` (archiver)",
        ] {
            assert!(text.contains(piece), "{text}");
        }
        assert!(text.ends_with(
            "sudo dpkg --add-architecture arm64 && sudo apt-get update && \
             sudo apt-get install clang llvm lld musl-dev:arm64"
        ));
        let x = &targets["x86_64-unknown-linux-musl"];
        assert_eq!(
            install_command(x).unwrap(),
            "sudo apt-get update && sudo apt-get install clang llvm mold musl-dev"
        );
    }

    #[test]
    fn complete_when_every_tool_and_path_is_there() {
        let mut t = Target {
            triple: Some("aarch64-unknown-linux-musl".into()),
            cc: Some("clang --target=x".into()),
            fuse_ld: Some("lld".into()),
            ..Target::default()
        };
        let dir = stub_dir(&["clang", "ld.lld"]);
        let headers = tempfile::tempdir().unwrap();
        t.c_flags = vec!["-isystem".into(), headers.path().display().to_string()];
        assert!(report("a", &t, dir.path().as_os_str()).is_none());
        t.c_flags.push("/no/such/include".into());
        assert_eq!(
            missing(&t, dir.path().as_os_str()),
            ["/no/such/include (named by the C flags) does not exist"]
        );
        assert!(report("a", &t, dir.path().as_os_str())
            .unwrap()
            .ends_with("; install them first"));
    }
}
