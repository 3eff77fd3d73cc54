//! The `[build]` jobs setting as a doctor finding.

use serde_json::Value;

use super::findings::{Finding, Kind, Machine};
use crate::cargo_config::CargoConfig;
use crate::error::Error;
use crate::memory;

/// `[build] jobs` (or `CARGO_BUILD_JOBS`) above the machine's CPUs: that
/// many rustc processes share the cores, so the build is no faster, but
/// each holds its memory at once.
pub(super) fn too_many_jobs(
    cfg: &CargoConfig,
    machine: &Machine,
) -> Result<Option<Finding>, Error> {
    let Some(jobs) = cfg.jobs()? else {
        return Ok(None);
    };
    let cpus = machine.cpus;
    let n = jobs.count(cpus);
    if n <= cpus {
        return Ok(None);
    }
    let per_job = machine.mem_per_job_mib;
    Ok(Some(Finding {
        profile: "build".into(),
        key: "jobs".into(),
        value: Value::from(n),
        source: jobs.source,
        kind: Kind::NoChange,
        why: format!("jobs = {n} runs up to {n} rustc processes on {cpus} CPUs: they take turns on the cores, so the build is no faster, but all of them hold their memory at the same time; remove it (cargo runs one job per CPU) or set jobs = {cpus}"),
        cost: format!(
            "estimated (memory.rs: {} per ordinary job): peak memory up to {} with {n} jobs instead of {} with {cpus}",
            memory::gib(per_job),
            memory::gib(per_job * n),
            memory::gib(per_job * cpus)
        ),
        fix: None,
    }))
}
