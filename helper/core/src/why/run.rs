//! Running a verbose cargo build with JSON messages (and cargo's
//! fingerprint log as an optional extra).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::MetadataCommand;

use super::dirty;
use super::fingerprint;
use super::messages;
use super::record::{BuildDirs, SourceRecord, RECORD};
use super::report::{explain_or_unknown, Report};
use crate::error::Error;

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

/// Workspace root, target directory and build directory, from `cargo
/// metadata` (as the build will see them).
fn locate(opts: &RunOptions, program: &Path) -> Result<(PathBuf, PathBuf, PathBuf), Error> {
    let mut meta = MetadataCommand::new();
    meta.cargo_path(program).current_dir(&opts.dir).no_deps();
    if let Some(m) = flag_value(&opts.args, "--manifest-path") {
        meta.manifest_path(m);
    }
    let passthrough = ["--offline", "--frozen", "--locked"];
    let given = opts
        .args
        .iter()
        .filter(|a| passthrough.contains(&a.as_str()));
    meta.other_options(given.cloned().collect::<Vec<_>>());
    let mut cmd = meta.cargo_command();
    environment(&mut cmd, opts);
    let meta = MetadataCommand::parse(crate::exec::capture(&mut cmd)?)
        .map_err(|e| Error::invalid(format!("cargo metadata printed unexpected output: {e}")))?;
    let root = meta.workspace_root.into_std_path_buf();
    Ok(match flag_value(&opts.args, "--target-dir") {
        Some(t) => (root, opts.dir.join(&t), opts.dir.join(t)),
        None => {
            let target = meta.target_directory.into_std_path_buf();
            let build = meta.build_directory.map(|b| b.into_std_path_buf());
            (root, target.clone(), build.unwrap_or(target))
        }
    })
}

/// Runs the build of `opts` verbosely with JSON messages (and the
/// fingerprint log), and explains it. A failed build is still explained (the units compiled
/// before the failure); check [`Run::success`]. The content record in the
/// build directory is updated after the build.
pub fn run(opts: &RunOptions) -> Result<Run, Error> {
    let program = (opts.cargo.clone()).unwrap_or_else(|| crate::exec::cargo_program().into());
    let (workspace_root, target_dir, build_dir) = locate(opts, &program)?;
    let before = fingerprint::snapshot(&build_dir);
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
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::not_run(&program.display().to_string(), e))?;
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
    let failed = |e: std::io::Error| Error::invalid(format!("`cargo {}`: {e}", args.join(" ")));
    let status = child.wait().map_err(failed)?;
    read_out.map_err(failed)?;

    let dirs = BuildDirs {
        workspace_root: Some(workspace_root.clone()),
        target_dir: Some(target_dir),
        build_dir: Some(build_dir.clone()),
        before: Some(before),
        record,
    };
    let report = match messages::units(&stdout) {
        Ok(units) => explain_or_unknown(&stderr, &units, &dirs),
        Err(e) => Report {
            messages_error: Some(e.to_string()),
            ..Report::default()
        },
    };
    let mut record = dirs.record;
    let inputs = crate::dep_info::find(&build_dir, &workspace_root);
    record.update(inputs.into_iter().flat_map(|d| d.inputs));
    let record_error = record
        .save(&build_dir)
        .err()
        .map(|e| format!("could not write {}: {e}", build_dir.join(RECORD).display()));
    Ok(Run {
        exit_code: status.code(),
        stdout,
        stderr,
        report,
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
