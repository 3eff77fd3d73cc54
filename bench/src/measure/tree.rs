//! The measured process tree, from `/proc`: its processes' cheap
//! `status` counters (`VmRSS`, `VmHWM`) and, when due, their PSS.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// Shortest interval between two PSS walks (`smaps_rollup`).
const PSS_INTERVAL: Duration = Duration::from_millis(250);

/// One process of the measured tree, from its cheap `status` counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeProcess {
    /// Its pid.
    pub pid: u32,
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// `VmHWM` (its peak RSS so far), KiB.
    pub hwm_kib: u64,
}

/// Whether to walk the tree's PSS now: the first sample always (a short
/// command is seen once), then at most every `PSS_INTERVAL` (250 ms), and
/// only when the RSS sum exceeds the PSS peak so far (PSS <= RSS, so
/// otherwise the walk could not raise the peak).
pub fn pss_walk_due(tree: &[TreeProcess], peak_kib: u64, last: Option<Instant>) -> bool {
    match last {
        None => true,
        Some(t) => {
            t.elapsed() >= PSS_INTERVAL && tree.iter().map(|p| p.rss_kib).sum::<u64>() > peak_kib
        }
    }
}

/// The summed PSS of `tree` (`VmRSS` for a process without `smaps_rollup`),
/// KiB.
pub(super) fn pss_sum(tree: &[TreeProcess]) -> u64 {
    tree.iter()
        .map(|p| read_pss(p.pid).unwrap_or(p.rss_kib))
        .sum()
}

/// The processes of `root`'s tree (or, with a cgroup, of the cgroup), with
/// their `VmRSS` and `VmHWM`.
pub(super) fn sample_tree(root: u32, group: Option<&Path>) -> Vec<TreeProcess> {
    let in_group: Vec<u32> = group
        .and_then(|dir| std::fs::read_to_string(dir.join("cgroup.procs")).ok())
        .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default();
    // Until the wrapper shell has moved itself in, the cgroup is empty.
    let pids = if in_group.is_empty() {
        descendants(root)
    } else {
        in_group
    };
    pids.into_iter()
        .filter_map(|pid| {
            let (rss_kib, hwm_kib) = read_status(pid)?;
            Some(TreeProcess {
                pid,
                rss_kib,
                hwm_kib,
            })
        })
        .collect()
}

/// `Pss` in KiB from `/proc/<pid>/smaps_rollup`.
fn read_pss(pid: u32) -> Option<u64> {
    parse_pss(&std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?)
}

/// `Pss` in KiB from `smaps_rollup` text.
pub fn parse_pss(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `root` and every process below it, from `/proc/*/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| parse_ppid(&s))
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut seen = HashSet::from([root]);
    let mut order = vec![root];
    let mut i = 0;
    while i < order.len() {
        if let Some(kids) = children.get(&order[i]) {
            for &k in kids {
                if seen.insert(k) {
                    order.push(k);
                }
            }
        }
        i += 1;
    }
    order
}

/// The parent pid from `/proc/<pid>/stat` text (the command name, in
/// parentheses, may itself contain spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    fields.next()?; // state
    fields.next()?.parse().ok()
}

/// `(VmRSS, VmHWM)` in KiB from `/proc/<pid>/status`.
fn read_status(pid: u32) -> Option<(u64, u64)> {
    parse_status(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// `(VmRSS, VmHWM)` in KiB from status text; `None` for kernel threads and
/// zombies, which have neither.
pub fn parse_status(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let rss = field("VmRSS:")?;
    Some((rss, field("VmHWM:").unwrap_or(rss)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_survives_odd_command_names() {
        assert_eq!(parse_ppid("123 (cargo) S 77 123 123 0"), Some(77));
        assert_eq!(parse_ppid("9 (a) b (c)) R 4 9 9"), Some(4));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn pss_field() {
        let text = "5581-7fff ---p 00000000 00:00 0 [rollup]\nRss:  1784 kB\nPss:   237 kB\nPss_Anon:  116 kB\n";
        assert_eq!(parse_pss(text), Some(237));
        assert_eq!(parse_pss("Rss: 5 kB\n"), None);
    }

    #[test]
    fn status_fields() {
        let text = "Name:\trustc\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(parse_status(text), Some((102_400, 204_800)));
        assert_eq!(parse_status("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn pss_walks_are_rationed() {
        let tree = |rss: &[u64]| -> Vec<TreeProcess> {
            rss.iter()
                .enumerate()
                .map(|(i, &rss_kib)| TreeProcess {
                    pid: i as u32 + 1,
                    rss_kib,
                    hwm_kib: rss_kib,
                })
                .collect()
        };
        // The first sample always walks, even of a tiny tree.
        assert!(pss_walk_due(&tree(&[1]), 0, None));
        let long_ago = Instant::now() - PSS_INTERVAL * 2;
        // Due by time, and the RSS sum could hide a higher PSS: walk.
        assert!(pss_walk_due(&tree(&[600, 500]), 1000, Some(long_ago)));
        // PSS <= RSS: a tree whose RSS sum is at most the peak cannot raise it.
        assert!(!pss_walk_due(&tree(&[600, 400]), 1000, Some(long_ago)));
        // Not due yet, whatever the RSS.
        assert!(!pss_walk_due(&tree(&[6000]), 1000, Some(Instant::now())));
    }
}
