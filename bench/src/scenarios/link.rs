//! The `link` scenarios' commands: the link command rustc prints,
//! recorded, and the same command with GNU ld in place of the configured
//! linker.

use std::path::Path;

use anyhow::Context;

use super::target_dir::remove_binaries;
use crate::measure;
use buildplan::exec::CargoCommand;

/// Records the linker command of `bin`: `cargo rustc` with the
/// configuration's arguments (`cargo`: its `cargo rustc` command), printing
/// the link arguments and keeping the linker's inputs (`-C save-temps`).
pub(super) fn link_command(
    cargo: &CargoCommand,
    bin: &str,
    target_dir: &Path,
    profile: &str,
    log: &Path,
) -> anyhow::Result<CargoCommand> {
    let mut args = cargo.args.clone();
    if let Some(first) = args.first_mut() {
        "rustc".clone_into(first);
    }
    args.extend(
        [
            "--bin",
            bin,
            "--",
            "--print",
            "link-args",
            "-C",
            "save-temps",
        ]
        .map(String::from),
    );
    let cmd = CargoCommand {
        args,
        ..cargo.clone()
    };
    for _attempt in 0..2 {
        let out = cmd
            .to_command()
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run `{}`", cmd.program))?;
        let mut file = measure::append_log(log, &format!("\n$ {}\n", cmd.shell_line()))?;
        std::io::Write::write_all(&mut file, &out.stderr)?;
        if !out.status.success() {
            anyhow::bail!(
                "`{}` failed ({}):\n{}",
                cmd.shell_line(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) {
            return parse_link_line(line, &cargo.cwd)
                .with_context(|| format!("cannot parse the link command rustc printed: {line}"));
        }
        // Nothing was linked (up to date), so nothing was printed: remove
        // the binary and try once more.
        remove_binaries(target_dir, profile, &[bin.to_string()])?;
    }
    anyhow::bail!("rustc printed no link command for `{bin}`")
}

/// The recorded link command with GNU ld in place of the configuration's
/// linker: every `-fuse-ld=` and the `-B` directory of rustc's self-contained
/// `gcc-ld` wrapper are dropped and `-fuse-ld=bfd` is added. `None` when the
/// program is not a C compiler driver (`cc`, `gcc`, `clang`, and their
/// prefixed or versioned names), which is what reads `-fuse-ld`.
pub fn with_gnu_ld(link: &CargoCommand) -> Option<CargoCommand> {
    let name = Path::new(&link.program).file_name()?.to_str()?;
    let driver = ["cc", "gcc", "clang", "c++", "g++", "clang++"]
        .iter()
        .any(|d| {
            name == *d || name.ends_with(&format!("-{d}")) || name.starts_with(&format!("{d}-"))
        });
    if !driver {
        return None;
    }
    let mut args: Vec<String> = link
        .args
        .iter()
        .filter(|a| !a.starts_with("-fuse-ld="))
        .filter(|a| !(a.starts_with("-B") && a.trim_end_matches('/').ends_with("gcc-ld")))
        .cloned()
        .collect();
    args.push("-fuse-ld=bfd".into());
    Some(CargoCommand {
        args,
        ..link.clone()
    })
}

/// Parses the command rustc prints for `--print link-args`:
/// `VAR="value" ... "cc" "arg" ...`, quoted like a shell would read it.
pub fn parse_link_line(line: &str, cwd: &Path) -> Option<CargoCommand> {
    let words = shlex::split(line.trim())?;
    let mut words = words.into_iter().peekable();
    let mut env = std::collections::BTreeMap::new();
    while let Some((key, value)) = words.peek().and_then(|w| w.split_once('=')) {
        let is_name = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            break;
        }
        env.insert(key.to_string(), value.to_string());
        words.next();
    }
    let program = words.next()?;
    Some(CargoCommand {
        program,
        args: words.collect(),
        env,
        env_remove: Vec::new(),
        cwd: cwd.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_lines_are_parsed() {
        let line = r#"LC_ALL="C" PATH="/a b:/usr/bin" VSLANG="1033" "cc" "-m64" "/t/x.o" "-Wl,--version-script=/t/v" "-fuse-ld=mold" "-o" "/t/app-1""#;
        let cmd = parse_link_line(line, Path::new("/w")).unwrap();
        assert_eq!(cmd.program, "cc");
        assert_eq!(
            cmd.args,
            [
                "-m64",
                "/t/x.o",
                "-Wl,--version-script=/t/v",
                "-fuse-ld=mold",
                "-o",
                "/t/app-1"
            ]
        );
        assert_eq!(cmd.env.len(), 3);
        assert_eq!(cmd.env["PATH"], "/a b:/usr/bin");
        assert_eq!(cmd.cwd, Path::new("/w"));
        assert!(parse_link_line("\"unterminated", Path::new("/")).is_none());
        assert!(parse_link_line("A=1", Path::new("/")).is_none());
    }

    #[test]
    fn gnu_ld_replaces_the_configured_linker() {
        let mold = parse_link_line(
            r#""cc" "-m64" "/t/x.o" "-fuse-ld=mold" "-o" "/t/app""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&mold).unwrap();
        assert_eq!(bfd.program, "cc");
        assert_eq!(bfd.args, ["-m64", "/t/x.o", "-o", "/t/app", "-fuse-ld=bfd"]);
        assert_eq!(bfd.cwd, mold.cwd);

        // rustc's self-contained rust-lld: a `gcc-ld` directory and -fuse-ld=lld.
        let lld = parse_link_line(
            r#""/usr/bin/x86_64-linux-gnu-gcc" "/t/x.o" "-B/r/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld" "-fuse-ld=lld" "-B/other""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&lld).unwrap();
        assert_eq!(bfd.args, ["/t/x.o", "-B/other", "-fuse-ld=bfd"]);

        // A linker run directly cannot be swapped.
        let direct =
            parse_link_line(r#""rust-lld" "-flavor" "gnu" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&direct).is_none());
        let clang = parse_link_line(r#""clang-14" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&clang).is_some());
    }
}
