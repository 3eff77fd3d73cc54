//! Running a verbose cargo build with JSON messages (and cargo's
//! fingerprint log as an optional extra), and explaining it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::MetadataCommand;

use super::record::{BuildDirs, RECORD};
use super::report::{explain_or_unknown, Report};
use super::{dirty, fingerprint, messages};
use crate::error::Error;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The cargo program (`$CARGO` or `cargo` when `None`).
    pub cargo: Option<PathBuf>,
    /// The directory cargo runs in.
    pub dir: PathBuf,
    /// cargo's arguments (`["build", "--release"]`); `-v` and a JSON
    /// `--message-format` are added unless given.
    pub args: Vec<String>,
    /// Extra environment for cargo.
    pub env: Vec<(String, String)>,
    /// Environment variables cargo must not inherit.
    pub env_remove: Vec<String>,
    /// Echo cargo's standard error (not the log, nor the added `-v`'s).
    pub echo: bool,
}

/// One build and its explanation.
#[derive(Debug, Clone)]
pub struct Run {
    /// Whether cargo succeeded.
    pub success: bool,
    /// cargo's standard output (the JSON messages).
    pub stdout: String,
    /// cargo's standard error (its `Dirty` lines, status and fingerprint log).
    pub stderr: String,
    /// Why each compiled unit was compiled.
    pub report: Report,
    /// Set when the content record could not be written.
    pub record_error: Option<String>,
}

/// A line cargo prints for people: a status (`   Compiling x`), a `warning` or an `error`.
fn is_cargo_status(line: &str) -> bool {
    let status = line.get(..12).map(str::trim_start).unwrap_or_default();
    let word = status.starts_with(|c: char| c.is_ascii_uppercase())
        && status.chars().all(|c| c.is_ascii_alphabetic());
    (word && line[12..].starts_with(' '))
        || line.starts_with("warning")
        || line.starts_with("error")
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
    let mut it = args.iter().take_while(|a| *a != "--");
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(&eq) {
            return Some(v.to_string());
        }
    }
    None
}

/// The build's directories, from `cargo metadata` as the build will see them.
fn locate(opts: &RunOptions, program: &Path) -> Result<BuildDirs, Error> {
    let mut meta = MetadataCommand::new();
    meta.cargo_path(program).current_dir(&opts.dir).no_deps();
    if let Some(m) = flag_value(&opts.args, "--manifest-path") {
        meta.manifest_path(m);
    }
    let passthrough = ["--offline", "--frozen", "--locked"].map(String::from);
    let given: Vec<String> = passthrough
        .into_iter()
        .filter(|a| opts.args.contains(a))
        .collect();
    meta.other_options(given);
    let mut cmd = meta.cargo_command();
    environment(&mut cmd, opts);
    let meta = MetadataCommand::parse(crate::exec::capture(&mut cmd)?)
        .map_err(|e| Error::invalid(format!("cargo metadata printed unexpected output: {e}")))?;
    let target_dir = flag_value(&opts.args, "--target-dir").map(|t| opts.dir.join(t));
    Ok(BuildDirs::new(meta, target_dir))
}

/// cargo's standard error from `pipe`, echoed when `echo` but for the log and the added `-v`'s.
fn read_stderr(pipe: impl Read, echo: bool, added_v: bool) -> String {
    let mut text = String::new();
    // After an `err:` line cargo prints the error's cause chain and, with
    // RUST_BACKTRACE set, a backtrace: part of the log, not echoed.
    let mut in_error = false;
    for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line) + "\n";
        let log = dirty::log_message(&line).is_some();
        in_error =
            (log && line.contains(" err: ")) || (!log && in_error && !is_cargo_status(&line));
        let t = line.trim_start();
        let ours = added_v && (t.starts_with("Running `") || t.starts_with("Fresh "));
        if echo && !log && !in_error && !ours {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        text.push_str(&line);
    }
    text
}

/// Runs the build of `opts` (see [`Run::success`]), explains it and updates the content record.
pub fn run(opts: &RunOptions) -> Result<Run, Error> {
    let program = opts
        .cargo
        .clone()
        .unwrap_or_else(|| crate::exec::cargo_program().into());
    let mut dirs = locate(opts, &program)?;
    let build_dir = dirs.build_dir.clone().unwrap_or_default();
    dirs.before = Some(fingerprint::snapshot(&build_dir));

    let mut args = opts.args.clone();
    // Before a `--` that passes arguments on to a test binary.
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let verbose = |a: &String| {
        let v = a.strip_prefix('-').unwrap_or_default();
        a == "--verbose" || (!v.is_empty() && v.bytes().all(|b| b == b'v'))
    };
    let added_v = !args[..end].iter().any(verbose);
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
    let log = dirty::LOG_MODULES.map(|m| format!("{m}=info")).join(",");
    cmd.env("CARGO_LOG", log)
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::not_run(&program.display().to_string(), e))?;
    let (stdout_pipe, stderr_pipe) = (child.stdout.take(), child.stderr.take());
    let echo = opts.echo;
    let err_thread = std::thread::spawn(move || read_stderr(stderr_pipe.unwrap(), echo, added_v));
    let mut stdout = String::new();
    let read_out = stdout_pipe.unwrap().read_to_string(&mut stdout);
    let stderr = err_thread.join().unwrap_or_default();
    let failed = |e: std::io::Error| Error::invalid(format!("`cargo {}`: {e}", args.join(" ")));
    let status = child.wait().map_err(failed)?;
    read_out.map_err(failed)?;

    let report = match messages::units(&stdout) {
        Ok(units) => explain_or_unknown(&stderr, &units, &dirs),
        Err(e) => Report {
            messages_error: Some(e.to_string()),
            ..Report::default()
        },
    };
    let root = dirs.workspace_root.unwrap_or_default();
    let inputs = crate::dep_info::find(&build_dir, &root);
    dirs.record
        .update(inputs.into_iter().flat_map(|d| d.inputs));
    let record = build_dir.join(RECORD);
    let text = serde_json::to_string(&dirs.record).map_err(anyhow::Error::from);
    let written = text.and_then(|text| crate::output::write_atomic(&record, &text));
    let record_error =
        (written.err()).map(|e| format!("could not write {}: {e:#}", record.display()));
    Ok(Run {
        success: status.success(),
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
