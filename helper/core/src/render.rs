//! The helper's rendering of the plan's facts into cargo's terms: target
//! rustflags and the variables cargo and cc-rs read, and a profile's
//! overrides as `--config` values. (`nix/lib` renders its own from the same
//! facts.)
//!
//! Rustflags go to `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`, which cargo appends
//! to the `[target.<triple>].rustflags` of the workspace's config files
//! rather than replacing them. (Like any target rustflags, they make cargo
//! ignore `[build].rustflags`; restating those needs cargo's configuration
//! resolved, which is issue 10's config module.)

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Overrides, Target};

/// The rustflags of a target, in the contract's order: link target,
/// `-fuse-ld`, target CPU, static C runtime, then the policy's extras.
pub fn target_rustflags(target: &Target) -> Vec<String> {
    let mut flags = Vec::new();
    let mut flag = |value: String| {
        flags.push("-C".to_string());
        flags.push(value);
    };
    if let Some(link_target) = &target.link_target {
        flag(format!("link-arg=--target={link_target}"));
    }
    if let Some(ld) = &target.fuse_ld {
        flag(format!("link-arg=-fuse-ld={ld}"));
    }
    if let Some(cpu) = &target.target_cpu {
        flag(format!("target-cpu={cpu}"));
    }
    if target.is_static {
        flag("target-feature=+crt-static".into());
    }
    flags.extend(target.extra_rustflags.iter().cloned());
    flags
}

/// `CARGO_TARGET_<TRIPLE>_<KEY>` for a triple (`RUSTFLAGS`, `LINKER`).
pub fn target_var(triple: &str, key: &str) -> String {
    format!(
        "CARGO_TARGET_{}_{key}",
        triple.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

/// The variables a cross build of `target` needs: cargo's linker and
/// rustflags for the triple, and cc-rs's `CC_`, `CFLAGS_` (for a clang)
/// and `AR_`. Empty for the host, which has no triple.
pub fn target_env(target: &Target) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let Some(triple) = &target.triple else {
        return env;
    };
    let lower = triple.replace(['-', '.'], "_");
    if let Some(driver) = &target.linker_driver {
        env.insert(target_var(triple, "LINKER"), driver.clone());
    }
    let rustflags = target_rustflags(target);
    if !rustflags.is_empty() {
        env.insert(target_var(triple, "RUSTFLAGS"), rustflags.join(" "));
    }
    if let Some(cc) = &target.cc {
        env.insert(format!("CC_{lower}"), cc.clone());
        if cc.rsplit('/').next().is_some_and(|n| n.contains("clang")) {
            env.insert(format!("CFLAGS_{lower}"), format!("--target={triple}"));
        }
    }
    if let Some(ar) = &target.ar {
        env.insert(format!("AR_{lower}"), ar.clone());
    }
    env
}

/// A value as it is written in TOML.
fn toml_literal(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).expect("strings serialise"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A TOML key, quoted unless it is a bare key.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        serde_json::to_string(key).expect("strings serialise")
    }
}

/// A profile's overrides as `cargo --config` values, sorted.
pub fn profile_config(name: &str, overrides: &Overrides) -> Vec<String> {
    let base = format!("profile.{}", toml_key(name));
    let mut config = Vec::new();
    for (key, value) in &overrides.settings {
        config.push(format!("{base}.{key}={}", toml_literal(value)));
    }
    for (key, value) in &overrides.build_override {
        config.push(format!(
            "{base}.build-override.{key}={}",
            toml_literal(value)
        ));
    }
    for (pkg, settings) in &overrides.package {
        for (key, value) in settings {
            config.push(format!(
                "{base}.package.{}.{key}={}",
                toml_key(pkg),
                toml_literal(value)
            ));
        }
    }
    config.sort();
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn default_targets_render_as_before() {
        let targets = crate::targets::resolve(&Policy::default());
        let x = &targets["x86_64-unknown-linux-musl"];
        assert_eq!(
            target_rustflags(x),
            [
                "-C",
                "link-arg=-fuse-ld=mold",
                "-C",
                "target-cpu=x86-64-v2",
                "-C",
                "target-feature=+crt-static"
            ]
        );
        let env = target_env(x);
        assert_eq!(
            env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"],
            "-C link-arg=-fuse-ld=mold -C target-cpu=x86-64-v2 -C target-feature=+crt-static"
        );
        assert_eq!(
            env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER"],
            "clang"
        );
        assert_eq!(
            env["CFLAGS_x86_64_unknown_linux_musl"],
            "--target=x86_64-unknown-linux-musl"
        );
        assert_eq!(env["AR_x86_64_unknown_linux_musl"], "llvm-ar");
        assert_eq!(env["CC_x86_64_unknown_linux_musl"], "clang");
        let a = &targets["aarch64-unknown-linux-musl"];
        assert_eq!(
            target_rustflags(a)[..2],
            ["-C", "link-arg=--target=aarch64-unknown-linux-musl"]
        );
        assert!(target_env(&targets["host"]).is_empty());
        assert!(targets
            .values()
            .flat_map(target_env)
            .all(|(_, v)| !v.contains('/')));
    }

    #[test]
    fn extra_rustflags_come_last_and_gcc_gets_no_cflags() {
        let mut t = crate::targets::host();
        t.triple = Some("riscv64gc-unknown-linux-gnu".into());
        t.is_static = true;
        t.cc = Some("gcc".into());
        t.extra_rustflags = vec!["-C".into(), "force-frame-pointers=yes".into()];
        assert_eq!(
            target_rustflags(&t),
            [
                "-C",
                "target-feature=+crt-static",
                "-C",
                "force-frame-pointers=yes"
            ]
        );
        let env = target_env(&t);
        assert_eq!(
            env.keys().collect::<Vec<_>>(),
            [
                "CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUSTFLAGS",
                "CC_riscv64gc_unknown_linux_gnu"
            ]
        );
    }

    #[test]
    fn overrides_become_sorted_config_values() {
        let overrides: Overrides = serde_json::from_value(serde_json::json!({
            "settings": {"opt-level": 3, "lto": "thin", "inherits": "release"},
            "build_override": {"opt-level": 0},
            "package": {"*": {"debug": false}, "app": {"codegen-units": 1}}
        }))
        .unwrap();
        assert_eq!(
            profile_config("release-fast", &overrides),
            [
                "profile.release-fast.build-override.opt-level=0",
                "profile.release-fast.inherits=\"release\"",
                "profile.release-fast.lto=\"thin\"",
                "profile.release-fast.opt-level=3",
                "profile.release-fast.package.\"*\".debug=false",
                "profile.release-fast.package.app.codegen-units=1",
            ]
        );
        assert!(profile_config("dev", &Overrides::default()).is_empty());
    }
}
