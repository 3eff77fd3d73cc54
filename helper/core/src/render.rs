//! The plan's facts in cargo's terms: rustflags, cargo and cc-rs variables,
//! `--config` profile overrides (`nix/lib` renders its own).

use std::{collections::BTreeMap, path::Path};

use crate::model::{Overrides, Target};

/// The rustflags of a target, in the contract's order.
pub fn target_rustflags(target: &Target) -> Vec<String> {
    let mut flags = Vec::new();
    let mut flag = |value: String| flags.extend(["-C".to_string(), value]);
    if let Some(link_target) = &target.link_target {
        flag(format!("link-arg=--target={link_target}"));
    }
    if let Some(ld) = &target.fuse_ld {
        flag(format!("link-arg=-fuse-ld={ld}"));
    }
    if let Some(cpu) = &target.target_cpu {
        flag(format!("target-cpu={cpu}"));
    }
    match (target.is_static, &target.triple) {
        (true, _) => flag("target-feature=+crt-static".into()),
        (false, Some(_)) => flag("target-feature=-crt-static".into()),
        (false, None) => {}
    }
    flags.extend(target.extra_rustflags.iter().cloned());
    flags
}

/// `CARGO_TARGET_<TRIPLE>_<KEY>` for a triple (`RUSTFLAGS`, `LINKER`).
pub fn target_var(triple: &str, key: &str) -> String {
    let triple = triple.to_ascii_uppercase().replace(['-', '.'], "_");
    format!("CARGO_TARGET_{triple}_{key}")
}

/// Variables a cross build of `target` needs (cargo, cc-rs, cmake by `cmake_dir`); none for host.
pub fn target_env(target: &Target, cmake_dir: Option<&Path>) -> BTreeMap<String, String> {
    let Some(triple) = &target.triple else {
        return BTreeMap::new();
    };
    let lower = triple.replace(['-', '.'], "_");
    let rustflags = target_rustflags(target).join(" ");
    let rustflags = (!rustflags.is_empty()).then_some(rustflags);
    let cc = target.cc.as_deref();
    let clang = cc.is_some_and(|cc| cc.rsplit('/').next().unwrap_or(cc).contains("clang"));
    let mut c_flags = target.c_flags.clone();
    if clang {
        c_flags.insert(0, format!("--target={triple}"));
    }
    let c_flags = (!c_flags.is_empty()).then(|| c_flags.join(" "));
    let host = target.host_tools.as_ref();
    let cmake = cmake_dir.filter(|_| cc.is_some());
    let cmake = cmake.map(|d| d.join(format!("{triple}.cmake")).display().to_string());
    let vars = [
        (target_var(triple, "LINKER"), target.linker_driver.clone()),
        (target_var(triple, "RUSTFLAGS"), rustflags),
        (format!("CC_{lower}"), target.cc.clone()),
        (format!("CXX_{lower}"), target.cxx.clone()),
        (format!("AR_{lower}"), target.ar.clone()),
        (format!("CFLAGS_{lower}"), c_flags.clone()),
        (format!("CXXFLAGS_{lower}"), c_flags),
        ("HOST_CC".into(), host.map(|h| h.cc.clone())),
        ("HOST_CXX".into(), host.map(|h| h.cxx.clone())),
        ("HOST_AR".into(), host.map(|h| h.ar.clone())),
        (format!("CMAKE_TOOLCHAIN_FILE_{lower}"), cmake),
    ];
    let set = vars
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)));
    set.collect()
}

/// A CMake toolchain file for a cross target with a C compiler (`try_compile`: static lib).
pub fn cmake_toolchain(target: &Target) -> Option<String> {
    let (triple, cc) = (target.triple.as_ref()?, target.cc.as_ref()?);
    let arch = triple.split('-').next().unwrap_or(triple);
    let linux = triple.contains("-linux");
    let system = if linux { "Linux" } else { "Generic" };
    let mut text = format!(
        "# CMake toolchain for {triple}, written by cargo-buildplan from the plan.\n\
         set(CMAKE_SYSTEM_NAME {system})\nset(CMAKE_SYSTEM_PROCESSOR {arch})\n\
         set(CMAKE_C_COMPILER {cc})\nset(CMAKE_ASM_COMPILER {cc})\n"
    );
    if let Some(cxx) = &target.cxx {
        text += &format!("set(CMAKE_CXX_COMPILER {cxx})\n");
    }
    if let Some(ar) = &target.ar {
        text += &format!("set(CMAKE_AR {ar} CACHE FILEPATH \"archiver\")\n");
    }
    text.push_str("set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n");
    Some(text)
}

/// A profile's overrides as `cargo --config` values, sorted.
pub fn profile_config(name: &str, overrides: &Overrides) -> Vec<String> {
    let base = format!("profile.{}", crate::cargo_config::toml_key(name));
    let packages = overrides.package.iter().flat_map(|(pkg, settings)| {
        let prefix = format!("package.{}.", crate::cargo_config::toml_key(pkg));
        (settings.iter()).map(move |(key, value)| (format!("{prefix}{key}"), value))
    });
    let build_override =
        (overrides.build_override.iter()).map(|(k, v)| (format!("build-override.{k}"), v));
    let settings = overrides.settings.iter().map(|(k, v)| (k.clone(), v));
    let mut config: Vec<String> = settings
        .chain(build_override)
        .chain(packages)
        .map(|(key, value)| {
            let value = toml::Value::try_from(value).expect("profile values are TOML");
            format!("{base}.{key}={value}")
        })
        .collect();
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
        let mut t = Target {
            triple: Some("riscv64gc-unknown-linux-gnu".into()),
            is_static: true,
            cc: Some("gcc".into()),
            extra_rustflags: vec!["-C".into(), "force-frame-pointers=yes".into()],
            ..Target::default()
        };
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
        assert!(!target_rustflags(&Target::default())
            .iter()
            .any(|f| f.contains("crt-static")));
        assert_eq!(
            cmake_toolchain(&t).unwrap(),
            "# CMake toolchain for riscv64gc-unknown-linux-gnu, written by cargo-buildplan from the plan.\n\
             set(CMAKE_SYSTEM_NAME Linux)\nset(CMAKE_SYSTEM_PROCESSOR riscv64gc)\n\
             set(CMAKE_C_COMPILER gcc)\nset(CMAKE_ASM_COMPILER gcc)\n\
             set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n"
        );
        assert_eq!(cmake_toolchain(&Target::default()), None);
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
