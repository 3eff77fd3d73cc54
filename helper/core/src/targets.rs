//! Compilation targets, from the policy or the built-in defaults. Tools
//! are named, never paths: Nix and a shell put different binaries there.

use std::collections::BTreeMap;

use crate::model::Target;
use crate::policy::{Policy, TargetPolicy};

/// What both built-in targets share (policy format): static, C built by
/// clang with Debian's musl headers only (`-nostdlibinc`), archived by
/// `llvm-ar`, build scripts' C by the build machine's `cc`.
const SHARED: &str = r#"
linker = "clang"
static = true
cc = "clang"
cxx = "clang++"
ar = "llvm-ar"
host-tools = { cc = "cc", cxx = "c++", ar = "ar" }
"#;

/// The built-in targets' own settings.
const OWN: &str = r#"
[x86_64-unknown-linux-musl]
fuse-ld = "mold"
target-cpu = "x86-64-v2"
nix-cross = "musl64"
c-flags = ["-nostdlibinc", "-isystem", "/usr/include/x86_64-linux-musl"]
packages = ["clang", "llvm", "mold", "musl-dev"]

[aarch64-unknown-linux-musl]
c-flags = ["-nostdlibinc", "-isystem", "/usr/include/aarch64-linux-musl"]
packages = ["clang", "llvm", "lld", "musl-dev:arm64"]
fuse-ld = "lld"
link-target = true
target-cpu = "generic"
nix-cross = "aarch64-multiplatform-musl"
"#;

/// The built-in targets used when the policy has no `targets`.
pub fn defaults() -> BTreeMap<String, TargetPolicy> {
    let shared: toml::Table = toml::from_str(SHARED).expect("the shared settings parse");
    let own: BTreeMap<String, toml::Table> = toml::from_str(OWN).expect("the targets parse");
    let merge = |mut own: toml::Table| {
        own.extend(shared.clone());
        own.try_into().expect("the built-in targets are policy")
    };
    own.into_iter()
        .map(|(triple, t)| (triple, merge(t)))
        .collect()
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
