//! `buildplan::cargo_config` against real cargo (the `cargo_config_*.rs`
//! tests): a fixture workspace copied to a temp dir with a private
//! `CARGO_HOME`, resolved, and built with a plain `cargo build -v`, whose
//! rustc arguments must be what the resolved settings say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use buildplan::cargo_config::{self, CargoConfig, Inputs};
use buildplan::model::Settings;
use serde_json::{json, Value};

/// A fixture copied into a temp dir: the workspace at `<tmp>/ws`, its
/// parent `<tmp>`, and a private cargo home `<tmp>/cargo-home`.
pub struct Ws {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub parent: PathBuf,
    pub home: PathBuf,
}

/// Copies fixture `name` (its `ws/` subdirectory if it has one) to
/// `<tmp>/ws`.
pub fn setup(name: &str) -> Ws {
    let tmp = tempfile::tempdir().unwrap();
    let src = super::fixture_dir(name);
    let ws_src = if src.join("ws").is_dir() {
        src.join("ws")
    } else {
        src
    };
    let root = tmp.path().join("ws");
    super::copy_tree(&ws_src, &root);
    let home = tmp.path().join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    Ws {
        parent: tmp.path().to_path_buf(),
        _tmp: tmp,
        root,
        home,
    }
}

/// A file's text.
pub fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Appends `extra` to the file at `path`.
pub fn append(path: &Path, extra: &str) {
    std::fs::write(path, text(path) + extra).unwrap();
}

/// The environment for cargo and the resolver: only what finds the
/// toolchain, the private cargo home, and `extra`.
pub fn env(ws: &Ws, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
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

/// The resolver's inputs for the workspace with `env` and `--config` values.
pub fn inputs(ws: &Ws, env: &BTreeMap<String, String>, cli: &[&str]) -> Inputs {
    let manifest: toml::Table = toml::from_str(&text(&ws.root.join("Cargo.toml"))).unwrap();
    Inputs {
        workspace_root: ws.root.clone(),
        manifest_profiles: manifest.get("profile").and_then(|p| p.as_table()).cloned(),
        cargo_home: None, // from env's CARGO_HOME, as cargo does
        env: env.clone(),
        cli_config: cli.iter().map(|s| s.to_string()).collect(),
        workspace_only: false,
    }
}

/// The workspace's configuration, which must load.
pub fn resolve(ws: &Ws, env: &BTreeMap<String, String>, cli: &[&str]) -> CargoConfig {
    cargo_config::load(&inputs(ws, env, cli)).expect("the fixture's configuration resolves")
}

/// One rustc invocation: the crate name and its arguments.
pub struct Unit {
    pub name: String,
    pub args: Vec<String>,
}

/// Runs `cargo build -v ARGS` in the workspace with exactly `env` and
/// returns the rustc invocations it printed (from a clean target dir, so
/// every unit is compiled).
pub fn cargo_build(ws: &Ws, env: &BTreeMap<String, String>, args: &[&str]) -> Vec<Unit> {
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

/// The invocation of crate `name`.
pub fn unit<'a>(units: &'a [Unit], name: &str) -> &'a Unit {
    units
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("no rustc invocation for `{name}`"))
}

/// The `-C` codegen options among `keys` a rustc invocation got, as
/// `key=value` (or `key` alone).
pub fn codegen(unit: &Unit, keys: &[&str]) -> BTreeSet<String> {
    unit.args
        .windows(2)
        .filter(|w| w[0] == "-C")
        .map(|w| w[1].clone())
        .filter(|opt| keys.contains(&opt.split('=').next().unwrap()))
        .collect()
}

/// The `-C` options a profile decides.
pub const PROFILE_KEYS: &[&str] = &["opt-level", "lto", "codegen-units", "debuginfo", "strip"];

/// `--cfg fx_*` flags, in order: the rustflags the fixtures and tests use.
pub fn fx_flags(unit: &Unit) -> Vec<String> {
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
pub fn expected(
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
pub fn assert_matches_cargo(
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

/// Asserts the value and source of each `(key, value, source)` in the
/// resolved `profile`.
pub fn assert_sources(config: &CargoConfig, profile: &str, want: &[(&str, Value, &str)]) {
    let p = config.profile(profile).unwrap();
    for (key, value, source) in want {
        let s = (p.settings.get(*key)).unwrap_or_else(|| panic!("`{profile}` has no `{key}`"));
        assert_eq!(
            (&s.value, s.source.as_str()),
            (value, *source),
            "{profile}.{key}"
        );
    }
}

/// The host's target triple.
pub fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap()
}
