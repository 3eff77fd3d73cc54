//! `cargo buildplan bench`: the command line of [`crate::bench`].

use std::path::Path;

use super::outcome::Outcome;
use crate::bench::{self, Options};
use crate::cli::BenchArgs;

/// Measures (or, with `--from-json`, only regenerates the outputs).
pub fn run(manifest_path: Option<&Path>, args: &BenchArgs) -> anyhow::Result<Outcome> {
    let options = Options {
        package: args.package.clone(),
        variant: args.variant.clone(),
        runs: args.runs,
        scenarios: args.scenarios.clone(),
        configs: args.configs.clone(),
        defines: args.define.clone(),
        against: args.against.clone(),
        force: args.force,
        unified: args.unified,
        dry_run: args.dry_run,
        skip: args.skip.clone(),
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        work_dir: args.work_dir.clone(),
        notes: args.note.clone(),
    };
    match &args.from_json {
        Some(from) => bench::regenerate(from, &options)?,
        None => {
            if !bench::run(manifest_path, &options)? {
                return Ok(Outcome::Failed);
            }
        }
    }
    Ok(Outcome::Success)
}
