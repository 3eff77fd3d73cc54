//! The findings: each setting of cargo's resolved profiles (and a `[build]
//! jobs` above the machine's CPUs) that costs build time or memory.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cargo_config::{CargoConfig, ResolvedProfile};
use crate::error::Error;
use crate::memory::{self, Drivers, Lto};
use crate::model::Setting;

/// Whether fixing a finding changes the shipped binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The fix leaves what the binary does unchanged (docs/helper-notes.md).
    NoChange,
    /// The fix changes the binary: a trade-off to weigh.
    TradeOff,
}

impl Kind {
    /// The kind in words, as printed.
    pub fn label(self) -> &'static str {
        match self {
            Kind::NoChange => "no runtime change",
            Kind::TradeOff => "trade-off",
        }
    }
}

/// A fix: one key of one profile table set to a new value.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// The key's path below `profile.<name>` (`["build-override", "opt-level"]`).
    pub key: Vec<String>,
    /// The value to write.
    pub value: toml::Value,
}

/// One setting that costs build time or memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The profile whose table sets it (`build` for `[build] jobs`).
    pub profile: String,
    /// The key, dotted below the profile (`build-override.opt-level`).
    pub key: String,
    /// Its value.
    pub value: Value,
    /// Where it comes from (`Cargo.toml`, `.cargo/config.toml`, `env:...`).
    pub source: String,
    /// Whether the fix changes the binary.
    pub kind: Kind,
    /// What it costs and why it buys nothing, in words.
    pub why: String,
    /// The estimated or measured cost.
    pub cost: String,
    /// The fix, when one key can express it.
    pub fix: Option<Fix>,
}

/// The machine and graph the costs are estimated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// CPUs this process may use.
    pub cpus: u64,
    /// Packages in the build graph (for the memory estimate).
    pub packages: u64,
    /// Memory one job is assumed to need, MiB (the policy's figure).
    pub mem_per_job_mib: u64,
}

/// The fix setting dotted `key` to `value`.
fn fix(key: &str, value: impl Into<toml::Value>) -> Option<Fix> {
    let key = key.split('.').map(str::to_string).collect();
    let value = value.into();
    Some(Fix { key, value })
}

fn is_false_or_zero(v: &Value) -> bool {
    matches!(v, Value::Bool(false)) || v.as_u64() == Some(0) || v.as_str() == Some("none")
}

/// The setting `pick` finds in `profile`, unless only inherited (same value and source).
fn own<'a>(
    profile: &'a ResolvedProfile,
    all: &'a BTreeMap<String, ResolvedProfile>,
    pick: impl Fn(&'a ResolvedProfile) -> Option<&'a Setting>,
) -> Option<&'a Setting> {
    let parent = profile.inherits.as_ref().and_then(|p| all.get(p));
    let mine = pick(profile)?;
    match parent.and_then(pick) {
        Some(up) if up.value == mine.value && up.source == mine.source => None,
        _ => Some(mine),
    }
}

/// Every finding in `cfg`'s profiles and jobs setting, on `machine`.
pub fn diagnose(cfg: &CargoConfig, machine: &Machine) -> Result<Vec<Finding>, Error> {
    let all = cfg.profiles()?;
    let mut out = Vec::new();
    for (name, p) in &all {
        let release =
            crate::model::root_profile(name, |n| all.get(n)?.inherits.as_deref()) == "release";
        let own_key = |key: &'static str| own(p, &all, move |r| r.settings.get(key));
        let mut push = |key: &str, s: &Setting, kind, why: String, cost: &str, fix| {
            out.push(Finding {
                profile: name.clone(),
                key: key.to_string(),
                value: s.value.clone(),
                source: s.source.clone(),
                kind,
                why,
                cost: cost.to_string(),
                fix,
            })
        };
        let opt_level = p.settings.get("opt-level");
        let optimised = opt_level.map_or(release, |s| !is_false_or_zero(&s.value));
        // Debug info that strip throws away.
        let strips = |s: &&Setting| {
            matches!(s.value, Value::Bool(true))
                || matches!(s.value.as_str(), Some("symbols" | "debuginfo"))
        };
        if let Some(strip) = p.settings.get("strip").filter(strips) {
            let debug = p.settings.get("debug");
            let wasted = debug.map_or(!release, |d| !is_false_or_zero(&d.value));
            let key = if debug.is_some() { "debug" } else { "strip" };
            if let Some(s) = own_key(key).filter(|_| wasted) {
                let default = " (debug is this profile's default, full debug info)";
                let default = debug.map_or(default, |_| "");
                let cost = if debug.is_none_or(|d| memory::is_full_debug(&d.value)) {
                    format!(
                        "estimated: every compile and link job writes full debug info (memory per job {} instead of {}: memory.rs's x1.5 for full debug info, assumed), and rustc and the linker spend time producing it",
                        memory::gib(memory::per_job_mib(true, machine.mem_per_job_mib)),
                        memory::gib(machine.mem_per_job_mib)
                    )
                } else {
                    "estimated: every compile and link job writes line tables (less than full debug info; not measured here) that strip then removes".to_string()
                };
                push(
                    key,
                    s,
                    Kind::NoChange,
                    format!("strip = {} removes the debug info from the binary, so generating it only costs time and memory; the shipped code stays the same except one load instruction rustc adds to main while debug info is on (its 34-byte .debug_gdb_scripts section, which strip keeps){default}", strip.value),
                    &cost,
                    fix("debug", 0),
                );
            }
        }
        // Incremental compilation in a release-like profile.
        if let Some(s) = own_key("incremental").filter(|s| release && s.value == Value::Bool(true))
        {
            push(
                "incremental",
                s,
                Kind::TradeOff,
                format!("incremental = {} in a profile inheriting release: every build writes the incremental cache, and the code is split into more units (usually slower code); it only pays off for repeated local rebuilds", s.value),
                "estimated: clean and CI builds write the incremental cache (extra time and disk, often as large as the target's objects); the binary can be slower",
                fix("incremental", false),
            );
        }
        // Many codegen units on few cores, or one.
        let units = own_key("codegen-units").filter(|_| optimised);
        match units.map(|s| (s, s.value.as_u64().unwrap_or(0))) {
            Some((s, units)) if units > 16 && machine.cpus <= 16 => push(
                "codegen-units",
                s,
                Kind::TradeOff,
                format!("codegen-units = {units} on a machine with {} CPUs: LLVM cannot run that many units at once, and each adds its own optimisation overhead", machine.cpus),
                "measured (BENCHMARKS.md, this repository's server, 2 cores, opt-level 2): clean build 331 s with 256 codegen units, 283 s with 16 (0.85x)",
                fix("codegen-units", 16),
            ),
            Some((s, 1)) => push(
                "codegen-units",
                s,
                Kind::TradeOff,
                "codegen-units = 1: LLVM optimises and generates each crate on one thread, so the largest crates (and the final binary crate, which nothing overlaps with) take as long as their slowest single pass; it buys a little runtime speed".into(),
                "measured on tansu, 2 cores (docs/field-tests.md): a clean build is not slower with one unit (cargo keeps the cores busy with whole crates), but every edit rebuilds the workspace crates on one thread each: a leaf edit of the binary took 161 s with one unit and thin LTO, 49 s with 16 units and no LTO; keep one unit for third-party packages (`package.\"*\".codegen-units = 1`)",
                fix("codegen-units", 16),
            ),
            _ => {}
        }
        // Fat LTO in the default release profile.
        let fat = |s: &&Setting| name == "release" && Lto::of(&s.value) == Lto::Fat;
        if let Some(s) = own_key("lto").filter(fat) {
            let final_step = |lto| {
                let d = Drivers {
                    lto,
                    codegen_units: 16,
                    full_debug: false,
                };
                let estimate = memory::estimate(&d, machine.packages, machine.mem_per_job_mib);
                memory::gib(estimate.final_step_mib)
            };
            push(
                "lto",
                s,
                Kind::TradeOff,
                format!("lto = {} in the default release profile: every `cargo build --release` optimises the whole program in one final rustc process", s.value),
                &format!(
                    "estimated (memory.rs) over {} packages: final step {} with fat LTO, {} with thin LTO; measured (BENCHMARKS.md, 2 cores): a fat-LTO release build took 532 s, 239 s of it in the final step at 7.6 GiB",
                    machine.packages,
                    final_step(Lto::Fat),
                    final_step(Lto::Thin)
                ),
                fix("lto", "thin"),
            );
        }
        // Optimised build scripts and proc-macros.
        let not_zero = |s: &&Setting| !is_false_or_zero(&s.value);
        if let Some(s) = own(p, &all, |r| r.build_override.get("opt-level")).filter(not_zero) {
            push(
                "build-override.opt-level",
                s,
                Kind::NoChange,
                "build scripts and proc-macros run at build time only; what they generate does not depend on their opt-level, so the binary is the same file".into(),
                "estimated: every build script, proc-macro and their dependencies (syn, quote, ...) are optimised before anything that needs them can compile, on the critical path of a clean build",
                fix("build-override.opt-level", 0),
            );
        }
        let star = own(p, &all, |r| r.package.get("*")?.get("opt-level"));
        if let Some(s) = star.filter(not_zero) {
            push(
                "package.\"*\".opt-level",
                s,
                Kind::TradeOff,
                "package.\"*\" also optimises build scripts, proc-macros and their dependencies: cargo ranks it above build-override, so build-override.opt-level = 0 cannot undo it; name the heavy proc-macro crates instead, e.g. [profile.NAME.package.syn] opt-level = 0".into(),
                "estimated: proc-macro crates (syn and the like) are optimised on the critical path; dependencies' runtime speed is what you keep",
                None,
            );
        }
    }
    // `[build] jobs` (or `CARGO_BUILD_JOBS`) above the CPUs: the jobs take
    // turns on the cores, so the build is no faster, but each holds its memory.
    let (cpus, per_job) = (machine.cpus, machine.mem_per_job_mib);
    let jobs = cfg.jobs()?.map(|j| (j.count(cpus), j));
    if let Some((n, jobs)) = jobs.filter(|(n, _)| *n > cpus) {
        out.push(Finding {
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
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cargo_config::Inputs;

    fn diagnose_manifest(profiles: &str, cpus: u64) -> Vec<Finding> {
        let table: toml::Table = profiles.parse().unwrap();
        let inputs = Inputs {
            workspace_root: "/nonexistent-ws".into(),
            manifest_profiles: table.get("profile").and_then(|p| p.as_table()).cloned(),
            cargo_home: Some("/nonexistent-home".into()),
            workspace_only: true,
            ..Inputs::default()
        };
        let cfg = crate::cargo_config::load(&inputs).unwrap();
        let machine = Machine {
            cpus,
            packages: 400,
            mem_per_job_mib: 1536,
        };
        diagnose(&cfg, &machine).unwrap()
    }

    fn keys(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{}.{}:{}", f.profile, f.key, f.kind.label()))
            .collect()
    }

    #[test]
    fn each_setting_once_at_the_profile_that_sets_it() {
        let found = diagnose_manifest(
            "[profile.release]\ndebug = true\nstrip = \"debuginfo\"\nlto = \"fat\"\ncodegen-units = 256\n\
             [profile.dist]\ninherits = \"release\"\nincremental = true\n",
            2,
        );
        assert_eq!(
            keys(&found),
            [
                "dist.incremental:trade-off",
                "release.debug:no runtime change",
                "release.codegen-units:trade-off",
                "release.lto:trade-off",
            ]
        );
        let lto = &found[3];
        assert_eq!(lto.source, "Cargo.toml");
        assert!(lto.cost.contains("over 400 packages"), "{}", lto.cost);
        assert_eq!(
            lto.fix.as_ref().unwrap().value,
            toml::Value::String("thin".into())
        );
        assert!(
            found[1].cost.contains("2.2 GiB instead of 1.5 GiB"),
            "{}",
            found[1].cost
        );
    }

    #[test]
    fn nothing_without_a_cost() {
        // strip without debug info, fat LTO outside `release`, 256 units at
        // opt-level 0 or on a big machine, build scripts at opt-level 0.
        let quiet = "[profile.release]\nstrip = true\ncodegen-units = 256\n\
                     [profile.release.build-override]\nopt-level = 0\n\
                     [profile.fat]\ninherits = \"release\"\nlto = true\n\
                     [profile.dev]\ncodegen-units = 256\n";
        assert!(diagnose_manifest(quiet, 64).is_empty());
        let found = diagnose_manifest(quiet, 2);
        assert_eq!(keys(&found), ["release.codegen-units:trade-off"]);
    }

    #[test]
    fn one_codegen_unit_in_an_optimised_profile_is_a_trade_off() {
        // tansu's release (thin LTO, one unit) had no finding before this.
        let found = diagnose_manifest(
            "[profile.release]\nlto = \"thin\"\ncodegen-units = 1\n[profile.dev]\ncodegen-units = 1\n",
            2,
        );
        assert_eq!(keys(&found), ["release.codegen-units:trade-off"]);
        assert_eq!(
            found[0].fix.as_ref().unwrap().value,
            toml::Value::Integer(16)
        );
    }

    #[test]
    fn strip_in_dev_wastes_its_default_debug_info() {
        let found = diagnose_manifest("[profile.dev]\nstrip = true\n", 2);
        assert_eq!(keys(&found), ["dev.strip:no runtime change"]);
        assert_eq!(found[0].fix.as_ref().unwrap().key, ["debug"]);
    }

    #[test]
    fn build_scripts_and_the_star_package() {
        let found = diagnose_manifest(
            "[profile.release.build-override]\nopt-level = 3\n[profile.dev.package.\"*\"]\nopt-level = 2\n",
            2,
        );
        assert_eq!(
            keys(&found),
            [
                "dev.package.\"*\".opt-level:trade-off",
                "release.build-override.opt-level:no runtime change",
            ]
        );
        assert!(found[0].fix.is_none());
    }
}
