//! Memory a build with one profile needs: per job, and for the root binary's final
//! rustc (grows with the program under LTO); figures: `docs/helper-notes.md`.

use serde_json::Value;

use crate::{error::Error, exec::Machine, model::Plan};

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

impl Lto {
    /// The kind an `lto` value asks for.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Bool(true) => Lto::Fat,
            Value::String(s) if s == "fat" => Lto::Fat,
            Value::String(s) if s == "thin" => Lto::Thin,
            _ => Lto::None,
        }
    }
}

/// How a profile is classed by its final step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemoryClass {
    /// The final step fits in about an ordinary job's memory.
    Light,
    /// The final step needs more than 4 GiB.
    Heavy,
    /// The final step needs more than 12 GiB.
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

/// The settings of a profile that drive memory, cargo's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drivers {
    /// The LTO kind.
    pub lto: Lto,
    /// Codegen units of the root package.
    pub codegen_units: u64,
    /// Whether the root package gets full debug info (dev's default).
    pub full_debug: bool,
}

impl Drivers {
    /// As the root `package` gets them in `plan`'s `profile`, if it exists.
    pub fn of(plan: &Plan, profile: &str, package: &str) -> Option<Self> {
        let p = plan.profiles.get(profile)?;
        let release = plan.root_profile(profile) == "release";
        let own = p.package.get(package);
        let get =
            |key: &str| (own.and_then(|o| o.get(key)).or(p.settings.get(key))).map(|s| &s.value);
        let units = get("codegen-units").and_then(Value::as_u64);
        Some(Drivers {
            lto: get("lto").map_or(Lto::None, Lto::of),
            codegen_units: units.unwrap_or(if release { 16 } else { 256 }),
            full_debug: get("debug").map_or(!release, is_full_debug),
        })
    }
}

/// Whether a `debug` value asks for full debug info (`true`, 2, `"full"`).
pub fn is_full_debug(v: &Value) -> bool {
    matches!(v, Value::Bool(true)) || v.as_u64() == Some(2) || v.as_str() == Some("full")
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
    /// What drives it, in words, saying which figures are assumed.
    pub why: Vec<String>,
}

impl Estimate {
    /// [`Self::why`] as one phrase, for a graph of `packages` packages.
    pub fn reasons(&self, packages: u64) -> String {
        match self.why.is_empty() {
            true => format!("{packages} packages, no cross-crate LTO"),
            false => self.why.join(", "),
        }
    }
}

/// Memory of an ordinary job: the plan's figure, plus half with full debug info.
pub fn per_job_mib(full_debug: bool, mem_per_job_mib: u64) -> u64 {
    mem_per_job_mib + u64::from(full_debug) * mem_per_job_mib / 2
}

/// Estimates a build with `drivers` over a graph of `packages` packages.
pub fn estimate(drivers: &Drivers, packages: u64, mem_per_job_mib: u64) -> Estimate {
    let per_job = per_job_mib(drivers.full_debug, mem_per_job_mib);
    let fat = drivers.lto == Lto::Fat;
    let mut why = Vec::new();
    // MiB per package of the graph (fat without debug info: 8.3 measured,
    // thin: 3.2 measured).
    let per_package = match (drivers.lto, drivers.full_debug) {
        (Lto::Fat, true) => Some(("fat", 32, "calibrated")),
        (Lto::Fat, false) => Some(("fat", 10, "assumed: 2/3 of the figure with full debug info")),
        (Lto::Thin, _) => Some(("thin", 4, "calibrated")),
        (Lto::None, _) => None,
    };
    let mut final_step = per_job;
    if let Some((kind, k, how)) = per_package {
        why.push(format!(
            "{kind} LTO over {packages} packages ({k} MiB each, {how})"
        ));
        final_step = k * packages;
    }
    // Fat LTO's per-package figures include these; other final steps grow.
    let grow = |mib: u64| if fat { mib } else { mib * 3 / 2 };
    if drivers.codegen_units == 1 {
        final_step = grow(final_step);
        let assumed = if fat { "" } else { " (x1.5, assumed)" };
        why.push(format!("one codegen unit{assumed}"));
    }
    if drivers.full_debug {
        final_step = grow(final_step);
        why.push("full debug info (x1.5 per job, assumed)".into());
    }
    let final_step_mib = final_step.max(per_job);
    Estimate {
        per_job_mib: per_job,
        final_step_mib,
        class: match final_step_mib {
            m if m > 12 * 1024 => MemoryClass::Extreme,
            m if m > 4096 => MemoryClass::Heavy,
            _ => MemoryClass::Light,
        },
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
    /// Why the build is refused (its final step needs more than the machine
    /// has) and what to use instead.
    pub refusal: Option<String>,
    /// A warning when it fits the machine but not the memory available now.
    pub warning: Option<String>,
}

/// Compares the final step's estimate over `packages` packages with the machine's memory.
pub fn check_memory(
    plan: &Plan,
    profile: &str,
    package: &str,
    machine: &Machine,
    packages: u64,
) -> Result<MemoryCheck, Error> {
    plan.profile(profile)?;
    let mem = plan.workspace.mem_per_job_mib;
    let estimate_of = |p: &str| Some(estimate(&Drivers::of(plan, p, package)?, packages, mem));
    let found = estimate_of(profile).expect("the profile exists");
    let (needs, why) = (found.final_step_mib, found.reasons(packages));
    let (class, job) = (found.class.name(), gib(found.per_job_mib));
    let note = format!(
        "memory: profile `{profile}` is {class}: its final step needs about {}, other jobs about {job} each ({why})",
        gib(needs),
    );
    let (mut refusal, mut warning) = (None, None);
    let available = machine.mem_available_mib;
    if let Some(total) = machine.mem_total_mib.filter(|total| needs > *total) {
        let fitting: Vec<String> = (plan.profiles.keys())
            .filter(|p| p.as_str() != profile)
            .filter_map(|p| Some((p, estimate_of(p)?.final_step_mib)))
            .filter(|(_, mib)| *mib <= total)
            .map(|(p, mib)| format!("--profile {p} (about {})", gib(mib)))
            .collect();
        let instead = if fitting.is_empty() {
            "no profile of the plan fits; lower its settings (no fat LTO, more codegen units, \
             less debug info)"
                .to_string()
        } else {
            format!("use {} instead", fitting.join(" or "))
        };
        refusal = Some(format!(
            "refusing to build `{package}` with profile `{profile}`: its final step is estimated \
             to need {} in one rustc process ({why}), more than this machine's {} of memory, so \
             the build would run out of memory at its very end; {instead}, or pass --force to \
             build anyway",
            gib(needs),
            gib(total),
        ));
    } else if let Some(now) = available.filter(|a| machine.mem_total_mib.is_some() && needs > *a) {
        warning = Some(format!(
            "warning: the final step's estimated {} is more than the {} available now; \
             other processes will have to give memory back, or the build may fail",
            gib(needs),
            gib(now),
        ));
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
