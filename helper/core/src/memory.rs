//! How much memory a build with one profile needs, estimated from what
//! drives it: the kind of LTO over the size of the dependency graph, one
//! codegen unit, full debug info, and the memory of an ordinary compile job.
//!
//! Two figures matter. An ordinary job (one rustc compiling one crate, or
//! a link) needs about the plan's `mem_per_job_mib`, more with full debug
//! info; the job cap divides the available memory by it. The **final step**
//! (the rustc that compiles, LTO-optimises and links the root binary) is
//! one process whose memory grows with the whole program under fat LTO,
//! and it runs when everything else is done: if it does not fit the
//! machine, the build cannot succeed, whatever the job count.
//!
//! The figures below rest on the measurements in `docs/helper-notes.md`.
//!
//! Per package of the graph, the estimate uses: 32 MiB for fat LTO with
//! full debug info ([`FAT_LTO_FULL_DEBUG_MIB_PER_PACKAGE`], above every
//! measurement, because the estimate decides a refusal and the field figure
//! is a lower bound), 10 MiB for fat LTO without it, and 4 MiB for thin
//! LTO's final step. Not measured, and therefore called assumptions in
//! every message: full debug info or one codegen unit multiplying the other
//! steps by 1.5.

use serde_json::Value;

use crate::error::Error;
use crate::exec::Machine;
use crate::model::{Plan, Setting, Settings};

/// Fat LTO with full debug info: MiB per package of the graph (calibrated).
pub const FAT_LTO_FULL_DEBUG_MIB_PER_PACKAGE: u64 = 32;
/// Fat LTO without full debug info: MiB per package (calibrated: 8.3
/// measured).
pub const FAT_LTO_MIB_PER_PACKAGE: u64 = 10;
/// Thin LTO's final step: MiB per package (calibrated: 3.2 measured).
pub const THIN_LTO_MIB_PER_PACKAGE: u64 = 4;
/// A final step above this is "heavy" (it needs more than a few jobs' worth).
pub const HEAVY_MIB: u64 = 4096;
/// A final step above this is "extreme" (fat LTO over a large graph).
pub const EXTREME_MIB: u64 = 12 * 1024;

/// The LTO kind of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lto {
    /// No cross-crate LTO (`false`, `"off"`, cargo's default).
    None,
    /// ThinLTO across the whole program (`"thin"`).
    Thin,
    /// Fat LTO: the whole program in one LLVM module (`true`, `"fat"`).
    Fat,
}

/// How a profile is classed by its final step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemoryClass {
    /// The final step fits in about an ordinary job's memory.
    Light,
    /// The final step needs several GiB.
    Heavy,
    /// The final step needs more than [`EXTREME_MIB`].
    Extreme,
}

impl MemoryClass {
    /// The class's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            MemoryClass::Light => "light",
            MemoryClass::Heavy => "heavy",
            MemoryClass::Extreme => "extreme",
        }
    }
}

/// The settings of a profile that drive memory, with cargo's defaults
/// filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drivers {
    /// The LTO kind.
    pub lto: Lto,
    /// Codegen units of the root package.
    pub codegen_units: u64,
    /// Whether the root package gets full debug info (`debug = true`, 2,
    /// `"full"`; cargo's default for `dev`).
    pub full_debug: bool,
}

impl Drivers {
    /// Reads them from `plan`'s profile `profile`, as `package` (the root
    /// being built) gets them: its per-package override first, then the
    /// profile's, then cargo's default for the profile's root (`dev` or
    /// `release`). `None` when the profile is unknown.
    pub fn of(plan: &Plan, profile: &str, package: &str) -> Option<Self> {
        let p = plan.profiles.get(profile)?;
        let release = plan.root_profile(profile) == "release";
        let own = p.package.get(package);
        fn pick<'a>(s: &'a Settings, key: &str) -> Option<&'a Value> {
            s.get(key).map(|s: &Setting| &s.value)
        }
        let get = |key: &str| -> Option<&Value> {
            own.and_then(|o| pick(o, key))
                .or_else(|| pick(&p.settings, key))
        };
        let lto = match get("lto") {
            Some(Value::Bool(true)) => Lto::Fat,
            Some(Value::String(s)) if s == "fat" => Lto::Fat,
            Some(Value::String(s)) if s == "thin" => Lto::Thin,
            _ => Lto::None,
        };
        let codegen_units = get("codegen-units")
            .and_then(Value::as_u64)
            .unwrap_or(if release { 16 } else { 256 });
        let full_debug = match get("debug") {
            None => !release,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_u64() == Some(2),
            Some(Value::String(s)) => s == "full",
            Some(_) => false,
        };
        Some(Drivers {
            lto,
            codegen_units,
            full_debug,
        })
    }
}

/// The estimate for one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Memory of an ordinary compile or link job, MiB.
    pub per_job_mib: u64,
    /// Memory of the final step (the root binary's rustc), MiB.
    pub final_step_mib: u64,
    /// The class of the final step.
    pub class: MemoryClass,
    /// What drives it, in words (for messages), with which figures are
    /// assumptions.
    pub why: Vec<String>,
}

/// Memory of an ordinary job under `drivers`: the plan's per-job figure,
/// times 1.5 with full debug info (assumed).
pub fn per_job_mib(drivers: &Drivers, mem_per_job_mib: u64) -> u64 {
    if drivers.full_debug {
        mem_per_job_mib * 3 / 2
    } else {
        mem_per_job_mib
    }
}

/// Estimates a build with `drivers` over a graph of `packages` packages.
pub fn estimate(drivers: &Drivers, packages: u64, mem_per_job_mib: u64) -> Estimate {
    let per_job = per_job_mib(drivers, mem_per_job_mib);
    let mut why = Vec::new();
    let mut final_step = match drivers.lto {
        Lto::Fat => {
            let (k, note) = if drivers.full_debug {
                (FAT_LTO_FULL_DEBUG_MIB_PER_PACKAGE, "calibrated")
            } else {
                (
                    FAT_LTO_MIB_PER_PACKAGE,
                    "assumed: 2/3 of the figure with full debug info",
                )
            };
            why.push(format!(
                "fat LTO over {packages} packages ({k} MiB each, {note})"
            ));
            k * packages
        }
        Lto::Thin => {
            why.push(format!(
                "thin LTO over {packages} packages ({THIN_LTO_MIB_PER_PACKAGE} MiB each, calibrated)"
            ));
            THIN_LTO_MIB_PER_PACKAGE * packages
        }
        Lto::None => per_job,
    };
    if drivers.codegen_units == 1 && drivers.lto != Lto::Fat {
        final_step = final_step * 3 / 2;
        why.push("one codegen unit (x1.5, assumed)".into());
    } else if drivers.codegen_units == 1 {
        why.push("one codegen unit".into());
    }
    if drivers.full_debug {
        if drivers.lto != Lto::Fat {
            final_step = final_step * 3 / 2;
        }
        why.push("full debug info (x1.5 per job, assumed)".into());
    }
    let final_step = final_step.max(per_job);
    let class = if final_step > EXTREME_MIB {
        MemoryClass::Extreme
    } else if final_step > HEAVY_MIB {
        MemoryClass::Heavy
    } else {
        MemoryClass::Light
    };
    Estimate {
        per_job_mib: per_job,
        final_step_mib: final_step,
        class,
        why,
    }
}

/// MiB as GiB with one decimal, for messages.
pub fn gib(mib: u64) -> String {
    format!("{:.1} GiB", mib as f64 / 1024.0)
}

/// The memory check of one build, made before anything is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryCheck {
    /// The estimate.
    pub estimate: Estimate,
    /// One line for people: the class and the figures.
    pub note: String,
    /// Why the build is refused and what to use instead, when its final
    /// step is estimated to need more than the machine's memory.
    pub refusal: Option<String>,
    /// A warning when it fits the machine but not the memory available now.
    pub warning: Option<String>,
}

/// Estimates the build's memory over a graph of `packages` packages and
/// compares its final step with the machine's memory (and the memory
/// available now). A refusal names the plan's profiles that would fit.
pub fn check_memory(
    plan: &Plan,
    profile: &str,
    package: &str,
    machine: &Machine,
    packages: u64,
) -> Result<MemoryCheck, Error> {
    plan.profile(profile)?;
    let per_job = plan.workspace.mem_per_job_mib;
    let estimate_of = |profile: &str| {
        Drivers::of(plan, profile, package).map(|d| estimate(&d, packages, per_job))
    };
    let found = estimate_of(profile).expect("the profile exists");
    let why = if found.why.is_empty() {
        format!("{packages} packages, no cross-crate LTO")
    } else {
        found.why.join(", ")
    };
    let note = format!(
        "memory: profile `{}` is {}: its final step needs about {}, other jobs about {} each \
         ({why})",
        profile,
        found.class.name(),
        gib(found.final_step_mib),
        gib(found.per_job_mib),
    );
    let mut refusal = None;
    let mut warning = None;
    if let Some(total) = machine.mem_total_mib {
        if found.final_step_mib > total {
            let fitting: Vec<String> = plan
                .profiles
                .keys()
                .filter(|p| p.as_str() != profile)
                .filter_map(|p| estimate_of(p).map(|e| (p, e)))
                .filter(|(_, e)| e.final_step_mib <= total)
                .map(|(p, e)| format!("--profile {p} (about {})", gib(e.final_step_mib)))
                .collect();
            let instead = if fitting.is_empty() {
                "no profile of the plan fits; lower its settings (no fat LTO, more codegen units, \
                 less debug info)"
                    .to_string()
            } else {
                format!("use {} instead", fitting.join(" or "))
            };
            refusal = Some(format!(
                "refusing to build `{}` with profile `{}`: its final step is estimated to need \
                 {} in one rustc process ({why}), more than this machine's {} of memory, so the \
                 build would run out of memory at its very end; {instead}, or pass --force to \
                 build anyway",
                package,
                profile,
                gib(found.final_step_mib),
                gib(total),
            ));
        } else if machine
            .mem_available_mib
            .is_some_and(|a| found.final_step_mib > a)
        {
            warning = Some(format!(
                "warning: the final step's estimated {} is more than the {} available now; \
                 other processes will have to give memory back, or the build may fail",
                gib(found.final_step_mib),
                gib(machine.mem_available_mib.unwrap_or(0)),
            ));
        }
    }
    Ok(MemoryCheck {
        estimate: found,
        note,
        refusal,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drivers(lto: Lto, codegen_units: u64, full_debug: bool) -> Drivers {
        Drivers {
            lto,
            codegen_units,
            full_debug,
        }
    }

    #[test]
    fn the_calibration_points_are_covered() {
        // The measured baseline: 7736 MiB over 315 packages.
        let e = estimate(&drivers(Lto::Fat, 1, true), 315, 1536);
        assert!(e.final_step_mib >= 7736, "{e:?}");
        assert!(e.final_step_mib <= 7736 * 3 / 2, "not wildly above: {e:?}");
        // Issue 10's field workspace: past 23.9 GB with 800+ packages.
        let e = estimate(&drivers(Lto::Fat, 1, true), 800, 1536);
        assert!(e.final_step_mib * 1024 * 1024 > 23_900_000_000, "{e:?}");
        assert_eq!(e.class, MemoryClass::Extreme);
        // cargo-buildplan's final step: 1437 MiB with full debug info, 432
        // without, over 52 packages.
        let e = estimate(&drivers(Lto::Fat, 1, true), 52, 1536);
        assert!(e.final_step_mib >= 1437, "{e:?}");
        let e = estimate(&drivers(Lto::Fat, 1, false), 52, 256);
        assert!(e.final_step_mib >= 432 && e.final_step_mib <= 1437, "{e:?}");
        // Thin LTO, 16 units, no debug info: 1006 MiB measured, light.
        let e = estimate(&drivers(Lto::Thin, 16, false), 315, 1536);
        assert!(
            e.final_step_mib >= 1006 && e.final_step_mib <= 1536,
            "{e:?}"
        );
        assert_eq!(e.class, MemoryClass::Light);
        // No LTO: an ordinary job.
        let e = estimate(&drivers(Lto::None, 16, false), 315, 1536);
        assert_eq!((e.per_job_mib, e.final_step_mib), (1536, 1536));
        assert!(e.why.is_empty(), "{e:?}");
    }

    #[test]
    fn each_driver_raises_the_estimate() {
        let base = estimate(&drivers(Lto::Thin, 16, false), 1000, 1024);
        let one_unit = estimate(&drivers(Lto::Thin, 1, false), 1000, 1024);
        let debug = estimate(&drivers(Lto::Thin, 16, true), 1000, 1024);
        let fat = estimate(&drivers(Lto::Fat, 16, false), 1000, 1024);
        assert!(one_unit.final_step_mib > base.final_step_mib);
        assert!(debug.final_step_mib > base.final_step_mib);
        assert!(debug.per_job_mib > base.per_job_mib);
        assert!(fat.final_step_mib > debug.final_step_mib);
        assert!(fat.why[0].contains("fat LTO over 1000 packages"), "{fat:?}");
        assert!(one_unit.why[1].contains("assumed"), "{one_unit:?}");
        // More packages, more memory, for LTO only.
        let bigger = estimate(&drivers(Lto::Fat, 16, false), 2000, 1024);
        assert!(bigger.final_step_mib > fat.final_step_mib);
        assert_eq!(
            estimate(&drivers(Lto::None, 16, false), 2000, 1024).final_step_mib,
            1024
        );
    }

    #[test]
    fn drivers_come_from_the_plan_with_cargos_defaults() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "schema_version": 3, "generator": "cargo-buildplan",
            "workspace": {"lockfile": "Cargo.lock", "members": [], "default_variant": "d",
                          "default_profile": "release", "mem_per_job_mib": 1536},
            "packages": {}, "variants": {}, "targets": {},
            "profiles": {
                "dev": {"inherits": null, "settings": {}, "build_override": {}, "package": {},
                        "overrides": {"settings": {}, "build_override": {}, "package": {}}},
                "release": {"inherits": null,
                    "settings": {"lto": {"value": "thin", "source": "Cargo.toml"}},
                    "build_override": {},
                    "package": {"app": {"codegen-units": {"value": 1, "source": "policy"}}},
                    "overrides": {"settings": {}, "build_override": {}, "package": {}}},
                "release-optimized": {"inherits": "release",
                    "settings": {"lto": {"value": true, "source": "Cargo.toml"},
                                 "debug": {"value": "full", "source": "Cargo.toml"}},
                    "build_override": {}, "package": {},
                    "overrides": {"settings": {}, "build_override": {}, "package": {}}}
            }
        }))
        .unwrap();
        assert_eq!(
            Drivers::of(&plan, "dev", "app"),
            Some(drivers(Lto::None, 256, true)),
            "dev's default is full debug info"
        );
        assert_eq!(
            Drivers::of(&plan, "release", "app"),
            Some(drivers(Lto::Thin, 1, false)),
            "the root's own override counts"
        );
        assert_eq!(
            Drivers::of(&plan, "release", "other"),
            Some(drivers(Lto::Thin, 16, false))
        );
        assert_eq!(
            Drivers::of(&plan, "release-optimized", "app"),
            Some(drivers(Lto::Fat, 16, true))
        );
        assert_eq!(Drivers::of(&plan, "nope", "app"), None);
        assert_eq!(gib(1536), "1.5 GiB");
    }
}
