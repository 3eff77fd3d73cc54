//! Running one command and measuring it: wall time and peak memory of the
//! whole process tree, with a live progress line on stderr.
//!
//! Memory is measured three ways, because no single figure is both exact
//! and meaningful:
//!
//! - **process-tree PSS** (the headline figure): the proportional set sizes
//!   (`Pss` from `/proc/<pid>/smaps_rollup`, or `VmRSS` where that file is
//!   missing) of the command and all its descendants are summed, and the
//!   peak of the sum is reported. It is what the machine must hold at once
//!   (rustc jobs and the linker running in parallel). PSS rather than RSS,
//!   because every rustc maps the same large compiler library: summing RSS
//!   would count those shared pages once per process. Being sampled, it can
//!   miss a spike shorter than the interval.
//!
//!   Reading `smaps_rollup` walks the page tables of a process under its
//!   memory-map lock: done every 50 ms on a 2-core machine it took a fifth
//!   of a core and slowed the measured build. So the cheap `VmRSS` counters
//!   are read every 50 ms, and the PSS walk runs at most every 250 ms, and
//!   only when the RSS sum exceeds the peak found so far (PSS never exceeds
//!   RSS, so no walk is skipped that could have raised the peak).
//! - **largest process**: the highest `VmHWM` (the kernel's own per-process
//!   peak RSS, exact) among the processes seen. This is what `getrusage`'s
//!   `ru_maxrss` for the children would report: the max of one process, not
//!   the sum.
//! - **cgroup peak**, when a memory cgroup can be created (v2
//!   `memory.peak` or v1 `memory.max_usage_in_bytes`): exact, but it
//!   includes the page cache of every file the build writes, so for a build
//!   it partly measures the size of the artifacts written. Recorded in the
//!   results for reference, not used for the goals.

mod tree;

use std::collections::HashMap;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use buildplan::exec::CargoCommand;
use tree::{pss_sum, sample_tree};

pub use tree::{parse_ppid, parse_pss, parse_status, pss_walk_due, TreeProcess};

/// Interval of the cheap samples (exit, progress, `VmRSS`, `VmHWM`).
const SAMPLE_INTERVAL: Duration = Duration::from_millis(50);

/// One measured run of one command.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Wall-clock seconds from spawn to exit.
    pub wall_s: f64,
    /// Peak of the summed PSS of the process tree, MiB (sampled).
    pub tree_pss_mib: f64,
    /// Largest single-process peak RSS (`VmHWM`), MiB.
    pub max_process_rss_mib: f64,
    /// cgroup memory peak (includes page cache), MiB, when available.
    pub cgroup_peak_mib: Option<f64>,
    /// 1-minute load average when the run started (other work on the
    /// machine shows up here).
    pub load_avg_start: Option<f64>,
}

/// Where cgroup memory figures come from, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroup {
    /// A cgroup v2 directory whose children get `memory.peak`.
    V2(PathBuf),
    /// A cgroup v1 memory-controller directory.
    V1(PathBuf),
}

impl Cgroup {
    /// Finds a writable memory cgroup under this process's own cgroup, and
    /// checks that a child created there reports a peak.
    pub fn detect() -> Option<Self> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let mut candidates = Vec::new();
        for line in own.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_id), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let rel = path.trim_start_matches('/');
            if controllers.is_empty() {
                for base in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    candidates.push(Cgroup::V2(Path::new(base).join(rel)));
                }
            } else if controllers.split(',').any(|c| c == "memory") {
                candidates.push(Cgroup::V1(Path::new("/sys/fs/cgroup/memory").join(rel)));
            }
        }
        candidates.into_iter().find(|c| {
            let probe = c.child(&format!("buildplan-probe-{}", std::process::id()));
            let ok = std::fs::create_dir(&probe).is_ok() && probe.join(c.peak_file()).exists();
            let _ = std::fs::remove_dir(&probe);
            ok
        })
    }

    fn dir(&self) -> &Path {
        match self {
            Cgroup::V2(p) | Cgroup::V1(p) => p,
        }
    }

    fn child(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    fn peak_file(&self) -> &'static str {
        match self {
            Cgroup::V2(_) => "memory.peak",
            Cgroup::V1(_) => "memory.max_usage_in_bytes",
        }
    }

    /// For people and the results file.
    pub fn describe(&self) -> String {
        match self {
            Cgroup::V2(p) => format!("cgroup v2 memory.peak under {}", p.display()),
            Cgroup::V1(p) => format!("cgroup v1 memory.max_usage_in_bytes under {}", p.display()),
        }
    }
}

/// The label of the progress line.
#[derive(Debug, Clone)]
pub struct Label {
    /// Scenario name.
    pub scenario: String,
    /// Configuration name.
    pub config: String,
    /// What is running: `run 2/3` or `preparing: ...`.
    pub step: String,
}

/// Runs `cmd` to completion, measuring it. Output goes to `log` (appended),
/// standard output to `stdout` instead when given (cargo's JSON messages);
/// a failure is an error that quotes the end of the log.
pub fn run_measured(
    cmd: &CargoCommand,
    label: &Label,
    log: &Path,
    cgroup: Option<&Cgroup>,
    stdout: Option<&Path>,
) -> anyhow::Result<Sample> {
    let group = cgroup.and_then(|c| {
        let dir = c.child(&format!(
            "buildplan-bench-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir(&dir).ok().map(|_| dir)
    });
    let mut command = match &group {
        // The shell moves itself into the cgroup, then becomes cargo: every
        // descendant is accounted from the first instruction on.
        Some(dir) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("echo $$ > \"$0\" && exec \"$@\"")
                .arg(dir.join("cgroup.procs"))
                .arg(&cmd.program)
                .args(&cmd.args)
                .current_dir(&cmd.cwd);
            for key in &cmd.env_remove {
                c.env_remove(key);
            }
            c.envs(&cmd.env);
            c
        }
        None => cmd.to_command(),
    };
    let out = append_log(log, &format!("\n$ {}\n", cmd.shell_line()))?;
    let stdout = match stdout {
        Some(path) => File::create(path).with_context(|| format!("creating {}", path.display()))?,
        None => out.try_clone()?,
    };
    command.stdin(Stdio::null()).stdout(stdout).stderr(out);

    let progress = Progress::new(label);
    let load = load_average();
    let start = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    let root = child.id();
    let mut tree_peak_kib = 0u64;
    let mut last_walk: Option<Instant> = None;
    let mut hwm: HashMap<u32, u64> = HashMap::new();
    // Sample first, then check for exit: even a command that ends within
    // one interval is seen once.
    let status = loop {
        let tree = sample_tree(root, group.as_deref());
        if pss_walk_due(&tree, tree_peak_kib, last_walk) {
            tree_peak_kib = tree_peak_kib.max(pss_sum(&tree));
            last_walk = Some(Instant::now());
        }
        for p in &tree {
            let e = hwm.entry(p.pid).or_default();
            *e = (*e).max(p.hwm_kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        progress.tick(start.elapsed());
        std::thread::sleep(SAMPLE_INTERVAL);
    };
    let wall = start.elapsed();
    let cgroup_peak = group.as_ref().and_then(|dir| {
        let file = cgroup.map_or("memory.peak", Cgroup::peak_file);
        let bytes = std::fs::read_to_string(dir.join(file))
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(bytes as f64 / (1024.0 * 1024.0))
    });
    if let Some(dir) = &group {
        // Empty once every process in it has exited, which can lag the
        // command a little (mold's helper process outlives mold); a daemon
        // the command started would keep it, which is harmless.
        for _ in 0..20 {
            if std::fs::remove_dir(dir).is_ok() {
                break;
            }
            std::thread::sleep(SAMPLE_INTERVAL);
        }
    }
    progress.done(wall);
    if !status.success() {
        bail!(
            "`{}` failed ({status}); last lines of {}:\n{}",
            cmd.shell_line(),
            log.display(),
            tail(log, 25)
        );
    }
    let max_process = hwm.values().copied().max().unwrap_or(0);
    Ok(Sample {
        wall_s: wall.as_secs_f64(),
        tree_pss_mib: tree_peak_kib as f64 / 1024.0,
        max_process_rss_mib: max_process as f64 / 1024.0,
        cgroup_peak_mib: cgroup_peak,
        load_avg_start: load,
    })
}

/// Runs a preparation step (not measured), with the same progress line.
pub fn run_step(cmd: &CargoCommand, label: &Label, log: &Path) -> anyhow::Result<()> {
    run_measured(cmd, label, log, None, None).map(|_| ())
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Opens the benchmark log for appending and writes `header` to it.
pub(crate) fn append_log(log: &Path, header: &str) -> anyhow::Result<File> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    file.write_all(header.as_bytes())?;
    Ok(file)
}

fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The live progress line: redrawn in place on a terminal, one line per
/// start and end otherwise (logs, CI).
struct Progress {
    text: String,
    tty: bool,
    last: std::cell::Cell<Option<Instant>>,
}

impl Progress {
    fn new(label: &Label) -> Self {
        let text = format!(
            "bench: {:<12} {:<18} {}",
            label.scenario, label.config, label.step
        );
        let tty = std::io::stderr().is_terminal();
        if !tty {
            eprintln!("{text} ...");
        }
        Progress {
            text,
            tty,
            last: std::cell::Cell::new(None),
        }
    }

    fn tick(&self, elapsed: Duration) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .get()
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        self.last.set(Some(now));
        eprint!("\r\x1b[2K{}  {:>7.1}s", self.text, elapsed.as_secs_f64());
        let _ = std::io::stderr().flush();
    }

    fn done(&self, wall: Duration) {
        if self.tty {
            eprintln!("\r\x1b[2K{}  {:>7.2}s", self.text, wall.as_secs_f64());
        } else {
            eprintln!("{}  done in {:.2}s", self.text, wall.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_real_process_tree() {
        let dir = tempfile::tempdir().unwrap();
        // A shell whose child holds ~64 MiB for a moment: the tree's figure
        // must see it although the shell itself stays small.
        let cmd = CargoCommand {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                "head -c 67108864 /dev/zero | python3 -c 'import sys,time; d=sys.stdin.buffer.read(); time.sleep(0.8)'"
                    .into(),
            ],
            env: Default::default(),
            env_remove: vec![],
            cwd: dir.path().to_path_buf(),
        };
        let label = Label {
            scenario: "test".into(),
            config: "none".into(),
            step: "run 1/1".into(),
        };
        let log = dir.path().join("log");
        let s = run_measured(&cmd, &label, &log, None, None).unwrap();
        assert!(s.wall_s >= 0.8, "{s:?}");
        assert!(s.tree_pss_mib >= 60.0, "{s:?}");
        assert!(s.max_process_rss_mib >= 60.0, "{s:?}");

        let failing = CargoCommand {
            args: vec!["-c".into(), "echo boom; exit 3".into()],
            ..cmd
        };
        let err = run_measured(&failing, &label, &log, None, None).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
    }
}
