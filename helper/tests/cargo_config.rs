//! `buildplan::cargo_config` against real cargo: each fixture workspace is
//! copied to a temp dir with a private `CARGO_HOME`, resolved, and built
//! with a plain `cargo build -v`; the rustc arguments of the fixture's own
//! crates must be what the resolved settings say.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use buildplan::cargo_config::{self, AddRustflags, CargoConfig, Inputs, RustflagsSource};
use buildplan::error::Error;
use buildplan::jobs::JobsValue;
use buildplan::model::{Overrides, Settings};
use serde_json::{json, Value};

/// A fixture copied into a temp dir: the workspace at `<tmp>/ws`, its
/// parent `<tmp>`, and a private cargo home `<tmp>/cargo-home`.
struct Ws {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    parent: PathBuf,
    home: PathBuf,
}

/// Copies fixture `name` (its `ws/` subdirectory if it has one) to
/// `<tmp>/ws`.
fn setup(name: &str) -> Ws {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::fixture_dir(name);
    let ws_src = if src.join("ws").is_dir() {
        src.join("ws")
    } else {
        src
    };
    let root = tmp.path().join("ws");
    common::copy_tree(&ws_src, &root);
    let home = tmp.path().join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    Ws {
        parent: tmp.path().to_path_buf(),
        _tmp: tmp,
        root,
        home,
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The environment for cargo and the resolver: only what finds the
/// toolchain, the private cargo home, and `extra`.
fn env(ws: &Ws, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = ["PATH", "HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"]
        .iter()
        .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?)))
        .collect();
    env.insert("CARGO_HOME".into(), ws.home.display().to_string());
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn inputs(ws: &Ws, env: &BTreeMap<String, String>, cli: &[&str]) -> Inputs {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(ws.root.join("Cargo.toml")).unwrap()).unwrap();
    Inputs {
        workspace_root: ws.root.clone(),
        manifest_profiles: manifest.get("profile").and_then(|p| p.as_table()).cloned(),
        cargo_home: None, // from env's CARGO_HOME, as cargo does
        env: env.clone(),
        cli_config: cli.iter().map(|s| s.to_string()).collect(),
        workspace_only: false,
    }
}

fn resolve(ws: &Ws, env: &BTreeMap<String, String>, cli: &[&str]) -> CargoConfig {
    cargo_config::load(&inputs(ws, env, cli)).expect("the fixture's configuration resolves")
}

/// One rustc invocation: the crate name and its arguments.
struct Unit {
    name: String,
    args: Vec<String>,
}

/// Runs `cargo build -v ARGS` in the workspace with exactly `env` and
/// returns the rustc invocations it printed (from a clean target dir, so
/// every unit is compiled).
fn cargo_build(ws: &Ws, env: &BTreeMap<String, String>, args: &[&str]) -> Vec<Unit> {
    let _ = std::fs::remove_dir_all(ws.root.join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-v"])
        .args(args)
        .current_dir(&ws.root)
        .env_clear()
        .envs(env)
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo build {args:?} failed:\n{stderr}"
    );
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Running `")?.strip_suffix('`'))
        .filter_map(|cmd| {
            let args = shlex::split(cmd)?;
            let pos = args.iter().position(|a| a == "--crate-name")?;
            Some(Unit {
                name: args[pos + 1].clone(),
                args,
            })
        })
        .collect()
}

fn unit<'a>(units: &'a [Unit], name: &str) -> &'a Unit {
    units
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no rustc invocation for `{name}`"))
}

/// The `-C` codegen options among `keys` a rustc invocation got, as
/// `key=value` (or `key` alone).
fn codegen(unit: &Unit, keys: &[&str]) -> BTreeSet<String> {
    unit.args
        .windows(2)
        .filter(|w| w[0] == "-C")
        .map(|w| w[1].clone())
        .filter(|opt| keys.contains(&opt.split('=').next().unwrap()))
        .collect()
}

const PROFILE_KEYS: &[&str] = &["opt-level", "lto", "codegen-units", "debuginfo", "strip"];

/// `--cfg fx_*` flags, in order: the rustflags the fixtures and tests use.
fn fx_flags(unit: &Unit) -> Vec<String> {
    unit.args
        .windows(2)
        .filter(|w| w[0] == "--cfg" && w[1].starts_with("fx_"))
        .flat_map(|w| w.to_vec())
        .collect()
}

/// The root profile (dev or release) a profile inherits from.
fn root_of(config: &CargoConfig, name: &str) -> String {
    match config.profile(name).unwrap().inherits {
        Some(parent) => root_of(config, &parent),
        None => name.to_string(),
    }
}

fn value(settings: &Settings, key: &str) -> Option<Value> {
    settings.get(key).map(|s| s.value.clone())
}

/// cargo's `debug` setting as rustc's `-C debuginfo` value; `None` when
/// there is no debug info.
fn debuginfo(v: &Value) -> Option<String> {
    match v {
        Value::Bool(true) => Some("2".into()),
        Value::Number(n) if n.as_i64() != Some(0) => Some(n.to_string()),
        Value::String(s) if s == "full" => Some("2".into()),
        Value::String(s) if s == "limited" => Some("1".into()),
        Value::String(s) if s != "none" => Some(s.clone()),
        _ => None,
    }
}

/// The `-C` options cargo derives for a binary crate from the resolved
/// profile (cargo's built-in root defaults filling the rest): opt-level
/// unless 0, lto when on, codegen-units when set, debuginfo unless none,
/// strip when set (and `debuginfo` when unset with no debug info).
fn expected(
    config: &CargoConfig,
    profile: &str,
    settings: &Settings,
    bin: bool,
) -> BTreeSet<String> {
    let release = root_of(config, profile) == "release";
    let mut out = BTreeSet::new();
    let opt = value(settings, "opt-level").unwrap_or(json!(if release { 3 } else { 0 }));
    let opt = opt.as_str().map(str::to_string).unwrap_or(opt.to_string());
    if opt != "0" {
        out.insert(format!("opt-level={opt}"));
    }
    if bin {
        match value(settings, "lto") {
            Some(Value::Bool(true)) => drop(out.insert("lto".into())),
            Some(Value::String(s)) => drop(out.insert(format!("lto={s}"))),
            _ => {}
        }
    }
    if let Some(n) = value(settings, "codegen-units") {
        out.insert(format!("codegen-units={n}"));
    }
    let debug = debuginfo(&value(settings, "debug").unwrap_or(json!(!release)));
    if let Some(d) = &debug {
        out.insert(format!("debuginfo={d}"));
    }
    match value(settings, "strip") {
        Some(Value::Bool(true)) => drop(out.insert("strip=symbols".into())),
        Some(Value::String(s)) if s != "none" => drop(out.insert(format!("strip={s}"))),
        None if debug.is_none() => drop(out.insert("strip=debuginfo".into())),
        _ => {}
    }
    out
}

/// Builds `profile` with plain cargo and asserts the crate `krate` got the
/// options the resolver predicts.
fn assert_matches_cargo(
    ws: &Ws,
    env: &BTreeMap<String, String>,
    cli: &[&str],
    profile: &str,
    krate: &str,
) -> CargoConfig {
    let config = resolve(ws, env, cli);
    let resolved = config.profile(profile).unwrap();
    let mut args = vec!["--profile", profile];
    for c in cli {
        args.extend(["--config", c]);
    }
    let units = cargo_build(ws, env, &args);
    assert_eq!(
        codegen(unit(&units, krate), PROFILE_KEYS),
        expected(&config, profile, &resolved.settings, true),
        "profile `{profile}`: rustc's options differ from the resolved settings {:#?}",
        resolved.settings
    );
    config
}

fn source(config: &CargoConfig, profile: &str, key: &str) -> (Value, String) {
    let p = config.profile(profile).unwrap();
    let s = p
        .settings
        .get(key)
        .unwrap_or_else(|| panic!("`{profile}` has no `{key}`"));
    (s.value.clone(), s.source.clone())
}

#[test]
fn profiles_only_in_config() {
    let ws = setup("config-only");
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "cfgonly");
    assert_eq!(
        source(&config, "release", "lto"),
        (json!("thin"), ".cargo/config.toml".into())
    );
    let names: Vec<String> = config.profile_names().into_iter().collect();
    assert_eq!(
        names,
        [
            "bench",
            "dev",
            "release",
            "release-fast",
            "release-optimized",
            "test"
        ]
    );
    for profile in ["release-fast", "release-optimized"] {
        assert_matches_cargo(&ws, &env, &[], profile, "cfgonly");
    }
    let fast = config.profile("release-fast").unwrap();
    assert_eq!(fast.inherits.as_deref(), Some("release"));
    assert_eq!(fast.settings["lto"].value, json!(false));
    assert_eq!(fast.settings["codegen-units"].source, ".cargo/config.toml");
}

#[test]
fn config_include() {
    let ws = setup("config-only");
    let config = ws.root.join(".cargo/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    write(
        &config,
        &format!("include = [\"extra.toml\", {{ path = \"gone.toml\", optional = true }}]\n{text}"),
    );
    write(
        &ws.root.join(".cargo/extra.toml"),
        "[profile.release]\nopt-level = 1\ndebug = 1\n[profile.inc]\ninherits = \"release\"\ncodegen-units = 3\n",
    );
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "cfgonly");
    // The including file's own `opt-level = 2` beats the included one.
    assert_eq!(
        source(&config, "release", "opt-level"),
        (json!(2), ".cargo/config.toml".into())
    );
    assert_eq!(
        source(&config, "release", "debug"),
        (json!(1), ".cargo/extra.toml".into())
    );
    assert_matches_cargo(&ws, &env, &[], "inc", "cfgonly");
}

#[test]
fn test_profile_inheriting_release_and_a_config_file_argument() {
    let ws = setup("config-only");
    let manifest = ws.root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(
        &manifest,
        &format!("{text}\n[profile.test]\ninherits = \"release\"\n"),
    );
    write(
        &ws.root.join("extra.toml"),
        "[profile.release]\ncodegen-units = 9\n",
    );
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &["extra.toml"], "test", "cfgonly");
    assert_eq!(
        config.profile("test").unwrap().inherits.as_deref(),
        Some("release")
    );
    assert_eq!(
        source(&config, "test", "codegen-units"),
        (json!(9), "--config extra.toml".into())
    );
}

#[test]
fn manifest_and_config_disagree() {
    let ws = setup("config-disagree");
    let env0 = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env0, &[], "release", "disagree");
    assert_eq!(
        source(&config, "release", "lto"),
        (json!("thin"), ".cargo/config.toml".into())
    );
    assert_eq!(
        source(&config, "release", "debug"),
        (json!(true), "Cargo.toml".into())
    );
    // A child's manifest key beats its parent's config key.
    assert_matches_cargo(&ws, &env0, &[], "rf", "disagree");
    assert_eq!(
        source(&config, "rf", "codegen-units"),
        (json!(4), "Cargo.toml".into())
    );
    assert_eq!(
        source(&config, "rf", "lto"),
        (json!("thin"), ".cargo/config.toml".into())
    );
    assert_matches_cargo(&ws, &env0, &[], "dev", "disagree");
    // The environment beats the config files, `--config` beats both.
    let env1 = env(
        &ws,
        &[
            ("CARGO_PROFILE_RELEASE_LTO", "false"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "3"),
            ("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only"),
        ],
    );
    let cli = ["profile.release.codegen-units=5"];
    let config = assert_matches_cargo(&ws, &env1, &cli, "release", "disagree");
    assert_eq!(
        source(&config, "release", "lto"),
        (json!(false), "env:CARGO_PROFILE_RELEASE_LTO".into())
    );
    assert_eq!(
        source(&config, "release", "codegen-units"),
        (json!(5), "--config profile.release.codegen-units=5".into())
    );
    assert_matches_cargo(&ws, &env1, &[], "rf", "disagree");
}

#[test]
fn config_in_a_parent_directory_and_cargo_home() {
    let ws = setup("config-parent");
    write(
        &ws.parent.join(".cargo/config.toml"),
        &std::fs::read_to_string(common::fixture_dir("config-parent/parent.toml")).unwrap(),
    );
    write(
        &ws.home.join("config.toml"),
        &std::fs::read_to_string(common::fixture_dir("config-parent/home.toml")).unwrap(),
    );
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "parentcfg");
    assert_eq!(
        config.sources(),
        [
            "$CARGO_HOME/config.toml",
            "../.cargo/config.toml",
            ".cargo/config.toml"
        ]
    );
    assert_eq!(
        source(&config, "release", "opt-level"),
        (json!(1), "../.cargo/config.toml".into())
    );
    assert_eq!(
        source(&config, "release", "codegen-units"),
        (json!(3), ".cargo/config.toml".into())
    );
    assert_eq!(
        source(&config, "release", "lto"),
        (json!("thin"), "$CARGO_HOME/config.toml".into())
    );
    assert!(config.profile_names().contains("fromparent"));
    assert_matches_cargo(&ws, &env, &[], "fromparent", "parentcfg");

    // Both `config` and `config.toml` in one directory: cargo reads `config`.
    write(
        &ws.parent.join(".cargo/config"),
        "[profile.release]\nopt-level = 2\n",
    );
    let config = assert_matches_cargo(&ws, &env, &[], "release", "parentcfg");
    assert_eq!(
        source(&config, "release", "opt-level"),
        (json!(2), "../.cargo/config".into())
    );
    assert_eq!(config.warnings().len(), 1, "{:?}", config.warnings());
}

#[test]
fn custom_profile_defined_only_in_config() {
    let ws = setup("config-custom");
    let env0 = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env0, &[], "ci", "custom");
    let ci = config.profile("ci").unwrap();
    assert_eq!(ci.inherits.as_deref(), Some("release"));
    assert_eq!(
        ci.declared_inherits.as_ref().unwrap().source,
        ".cargo/config.toml"
    );
    // Package override and build-override, checked on their own units.
    let units = cargo_build(&ws, &env0, &["--profile", "ci"]);
    let keys = ["opt-level", "codegen-units", "debuginfo"];
    let lib = &ci.package["fxlib"];
    assert_eq!(lib["opt-level"].value, json!(3));
    let mut want = expected(&config, "ci", &ci.settings, false);
    want.retain(|o| keys.contains(&o.split('=').next().unwrap()));
    want.retain(|o| !o.starts_with("opt-level") && !o.starts_with("codegen-units"));
    want.insert(format!("opt-level={}", lib["opt-level"].value));
    want.insert(format!("codegen-units={}", lib["codegen-units"].value));
    assert_eq!(codegen(unit(&units, "fxlib"), &keys), want);
    let bo = &ci.build_override;
    assert_eq!(
        codegen(
            unit(&units, "build_script_build"),
            &["opt-level", "codegen-units"]
        ),
        BTreeSet::from([
            format!("opt-level={}", bo["opt-level"].value),
            format!("codegen-units={}", bo["codegen-units"].value)
        ])
    );
    assert_matches_cargo(&ws, &env0, &[], "fastdev", "custom");
    // A profile defined only by environment variables, inheriting from a
    // config-only one; and an env build-override key beating the config's.
    let env1 = env(
        &ws,
        &[
            ("CARGO_PROFILE_ENVONLY_INHERITS", "ci"),
            ("CARGO_PROFILE_ENVONLY_CODEGEN_UNITS", "9"),
            ("CARGO_PROFILE_CI_BUILD_OVERRIDE_OPT_LEVEL", "1"),
        ],
    );
    let config = assert_matches_cargo(&ws, &env1, &[], "envonly", "custom");
    assert!(!config.profile_names().contains("envonly"));
    let envonly = config.profile("envonly").unwrap();
    assert_eq!(
        envonly.build_override["opt-level"].source,
        "env:CARGO_PROFILE_CI_BUILD_OVERRIDE_OPT_LEVEL"
    );
    let units = cargo_build(&ws, &env1, &["--profile", "envonly"]);
    assert_eq!(
        codegen(unit(&units, "build_script_build"), &["opt-level"]),
        BTreeSet::from(["opt-level=1".to_string()])
    );
}

/// The host's target triple.
fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap()
}

/// Resolves the host's rustflags, checks them against a plain cargo build,
/// then adds `--cfg fx_plan` the way the resolver says and checks that
/// cargo now passes the workspace's flags followed by the added ones.
fn check_rustflags(
    ws: &Ws,
    env: &BTreeMap<String, String>,
    winner: RustflagsSource,
) -> AddRustflags {
    let triple = host();
    let cfg = cargo_config::rustc_cfg(Path::new("rustc"), None).unwrap();
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
    let table = format!("\n[target.{triple}]\nrustflags = [\"--cfg\", \"fx_triple\"]\n");
    let ws_config = ws.root.join(".cargo/config.toml");
    let text = std::fs::read_to_string(&ws_config).unwrap();
    write(&ws_config, &format!("{text}{table}"));
    write(
        &ws.parent.join(".cargo/config.toml"),
        &format!("[target.{triple}]\nrustflags = [\"--cfg\", \"fx_outer\"]\n"),
    );
    write(
        &ws.home.join("config.toml"),
        &format!("[target.{triple}]\nrustflags = [\"--cfg\", \"fx_home\"]\n"),
    );
    let env0 = env(&ws, &[]);
    let cfg = cargo_config::rustc_cfg(Path::new("rustc"), None).unwrap();
    let flags = resolve(&ws, &env0, &[]).rustflags(&triple, &cfg).unwrap();
    if cfg!(target_os = "linux") {
        assert_eq!(
            flags.flags,
            [
                "--cfg",
                "fx_home",
                "--cfg",
                "fx_outer",
                "--cfg",
                "fx_triple",
                "--cfg",
                "fx_linux"
            ]
        );
        assert_eq!(flags.unmatched_cfg, ["cfg(windows)"]);
    }
    assert_eq!(flags.shadowed[0].key, "build.rustflags");
    let add = check_rustflags(&ws, &env0, RustflagsSource::Target);
    assert_eq!(
        add,
        AddRustflags::Config {
            arg: format!("target.{triple}.rustflags=[\"--cfg\", \"fx_plan\"]")
        }
    );
    // CARGO_TARGET_<TRIPLE>_RUSTFLAGS merges with the files' arrays.
    let var = cargo_config::target_env_var(&triple);
    let env1 = env(&ws, &[(var.as_str(), "--cfg fx_envt")]);
    check_rustflags(&ws, &env1, RustflagsSource::Target);
    // RUSTFLAGS replaces every configured flag; the plan appends to it.
    let env2 = env(&ws, &[("RUSTFLAGS", "--cfg fx_rustflags")]);
    let add = check_rustflags(&ws, &env2, RustflagsSource::RustflagsEnv);
    assert_eq!(
        add,
        AddRustflags::Env {
            name: "RUSTFLAGS".into(),
            value: "--cfg fx_rustflags --cfg fx_plan".into()
        }
    );
    let env3 = env(
        &ws,
        &[
            ("RUSTFLAGS", "--cfg fx_rustflags"),
            ("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1ffx_encoded"),
        ],
    );
    check_rustflags(&ws, &env3, RustflagsSource::EncodedEnv);
    // A string-valued key cannot take an array from --config.
    write(
        &ws.parent.join(".cargo/config.toml"),
        &format!("[target.{triple}]\nrustflags = \"--cfg fx_outer_str\"\n"),
    );
    std::fs::remove_file(ws.home.join("config.toml")).unwrap();
    write(&ws_config, &text);
    let add = check_rustflags(&ws, &env0, RustflagsSource::Target);
    assert!(
        matches!(add, AddRustflags::Env { ref name, .. } if *name == var),
        "{add:?}"
    );
    // Only [build] rustflags: adding target flags would replace them.
    std::fs::remove_file(ws.parent.join(".cargo/config.toml")).unwrap();
    write(
        &ws_config,
        "[build]\nrustflags = [\"--cfg\", \"fx_build\"]\n",
    );
    let add = check_rustflags(&ws, &env0, RustflagsSource::Build);
    assert!(matches!(add, AddRustflags::Config { ref arg } if arg.starts_with("build.")));
    // Nothing configured.
    std::fs::remove_file(&ws_config).unwrap();
    check_rustflags(&ws, &env0, RustflagsSource::None);
}

#[test]
fn jobs_follow_cargos_precedence() {
    let ws = setup("config-only");
    write(&ws.parent.join(".cargo/config.toml"), "[build]\njobs = 0\n");
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
    write(
        &ws.root.join(".cargo/config.toml"),
        &format!(
            "{}\n[build]\njobs = -1\n",
            std::fs::read_to_string(common::fixture_dir("config-only/.cargo/config.toml")).unwrap()
        ),
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
        &ws.parent.join(".cargo/config.toml"),
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

/// Loads the configuration of `ws` and returns the error.
fn load_err(ws: &Ws) -> Error {
    let env = env(ws, &[]);
    cargo_config::load(&inputs(ws, &env, &[])).expect_err("bad input is refused")
}

#[test]
fn bad_input_names_the_file_and_the_key() {
    let ws = setup("config-only");
    let config = ws.root.join(".cargo/config.toml");
    let good = std::fs::read_to_string(&config).unwrap();

    write(&config, &format!("{good}\n[profile.release\n"));
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Toml { file, message } if file == ".cargo/config.toml" && message.contains("line")),
        "{err}"
    );

    write(
        &config,
        &format!("{good}\n[profile.broken]\ninherits = \"nope\"\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { file, key, message } if file == ".cargo/config.toml" && key == "profile.broken.inherits" && message.contains("`nope`")),
        "{err}"
    );

    write(
        &config,
        &format!("{good}\n[profile.nothing]\nopt-level = 1\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { key, .. } if key == "profile.nothing.inherits"),
        "{err}"
    );

    write(
        &config,
        &format!("{good}\n[profile.dev]\ninherits = \"release\"\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { key, .. } if key == "profile.dev.inherits"),
        "{err}"
    );

    write(&config, &format!("{good}\n[profile.loop-a]\ninherits = \"loop-b\"\n[profile.loop-b]\ninherits = \"loop-a\"\n"));
    let err = load_err(&ws);
    assert!(err.to_string().contains("cycle"), "{err}");

    write(
        &config,
        &good.replace("strip = true", "strip = true\nfast = true"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { file, key, .. } if file == ".cargo/config.toml" && key == "profile.release.fast"),
        "{err}"
    );

    write(
        &config,
        &format!("{good}\n[profile.release.package.foo]\nlto = true\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { key, .. } if key == "profile.release.package.foo.lto"),
        "{err}"
    );

    write(
        &config,
        &format!("{good}\n[profile.release.build-override]\nspeed = 1\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { key, .. } if key == "profile.release.build-override.speed"),
        "{err}"
    );

    write(&config, &good);
    let manifest = ws.root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(
        &manifest,
        &format!("{text}\n[profile.dev]\nopt-levle = 1\n"),
    );
    let err = load_err(&ws);
    assert!(
        matches!(&err, Error::Key { file, key, .. } if file == "Cargo.toml" && key == "profile.dev.opt-levle"),
        "{err}"
    );
    write(&manifest, &text);

    let bad_env = env(&ws, &[("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "many")]);
    let err = cargo_config::load(&inputs(&ws, &bad_env, &[])).unwrap_err();
    assert!(
        matches!(&err, Error::Key { file, key, .. } if file == "env:CARGO_PROFILE_RELEASE_CODEGEN_UNITS" && key == "profile.release.codegen-units"),
        "{err}"
    );

    let env = env(&ws, &[]);
    let err = cargo_config::load(&inputs(&ws, &env, &["profile.release.lto = "])).unwrap_err();
    assert!(
        matches!(&err, Error::Toml { file, .. } if file.starts_with("--config")),
        "{err}"
    );

    // The good configuration still loads.
    cargo_config::load(&inputs(&ws, &env, &[])).unwrap();
}

#[test]
fn overrides_never_restate_what_cargo_already_has() {
    let ws = setup("config-disagree");
    let env = env(&ws, &[]);
    let config = resolve(&ws, &env, &[]);
    let release = config.profile("release").unwrap();
    let wanted = Overrides {
        settings: BTreeMap::from([
            ("lto".to_string(), json!("thin")),
            ("debug".to_string(), json!(false)),
        ]),
        build_override: BTreeMap::from([("opt-level".to_string(), json!(0))]),
        package: BTreeMap::new(),
    };
    let over = release.overrides(&wanted);
    assert_eq!(
        over.settings,
        BTreeMap::from([("debug".to_string(), json!(false))])
    );
    assert_eq!(over.build_override, wanted.build_override);
}
