//! What a build must add to give bit-identical binaries from checkouts at
//! different paths and at different times.
//!
//! Found by building the same fixture from two paths (see
//! `helper/tests/repro.rs`) with cargo 1.95 and rustc 1.95 on
//! x86_64-unknown-linux-gnu:
//!
//! - **Paths.** Absolute paths reach the binary through panic locations
//!   (`file!()`, `#[track_caller]`) and debug info: third-party sources
//!   under `$CARGO_HOME/registry/src/…`, code `include!`d from a build
//!   script's `OUT_DIR` (under the build directory), and the workspace
//!   itself (rustc's working directory; path dependencies outside it). Each
//!   gets a `--remap-path-prefix=<from>=<to>`. The standard library's paths
//!   are already `/rustc/<commit>/library/…` in the shipped std; the sysroot
//!   is remapped too, in case a std built from `rust-src` is linked.
//!   cargo leaves rustflags that contain `--remap-path-prefix=` out of its
//!   unit hash, so symbol names do not change with the path either.
//! - **Time.** rustc and the linkers write no timestamps. Build scripts may
//!   (`SOURCE_DATE_EPOCH` is the convention they honour): it is set to the
//!   commit time of `HEAD`, or to 1 outside a git checkout, unless the user
//!   set it.
//! - **Build id.** The cc drivers (gcc, clang) pass `--build-id` to the
//!   linker (GNU ld, rust-lld, mold), which derives it from the output's
//!   content: identical content gives an identical id, so nothing has to be
//!   fixed. [`BuildId::Sha1`] asks for `--build-id=sha1` explicitly where
//!   a driver does not pass it.
//!
//! Adding, never replacing (issue 10): cargo takes rustflags from exactly
//! one source, the first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`, the
//! `target.<triple>` / matching `target.<cfg>` tables, `build.rustflags`.
//! A `--config` value for an array is joined with the config files' value
//! of the same key, so the additions go to the key the user's flags come
//! from ([`UserRustflags`], found by [`detect_user_rustflags`]); from an
//! environment variable they go to `CARGO_ENCODED_RUSTFLAGS` holding the
//! user's flags followed by ours.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the settings could not be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReproError {
    /// A tool (rustc, git) could not be run or failed.
    #[error("`{command}`: {message}")]
    Tool {
        /// The command.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// A cargo configuration file cannot be read.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A path is not valid UTF-8, so it cannot be passed in a flag.
    #[error("path is not UTF-8: {0}")]
    NonUtf8Path(String),
}

/// The directories and time a build depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproInputs {
    /// The workspace root (rustc's working directory).
    pub workspace_root: PathBuf,
    /// `$CARGO_HOME` (registry and git sources live under it).
    pub cargo_home: PathBuf,
    /// cargo's target directory.
    pub target_dir: PathBuf,
    /// cargo's build directory (`OUT_DIR`s), when it differs from the target
    /// directory.
    pub build_dir: Option<PathBuf>,
    /// rustc's sysroot, when known.
    pub sysroot: Option<PathBuf>,
    /// `SOURCE_DATE_EPOCH` to use when the user set none.
    pub source_date_epoch: u64,
}

/// One `--remap-path-prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// The prefix on this machine.
    pub from: PathBuf,
    /// What it becomes in the binary.
    pub to: String,
}

/// How the binary's build id is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildId {
    /// Whatever the linker driver does: with gcc/clang and GNU ld,
    /// rust-lld or mold, a hash of the content. Adds no flag.
    LinkerDefault,
    /// `-C link-arg=-Wl,--build-id=sha1`: a SHA-1 of the content, for
    /// drivers that pass no `--build-id` (needs a cc-style linker driver).
    Sha1,
}

/// What a reproducible build adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproSettings {
    /// Path remappings, general first (rustc applies the last match, so a
    /// target directory inside the workspace wins over the workspace).
    pub remaps: Vec<Remap>,
    /// `SOURCE_DATE_EPOCH` when the user set none.
    pub source_date_epoch: u64,
    /// The build id.
    pub build_id: BuildId,
}

/// Where the user's rustflags come from: where ours must be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRustflags {
    /// `CARGO_ENCODED_RUSTFLAGS` (flags separated by `\x1f`).
    EncodedEnv(String),
    /// `RUSTFLAGS` (whitespace-separated).
    Env(String),
    /// A `target.<triple>.rustflags` or matching `target.<cfg>.rustflags`
    /// (config file or `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`).
    Target,
    /// `build.rustflags`, or none at all.
    Build,
}

/// The additions, rendered for one cargo invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// `--config` arguments (each value is one `--config` argument).
    pub config: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
}

impl Rendered {
    /// `--config <value>` pairs, ready for a command line.
    pub fn args(&self) -> Vec<String> {
        self.config
            .iter()
            .flat_map(|c| ["--config".to_string(), c.clone()])
            .collect()
    }
}

fn utf8(p: &Path) -> Result<&str, ReproError> {
    p.to_str()
        .ok_or_else(|| ReproError::NonUtf8Path(p.display().to_string()))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl ReproSettings {
    /// The settings for `inputs`: the workspace becomes `/workspace`,
    /// `$CARGO_HOME` `/cargo-home`, the target directory `/target`, the build
    /// directory `/build-dir`, the sysroot `/rust-sysroot`. A directory that
    /// is a symlink is remapped under both its names.
    pub fn new(inputs: &ReproInputs, build_id: BuildId) -> ReproSettings {
        let mut remaps = Vec::new();
        let mut add = |from: &Path, to: &str| {
            let mut names = vec![from.to_path_buf()];
            if let Ok(real) = fs::canonicalize(from) {
                if real != from {
                    names.push(real);
                }
            }
            for from in names {
                if !remaps.iter().any(|r: &Remap| r.from == from) {
                    remaps.push(Remap {
                        from,
                        to: to.to_string(),
                    });
                }
            }
        };
        add(&inputs.workspace_root, "/workspace");
        add(&inputs.cargo_home, "/cargo-home");
        if let Some(s) = &inputs.sysroot {
            add(s, "/rust-sysroot");
        }
        add(&inputs.target_dir, "/target");
        if let Some(b) = &inputs.build_dir {
            add(b, "/build-dir");
        }
        // General first: a longer prefix (a directory inside another) last.
        remaps.sort_by_key(|r| r.from.as_os_str().len());
        ReproSettings {
            remaps,
            source_date_epoch: inputs.source_date_epoch,
            build_id,
        }
    }

    /// The rustflags to add, in order.
    pub fn rustflags(&self) -> Result<Vec<String>, ReproError> {
        let mut flags = Vec::new();
        for r in &self.remaps {
            flags.push(format!("--remap-path-prefix={}={}", utf8(&r.from)?, r.to));
        }
        if self.build_id == BuildId::Sha1 {
            flags.push("-Clink-arg=-Wl,--build-id=sha1".to_string());
        }
        Ok(flags)
    }

    /// The additions for a build whose rustflags come from `user`, for
    /// target `triple` (the host's when not cross-compiling).
    /// `user_source_date_epoch` is the user's `SOURCE_DATE_EPOCH`, kept when
    /// set.
    pub fn render(
        &self,
        user: &UserRustflags,
        triple: &str,
        user_source_date_epoch: Option<&str>,
    ) -> Result<Rendered, ReproError> {
        let ours = self.rustflags()?;
        let mut out = Rendered::default();
        let array = || {
            let items: Vec<String> = ours.iter().map(|f| toml_string(f)).collect();
            format!("[{}]", items.join(", "))
        };
        match user {
            UserRustflags::EncodedEnv(existing) => {
                let mut all: Vec<String> = if existing.is_empty() {
                    Vec::new()
                } else {
                    existing.split('\x1f').map(str::to_string).collect()
                };
                all.extend(ours.iter().cloned());
                out.env
                    .push(("CARGO_ENCODED_RUSTFLAGS".into(), all.join("\x1f")));
            }
            UserRustflags::Env(existing) => {
                let mut all: Vec<String> =
                    existing.split_whitespace().map(str::to_string).collect();
                all.extend(ours.iter().cloned());
                out.env
                    .push(("CARGO_ENCODED_RUSTFLAGS".into(), all.join("\x1f")));
            }
            UserRustflags::Target => {
                out.config
                    .push(format!("target.{triple}.rustflags={}", array()));
            }
            UserRustflags::Build => out.config.push(format!("build.rustflags={}", array())),
        }
        if user_source_date_epoch.is_none() {
            out.env.push((
                "SOURCE_DATE_EPOCH".into(),
                self.source_date_epoch.to_string(),
            ));
        }
        Ok(out)
    }
}

fn tool(cmd: &mut Command) -> Result<String, ReproError> {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = cmd.output().map_err(|e| ReproError::Tool {
        command: shown.clone(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(ReproError::Tool {
            command: shown,
            message: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The rustc to ask: `$RUSTC` or `rustc`.
fn rustc() -> Command {
    Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

/// `rustc --print sysroot`.
pub fn sysroot() -> Result<PathBuf, ReproError> {
    tool(rustc().args(["--print", "sysroot"])).map(PathBuf::from)
}

/// The host triple (`rustc -vV`).
pub fn host_triple() -> Result<String, ReproError> {
    let out = tool(rustc().arg("-vV"))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| ReproError::Tool {
            command: "rustc -vV".into(),
            message: "no `host:` line".into(),
        })
}

/// The inputs of a build of the workspace at `workspace_root` into
/// `target_dir` (and `build_dir` when cargo's build directory differs):
/// `$CARGO_HOME`, rustc's sysroot and the commit time.
pub fn discover(
    workspace_root: &Path,
    target_dir: &Path,
    build_dir: Option<&Path>,
) -> Result<ReproInputs, ReproError> {
    let cargo_home = cargo_home().ok_or_else(|| ReproError::Tool {
        command: "locate $CARGO_HOME".into(),
        message: "neither CARGO_HOME nor HOME is set".into(),
    })?;
    Ok(ReproInputs {
        workspace_root: workspace_root.to_path_buf(),
        cargo_home,
        target_dir: target_dir.to_path_buf(),
        build_dir: build_dir
            .filter(|b| *b != target_dir)
            .map(Path::to_path_buf),
        sysroot: Some(sysroot()?),
        source_date_epoch: source_date_epoch(workspace_root),
    })
}

/// `rustc --print cfg` for `triple` (the host's when `None`), one cfg a line.
pub fn target_cfgs(triple: Option<&str>) -> Result<Vec<String>, ReproError> {
    let mut cmd = rustc();
    cmd.args(["--print", "cfg"]);
    if let Some(t) = triple {
        cmd.args(["--target", t]);
    }
    Ok(tool(&mut cmd)?.lines().map(str::to_string).collect())
}

/// The commit time of `HEAD` in `dir`, or 1 (Nix's choice) outside a git
/// checkout.
pub fn source_date_epoch(dir: &Path) -> u64 {
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(1)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Whether the cfg predicate `expr` (`unix`, `target_os = "linux"`,
/// `all(..)`, `any(..)`, `not(..)`) holds for `cfgs` (`rustc --print cfg`
/// lines). `None` when it does not parse.
pub fn cfg_matches(expr: &str, cfgs: &[String]) -> Option<bool> {
    fn parse(s: &str, cfgs: &[String]) -> Option<(bool, usize)> {
        let t = s.trim_start();
        let skipped = s.len() - t.len();
        let name_len = t
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(t.len());
        if name_len == 0 {
            return None;
        }
        let name = &t[..name_len];
        let rest = &t[name_len..];
        let r = rest.trim_start();
        if let Some(mut args) = r.strip_prefix('(') {
            let mut consumed = skipped + name_len + (rest.len() - r.len()) + 1;
            let mut values = Vec::new();
            loop {
                let a = args.trim_start();
                if let Some(after) = a.strip_prefix(')') {
                    consumed += args.len() - after.len();
                    break;
                }
                let (v, n) = parse(args, cfgs)?;
                values.push(v);
                consumed += n;
                args = &args[n..];
                let a = args.trim_start();
                if let Some(after) = a.strip_prefix(',') {
                    consumed += args.len() - after.len();
                    args = after;
                }
            }
            let v = match name {
                "all" => values.iter().all(|v| *v),
                "any" => values.iter().any(|v| *v),
                "not" if values.len() == 1 => !values[0],
                _ => return None,
            };
            return Some((v, consumed));
        }
        if let Some(after_eq) = r.strip_prefix('=') {
            let v = after_eq.trim_start().strip_prefix('"')?;
            let end = v.find('"')?;
            let value = &v[..end];
            let used = s.len() - v[end + 1..].len();
            let line = format!("{name}=\"{value}\"");
            return Some((cfgs.contains(&line), used));
        }
        Some((cfgs.iter().any(|c| c == name), skipped + name_len))
    }
    let (v, n) = parse(expr, cfgs)?;
    expr[n..].trim().is_empty().then_some(v)
}

/// The config files cargo reads for a build run in `cwd`, most specific
/// first: `.cargo/config.toml` (or `.cargo/config`) of `cwd` and every
/// parent, then `$CARGO_HOME/config.toml`.
pub fn config_files(cwd: &Path, cargo_home: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in cwd.ancestors() {
        for name in ["config.toml", "config"] {
            let p = dir.join(".cargo").join(name);
            if p.is_file() {
                files.push(p);
                break;
            }
        }
    }
    if let Some(home) = cargo_home {
        for name in ["config.toml", "config"] {
            let p = home.join(name);
            if p.is_file() && !files.contains(&p) {
                files.push(p);
                break;
            }
        }
    }
    files
}

/// Where the user's rustflags come from for a build of `triple` run in
/// `cwd`: `env` reads the environment, `cfgs` are the target's
/// `rustc --print cfg` lines. Reads the environment variables and the
/// config files of [`config_files`] (not `--config` arguments or `include`d
/// files).
pub fn detect_user_rustflags(
    cwd: &Path,
    cargo_home: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    triple: &str,
    cfgs: &[String],
) -> Result<UserRustflags, ReproError> {
    if let Some(v) = env("CARGO_ENCODED_RUSTFLAGS") {
        return Ok(UserRustflags::EncodedEnv(v));
    }
    if let Some(v) = env("RUSTFLAGS") {
        return Ok(UserRustflags::Env(v));
    }
    let var = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        triple.to_uppercase().replace(['-', '.'], "_")
    );
    if env(&var).is_some() {
        return Ok(UserRustflags::Target);
    }
    for file in config_files(cwd, cargo_home) {
        let text = fs::read_to_string(&file).map_err(|e| ReproError::Config {
            path: file.display().to_string(),
            message: e.to_string(),
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ReproError::Config {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
        let Some(targets) = table.get("target").and_then(|t| t.as_table()) else {
            continue;
        };
        for (key, value) in targets {
            if value.get("rustflags").is_none() {
                continue;
            }
            let applies =
                if let Some(expr) = key.strip_prefix("cfg(").and_then(|k| k.strip_suffix(')')) {
                    cfg_matches(expr, cfgs).ok_or_else(|| ReproError::Config {
                        path: file.display().to_string(),
                        message: format!("cannot evaluate `target.'{key}'`"),
                    })?
                } else {
                    key == triple
                };
            if applies {
                return Ok(UserRustflags::Target);
            }
        }
    }
    Ok(UserRustflags::Build)
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
        let s = ReproSettings::new(&inputs(), BuildId::LinkerDefault);
        assert_eq!(
            s.rustflags().unwrap(),
            [
                "--remap-path-prefix=/w/ws=/workspace",
                "--remap-path-prefix=/h/.cargo=/cargo-home",
                "--remap-path-prefix=/r/toolchain=/rust-sysroot",
                "--remap-path-prefix=/w/ws/target=/target",
            ]
        );
        let s = ReproSettings::new(&inputs(), BuildId::Sha1);
        assert_eq!(
            s.rustflags().unwrap().last().unwrap(),
            "-Clink-arg=-Wl,--build-id=sha1"
        );
    }

    #[test]
    fn renders_into_the_users_layer() {
        let s = ReproSettings::new(&inputs(), BuildId::LinkerDefault);
        let r = s
            .render(&UserRustflags::Build, "x86_64-unknown-linux-gnu", None)
            .unwrap();
        assert_eq!(r.config.len(), 1);
        assert!(
            r.config[0].starts_with("build.rustflags=[\"--remap-path-prefix=/w/ws=/workspace\", ")
        );
        assert_eq!(
            r.env,
            [("SOURCE_DATE_EPOCH".to_string(), "1234".to_string())]
        );
        let r = s
            .render(
                &UserRustflags::Target,
                "x86_64-unknown-linux-musl",
                Some("99"),
            )
            .unwrap();
        assert!(r.config[0].starts_with("target.x86_64-unknown-linux-musl.rustflags=["));
        assert!(r.env.is_empty(), "the user's SOURCE_DATE_EPOCH stays");
        let r = s
            .render(
                &UserRustflags::Env("-C  target-cpu=native ".into()),
                "x",
                Some("1"),
            )
            .unwrap();
        let (k, v) = &r.env[0];
        assert_eq!(k, "CARGO_ENCODED_RUSTFLAGS");
        let flags: Vec<&str> = v.split('\x1f').collect();
        assert_eq!(
            &flags[..3],
            [
                "-C",
                "target-cpu=native",
                "--remap-path-prefix=/w/ws=/workspace"
            ]
        );
        let r = s
            .render(&UserRustflags::EncodedEnv("-Ca b".into()), "x", Some("1"))
            .unwrap();
        assert!(r.env[0].1.starts_with("-Ca b\x1f--remap"));
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn cfg_predicates() {
        let cfgs: Vec<String> = ["unix", "target_os=\"linux\"", "target_arch=\"x86_64\""]
            .map(String::from)
            .to_vec();
        for (expr, want) in [
            ("unix", Some(true)),
            ("windows", Some(false)),
            ("target_os = \"linux\"", Some(true)),
            ("all(unix, target_arch = \"x86_64\")", Some(true)),
            ("all(unix, target_arch = \"aarch64\")", Some(false)),
            ("any(windows, not(target_os = \"macos\"))", Some(true)),
            ("not(unix)", Some(false)),
            ("all()", Some(true)),
            ("all(unix", None),
            ("unix windows", None),
        ] {
            assert_eq!(cfg_matches(expr, &cfgs), want, "{expr}");
        }
    }

    #[test]
    fn detects_the_users_layer() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        fs::create_dir_all(ws.join(".cargo")).unwrap();
        let cfgs: Vec<String> = ["unix", "target_os=\"linux\""].map(String::from).to_vec();
        let none = |_: &str| None;
        let t = "x86_64-unknown-linux-gnu";
        let detect = |env: &dyn Fn(&str) -> Option<String>| {
            detect_user_rustflags(&ws, None, env, t, &cfgs).unwrap()
        };
        assert_eq!(detect(&none), UserRustflags::Build);
        fs::write(ws.join(".cargo/config.toml"), "build.rustflags = [\"-Cx\"]\n[target.x86_64-unknown-linux-musl]\nrustflags = [\"-Cy\"]\n").unwrap();
        assert_eq!(detect(&none), UserRustflags::Build);
        fs::write(
            ws.join(".cargo/config.toml"),
            "[target.'cfg(windows)']\nrustflags = [\"-Cy\"]\n",
        )
        .unwrap();
        assert_eq!(detect(&none), UserRustflags::Build);
        // In a parent directory, matching by cfg.
        fs::write(ws.join(".cargo/config.toml"), "").unwrap();
        fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        fs::write(
            dir.path().join(".cargo/config.toml"),
            "[target.'cfg(target_os = \"linux\")']\nrustflags = [\"-Cy\"]\n",
        )
        .unwrap();
        assert_eq!(detect(&none), UserRustflags::Target);
        let rf = |k: &str| (k == "RUSTFLAGS").then(|| "-Cz".to_string());
        assert_eq!(detect(&rf), UserRustflags::Env("-Cz".into()));
        fs::write(ws.join(".cargo/config.toml"), "not toml [").unwrap();
        assert!(matches!(
            detect_user_rustflags(&ws, None, &none, t, &cfgs),
            Err(ReproError::Config { .. })
        ));
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
