//! `buildplan::cargo_config`'s build keys against real cargo: a target's
//! rustflags (and adding the plan's to them), jobs and the default target.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use buildplan::cargo_config::{self, AddRustflags, RustflagsSource};
use buildplan::error::Error;
use buildplan::jobs::JobsValue;
use common::cargo_ws::*;
use common::write;

/// Resolves the host's rustflags, checks them against a plain cargo build,
/// then adds `--cfg fx_plan` the way the resolver says and checks that
/// cargo now passes the workspace's flags followed by the added ones.
fn check_rustflags(
    ws: &Ws,
    env: &BTreeMap<String, String>,
    winner: RustflagsSource,
) -> AddRustflags {
    let triple = host();
    let cfg = cargo_config::rustc_cfg(None).unwrap();
    let config = resolve(ws, env, &[]);
    let flags = config.rustflags(&triple, &cfg).unwrap();
    assert_eq!(flags.winner, winner, "{flags:#?}");
    let units = cargo_build(ws, env, &[]);
    assert_eq!(fx_flags(unit(&units, "flags")), flags.flags, "{flags:#?}");

    let extra = vec!["--cfg".to_string(), "fx_plan".to_string()];
    let add = flags.add(&extra).unwrap();
    let mut env = env.clone();
    let mut args = Vec::new();
    match &add {
        AddRustflags::Env { name, value } => {
            env.insert(name.clone(), value.clone());
        }
        AddRustflags::Config { arg } => args.extend(["--config", arg.as_str()]),
        AddRustflags::Nothing => panic!("there is something to add"),
    }
    let units = cargo_build(ws, &env, &args);
    let got = fx_flags(unit(&units, "flags"));
    assert_eq!(got, flags.flags_with(&extra), "{add:?}");
    // Nothing the workspace configured is lost or reordered.
    let mut rest = got.clone();
    let at = (0..=rest.len() - 2)
        .find(|&i| rest[i..i + 2] == extra[..])
        .expect("the added flags are there");
    rest.drain(at..at + 2);
    assert_eq!(rest, flags.flags);
    add
}

#[test]
fn target_rustflags_in_config() {
    let ws = setup("config-rustflags");
    let triple = host();
    let table = |flag: &str| format!("\n[target.{triple}]\nrustflags = {flag}\n");
    let ws_config = ws.root.join(".cargo/config.toml");
    let text = text(&ws_config);
    append(&ws_config, &table(r#"["--cfg", "fx_triple"]"#));
    write(
        &ws.parent,
        ".cargo/config.toml",
        &table(r#"["--cfg", "fx_outer"]"#),
    );
    write(&ws.home, "config.toml", &table(r#"["--cfg", "fx_home"]"#));
    let env0 = env(&ws, &[]);
    let cfg = cargo_config::rustc_cfg(None).unwrap();
    let flags = resolve(&ws, &env0, &[]).rustflags(&triple, &cfg).unwrap();
    if cfg!(target_os = "linux") {
        let cfgs = ["fx_home", "fx_outer", "fx_triple", "fx_linux"];
        assert_eq!(flags.flags, cfgs.map(|c| ["--cfg", c]).concat());
        assert_eq!(flags.unmatched_cfg, ["cfg(windows)"]);
    }
    assert_eq!(flags.shadowed[0].key, "build.rustflags");
    // The variables on top of the files: CARGO_TARGET_<TRIPLE>_RUSTFLAGS
    // merges with their arrays; RUSTFLAGS replaces every configured flag
    // (the plan appends to it); CARGO_ENCODED_RUSTFLAGS beats RUSTFLAGS.
    let var = cargo_config::target_env_var(&triple);
    let plain = ("RUSTFLAGS", "--cfg fx_rustflags");
    let cases = [
        (vec![], RustflagsSource::Target),
        (
            vec![(var.as_str(), "--cfg fx_envt")],
            RustflagsSource::Target,
        ),
        (vec![plain], RustflagsSource::RustflagsEnv),
        (
            vec![plain, ("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1ffx_encoded")],
            RustflagsSource::EncodedEnv,
        ),
    ];
    let adds: Vec<AddRustflags> = (cases.iter())
        .map(|(extra, winner)| check_rustflags(&ws, &env(&ws, extra), *winner))
        .collect();
    let arg = format!("target.{triple}.rustflags=[\"--cfg\", \"fx_plan\"]");
    assert_eq!(adds[0], AddRustflags::Config { arg });
    let value = "--cfg fx_rustflags --cfg fx_plan".into();
    let name = "RUSTFLAGS".into();
    assert_eq!(adds[2], AddRustflags::Env { name, value });
    // A string-valued key cannot take an array from --config.
    write(
        &ws.parent,
        ".cargo/config.toml",
        &table("\"--cfg fx_outer_str\""),
    );
    std::fs::remove_file(ws.home.join("config.toml")).unwrap();
    std::fs::write(&ws_config, &text).unwrap();
    let add = check_rustflags(&ws, &env0, RustflagsSource::Target);
    assert!(
        matches!(add, AddRustflags::Env { ref name, .. } if *name == var),
        "{add:?}"
    );
    // Only [build] rustflags: adding target flags would replace them.
    std::fs::remove_file(ws.parent.join(".cargo/config.toml")).unwrap();
    let build = "[build]\nrustflags = [\"--cfg\", \"fx_build\"]\n";
    std::fs::write(&ws_config, build).unwrap();
    let add = check_rustflags(&ws, &env0, RustflagsSource::Build);
    assert!(matches!(add, AddRustflags::Config { ref arg } if arg.starts_with("build.")));
    // Nothing configured.
    std::fs::remove_file(&ws_config).unwrap();
    check_rustflags(&ws, &env0, RustflagsSource::None);
}

#[test]
fn jobs_follow_cargos_precedence() {
    let ws = setup("config-only");
    write(&ws.parent, ".cargo/config.toml", "[build]\njobs = 0\n");
    // cargo refuses `jobs = 0` when it is the value in effect...
    let env0 = env(&ws, &[]);
    let err = cargo_config::load(&inputs(&ws, &env0, &[])).unwrap_err();
    assert!(
        matches!(&err, Error::Key { file, key, .. } if file == "../.cargo/config.toml" && key == "build.jobs"),
        "{err}"
    );
    let cargo = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args(["build", "-q"])
        .current_dir(&ws.root)
        .env_clear()
        .envs(&env0)
        .output()
        .unwrap();
    assert!(!cargo.status.success());
    // ...and does not look at it when CARGO_BUILD_JOBS is set.
    let env1 = env(&ws, &[("CARGO_BUILD_JOBS", "1")]);
    let jobs = resolve(&ws, &env1, &[]).jobs().unwrap().unwrap();
    assert_eq!(jobs.value, JobsValue::Count(1));
    assert_eq!(jobs.source, "env:CARGO_BUILD_JOBS");
    cargo_build(&ws, &env1, &[]);
    // The nearest file wins among files; `--config` beats the variable.
    append(
        &ws.root.join(".cargo/config.toml"),
        "\n[build]\njobs = -1\n",
    );
    let jobs = resolve(&ws, &env0, &[]).jobs().unwrap().unwrap();
    assert_eq!(
        (jobs.value, jobs.source.as_str()),
        (JobsValue::Count(-1), ".cargo/config.toml")
    );
    assert_eq!(jobs.count(8), 7);
    let jobs = resolve(&ws, &env1, &["build.jobs=\"default\""])
        .jobs()
        .unwrap()
        .unwrap();
    assert_eq!(jobs.value, JobsValue::Default);
}

#[test]
fn build_target_from_config() {
    let ws = setup("config-only");
    let triple = host();
    write(
        &ws.parent,
        ".cargo/config.toml",
        &format!("[build]\ntarget = \"{triple}\"\n"),
    );
    let env = env(&ws, &[]);
    let (targets, source) = resolve(&ws, &env, &[]).build_target().unwrap().unwrap();
    assert_eq!(
        (targets, source.as_str()),
        (vec![triple.clone()], "../.cargo/config.toml")
    );
    let units = cargo_build(&ws, &env, &[]);
    let out_dir = unit(&units, "cfgonly")
        .args
        .windows(2)
        .find(|w| w[0] == "--out-dir")
        .map(|w| w[1].clone())
        .unwrap();
    assert!(
        out_dir.contains(&format!("target/{triple}/debug")),
        "{out_dir}"
    );
}
