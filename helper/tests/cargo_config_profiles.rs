//! Profiles from `buildplan::cargo_config` against real cargo: each fixture
//! workspace is resolved and built with plain cargo, and the rustc
//! arguments of the fixture's own crates must be what the resolved settings
//! say; the sources must name the layer that wins.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use buildplan::model::Overrides;
use common::cargo_ws::*;
use common::write;
use serde_json::json;

#[test]
fn profiles_only_in_config() {
    let ws = setup("config-only");
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "cfgonly");
    assert_sources(
        &config,
        "release",
        &[("lto", json!("thin"), ".cargo/config.toml")],
    );
    let names: Vec<String> = config.profile_names().into_iter().collect();
    let custom = ["release-fast", "release-optimized"];
    assert_eq!(
        names,
        [&["bench", "dev", "release"][..], &custom, &["test"]].concat()
    );
    for profile in custom {
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
    let include = "include = [\"extra.toml\", { path = \"gone.toml\", optional = true }]\n";
    std::fs::write(&config, format!("{include}{}", text(&config))).unwrap();
    write(
        &ws.root,
        ".cargo/extra.toml",
        "[profile.release]\nopt-level = 1\ndebug = 1\n[profile.inc]\ninherits = \"release\"\ncodegen-units = 3\n",
    );
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "cfgonly");
    // The including file's own `opt-level = 2` beats the included one.
    let want = [
        ("opt-level", json!(2), ".cargo/config.toml"),
        ("debug", json!(1), ".cargo/extra.toml"),
    ];
    assert_sources(&config, "release", &want);
    assert_matches_cargo(&ws, &env, &[], "inc", "cfgonly");
}

#[test]
fn test_profile_inheriting_release_and_a_config_file_argument() {
    let ws = setup("config-only");
    append(
        &ws.root.join("Cargo.toml"),
        "\n[profile.test]\ninherits = \"release\"\n",
    );
    write(
        &ws.root,
        "extra.toml",
        "[profile.release]\ncodegen-units = 9\n",
    );
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &["extra.toml"], "test", "cfgonly");
    assert_eq!(
        config.profile("test").unwrap().inherits.as_deref(),
        Some("release")
    );
    let want = [("codegen-units", json!(9), "--config extra.toml")];
    assert_sources(&config, "test", &want);
}

#[test]
fn manifest_and_config_disagree() {
    let ws = setup("config-disagree");
    let env0 = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env0, &[], "release", "disagree");
    let want = [
        ("lto", json!("thin"), ".cargo/config.toml"),
        ("debug", json!(true), "Cargo.toml"),
    ];
    assert_sources(&config, "release", &want);
    // A child's manifest key beats its parent's config key.
    assert_matches_cargo(&ws, &env0, &[], "rf", "disagree");
    let want = [
        ("codegen-units", json!(4), "Cargo.toml"),
        ("lto", json!("thin"), ".cargo/config.toml"),
    ];
    assert_sources(&config, "rf", &want);
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
    let want = [
        ("lto", json!(false), "env:CARGO_PROFILE_RELEASE_LTO"),
        (
            "codegen-units",
            json!(5),
            "--config profile.release.codegen-units=5",
        ),
    ];
    assert_sources(&config, "release", &want);
    assert_matches_cargo(&ws, &env1, &[], "rf", "disagree");
}

#[test]
fn config_in_a_parent_directory_and_cargo_home() {
    let ws = setup("config-parent");
    let fixture = |name: &str| text(&common::fixture_dir("config-parent").join(name));
    write(&ws.parent, ".cargo/config.toml", &fixture("parent.toml"));
    write(&ws.home, "config.toml", &fixture("home.toml"));
    let env = env(&ws, &[]);
    let config = assert_matches_cargo(&ws, &env, &[], "release", "parentcfg");
    let layers = ["$CARGO_HOME/config.toml", "../.cargo/config.toml"];
    assert_eq!(
        config.sources(),
        [&layers[..], &[".cargo/config.toml"]].concat()
    );
    let want = [
        ("opt-level", json!(1), "../.cargo/config.toml"),
        ("codegen-units", json!(3), ".cargo/config.toml"),
        ("lto", json!("thin"), "$CARGO_HOME/config.toml"),
    ];
    assert_sources(&config, "release", &want);
    assert!(config.profile_names().contains("fromparent"));
    assert_matches_cargo(&ws, &env, &[], "fromparent", "parentcfg");

    // Both `config` and `config.toml` in one directory: cargo reads `config`.
    write(
        &ws.parent,
        ".cargo/config",
        "[profile.release]\nopt-level = 2\n",
    );
    let config = assert_matches_cargo(&ws, &env, &[], "release", "parentcfg");
    let want = [("opt-level", json!(2), "../.cargo/config")];
    assert_sources(&config, "release", &want);
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
    let keys = ["opt-level", "codegen-units"];
    assert_eq!(
        codegen(unit(&units, "build_script_build"), &keys),
        BTreeSet::from(keys.map(|k| format!("{k}={}", bo[k].value)))
    );
    assert_matches_cargo(&ws, &env0, &[], "fastdev", "custom");
    // A profile defined only by environment variables, inheriting from a
    // config-only one; and an env build-override key beating the config's.
    let vars = [
        ("CARGO_PROFILE_ENVONLY_INHERITS", "ci"),
        ("CARGO_PROFILE_ENVONLY_CODEGEN_UNITS", "9"),
        ("CARGO_PROFILE_CI_BUILD_OVERRIDE_OPT_LEVEL", "1"),
    ];
    let env1 = env(&ws, &vars);
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
