//! cargo's configuration for the plan (workspace layers only, [`plan_inputs`]) and for a
//! build here (every layer, [`run_inputs`]); the policy's `profiles` are the top layer.

use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

use crate::cargo_config::{self, CargoConfig, Inputs};
use crate::error::Error;
use crate::manifest::RootManifest;
use crate::model::{Overrides, Profile, Settings};
use crate::policy::Policy;

/// The source name of the policy layer in the plan.
pub const POLICY_SOURCE: &str = "policy";

/// Inputs for cargo running in `root` with `env`, every layer read.
fn inputs(root: &Path, profile: Option<&toml::Value>, env: BTreeMap<String, String>) -> Inputs {
    Inputs {
        workspace_root: root.to_path_buf(),
        manifest_profiles: profile.and_then(toml::Value::as_table).cloned(),
        env,
        ..Inputs::default()
    }
}

/// Plan inputs: manifest, configs at or below `root`, `env` minus `CARGO_PROFILE_*`/`CARGO_HOME`.
pub fn plan_inputs(
    root: &Path,
    profile: Option<&toml::Value>,
    env: BTreeMap<String, String>,
) -> Inputs {
    let env = env
        .into_iter()
        .filter(|(k, _)| !k.starts_with("CARGO_PROFILE_") && k != "CARGO_HOME")
        .collect();
    Inputs {
        workspace_only: true,
        ..inputs(root, profile, env)
    }
}

/// Inputs for a build on this machine: everything cargo in `root` reads.
pub fn run_inputs(root: &Path) -> Result<Inputs, Error> {
    let manifest = RootManifest::read(&root.join("Cargo.toml"))?;
    let env = cargo_config::env_map();
    Ok(inputs(root, manifest.profile.as_ref(), env))
}

/// Cargo's configuration as a build in `root` on this machine reads it.
pub fn run_config(root: &Path) -> Result<CargoConfig, Error> {
    cargo_config::load(&run_inputs(root)?)
}

/// Every profile of the plan (`dev`, `release`, defined ones), with sources and overrides.
pub fn plan_profiles(inputs: &Inputs, policy: &Policy) -> Result<BTreeMap<String, Profile>, Error> {
    let base = cargo_config::load(inputs)?;
    let mut with_policy = inputs.clone();
    if !policy.profiles.is_empty() {
        let doc = BTreeMap::from([("profile", &policy.profiles)]);
        let text = toml::to_string(&doc).expect("a TOML table serialises");
        with_policy.cli_config.push(text);
    }
    let full = cargo_config::load(&with_policy)?;
    let mut names = full.defined_profile_names();
    names.extend(["dev".to_string(), "release".to_string()]);
    let mut out = BTreeMap::new();
    for name in names {
        let mut profile = full.profile(&name)?;
        profile.declared_inherits = None;
        let tables = [&mut profile.settings, &mut profile.build_override];
        // The policy's `--config` layer is named `policy`.
        for table in tables.into_iter().chain(profile.package.values_mut()) {
            let from_policy = table
                .values_mut()
                .filter(|s| s.source.starts_with("--config "));
            from_policy.for_each(|s| s.source = POLICY_SOURCE.to_string());
        }
        profile.overrides = run_overrides(&base, &name, &profile)?;
        out.insert(name, profile);
    }
    Ok(out)
}

/// The policy's values of profile `name` that `cfg` does not give (all, for one cargo lacks).
pub fn run_overrides(cfg: &CargoConfig, name: &str, profile: &Profile) -> Result<Overrides, Error> {
    let values = |settings: &Settings| -> BTreeMap<String, Value> {
        let policy = settings.iter().filter(|(_, s)| s.source == POLICY_SOURCE);
        policy.map(|(k, s)| (k.clone(), s.value.clone())).collect()
    };
    let mut wanted = Overrides {
        settings: values(&profile.settings),
        build_override: values(&profile.build_override),
        package: (profile.package.iter())
            .map(|(pkg, s)| (pkg.clone(), values(s)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    };
    if cfg.profile_names().contains(name) {
        return Ok(cfg.profile(name)?.overrides(&wanted));
    }
    if let Some(parent) = &profile.inherits {
        let settings = &mut wanted.settings;
        settings.insert("inherits".into(), parent.clone().into());
    }
    Ok(wanted)
}

/// Whether a source is this machine's: `$CARGO_HOME`, a parent, `env:`.
pub fn is_machine_local(source: &str) -> bool {
    source.starts_with("env:") || source.starts_with("$CARGO_HOME") || source.starts_with("../")
}

/// Plan profile settings that `cfg`'s machine-local layers change, one line each.
pub fn machine_local_differences(
    cfg: &CargoConfig,
    profiles: &BTreeMap<String, Profile>,
) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    let known = cfg.profile_names();
    let empty = Settings::new();
    for (name, profile) in profiles.iter().filter(|(n, _)| known.contains(*n)) {
        let resolved = cfg.profile(name)?;
        let (here, planned) = (&resolved.build_override, &profile.build_override);
        let mut tables = vec![
            (String::new(), &resolved.settings, &profile.settings),
            ("build-override.".into(), here, planned),
        ];
        tables.extend(resolved.package.iter().map(|(pkg, here)| {
            let planned = profile.package.get(pkg).unwrap_or(&empty);
            (format!("package.{pkg}."), here, planned)
        }));
        for (prefix, here, planned) in tables {
            for (key, setting) in here {
                let planned = planned.get(key);
                if !is_machine_local(&setting.source)
                    || planned.is_some_and(|p| p.value == setting.value)
                {
                    continue;
                }
                let plan = match planned {
                    Some(p) if p.source == POLICY_SOURCE => format!(
                        "the plan's policy value {} still wins: build passes it as --config",
                        p.value
                    ),
                    Some(p) => format!("the committed plan: {} from {}", p.value, p.source),
                    None => "the committed plan: not set".to_string(),
                };
                let (value, source) = (&setting.value, &setting.source);
                let line = format!("{name}.{prefix}{key} = {value} from {source} ({plan})");
                lines.push(line);
            }
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RootManifest;

    const MANIFEST: &str = r#"
[workspace]
[profile.dev]
debug = "line-tables-only"
[profile.release]
opt-level = 2
lto = "thin"
[profile.release-fast]
inherits = "release"
lto = false
"#;

    /// A workspace in `<tmp>/ws` with `<tmp>/.cargo/config.toml` above it.
    fn resolve(
        manifest: &str,
        config: &str,
        parent_config: &str,
        env: &[(&str, &str)],
    ) -> Result<BTreeMap<String, Profile>, Error> {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("ws");
        std::fs::create_dir_all(root.join(".cargo")).unwrap();
        std::fs::create_dir_all(tmp.path().join(".cargo")).unwrap();
        std::fs::write(root.join(".cargo/config.toml"), config).unwrap();
        std::fs::write(tmp.path().join(".cargo/config.toml"), parent_config).unwrap();
        let m = RootManifest::parse(manifest, Path::new("Cargo.toml")).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        plan_profiles(&plan_inputs(&root, m.profile.as_ref(), env), &m.policy)
    }

    #[test]
    fn config_layers_win_and_only_the_workspace_counts() {
        let p = resolve(
            MANIFEST,
            "[profile.release]\nlto = false\n[profile.ci]\ninherits = \"dev\"\nincremental = false\n",
            "[profile.release]\ncodegen-units = 3\n",
            &[("CARGO_PROFILE_RELEASE_DEBUG", "true")],
        )
        .unwrap();
        let rel = &p["release"];
        assert_eq!(rel.settings["lto"].value, false);
        assert_eq!(rel.settings["lto"].source, ".cargo/config.toml");
        assert_eq!(rel.settings["opt-level"].source, "Cargo.toml");
        assert!(!rel.settings.contains_key("codegen-units"), "parent dir");
        assert!(!rel.settings.contains_key("debug"), "machine env");
        assert_eq!(p["ci"].inherits.as_deref(), Some("dev"));
        assert!(p.values().all(|p| p.overrides == Overrides::default()));
        assert!(!p.contains_key("test"));
    }

    #[test]
    fn policy_values_are_the_overrides_and_never_restate() {
        let policy = r#"
[workspace.metadata.buildplan.profiles.release]
opt-level = 3
lto = "thin"
package.server = { codegen-units = 4 }
[workspace.metadata.buildplan.profiles.ci]
inherits = "dev"
incremental = false
"#;
        let p = resolve(&format!("{MANIFEST}{policy}"), "", "", &[]).unwrap();
        let rel = &p["release"];
        assert_eq!(rel.settings["opt-level"].source, "policy");
        assert_eq!(rel.settings["opt-level"].value, 3);
        // Equal to the manifest's: recorded as the policy's, not passed.
        assert_eq!(
            serde_json::to_value(&rel.overrides).unwrap(),
            serde_json::json!({
                "settings": {"opt-level": 3},
                "build_override": {},
                "package": {"server": {"codegen-units": 4}}
            })
        );
        let fast = &p["release-fast"];
        assert_eq!(fast.settings["opt-level"].value, 3);
        assert!(!fast.overrides.settings.contains_key("lto"));
        let ci = &p["ci"];
        assert_eq!(ci.settings["debug"].source, "Cargo.toml");
        assert_eq!(ci.overrides.settings["inherits"], "dev");
        assert_eq!(ci.overrides.settings["incremental"], false);
        assert!(!ci.overrides.settings.contains_key("debug"));
    }

    #[test]
    fn bad_config_names_file_and_key() {
        let err = resolve(MANIFEST, "[profile.release]\nlto = \"thinn\"\n", "", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(".cargo/config.toml") && err.contains("profile.release.lto"),
            "{err}"
        );
        let err = resolve(MANIFEST, "[profile.x]\ninherits = \"nope\"\n", "", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("profile.x.inherits"), "{err}");
        let err = resolve(MANIFEST, "[profile\n", "", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid TOML"), "{err}");
    }

    #[test]
    fn machine_local_layers_are_named_against_the_plan() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("ws");
        std::fs::create_dir_all(root.join(".cargo")).unwrap();
        std::fs::create_dir_all(tmp.path().join(".cargo")).unwrap();
        std::fs::write(
            tmp.path().join(".cargo/config.toml"),
            "[profile.release]\ncodegen-units = 3\n",
        )
        .unwrap();
        let policy = "[workspace.metadata.buildplan.profiles.release]\nopt-level = 3\n";
        let m =
            RootManifest::parse(&format!("{MANIFEST}{policy}"), Path::new("Cargo.toml")).unwrap();
        let plan = plan_profiles(
            &plan_inputs(&root, m.profile.as_ref(), BTreeMap::new()),
            &m.policy,
        )
        .unwrap();
        let mut inputs = plan_inputs(&root, m.profile.as_ref(), BTreeMap::new());
        inputs.workspace_only = false;
        inputs
            .env
            .insert("CARGO_PROFILE_RELEASE_OPT_LEVEL".into(), "1".into());
        inputs
            .env
            .insert("CARGO_PROFILE_DEV_DEBUG".into(), "line-tables-only".into());
        let cfg = cargo_config::load(&inputs).unwrap();
        let lines = machine_local_differences(&cfg, &plan).unwrap();
        assert!(
            lines.iter().any(|l| l.starts_with(
                "release.codegen-units = 3 from ../.cargo/config.toml (the committed plan: not set"
            )),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("release.opt-level = 1 from env:CARGO_PROFILE_RELEASE_OPT_LEVEL (the plan's policy value 3 still wins")),
            "{lines:?}"
        );
        // The same value from another place changes nothing.
        assert!(!lines.iter().any(|l| l.starts_with("dev.")), "{lines:?}");
        // What a build passes on top of this machine's configuration.
        let over = run_overrides(&cfg, "release", &plan["release"]).unwrap();
        assert_eq!(over.settings["opt-level"], 3);
    }
}
