//! Runs a cargo build through [`buildplan::why`] and prints why each unit
//! compiled, until `cargo buildplan why` is wired into the command line:
//!
//! ```text
//! cargo run -q -p cargo-buildplan --example why -- [--fresh] [--json] <cargo args…>
//! ```
//!
//! e.g. `… --example why -- --fresh build --release -p chronik-server`.
//! `--fresh` applies the gate: exit 1 when a third-party crate compiled.
//! Exit 2 when cargo failed or could not run.

use std::process::ExitCode;

use buildplan::why::{self, RunOptions};

fn main() -> ExitCode {
    let mut fresh = false;
    let mut json = false;
    let mut args: Vec<String> = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--fresh" if args.is_empty() => fresh = true,
            "--json" if args.is_empty() => json = true,
            _ => args.push(a),
        }
    }
    if args.is_empty() {
        eprintln!("usage: why [--fresh] [--json] <cargo subcommand and arguments>");
        return ExitCode::from(2);
    }
    let opts = RunOptions {
        dir: std::env::current_dir().expect("a working directory"),
        args,
        echo: true,
        ..RunOptions::default()
    };
    let run = match why::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("why: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&run.report).expect("a report serialises")
        );
    } else {
        print!("{}", run.report);
    }
    if let Some(e) = &run.record_error {
        eprintln!("why: warning: {e}");
    }
    if !run.success() {
        eprintln!("why: cargo failed (exit {:?})", run.exit_code);
        return ExitCode::from(2);
    }
    if fresh {
        if let Err(f) = why::gate(&run.report) {
            eprintln!("why: {f}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
