//! Prints the cargo prefix a reproducible build of a workspace adds, from
//! [`buildplan::repro`], until `cargo buildplan build` grows a flag for it:
//!
//! ```text
//! cargo run -q -p cargo-buildplan --example repro-flags -- <workspace dir> [--target-dir DIR] [--target TRIPLE]
//! ```
//!
//! prints one shell line, `env SOURCE_DATE_EPOCH=… cargo --config '…'`,
//! to which the cargo subcommand is appended, e.g.
//! `eval "$(… --example repro-flags -- /src) build --release"`. The user's
//! environment decides where the flags go (see `repro::detect_user_rustflags`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use buildplan::repro::{self, BuildId, ReproSettings};

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("repro-flags: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut target_dir = None;
    let mut triple = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--target-dir" => {
                target_dir = Some(PathBuf::from(
                    args.next().ok_or("--target-dir needs a value")?,
                ))
            }
            "--target" => triple = Some(args.next().ok_or("--target needs a value")?),
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument `{a}`").into()),
        }
    }
    let dir =
        dir.ok_or("usage: repro-flags <workspace dir> [--target-dir DIR] [--target TRIPLE]")?;
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&dir)
        .output()?;
    if !out.status.success() {
        return Err(format!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let get = |k: &str| {
        meta[k]
            .as_str()
            .map(PathBuf::from)
            .ok_or(format!("no {k} in cargo metadata"))
    };
    let root = get("workspace_root")?;
    let (target, build) = match target_dir {
        Some(t) => (t.clone(), t),
        None => (get("target_directory")?, get("build_directory")?),
    };
    let inputs = repro::discover(&root, &target, Some(&build))?;
    let settings = ReproSettings::new(&inputs, BuildId::LinkerDefault);
    let triple = match triple {
        Some(t) => t,
        None => repro::host_triple()?,
    };
    let cfgs = repro::target_cfgs(Some(&triple))?;
    let user = repro::detect_user_rustflags(
        &dir,
        repro::cargo_home().as_deref(),
        &|k| std::env::var(k).ok(),
        &triple,
        &cfgs,
    )?;
    let sde = std::env::var("SOURCE_DATE_EPOCH").ok();
    let rendered = settings.render(&user, &triple, sde.as_deref())?;
    let mut words = vec!["env".to_string()];
    words.extend(rendered.env.iter().map(|(k, v)| format!("{k}={v}")));
    words.push("cargo".into());
    words.extend(rendered.args());
    Ok(shlex::try_join(words.iter().map(String::as_str))?)
}
