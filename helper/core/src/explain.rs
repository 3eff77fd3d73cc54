//! The explanation `explain` prints: what one package gets, per variant,
//! target and profile, in words.

use std::fmt::Write;

use crate::error::Error;
use crate::memory::gib;
use crate::model::{Plan, Target};

/// `items` joined with commas, or `(none)`.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// The explanation of `package` in `plan`; memory estimates given `packages` (graph size).
pub fn explain(plan: &Plan, package: &str, packages: Option<u64>) -> Result<String, Error> {
    let info = plan.package(package)?;
    let mark = |name: &str, default: &str| if name == default { " [default]" } else { "" };
    let mut w = String::new();
    let _ = writeln!(w, "package {package} {} ({})", info.version, info.path);
    let _ = writeln!(w, "  binaries:          {}", list(&info.binaries));
    let _ = writeln!(w, "  declared features: {}", list(&info.features));
    let _ = writeln!(w, "  builds with:       {}", list(&info.workspace_deps));
    let tests = list(&info.workspace_test_deps);
    let _ = writeln!(w, "  tests with:        {tests}");

    let _ = writeln!(w, "\nvariants:");
    for (name, variant) in &plan.variants {
        let default = mark(name, &plan.workspace.default_variant);
        let _ = writeln!(w, "  {name}{default}: {}", variant.description);
        if let Some(build) = variant.builds.get(package) {
            let defaults = match build.default_features {
                true => "default features",
                false => "no default features",
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
            let dependents: Vec<String> = (variant.packages.iter())
                .filter(|root| {
                    let deps = plan.packages.get(*root).map(|p| &p.workspace_deps);
                    deps.is_some_and(|d| d.contains(&info.path))
                })
                .cloned()
                .collect();
            let _ = match dependents.is_empty() {
                true => writeln!(w, "    not built"),
                false => writeln!(
                    w,
                    "    built as a dependency of {}, with the features they enable",
                    dependents.join(", ")
                ),
            };
        }
        let splits: Vec<&str> = (variant.feature_splits.iter())
            .map(|s| s.package.as_str())
            .collect();
        if !splits.is_empty() {
            let how = match variant.unified {
                true => "resolved by the unified build",
                false => "NOT resolved: the roots are built one by one",
            };
            let splits = splits.join(", ");
            let _ = writeln!(w, "    feature splits in this variant: {splits} ({how})");
        }
    }

    let _ = writeln!(w, "\ntargets:");
    for (name, target) in &plan.targets {
        target_lines(&mut w, name, target);
    }

    let _ = writeln!(
        w,
        "\nprofiles (each value with where it is set; `policy` values are passed to cargo as --config):"
    );
    for (name, profile) in &plan.profiles {
        let root = plan.root_profile(name);
        let default = mark(name, &plan.workspace.default_profile);
        let inherits = (profile.inherits.as_ref())
            .map(|p| format!(" (inherits {p})"))
            .unwrap_or_default();
        let _ = writeln!(w, "  {name}{default}{inherits}:");
        let own = profile.package.get(package);
        for key in crate::cargo_config::displayed_keys() {
            if let Some(s) = own.and_then(|o| o.get(key)) {
                let (value, source) = (&s.value, &s.source);
                let _ = writeln!(w, "    {key} = {value}  (override for {package}, {source})");
            } else if let Some(s) = profile.settings.get(key) {
                let _ = writeln!(w, "    {key} = {}  ({})", s.value, s.source);
            } else if let Some(value) = crate::cargo_config::builtin_default(&root, key) {
                let _ = writeln!(w, "    {key} = {value}  (cargo default)");
            }
        }
        if !profile.build_override.is_empty() {
            let settings: Vec<String> = (profile.build_override.iter())
                .map(|(k, s)| format!("{k} = {} ({})", s.value, s.source))
                .collect();
            let settings = settings.join(", ");
            let _ = writeln!(w, "    build scripts and proc-macros: {settings}");
        }
        let drivers = crate::memory::Drivers::of(plan, name, package);
        if let (Some(n), Some(d)) = (packages, drivers) {
            let e = crate::memory::estimate(&d, n, plan.workspace.mem_per_job_mib);
            let (class, why) = (e.class.name(), e.reasons(n));
            let (last, job) = (gib(e.final_step_mib), gib(e.per_job_mib));
            let line = format!("final step about {last}, other jobs about {job} each ({why})");
            let _ = writeln!(w, "    memory: {class}, {line}");
        }
        if profile.package.contains_key("*") {
            let _ = writeln!(
                w,
                "    (the `package.\"*\"` override applies to third-party packages, not to {package})"
            );
        }
    }
    Ok(w)
}

/// The lines of one target: linking, rustflags and build-script variables.
fn target_lines(w: &mut String, name: &str, t: &Target) {
    if t.triple.is_none() {
        let _ = writeln!(w, "  {name}: the build machine, cargo's defaults");
        return;
    }
    let runtime = if t.is_static { "static" } else { "dynamic" };
    let parts: Vec<String> = [
        t.linker_driver.as_ref().map(|l| format!("linker {l}")),
        t.fuse_ld.as_ref().map(|ld| format!("-fuse-ld={ld}")),
        t.target_cpu.as_ref().map(|c| format!("target-cpu {c}")),
        Some(format!("{runtime} C runtime")),
        t.nix_cross.as_ref().map(|c| format!("nix pkgsCross.{c}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let _ = writeln!(w, "  {name}: {}", parts.join(", "));
    let rustflags = crate::render::target_rustflags(t).join(" ");
    let _ = writeln!(w, "    rustflags: {rustflags}");
    for (key, value) in &crate::render::target_env(t, None) {
        let _ = writeln!(w, "    {key}={value}");
    }
}
