//! Compilation targets: the facts of each (linker driver, `-fuse-ld`,
//! target CPU, static C runtime, C toolchain), from the policy or the
//! built-in defaults (docs/plan-format.md). Tools are named, never paths:
//! Nix and a developer's shell put different binaries behind one name.

use std::collections::BTreeMap;

use crate::model::{HostTools, Target};
use crate::policy::{Policy, TargetPolicy};

/// The name of the host target in the plan.
pub const HOST: &str = "host";

/// The built-in targets used when the policy has no `targets`: static
/// x86_64 and aarch64 musl, C built by clang with the musl headers of
/// Debian's multiarch `musl-dev` (`-nostdlibinc` drops the build machine's
/// glibc ones), archived by `llvm-ar`; rustc links its own musl.
pub fn defaults() -> BTreeMap<String, TargetPolicy> {
    let musl = |arch: &str, musl_dev: &str, fuse_ld: &str, cpu: &str, cross: &str, link_target| {
        let isystem = format!("/usr/include/{arch}-linux-musl");
        TargetPolicy {
            linker: Some("clang".into()),
            fuse_ld: Some(fuse_ld.into()),
            target_cpu: Some(cpu.into()),
            is_static: true,
            nix_cross: Some(cross.into()),
            link_target,
            cc: Some("clang".into()),
            cxx: Some("clang++".into()),
            ar: Some("llvm-ar".into()),
            c_flags: ["-nostdlibinc", "-isystem", &isystem]
                .map(String::from)
                .to_vec(),
            host_tools: Some(HostTools {
                cc: "cc".into(),
                cxx: "c++".into(),
                ar: "ar".into(),
            }),
            packages: ["clang", "llvm", fuse_ld, musl_dev]
                .map(String::from)
                .to_vec(),
            rustflags: Vec::new(),
        }
    };
    let x86 = musl("x86_64", "musl-dev", "mold", "x86-64-v2", "musl64", false);
    let arm = musl(
        "aarch64",
        "musl-dev:arm64",
        "lld",
        "generic",
        "aarch64-multiplatform-musl",
        true,
    );
    BTreeMap::from([
        ("x86_64-unknown-linux-musl".to_string(), x86),
        ("aarch64-unknown-linux-musl".to_string(), arm),
    ])
}

/// The plan's targets: `host` plus the policy's (or the default) triples.
pub fn resolve(policy: &Policy) -> BTreeMap<String, Target> {
    let specs = policy.targets.clone().unwrap_or_else(defaults);
    let triples = specs
        .iter()
        .map(|(triple, spec)| (triple.clone(), from_policy(triple, spec)));
    std::iter::once((HOST.to_string(), host()))
        .chain(triples)
        .collect()
}

/// The host target: cargo's defaults, nothing set (its triple depends on
/// the machine, and the plan must not).
pub fn host() -> Target {
    Target::default()
}

/// The facts of one triple, from its policy settings.
pub fn from_policy(triple: &str, spec: &TargetPolicy) -> Target {
    Target {
        triple: Some(triple.to_string()),
        linker_driver: spec.linker.clone(),
        fuse_ld: spec.fuse_ld.clone(),
        target_cpu: spec.target_cpu.clone(),
        is_static: spec.is_static,
        link_target: spec.link_target.then(|| triple.to_string()),
        cc: spec.cc.clone(),
        cxx: spec.cxx.clone(),
        ar: spec.ar.clone(),
        c_flags: spec.c_flags.clone(),
        host_tools: spec.host_tools.clone(),
        packages: spec.packages.clone(),
        nix_cross: spec.nix_cross.clone(),
        extra_rustflags: spec.rustflags.clone(),
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
        assert_eq!(
            serde_json::to_value(&t["x86_64-unknown-linux-musl"]).unwrap(),
            serde_json::json!({
                "triple": "x86_64-unknown-linux-musl", "linker_driver": "clang",
                "fuse_ld": "mold", "target_cpu": "x86-64-v2", "static": true,
                "link_target": null, "cc": "clang", "cxx": "clang++", "ar": "llvm-ar",
                "c_flags": ["-nostdlibinc", "-isystem", "/usr/include/x86_64-linux-musl"],
                "host_tools": {"cc": "cc", "cxx": "c++", "ar": "ar"},
                "packages": ["clang", "llvm", "mold", "musl-dev"],
                "nix_cross": "musl64", "extra_rustflags": []
            })
        );
        assert_eq!(
            serde_json::to_value(&t["aarch64-unknown-linux-musl"]).unwrap(),
            serde_json::json!({
                "triple": "aarch64-unknown-linux-musl", "linker_driver": "clang",
                "fuse_ld": "lld", "target_cpu": "generic", "static": true,
                "link_target": "aarch64-unknown-linux-musl", "cc": "clang",
                "cxx": "clang++", "ar": "llvm-ar",
                "c_flags": ["-nostdlibinc", "-isystem", "/usr/include/aarch64-linux-musl"],
                "host_tools": {"cc": "cc", "cxx": "c++", "ar": "ar"},
                "packages": ["clang", "llvm", "lld", "musl-dev:arm64"],
                "nix_cross": "aarch64-multiplatform-musl",
                "extra_rustflags": []
            })
        );
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
        assert_eq!(r.extra_rustflags, ["-C", "force-frame-pointers=yes"]);
        assert_eq!(r.linker_driver, None);
        assert_eq!(r.link_target, None);
    }
}
