//! Running cargo and reading the machine: toolchain, linkers, memory, CPUs.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// The cargo to run: `$CARGO` (set under `cargo buildplan`), else `cargo`.
pub fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Runs rustc (`$RUSTC`, else `rustc`) with `args` and returns its standard
/// output ([`capture`]).
pub fn rustc(args: &[&str]) -> Result<String, Error> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    capture(Command::new(rustc).args(args))
}

/// A command: program, arguments, extra environment, directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoCommand {
    /// The program (`$CARGO` or `cargo` for cargo commands).
    pub program: String,
    /// Arguments, starting with the subcommand.
    pub args: Vec<String>,
    /// Variables set on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
    /// Working directory (the workspace root, for its `.cargo/config.toml`).
    pub cwd: PathBuf,
}

impl CargoCommand {
    /// `cargo <args>` run from `cwd`, with colour off.
    pub fn cargo(args: Vec<String>, cwd: &Path) -> Self {
        CargoCommand {
            program: cargo_program(),
            args,
            env: BTreeMap::from([("CARGO_TERM_COLOR".to_string(), "never".to_string())]),
            env_remove: Vec::new(),
            cwd: cwd.to_path_buf(),
        }
    }

    /// A [`Command`] ready to spawn.
    pub fn to_command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.cwd);
        for key in &self.env_remove {
            cmd.env_remove(key);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// Runs the command and returns its standard output ([`capture`]).
    pub fn output(&self) -> Result<String, Error> {
        capture(&mut self.to_command())
    }

    /// The command as one shell line: `cd DIR && VAR=value ... cargo ...`.
    pub fn shell_line(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if !self.env_remove.is_empty() {
            words.push("env".into());
            words.extend(self.env_remove.iter().flat_map(|k| ["-u".into(), quote(k)]));
        }
        words.extend(self.env.iter().map(|(k, v)| format!("{k}={}", quote(v))));
        words.push(quote(&self.program));
        words.extend(self.args.iter().map(|a| quote(a)));
        let cwd = quote(&self.cwd.to_string_lossy());
        format!("cd {cwd} && {}", words.join(" "))
    }
}

/// Runs `cmd` and returns its standard output; a failure quotes its stderr.
pub fn capture(cmd: &mut Command) -> Result<String, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| Error::not_run(&program, e))?;
    if !out.status.success() {
        // The program without its directory, the arguments as given.
        let name = program.rsplit('/').next().unwrap_or("cargo");
        let args = cmd.get_args().map(|a| format!(" {}", a.to_string_lossy()));
        let (args, stderr) = (
            args.collect::<String>(),
            String::from_utf8_lossy(&out.stderr),
        );
        let message = format!("`{name}{args}` failed:\n{}", stderr.trim_end());
        return Err(Error::CargoFailed(message));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Quotes one word for a POSIX shell (only when needed).
pub fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| format!("{word:?}"), |q| q.into_owned())
}

/// Facts about the Rust toolchain on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// Host target triple (`rustc -vV`'s `host:`).
    pub triple: String,
    /// rustc's version line (`rustc -V`).
    pub rustc_version: String,
    /// `(major, minor)` of rustc.
    pub rustc_release: (u32, u32),
}

impl HostInfo {
    /// Asks rustc (`$RUSTC`, else `rustc`).
    pub fn detect() -> Result<Self, Error> {
        Self::parse(&rustc(&["-vV"])?)
            .ok_or_else(|| Error::invalid("cannot parse `rustc -vV` output"))
    }

    /// Parses `rustc -vV` output.
    pub fn parse(text: &str) -> Option<Self> {
        let meta = rustc_version::version_meta_for(text).ok()?;
        let v = &meta.semver;
        let rustc_release = (v.major.try_into().ok()?, v.minor.try_into().ok()?);
        Some(HostInfo {
            triple: meta.host,
            rustc_version: meta.short_version_string,
            rustc_release,
        })
    }

    /// Whether rustc links with its bundled rust-lld (x86_64 Linux, 1.90+).
    pub fn default_is_rust_lld(&self) -> bool {
        self.triple == "x86_64-unknown-linux-gnu" && self.rustc_release >= (1, 90)
    }
}

/// Which linker a build uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linker {
    /// mold, through `-fuse-ld=mold`.
    Mold,
    /// The system lld (`ld.lld`), through `-fuse-ld=lld`.
    Lld,
    /// GNU ld (bfd), through `-fuse-ld=bfd`: the classic system linker.
    Bfd,
    /// Whatever rustc does by default (no flags added).
    Default,
}

impl Linker {
    /// Short name used in messages and results.
    pub fn name(self) -> &'static str {
        match self {
            Linker::Mold => "mold",
            Linker::Lld => "lld",
            Linker::Bfd => "bfd",
            Linker::Default => "default",
        }
    }

    /// The linker a `-fuse-ld=` value names, if this helper knows it.
    pub fn from_fuse_ld(value: &str) -> Option<Self> {
        [Linker::Mold, Linker::Lld, Linker::Bfd]
            .into_iter()
            .find(|l| l.name() == value)
    }

    /// The program the compiler driver looks for (`ld.<name>`), if any.
    pub fn tool(self) -> Option<String> {
        (self != Linker::Default).then(|| format!("ld.{}", self.name()))
    }

    /// The rustflags selecting this linker on a host.
    pub fn rustflags(self, host: &HostInfo) -> Vec<String> {
        let mut flags = Vec::new();
        if self != Linker::Default {
            if host.default_is_rust_lld() {
                flags.extend(["-C".into(), "linker-features=-lld".into()]);
            }
            flags.extend(["-C".into(), format!("link-arg=-fuse-ld={}", self.name())]);
        }
        flags
    }

    /// One line for people: which linker, concretely.
    pub fn describe(self, host: &HostInfo) -> String {
        match self {
            Linker::Mold => "mold (-fuse-ld=mold)".into(),
            Linker::Lld => "the system lld (ld.lld, -fuse-ld=lld)".into(),
            Linker::Bfd => "GNU ld (bfd, -fuse-ld=bfd)".into(),
            Linker::Default if host.default_is_rust_lld() => format!(
                "rustc's default, which on {} since Rust 1.90 is the bundled rust-lld",
                host.triple
            ),
            Linker::Default => "rustc's default (the C compiler's default linker)".into(),
        }
    }
}

/// Finds an executable file called `name` in a `PATH`-style list.
pub fn find_in_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    which::which_in(name, Some(path), "/").ok()
}

/// Reads a `/proc/meminfo` field (`MemAvailable`, `MemTotal`), in MiB.
pub fn parse_meminfo_mib(meminfo: &str, field: &str) -> Option<u64> {
    let line = (meminfo.lines()).find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    matches!(words.next(), Some("kB") | None).then_some(value / 1024)
}

/// A cgroup `memory.max` value in MiB; `None` for `max` (no limit).
pub fn parse_cgroup_max(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().map(|b| b / (1024 * 1024))
}

/// Number of CPUs this process may use.
pub fn cpu_count() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// The facts of this machine that decide a build's command.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The toolchain.
    pub host: HostInfo,
    /// `PATH` used to look for linkers and C compilers.
    pub path: OsString,
    /// `MemAvailable` in MiB, if known.
    pub mem_available_mib: Option<u64>,
    /// `MemTotal` (or a lower cgroup memory limit) in MiB, if known.
    pub mem_total_mib: Option<u64>,
    /// CPUs usable.
    pub cpus: u64,
}

impl Machine {
    /// The facts of this machine, read now.
    pub fn detect() -> Result<Self, Error> {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let total = parse_meminfo_mib(&meminfo, "MemTotal");
        // This process's cgroup v2 memory limit, if it has one.
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let own = cgroup.lines().find_map(|l| l.strip_prefix("0::"));
        let limit = own.and_then(|own| {
            let dir = Path::new("/sys/fs/cgroup").join(own.trim_start_matches('/'));
            parse_cgroup_max(&std::fs::read_to_string(dir.join("memory.max")).ok()?)
        });
        Ok(Machine {
            host: HostInfo::detect()?,
            path: std::env::var_os("PATH").unwrap_or_default(),
            mem_available_mib: parse_meminfo_mib(&meminfo, "MemAvailable"),
            mem_total_mib: total.into_iter().chain(limit).min(),
            cpus: cpu_count(),
        })
    }
}

/// Test helpers shared by the unit tests of this module and of `build`.
#[cfg(test)]
pub(crate) mod testing {
    use super::HostInfo;
    use std::os::unix::fs::PermissionsExt;

    /// The host facts of an x86_64 Linux machine with rustc 1.95.
    pub(crate) fn host() -> HostInfo {
        HostInfo::parse(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\n\
             commit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860\ncommit-date: 2026-04-14\n\
             host: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n",
        )
        .unwrap()
    }

    /// A directory of executable stand-ins (`exit 0`) named `tools`.
    pub(crate) fn stub_dir(tools: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for tool in tools {
            let p = dir.path().join(tool);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::testing::host;
    use super::*;

    #[test]
    fn linker_flags_opt_out_of_rust_lld_only_where_it_is_the_default() {
        let h = host();
        assert!(h.default_is_rust_lld());
        assert_eq!(
            Linker::Mold.rustflags(&h),
            ["-C", "linker-features=-lld", "-C", "link-arg=-fuse-ld=mold"]
        );
        assert!(Linker::Default.rustflags(&h).is_empty());
        let arm = HostInfo {
            triple: "aarch64-unknown-linux-gnu".into(),
            ..h.clone()
        };
        assert_eq!(Linker::Lld.rustflags(&arm), ["-C", "link-arg=-fuse-ld=lld"]);
        let old = HostInfo {
            rustc_release: (1, 89),
            ..h
        };
        assert!(!old.default_is_rust_lld());
        assert_eq!(Linker::from_fuse_ld("bfd"), Some(Linker::Bfd));
        assert_eq!(Linker::from_fuse_ld("gold"), None);
    }

    #[test]
    fn meminfo_parsing() {
        let text = "MemTotal:       24684084 kB\nMemFree: 1 kB\nMemAvailable:   23773644 kB\n";
        assert_eq!(parse_meminfo_mib(text, "MemAvailable"), Some(23216));
        assert_eq!(parse_meminfo_mib(text, "MemTotal"), Some(24105));
        assert_eq!(parse_meminfo_mib("MemTotal: 5 kB\n", "MemAvailable"), None);
        assert_eq!(
            parse_meminfo_mib("MemAvailable: x kB\n", "MemAvailable"),
            None
        );
    }

    #[test]
    fn cgroup_limits() {
        assert_eq!(parse_cgroup_max("max\n"), None);
        assert_eq!(parse_cgroup_max("8589934592\n"), Some(8192));
    }

    #[test]
    fn rustc_version_parsing() {
        let h = host();
        assert_eq!(h.triple, "x86_64-unknown-linux-gnu");
        assert_eq!(h.rustc_release, (1, 95));
        assert_eq!(h.rustc_version, "rustc 1.95.0 (59807616e 2026-04-14)");
        assert!(HostInfo::parse("garbage").is_none());
    }

    #[test]
    fn commands_run_and_quote() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = CargoCommand::cargo(vec!["--version".into()], dir.path());
        assert!(cmd.output().unwrap().starts_with("cargo "));
        cmd.args = vec!["no-such-subcommand".into()];
        let err = cmd.output().unwrap_err();
        assert!(matches!(err, Error::CargoFailed(_)), "{err}");
        cmd.program = "/nonexistent/cargo".into();
        let err = cmd.output().unwrap_err().to_string();
        assert!(
            err.starts_with("could not run `/nonexistent/cargo`"),
            "{err}"
        );
        cmd.args = vec!["--config".into(), "profile.release.lto=\"thin\"".into()];
        cmd.env_remove = vec!["RUSTFLAGS".into()];
        let line = cmd.shell_line();
        assert!(
            line.ends_with("env -u RUSTFLAGS CARGO_TERM_COLOR=never /nonexistent/cargo --config 'profile.release.lto=\"thin\"'"),
            "{line}"
        );
    }
}
