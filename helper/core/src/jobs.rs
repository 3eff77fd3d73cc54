//! The number of parallel jobs of a build: the user's choice where there is
//! one (`-j`/`--jobs`, `CARGO_BUILD_JOBS`, `[build] jobs` in cargo's config
//! files, in cargo's order of precedence), only ever lowered by the memory
//! cap, and said so; otherwise the memory cap itself, at most one job per CPU.
//!
//! The environment's and config files' setting comes from
//! [`crate::cargo_config::CargoConfig::jobs`]; `-j` is read here.

use crate::error::Error;

/// A jobs setting the user chose, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserJobs {
    /// The number of jobs it means on this machine (negative settings
    /// count down from the CPUs, as cargo does; `"default"` is the CPUs).
    pub jobs: u64,
    /// Where it was set, for messages: `-j on the command line`,
    /// `CARGO_BUILD_JOBS`, or a config file path.
    pub source: String,
}

/// What the build does about jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsDecision {
    /// The `--jobs` value to pass, or `None` to leave the user's setting
    /// (or cargo's default) in force.
    pub pass: Option<u64>,
    /// Whether a `-j`/`--jobs` in the user's extra arguments must be
    /// removed (because `pass` replaces it).
    pub drop_user_flag: bool,
    /// One line for people.
    pub note: String,
}

/// Reads a jobs value (`4`, `-1`, `"default"`) as cargo does.
pub fn parse_jobs(value: &str, cpus: u64) -> Option<u64> {
    let value = value.trim().trim_matches('"');
    if value == "default" {
        return Some(cpus.max(1));
    }
    let n: i64 = value.parse().ok()?;
    match n {
        0 => None,
        n if n > 0 => Some(n as u64),
        n => Some((cpus as i64 + n).max(1) as u64),
    }
}

/// The jobs value in cargo arguments (`-j N`, `-jN`, `--jobs N`,
/// `--jobs=N`), if any. An unreadable value is an error.
pub fn from_args(args: &[String], cpus: u64) -> Result<Option<UserJobs>, Error> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let value = if arg == "-j" || arg == "--jobs" {
            i += 1;
            args.get(i).cloned()
        } else if let Some(v) = arg.strip_prefix("--jobs=") {
            Some(v.to_string())
        } else {
            arg.strip_prefix("-j")
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(value) = value {
            let jobs = parse_jobs(&value, cpus).ok_or_else(|| {
                Error::invalid(format!("`{arg}`: `{value}` is not a number of jobs"))
            })?;
            found = Some(UserJobs {
                jobs,
                source: "-j on the command line".into(),
            });
        }
        i += 1;
    }
    Ok(found)
}

/// Removes every `-j`/`--jobs` (and its value) from cargo arguments.
pub fn strip_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if skip_next {
            skip_next = false;
            continue;
        }
        if arg == "-j" || arg == "--jobs" {
            skip_next = true;
        } else if !(arg.starts_with("--jobs=") || (arg.starts_with("-j") && arg.len() > 2)) {
            out.push(arg.clone());
        }
    }
    out
}

/// Decides the jobs: the user's choice, lowered only by the memory cap
/// (`available_mib / per_job_mib`, at least 1); without a choice, the
/// memory cap at most one job per CPU. With the available memory unknown,
/// nothing is capped.
pub fn decide(
    user: Option<&UserJobs>,
    available_mib: Option<u64>,
    per_job_mib: u64,
    cpus: u64,
) -> JobsDecision {
    let memory_cap = available_mib.map(|a| (a / per_job_mib.max(1)).max(1));
    let why = |cap: u64| {
        format!(
            "MemAvailable {} MiB / {per_job_mib} MiB per job = {cap}",
            available_mib.unwrap_or(0)
        )
    };
    match (user, memory_cap) {
        (Some(u), Some(cap)) if cap < u.jobs => JobsDecision {
            pass: Some(cap),
            drop_user_flag: true,
            note: format!(
                "jobs: --jobs {cap}, lowered from {} ({}) by the memory cap ({})",
                u.jobs,
                u.source,
                why(cap)
            ),
        },
        (Some(u), cap) => JobsDecision {
            pass: None,
            drop_user_flag: false,
            note: format!(
                "jobs: {} as set by {}{}",
                u.jobs,
                u.source,
                cap.map_or(" (MemAvailable unknown, not capped)".into(), |c| format!(
                    ", within the memory cap ({})",
                    why(c)
                ))
            ),
        },
        (None, Some(cap)) => {
            let n = cap.min(cpus.max(1));
            JobsDecision {
                pass: Some(n),
                drop_user_flag: false,
                note: format!("jobs: --jobs {n} ({}, at most {} CPUs)", why(cap), cpus),
            }
        }
        (None, None) => JobsDecision {
            pass: None,
            drop_user_flag: false,
            note: "jobs: cargo's default (MemAvailable unknown, no cap)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_read_as_cargo_reads_them() {
        assert_eq!(parse_jobs("4", 2), Some(4));
        assert_eq!(parse_jobs("-1", 8), Some(7));
        assert_eq!(parse_jobs("-9", 8), Some(1));
        assert_eq!(parse_jobs("\"default\"", 8), Some(8));
        assert_eq!(parse_jobs("0", 8), None);
        assert_eq!(parse_jobs("many", 8), None);
    }

    #[test]
    fn command_line_jobs_are_found_and_stripped() {
        for args in [
            &["-j", "3"][..],
            &["-j3"][..],
            &["--jobs", "3"][..],
            &["--locked", "--jobs=3"][..],
        ] {
            let found = from_args(&strings(args), 8).unwrap().unwrap();
            assert_eq!(found.jobs, 3, "{args:?}");
            assert!(!strip_args(&strings(args))
                .iter()
                .any(|a| a.starts_with("-j") || a.starts_with("--jobs")));
        }
        assert_eq!(from_args(&strings(&["--locked"]), 8).unwrap(), None);
        assert_eq!(
            strip_args(&strings(&["--locked", "-j", "3", "-v"])),
            ["--locked", "-v"]
        );
        let err = from_args(&strings(&["-jx"]), 8).unwrap_err();
        assert!(err.to_string().contains("not a number of jobs"), "{err}");
    }

    #[test]
    fn the_users_choice_is_only_lowered_by_memory() {
        let user = UserJobs {
            jobs: 6,
            source: "CARGO_BUILD_JOBS".into(),
        };
        // Enough memory: honoured as is, even above the CPU count.
        let d = decide(Some(&user), Some(16_000), 1536, 2);
        assert_eq!((d.pass, d.drop_user_flag), (None, false));
        assert!(
            d.note.contains("6 as set by CARGO_BUILD_JOBS"),
            "{}",
            d.note
        );
        // Too little: lowered, and said so.
        let d = decide(Some(&user), Some(4_000), 1536, 2);
        assert_eq!((d.pass, d.drop_user_flag), (Some(2), true));
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
