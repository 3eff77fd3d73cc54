//! Compilation targets: the facts of each (linker driver, `-fuse-ld`,
//! target CPU, static C runtime, C toolchain), from the policy or the
//! built-in defaults. Consumers render their own strings from them.
//!
//! Without a `targets` table in the policy the plan has the host plus two
//! static musl targets:
//!
//! | target | linker driver | `-fuse-ld` | target-cpu | link target | nix cross |
//! |---|---|---|---|---|---|
//! | x86_64-unknown-linux-musl | clang | mold | x86-64-v2 | - | musl64 |
//! | aarch64-unknown-linux-musl | clang | lld | generic | its triple | aarch64-multiplatform-musl |
//!
//! The host is always present and always plain (cargo's own defaults): its
//! triple depends on the machine, and the plan must not.
//!
//! Tools are named (`clang`, `llvm-ar`), never given as paths: Nix and a
//! developer's shell put different binaries behind the same name. The
//! musl headers in `c_flags` are Debian's (multiarch `musl-dev`); Nix uses
//! its cross compiler instead, which knows its own.

use std::collections::BTreeMap;

use crate::model::{HostTools, Target};
use crate::policy::{Policy, TargetPolicy};

/// The name of the host target in the plan.
pub const HOST: &str = "host";

/// The built-in target settings used when the policy has no `targets`.
///
/// Their C toolchain is clang with the musl headers of Debian's multiarch
/// `musl-dev` packages (`-nostdlibinc` keeps clang's own headers and drops
/// the build machine's glibc ones), archived by `llvm-ar`; rustc links
/// its own musl (`crt1.o`, `libc.a`) into the static binary.
pub fn defaults() -> BTreeMap<String, TargetPolicy> {
    // `musl_dev`: the Debian package with the target's musl headers.
    let musl = |arch: &str, musl_dev: &str, fuse_ld: &str, cpu: &str, cross: &str, link_target| {
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
            c_flags: vec![
                "-nostdlibinc".into(),
                "-isystem".into(),
                format!("/usr/include/{arch}-linux-musl"),
            ],
            host_tools: Some(HostTools {
                cc: "cc".into(),
                cxx: "c++".into(),
                ar: "ar".into(),
            }),
            packages: vec![
                "clang".into(),
                "llvm".into(),
                fuse_ld.into(),
                musl_dev.into(),
            ],
            rustflags: Vec::new(),
        }
    };
    BTreeMap::from([
        (
            "x86_64-unknown-linux-musl".to_string(),
            musl("x86_64", "musl-dev", "mold", "x86-64-v2", "musl64", false),
        ),
        (
            "aarch64-unknown-linux-musl".to_string(),
            musl(
                "aarch64",
                "musl-dev:arm64",
                "lld",
                "generic",
                "aarch64-multiplatform-musl",
                true,
            ),
        ),
    ])
}

/// The plan's targets: `host` plus the policy's (or the default) triples.
pub fn resolve(policy: &Policy) -> BTreeMap<String, Target> {
    let mut targets = BTreeMap::from([(HOST.to_string(), host())]);
    let specs = policy.targets.clone().unwrap_or_else(defaults);
    for (triple, spec) in specs {
        targets.insert(triple.clone(), from_policy(&triple, &spec));
    }
    targets
}

/// The host target: cargo's defaults, nothing set.
pub fn host() -> Target {
    Target {
        triple: None,
        linker_driver: None,
        fuse_ld: None,
        target_cpu: None,
        is_static: false,
        link_target: None,
        cc: None,
        cxx: None,
        ar: None,
        c_flags: Vec::new(),
        host_tools: None,
        packages: Vec::new(),
        nix_cross: None,
        extra_rustflags: Vec::new(),
    }
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
