//! Compilation targets, from the policy or the built-in defaults. Tools
//! are named, never paths: Nix and a shell put different binaries there.

use std::collections::BTreeMap;

use crate::model::Target;
use crate::policy::{Policy, TargetPolicy};

/// The built-in targets, in the policy's format: static musl, C built by
/// clang with Debian's musl headers only (`-nostdlibinc`).
const DEFAULTS: &str = r#"
[x86_64-unknown-linux-musl]
linker = "clang"
fuse-ld = "mold"
target-cpu = "x86-64-v2"
static = true
nix-cross = "musl64"
cc = "clang"
cxx = "clang++"
ar = "llvm-ar"
c-flags = ["-nostdlibinc", "-isystem", "/usr/include/x86_64-linux-musl"]
host-tools = { cc = "cc", cxx = "c++", ar = "ar" }
packages = ["clang", "llvm", "mold", "musl-dev"]

[aarch64-unknown-linux-musl]
linker = "clang"
fuse-ld = "lld"
target-cpu = "generic"
static = true
nix-cross = "aarch64-multiplatform-musl"
link-target = true
cc = "clang"
cxx = "clang++"
ar = "llvm-ar"
c-flags = ["-nostdlibinc", "-isystem", "/usr/include/aarch64-linux-musl"]
host-tools = { cc = "cc", cxx = "c++", ar = "ar" }
packages = ["clang", "llvm", "lld", "musl-dev:arm64"]
"#;

/// The built-in targets used when the policy has no `targets`.
pub fn defaults() -> BTreeMap<String, TargetPolicy> {
    toml::from_str(DEFAULTS).expect("the built-in targets parse")
}

/// The plan's targets: `host` (nothing set) and the policy's or default ones.
pub fn resolve(policy: &Policy) -> BTreeMap<String, Target> {
    let specs = policy.targets.clone().unwrap_or_else(defaults);
    let triples = specs
        .iter()
        .map(|(triple, spec)| (triple.clone(), from_policy(triple, spec)));
    std::iter::once(("host".to_string(), Target::default()))
        .chain(triples)
        .collect()
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
        assert_eq!(t["host"], Target::default());
        // x86_64's facts: helper/tests/plan.rs.
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
