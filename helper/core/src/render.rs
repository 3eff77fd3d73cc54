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
use std::path::{Path, PathBuf};

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
    } else if target.triple.is_some() {
        flag("target-feature=-crt-static".into());
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
/// rustflags for the triple; cc-rs's `CC_`, `CXX_`, `AR_`, and `CFLAGS_`/
/// `CXXFLAGS_` (`--target=<triple>` for a clang, then the plan's
/// `c_flags`); `HOST_CC`, `HOST_CXX` and `HOST_AR` for the build
/// machine's side; and, with `cmake_dir`, `CMAKE_TOOLCHAIN_FILE_<triple>`
/// naming [`cmake_toolchain`]'s file there (read by the cmake crate).
/// Empty for the host, which has no triple.
pub fn target_env(target: &Target, cmake_dir: Option<&Path>) -> BTreeMap<String, String> {
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
    let mut tool = |var: &str, value: &Option<String>| {
        if let Some(value) = value {
            env.insert(format!("{var}_{lower}"), value.clone());
        }
    };
    tool("CC", &target.cc);
    tool("CXX", &target.cxx);
    tool("AR", &target.ar);
    let c_flags = c_flags(target);
    if !c_flags.is_empty() {
        env.insert(format!("CFLAGS_{lower}"), c_flags.join(" "));
        env.insert(format!("CXXFLAGS_{lower}"), c_flags.join(" "));
    }
    if let Some(host) = &target.host_tools {
        env.insert("HOST_CC".into(), host.cc.clone());
        env.insert("HOST_CXX".into(), host.cxx.clone());
        env.insert("HOST_AR".into(), host.ar.clone());
    }
    if let Some(dir) = cmake_dir.filter(|_| target.cc.is_some()) {
        env.insert(
            format!("CMAKE_TOOLCHAIN_FILE_{lower}"),
            cmake_toolchain_path(dir, triple).display().to_string(),
        );
    }
    env
}

/// Whether a compiler name is a clang (which takes `--target=`).
fn is_clang(tool: &str) -> bool {
    tool.rsplit('/').next().is_some_and(|n| n.contains("clang"))
}

/// The target's C compiler flags: `--target=<triple>` for a clang, then
/// the plan's `c_flags`.
fn c_flags(target: &Target) -> Vec<String> {
    let mut flags = Vec::new();
    if let (Some(triple), Some(cc)) = (&target.triple, &target.cc) {
        if is_clang(cc) {
            flags.push(format!("--target={triple}"));
        }
    }
    flags.extend(target.c_flags.iter().cloned());
    flags
}

/// Where the CMake toolchain file of `triple` lives under `dir`.
pub fn cmake_toolchain_path(dir: &Path, triple: &str) -> PathBuf {
    dir.join(format!("{triple}.cmake"))
}

/// A CMake toolchain file for a cross target with a C compiler: the
/// system (from the triple), the compilers and archiver by name, and
/// `try_compile` checks that build a static library (a cross compiler
/// cannot link a test program without the target's C runtime, which rustc
/// brings). The compiler flags come from the cmake crate, which passes
/// cc-rs's (`CFLAGS_<triple>` included) as `CMAKE_<LANG>_FLAGS`. `None`
/// for the host or a target without `cc`.
pub fn cmake_toolchain(target: &Target) -> Option<String> {
    let (triple, cc) = (target.triple.as_ref()?, target.cc.as_ref()?);
    let arch = triple.split('-').next().unwrap_or(triple);
    let system = if triple.contains("-linux") {
        "Linux"
    } else {
        "Generic"
    };
    let mut lines = vec![
        format!("# CMake toolchain for {triple}, written by cargo-buildplan from the plan."),
        format!("set(CMAKE_SYSTEM_NAME {system})"),
        format!("set(CMAKE_SYSTEM_PROCESSOR {arch})"),
        format!("set(CMAKE_C_COMPILER {cc})"),
        format!("set(CMAKE_ASM_COMPILER {cc})"),
    ];
    if let Some(cxx) = &target.cxx {
        lines.push(format!("set(CMAKE_CXX_COMPILER {cxx})"));
    }
    if let Some(ar) = &target.ar {
        lines.push(format!("set(CMAKE_AR {ar} CACHE FILEPATH \"archiver\")"));
    }
    lines.push("set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)".into());
    Some(lines.join("\n") + "\n")
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

/// A profile's overrides as `cargo --config` values, sorted.
pub fn profile_config(name: &str, overrides: &Overrides) -> Vec<String> {
    let base = format!("profile.{}", crate::cargo_config::toml_key(name));
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
                crate::cargo_config::toml_key(pkg),
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
        let env = target_env(x, None);
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
            "--target=x86_64-unknown-linux-musl -nostdlibinc -isystem /usr/include/x86_64-linux-musl"
        );
        assert_eq!(env["CXX_x86_64_unknown_linux_musl"], "clang++");
        assert_eq!(env["HOST_CC"], "cc");
        assert_eq!(env["AR_x86_64_unknown_linux_musl"], "llvm-ar");
        assert_eq!(env["CC_x86_64_unknown_linux_musl"], "clang");
        let a = &targets["aarch64-unknown-linux-musl"];
        assert_eq!(
            target_rustflags(a)[..2],
            ["-C", "link-arg=--target=aarch64-unknown-linux-musl"]
        );
        assert!(target_env(&targets["host"], Some(Path::new("/t"))).is_empty());
        assert!(targets
            .values()
            .flat_map(|t| target_env(t, None))
            .filter(|(k, _)| !k.starts_with("CFLAGS_") && !k.starts_with("CXXFLAGS_"))
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
        let env = target_env(&t, Some(Path::new("/t")));
        assert_eq!(
            env.keys().collect::<Vec<_>>(),
            [
                "CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUSTFLAGS",
                "CC_riscv64gc_unknown_linux_gnu",
                "CMAKE_TOOLCHAIN_FILE_riscv64gc_unknown_linux_gnu"
            ]
        );
        t.is_static = false;
        assert_eq!(target_rustflags(&t)[1], "target-feature=-crt-static");
        assert!(!target_rustflags(&crate::targets::host())
            .iter()
            .any(|f| f.contains("crt-static")));
        assert_eq!(
            cmake_toolchain(&t).unwrap(),
            "# CMake toolchain for riscv64gc-unknown-linux-gnu, written by cargo-buildplan from the plan.\n\
             set(CMAKE_SYSTEM_NAME Linux)\nset(CMAKE_SYSTEM_PROCESSOR riscv64gc)\n\
             set(CMAKE_C_COMPILER gcc)\nset(CMAKE_ASM_COMPILER gcc)\n\
             set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n"
        );
        assert_eq!(cmake_toolchain(&crate::targets::host()), None);
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
