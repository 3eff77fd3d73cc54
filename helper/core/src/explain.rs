//! The explanation `explain` prints: what one package gets, per variant, target and
//! profile, in words.

use crate::error::Error;
use crate::model::Plan;
use std::fmt::Write;

/// The explanation of `package` in `plan`, as text. With `packages` (the
/// size of the package's build graph), each profile also gets its memory
/// estimate ([`crate::memory`]).
pub fn explain(plan: &Plan, package: &str, packages: Option<u64>) -> Result<String, Error> {
    let info = plan.package(package)?;
    let list = |items: &[String]| {
        if items.is_empty() {
            "(none)".to_string()
        } else {
            items.join(", ")
        }
    };
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "package {package} {} ({})", info.version, info.path);
    let _ = writeln!(w, "  binaries:          {}", list(&info.binaries));
    let _ = writeln!(w, "  declared features: {}", list(&info.features));
    let _ = writeln!(w, "  builds with:       {}", list(&info.workspace_deps));
    let _ = writeln!(
        w,
        "  tests with:        {}",
        list(&info.workspace_test_deps)
    );

    let _ = writeln!(w, "\nvariants:");
    for (name, variant) in &plan.variants {
        let default = if *name == plan.workspace.default_variant {
            " [default]"
        } else {
            ""
        };
        let _ = writeln!(w, "  {name}{default}: {}", variant.description);
        if let Some(build) = variant.builds.get(package) {
            let defaults = if build.default_features {
                "default features"
            } else {
                "no default features"
            };
            let extra = if build.alone_cargo_args.iter().any(|a| a == "--all-features") {
                " (all features)".to_string()
            } else if build.features.is_empty() {
                String::new()
            } else {
                format!(" + {}", build.features.join(", "))
            };
            let _ = writeln!(w, "    built as a root: {defaults}{extra}");
            let _ = writeln!(w, "    cargo build {}", build.cargo_args.join(" "));
        } else {
            let dependents: Vec<String> = variant
                .packages
                .iter()
                .filter(|root| {
                    plan.packages
                        .get(*root)
                        .is_some_and(|p| p.workspace_deps.contains(&info.path))
                })
                .cloned()
                .collect();
            if dependents.is_empty() {
                let _ = writeln!(w, "    not built");
            } else {
                let _ = writeln!(
                    w,
                    "    built as a dependency of {}, with the features they enable",
                    dependents.join(", ")
                );
            }
        }
        let touching: Vec<&str> = variant
            .feature_splits
            .iter()
            .map(|s| s.package.as_str())
            .collect();
        if !touching.is_empty() {
            let _ = writeln!(
                w,
                "    feature splits in this variant: {} ({})",
                touching.join(", "),
                if variant.unified {
                    "resolved by the unified build"
                } else {
                    "NOT resolved: the roots are built one by one"
                }
            );
        }
    }

    let _ = writeln!(w, "\ntargets:");
    for (name, target) in &plan.targets {
        if target.triple.is_none() {
            let _ = writeln!(w, "  {name}: the build machine, cargo's defaults");
            continue;
        }
        let mut parts = Vec::new();
        if let Some(l) = &target.linker_driver {
            parts.push(format!("linker {l}"));
        }
        if let Some(ld) = &target.fuse_ld {
            parts.push(format!("-fuse-ld={ld}"));
        }
        if let Some(cpu) = &target.target_cpu {
            parts.push(format!("target-cpu {cpu}"));
        }
        parts.push(if target.is_static {
            "static C runtime".to_string()
        } else if target.triple.is_some() {
            "dynamic C runtime".to_string()
        } else {
            "target's default C runtime linkage".to_string()
        });
        if let Some(cross) = &target.nix_cross {
            parts.push(format!("nix pkgsCross.{cross}"));
        }
        let _ = writeln!(w, "  {name}: {}", parts.join(", "));
        let _ = writeln!(
            w,
            "    rustflags: {}",
            crate::render::target_rustflags(target).join(" ")
        );
        for (key, value) in &crate::render::target_env(target, None) {
            let _ = writeln!(w, "    {key}={value}");
        }
    }

    let _ = writeln!(
        w,
        "\nprofiles (each value with where it is set; `policy` values are passed to cargo as --config):"
    );
    for (name, profile) in &plan.profiles {
        let root = plan.root_profile(name);
        let default = if *name == plan.workspace.default_profile {
            " [default]"
        } else {
            ""
        };
        let inherits = profile
            .inherits
            .as_ref()
            .map(|p| format!(" (inherits {p})"))
            .unwrap_or_default();
        let _ = writeln!(w, "  {name}{default}{inherits}:");
        let own = profile.package.get(package);
        for key in crate::cargo_config::displayed_keys() {
            if let Some(s) = own.and_then(|o| o.get(key)) {
                let _ = writeln!(
                    w,
                    "    {key} = {}  (override for {package}, {})",
                    s.value, s.source
                );
            } else if let Some(s) = profile.settings.get(key) {
                let _ = writeln!(w, "    {key} = {}  ({})", s.value, s.source);
            } else if let Some(value) = crate::cargo_config::builtin_default(&root, key) {
                let _ = writeln!(w, "    {key} = {value}  (cargo default)");
            }
        }
        if !profile.build_override.is_empty() {
            let settings: Vec<String> = profile
                .build_override
                .iter()
                .map(|(k, s)| format!("{k} = {} ({})", s.value, s.source))
                .collect();
            let _ = writeln!(
                w,
                "    build scripts and proc-macros: {}",
                settings.join(", ")
            );
        }
        let drivers = crate::memory::Drivers::of(plan, name, package);
        if let (Some(n), Some(d)) = (packages, drivers) {
            let e = crate::memory::estimate(&d, n, plan.workspace.mem_per_job_mib);
            let _ = writeln!(
                w,
                "    memory: {}, final step about {}, other jobs about {} each ({})",
                e.class.name(),
                crate::memory::gib(e.final_step_mib),
                crate::memory::gib(e.per_job_mib),
                if e.why.is_empty() {
                    format!("{n} packages, no cross-crate LTO")
                } else {
                    e.why.join(", ")
                }
            );
        }
        if profile.package.contains_key("*") {
            let _ = writeln!(
                w,
                "    (the `package.\"*\"` override applies to third-party packages, not to {package})"
            );
        }
    }
    Ok(out)
}
