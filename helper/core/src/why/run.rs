//! Running a verbose cargo build with JSON messages (and cargo's
//! fingerprint log as an optional extra).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::dirty;
use super::error::WhyError;
use super::fingerprint::Snapshot;
use super::messages;
use super::record::{self, SourceRecord};
use super::report::{explain_or_unknown, BuildDirs, Report};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The cargo program (`$CARGO` or `cargo` when `None`).
    pub cargo: Option<PathBuf>,
    /// The directory cargo runs in.
    pub dir: PathBuf,
    /// cargo's arguments, from the subcommand on (`["build", "--release"]`).
    /// `-v` is added unless given, and `--message-format
    /// json-render-diagnostics` unless a `--message-format` is given (it
    /// must then be a JSON one).
    /// `--manifest-path` and `--target-dir` here are honoured when locating
    /// the workspace and the build directory.
    pub args: Vec<String>,
    /// Extra environment for cargo.
    pub env: Vec<(String, String)>,
    /// Environment variables cargo must not inherit.
    pub env_remove: Vec<String>,
    /// Echo cargo's standard error lines to ours while it runs (not the
    /// fingerprint log, nor the lines of the `-v` added here).
    pub echo: bool,
}

/// One build and its explanation.
#[derive(Debug, Clone)]
pub struct Run {
    /// cargo's exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    /// cargo's standard output (the JSON messages).
    pub stdout: String,
    /// cargo's standard error (its `Dirty` lines, status and fingerprint log).
    pub stderr: String,
    /// Why each compiled unit was compiled.
    pub report: Report,
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// The build directory read.
    pub build_dir: PathBuf,
    /// Set when the content record could not be written (touches cannot be
    /// told from edits in the next run).
    pub record_error: Option<String>,
}

impl Run {
    /// Whether cargo succeeded.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

fn cargo_program(opts: &RunOptions) -> PathBuf {
    opts.cargo
        .clone()
        .or_else(|| std::env::var_os("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// A line cargo prints for people: a status (`   Compiling x`), a
/// `warning:` or an `error:`; not part of a logged error's cause chain.
fn is_cargo_status(line: &str) -> bool {
    let t = line.trim_start();
    let indent = line.len() - t.len();
    if t.starts_with("warning") || t.starts_with("error") {
        return true;
    }
    let word: String = t.chars().take_while(char::is_ascii_alphabetic).collect();
    indent <= 12
        && word.len() >= 4
        && word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && t[word.len()..].starts_with(' ')
        && word != "Caused"
        && word != "Stack"
}

fn environment(cmd: &mut Command, opts: &RunOptions) {
    for k in &opts.env_remove {
        cmd.env_remove(k);
    }
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
}

/// The value of `--flag value` or `--flag=value` in `args`.
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let eq = format!("{flag}=");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == flag {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(&eq) {
            return Some(v.to_string());
        }
    }
    None
}

/// Workspace root and build directory from `cargo metadata`.
fn locate(opts: &RunOptions, program: &Path) -> Result<(PathBuf, PathBuf, PathBuf), WhyError> {
    let mut cmd = Command::new(program);
    cmd.args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(&opts.dir);
    environment(&mut cmd, opts);
    if let Some(m) = flag_value(&opts.args, "--manifest-path") {
        cmd.args(["--manifest-path", &m]);
    }
    for passthrough in ["--offline", "--frozen", "--locked"] {
        if opts.args.iter().any(|a| a == passthrough) {
            cmd.arg(passthrough);
        }
    }
    let shown = "cargo metadata --format-version 1 --no-deps".to_string();
    let out = cmd.output().map_err(|e| WhyError::Cargo {
        command: shown.clone(),
        message: format!("could not start {}: {e}", program.display()),
    })?;
    if !out.status.success() {
        return Err(WhyError::Cargo {
            command: shown,
            message: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        });
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| WhyError::Cargo {
            command: shown.clone(),
            message: format!("output is not JSON: {e}"),
        })?;
    let path = |key: &str| meta.get(key).and_then(|v| v.as_str()).map(PathBuf::from);
    let root = path("workspace_root").ok_or_else(|| WhyError::Cargo {
        command: shown.clone(),
        message: "no workspace_root".into(),
    })?;
    let (target_dir, build_dir) = match flag_value(&opts.args, "--target-dir") {
        Some(t) => {
            let t = opts.dir.join(t);
            (t.clone(), t)
        }
        None => {
            let target = path("target_directory").ok_or_else(|| WhyError::Cargo {
                command: shown,
                message: "no target_directory".into(),
            })?;
            let build = path("build_directory").unwrap_or_else(|| target.clone());
            (target, build)
        }
    };
    Ok((root, target_dir, build_dir))
}

/// Runs the build of `opts` verbosely with JSON messages (and the
/// fingerprint log), and explains it. A failed build is still explained (the units compiled
/// before the failure); check [`Run::success`]. The content record in the
/// build directory is updated after the build.
pub fn run(opts: &RunOptions) -> Result<Run, WhyError> {
    let program = cargo_program(opts);
    let (workspace_root, target_dir, build_dir) = locate(opts, &program)?;
    let before = Snapshot::take(&build_dir);
    let record = SourceRecord::load(&build_dir);

    let mut args = opts.args.clone();
    // Before a `--` that passes arguments on to a test binary.
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let added_v = !args[..end].iter().any(|a| {
        a == "--verbose" || (a.len() > 1 && a.starts_with("-v") && a[1..].chars().all(|c| c == 'v'))
    });
    if flag_value(&args, "--message-format").is_none() {
        let json = ["--message-format", "json-render-diagnostics"].map(String::from);
        args.splice(end..end, json);
    }
    if added_v {
        args.insert(1.min(args.len()), "-v".into());
    }
    let mut cmd = Command::new(&program);
    cmd.args(&args).current_dir(&opts.dir);
    environment(&mut cmd, opts);
    cmd.env("CARGO_LOG", dirty::CARGO_LOG)
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("cargo {}", args.join(" "));
    let mut child = cmd.spawn().map_err(|e| WhyError::Cargo {
        command: shown.clone(),
        message: format!("could not start {}: {e}", program.display()),
    })?;
    let mut stdout_pipe = child.stdout.take().expect("piped stdout");
    let stderr_pipe = child.stderr.take().expect("piped stderr");
    let echo = opts.echo;
    let err_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let mut reader = BufReader::new(stderr_pipe);
        let mut line = Vec::new();
        // After an `err:` line cargo prints the error's cause chain and,
        // with RUST_BACKTRACE set, a backtrace: part of the log, not echoed.
        let mut in_error = false;
        while let Ok(n) = reader.read_until(b'\n', &mut line) {
            if n == 0 {
                break;
            }
            let s = String::from_utf8_lossy(&line);
            let fingerprint = dirty::log_message(&s).is_some();
            if fingerprint {
                in_error = s.contains(" err: ");
            } else if in_error && is_cargo_status(&s) {
                in_error = false;
            }
            let t = s.trim_start();
            let ours = added_v && (t.starts_with("Running `") || t.starts_with("Fresh "));
            if echo && !fingerprint && !in_error && !ours {
                let _ = std::io::stderr().write_all(s.as_bytes());
            }
            text.push_str(&s);
            line.clear();
        }
        text
    });
    let mut stdout = String::new();
    let read_out = stdout_pipe.read_to_string(&mut stdout);
    let stderr = err_thread.join().unwrap_or_default();
    let status = child.wait().map_err(|e| WhyError::Cargo {
        command: shown.clone(),
        message: e.to_string(),
    })?;
    if let Err(e) = read_out {
        return Err(WhyError::Cargo {
            command: shown,
            message: format!("reading its output: {e}"),
        });
    }

    let dirs = BuildDirs {
        workspace_root: Some(workspace_root.clone()),
        target_dir: Some(target_dir),
        build_dir: Some(build_dir.clone()),
        before: Some(before),
        record,
    };
    let report = match messages::parse(&stdout) {
        Ok(units) => explain_or_unknown(&stderr, &units, &dirs),
        Err(e) => Report {
            messages_error: Some(e.to_string()),
            ..Report::default()
        },
    };
    let mut record = dirs.record;
    record.update(&record::dep_info_inputs(&build_dir, &workspace_root));
    let record_error = record.save(&build_dir).err().map(|e| {
        format!(
            "could not write {}: {e}",
            build_dir.join(record::RECORD).display()
        )
    });
    Ok(Run {
        exit_code: status.code(),
        stdout,
        stderr,
        report,
        workspace_root,
        build_dir,
        record_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert!(is_cargo_status("   Compiling util v0.1.0 (/w/util)\n"));
        assert!(is_cargo_status("    Finished `dev` profile\n"));
        assert!(is_cargo_status("warning: unused variable\n"));
        assert!(!is_cargo_status("Caused by:\n"));
        assert!(!is_cargo_status(
            "    No such file or directory (os error 2)\n"
        ));
        assert!(!is_cargo_status("Stack backtrace:\n"));
        assert!(!is_cargo_status("   0: cargo_util::paths::read_bytes\n"));
        assert!(!is_cargo_status(
            "             at /rustc/x/library/core/src/ops/function.rs:287:21\n"
        ));
        assert!(!is_cargo_status("\n"));
    }

    #[test]
    fn flags() {
        let args: Vec<String> = [
            "build",
            "--target-dir=/t",
            "--manifest-path",
            "/w/Cargo.toml",
            "--",
            "--x",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(flag_value(&args, "--target-dir").as_deref(), Some("/t"));
        assert_eq!(
            flag_value(&args, "--manifest-path").as_deref(),
            Some("/w/Cargo.toml")
        );
        assert_eq!(flag_value(&args, "--x"), None);
    }
}
