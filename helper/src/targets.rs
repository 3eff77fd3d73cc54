//! Compilation targets: linker, rustflags and the environment cargo and
//! cc-rs need for each.
//!
//! Without a `targets` table in the policy the plan has the host plus two
//! static musl targets:
//!
//! | target | linker | `-fuse-ld` | target-cpu | nix cross |
//! |---|---|---|---|---|
//! | x86_64-unknown-linux-musl | clang | mold | x86-64-v2 | musl64 |
//! | aarch64-unknown-linux-musl | clang (`--target=`) | lld | generic | aarch64-multiplatform-musl |
//!
//! The host is always present and always plain (cargo's own defaults): its
//! triple depends on the machine, and the plan must not.
//!
//! Environment values name tools (`clang`, `llvm-ar`), never paths: Nix and
//! a developer's shell put different binaries behind the same name.

use std::collections::BTreeMap;

use crate::model::Target;
use crate::policy::{Policy, TargetPolicy};

/// The name of the host target in the plan.
pub const HOST: &str = "host";

/// Whether `name` looks like a target triple (`arch-vendor-os[-env]`).
pub fn looks_like_triple(name: &str) -> bool {
    let parts = name.split('-').count();
    (2..=4).contains(&parts)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The built-in target settings used when the policy has no `targets`.
pub fn defaults() -> BTreeMap<String, TargetPolicy> {
    let musl = |fuse_ld: &str, cpu: &str, cross: &str, link_target: bool| TargetPolicy {
        linker: Some("clang".into()),
        fuse_ld: Some(fuse_ld.into()),
        target_cpu: Some(cpu.into()),
        is_static: true,
        nix_cross: Some(cross.into()),
        link_target,
        cc: Some("clang".into()),
        ar: Some("llvm-ar".into()),
        rustflags: Vec::new(),
    };
    BTreeMap::from([
        (
            "x86_64-unknown-linux-musl".to_string(),
            musl("mold", "x86-64-v2", "musl64", false),
        ),
        (
            "aarch64-unknown-linux-musl".to_string(),
            musl("lld", "generic", "aarch64-multiplatform-musl", true),
        ),
    ])
}

/// The plan's targets: `host` plus the policy's (or the default) triples.
pub fn resolve(policy: &Policy) -> BTreeMap<String, Target> {
    let mut targets = BTreeMap::from([(HOST.to_string(), host())]);
    let specs = policy.targets.clone().unwrap_or_else(defaults);
    for (triple, spec) in specs {
        targets.insert(triple.clone(), render(&triple, &spec));
    }
    targets
}

/// The host target: cargo's defaults, nothing set.
pub fn host() -> Target {
    Target {
        triple: None,
        linker: None,
        fuse_ld: None,
        target_cpu: None,
        is_static: false,
        nix_cross: None,
        cc: None,
        ar: None,
        rustflags: Vec::new(),
        env: BTreeMap::new(),
    }
}

/// Renders one triple's settings into rustflags and environment.
pub fn render(triple: &str, spec: &TargetPolicy) -> Target {
    let mut rustflags = Vec::new();
    let mut flag = |value: String| {
        rustflags.push("-C".to_string());
        rustflags.push(value);
    };
    if spec.link_target {
        flag(format!("link-arg=--target={triple}"));
    }
    if let Some(ld) = &spec.fuse_ld {
        flag(format!("link-arg=-fuse-ld={ld}"));
    }
    if let Some(cpu) = &spec.target_cpu {
        flag(format!("target-cpu={cpu}"));
    }
    if spec.is_static {
        flag("target-feature=+crt-static".into());
    }
    rustflags.extend(spec.rustflags.iter().cloned());

    let upper = triple.to_ascii_uppercase().replace(['-', '.'], "_");
    let lower = triple.replace(['-', '.'], "_");
    let mut env = BTreeMap::new();
    if let Some(linker) = &spec.linker {
        env.insert(format!("CARGO_TARGET_{upper}_LINKER"), linker.clone());
    }
    if !rustflags.is_empty() {
        env.insert(
            format!("CARGO_TARGET_{upper}_RUSTFLAGS"),
            rustflags.join(" "),
        );
    }
    if let Some(cc) = &spec.cc {
        env.insert(format!("CC_{lower}"), cc.clone());
        if cc.rsplit('/').next().is_some_and(|n| n.contains("clang")) {
            env.insert(format!("CFLAGS_{lower}"), format!("--target={triple}"));
        }
    }
    if let Some(ar) = &spec.ar {
        env.insert(format!("AR_{lower}"), ar.clone());
    }
    Target {
        triple: Some(triple.to_string()),
        linker: spec.linker.clone(),
        fuse_ld: spec.fuse_ld.clone(),
        target_cpu: spec.target_cpu.clone(),
        is_static: spec.is_static,
        nix_cross: spec.nix_cross.clone(),
        cc: spec.cc.clone(),
        ar: spec.ar.clone(),
        rustflags,
        env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let t = resolve(&Policy::default());
        assert_eq!(
            t.keys().collect::<Vec<_>>(),
            [
                "aarch64-unknown-linux-musl",
                "host",
                "x86_64-unknown-linux-musl"
            ]
        );
        assert_eq!(t["host"], host());
        let x = &t["x86_64-unknown-linux-musl"];
        assert_eq!(
            x.rustflags,
            [
                "-C",
                "link-arg=-fuse-ld=mold",
                "-C",
                "target-cpu=x86-64-v2",
                "-C",
                "target-feature=+crt-static"
            ]
        );
        assert_eq!(x.nix_cross.as_deref(), Some("musl64"));
        assert_eq!(
            x.env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER"],
            "clang"
        );
        assert_eq!(
            x.env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"],
            "-C link-arg=-fuse-ld=mold -C target-cpu=x86-64-v2 -C target-feature=+crt-static"
        );
        assert_eq!(
            x.env["CFLAGS_x86_64_unknown_linux_musl"],
            "--target=x86_64-unknown-linux-musl"
        );
        assert_eq!(x.env["AR_x86_64_unknown_linux_musl"], "llvm-ar");
        let a = &t["aarch64-unknown-linux-musl"];
        assert_eq!(
            a.rustflags[1],
            "link-arg=--target=aarch64-unknown-linux-musl"
        );
        assert_eq!(a.fuse_ld.as_deref(), Some("lld"));
        assert_eq!(a.target_cpu.as_deref(), Some("generic"));
        assert_eq!(a.nix_cross.as_deref(), Some("aarch64-multiplatform-musl"));
        assert!(t
            .values()
            .flat_map(|t| t.env.values())
            .all(|v| !v.contains('/')));
    }

    #[test]
    fn policy_targets_replace_the_defaults() {
        let policy = Policy {
            targets: Some(BTreeMap::from([(
                "riscv64gc-unknown-linux-gnu".to_string(),
                TargetPolicy {
                    rustflags: vec!["-C".into(), "force-frame-pointers=yes".into()],
                    ..TargetPolicy::default()
                },
            )])),
            ..Policy::default()
        };
        let t = resolve(&policy);
        assert_eq!(
            t.keys().collect::<Vec<_>>(),
            ["host", "riscv64gc-unknown-linux-gnu"]
        );
        let r = &t["riscv64gc-unknown-linux-gnu"];
        assert_eq!(r.rustflags, ["-C", "force-frame-pointers=yes"]);
        assert_eq!(
            r.env.keys().collect::<Vec<_>>(),
            ["CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUSTFLAGS"]
        );
    }

    #[test]
    fn triples_are_recognised() {
        assert!(looks_like_triple("x86_64-unknown-linux-musl"));
        assert!(looks_like_triple("wasm32-wasip1"));
        assert!(!looks_like_triple("musl"));
        assert!(!looks_like_triple("x86_64 linux"));
        assert!(!looks_like_triple("-a-b"));
    }
}
