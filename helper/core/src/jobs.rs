//! The number of parallel jobs of a build: the user's choice, only ever
//! lowered by the memory cap; else the cap, at most one job per CPU.

use crate::error::Error;

/// A jobs value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsValue {
    /// A number: positive is the count, negative is "all cores minus".
    Count(i64),
    /// `"default"`: as many as there are cores.
    Default,
}

impl JobsValue {
    /// Reads `4`, `-1`, `default` or `"default"` as cargo does; not 0.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().trim_matches('"') {
            "default" => Some(JobsValue::Default),
            t => t.parse().ok().filter(|n| *n != 0).map(JobsValue::Count),
        }
    }
}

/// A jobs setting the user chose, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jobs {
    /// The value.
    pub value: JobsValue,
    /// Where it was set: `-j on the command line`, `env:VAR`, a config file.
    pub source: String,
}

impl Jobs {
    /// The number of jobs this means with `cpus` CPUs (at least 1).
    pub fn count(&self, cpus: u64) -> u64 {
        let cpus = i64::try_from(cpus).unwrap_or(i64::MAX);
        let n = match self.value {
            JobsValue::Default => cpus,
            JobsValue::Count(n) if n < 0 => cpus + n,
            JobsValue::Count(n) => n,
        };
        n.max(1) as u64
    }

    /// Where it was set, for messages.
    fn label(&self) -> String {
        let s = &self.source;
        match s.strip_prefix("env:") {
            Some(var) => var.to_string(),
            None if s.starts_with("--config") || s.starts_with("-j") => s.clone(),
            None => format!("[build] jobs in {s}"),
        }
    }
}

/// What the build does about jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsDecision {
    /// The `--jobs` value to pass, or `None` to leave the user's or cargo's.
    pub pass: Option<u64>,
    /// One line for people.
    pub note: String,
}

/// The last `-j`/`--jobs` value in cargo arguments, and the rest of them.
pub fn from_args(args: &[String]) -> Result<(Option<Jobs>, Vec<String>), Error> {
    let (mut found, mut rest) = (None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-j" | "--jobs" => args.next().cloned(),
            a => a
                .strip_prefix("--jobs=")
                .or(a.strip_prefix("-j").filter(|v| !v.is_empty()))
                .map(str::to_string),
        };
        let Some(value) = value else {
            rest.push(arg.clone());
            continue;
        };
        let bad = || Error::invalid(format!("`{arg}`: `{value}` is not a number of jobs"));
        let value = JobsValue::parse(&value).ok_or_else(bad)?;
        let source = "-j on the command line".into();
        found = Some(Jobs { value, source });
    }
    Ok((found, rest))
}

/// Decides the jobs from the user's choice and the memory cap.
pub fn decide(
    user: Option<&Jobs>,
    available_mib: Option<u64>,
    per_job_mib: u64,
    cpus: u64,
) -> JobsDecision {
    let cap = available_mib.map(|a| {
        let cap = (a / per_job_mib.max(1)).max(1);
        let why = format!("MemAvailable {a} MiB / {per_job_mib} MiB per job = {cap}");
        (cap, why)
    });
    let (pass, note) = match (user.map(|u| (u.count(cpus), u.label())), cap) {
        (Some((jobs, from)), Some((cap, why))) if cap < jobs => (
            Some(cap),
            format!("jobs: --jobs {cap}, lowered from {jobs} ({from}) by the memory cap ({why})"),
        ),
        (Some((jobs, from)), Some((_, why))) => (
            None,
            format!("jobs: {jobs} as set by {from}, within the memory cap ({why})"),
        ),
        (Some((jobs, from)), None) => (
            None,
            format!("jobs: {jobs} as set by {from} (MemAvailable unknown, not capped)"),
        ),
        (None, Some((cap, why))) => {
            let n = cap.min(cpus.max(1));
            let note = format!("jobs: --jobs {n} ({why}, at most {cpus} CPUs)");
            (Some(n), note)
        }
        (None, None) => {
            let note = "jobs: cargo's default (MemAvailable unknown, no cap)";
            (None, note.into())
        }
    };
    JobsDecision { pass, note }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_read_as_cargo_reads_them() {
        let count = |text: &str, cpus| {
            JobsValue::parse(text).map(|value| {
                Jobs {
                    value,
                    source: String::new(),
                }
                .count(cpus)
            })
        };
        assert_eq!(count("4", 2), Some(4));
        assert_eq!(count("-1", 8), Some(7));
        assert_eq!(count("-9", 8), Some(1));
        assert_eq!(count("\"default\"", 8), Some(8));
        assert_eq!(count("0", 8), None);
        assert_eq!(count("many", 8), None);
    }

    #[test]
    fn command_line_jobs_are_found_and_stripped() {
        for args in [
            &["-j", "3"][..],
            &["-j3"][..],
            &["--jobs", "3"][..],
            &["--locked", "--jobs=3"][..],
        ] {
            let (found, rest) = from_args(&strings(args)).unwrap();
            assert_eq!(found.unwrap().value, JobsValue::Count(3), "{args:?}");
            assert!(!rest
                .iter()
                .any(|a| a.starts_with("-j") || a.starts_with("--jobs")));
        }
        assert_eq!(from_args(&strings(&["--locked"])).unwrap().0, None);
        assert_eq!(
            from_args(&strings(&["--locked", "-j", "3", "-v"]))
                .unwrap()
                .1,
            ["--locked", "-v"]
        );
        let err = from_args(&strings(&["-jx"])).unwrap_err();
        assert!(err.to_string().contains("not a number of jobs"), "{err}");
    }

    #[test]
    fn the_users_choice_is_only_lowered_by_memory() {
        let user = Jobs {
            value: JobsValue::Count(6),
            source: "env:CARGO_BUILD_JOBS".into(),
        };
        // Enough memory: honoured as is, even above the CPU count.
        let d = decide(Some(&user), Some(16_000), 1536, 2);
        assert_eq!(d.pass, None);
        assert!(
            d.note.contains("6 as set by CARGO_BUILD_JOBS"),
            "{}",
            d.note
        );
        // Too little: lowered, and said so.
        let d = decide(Some(&user), Some(4_000), 1536, 2);
        assert_eq!(d.pass, Some(2));
        assert!(
            d.note
                .contains("lowered from 6 (CARGO_BUILD_JOBS) by the memory cap"),
            "{}",
            d.note
        );
        // No choice: the memory cap, at most one job per CPU.
        assert_eq!(decide(None, Some(16_000), 1536, 2).pass, Some(2));
        assert_eq!(decide(None, Some(1_000), 1536, 8).pass, Some(1));
        assert_eq!(decide(None, None, 1536, 8).pass, None);
        assert_eq!(decide(Some(&user), None, 1536, 8).pass, None);
    }
}
