//! Unit tests of variant resolution.

use super::*;
use crate::policy::Policy;

fn ws() -> Workspace {
    let member = |name: &str, features: &[&str]| Member {
        name: name.into(),
        version: "0.1.0".into(),
        path: name.into(),
        binaries: vec![],
        features: features.iter().map(|f| (f.to_string(), vec![])).collect(),
        member_deps: Vec::new(),
    };
    Workspace {
        root: "/w".into(),
        root_manifest: "/w/Cargo.toml".into(),
        members: [
            Member {
                binaries: vec!["app".into(), "app-cli".into()],
                ..member("app", &["default", "fast", "tls"])
            },
            member("lib", &["serde"]),
        ]
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect(),
    }
}

fn policy(text: &str) -> Policy {
    crate::manifest::RootManifest::parse(text, Path::new("Cargo.toml"))
        .unwrap()
        .policy
}

#[test]
fn builtin_variants_cover_every_member() {
    let v = resolve(&ws(), &Policy::default(), Path::new("Cargo.toml")).unwrap();
    assert_eq!(v.keys().collect::<Vec<_>>(), ["default", "full", "minimal"]);
    assert_eq!(v["minimal"].packages, ["app", "lib"]);
    assert_eq!(
        v["minimal"].builds["app"].alone_cargo_args,
        ["--package", "app", "--no-default-features"]
    );
    assert_eq!(
        v["default"].builds["lib"].alone_cargo_args,
        ["--package", "lib"]
    );
    assert_eq!(
        v["full"].builds["app"].features,
        ["app/default", "app/fast", "app/tls"]
    );
    for variant in v.values() {
        assert!(variant.unified);
        assert_eq!(variant.unify_note, None);
        assert_eq!(
            variant.deps_cargo_args,
            std::slice::from_ref(&variant.cargo_args)
        );
    }
    assert_eq!(
        v["full"].cargo_args,
        ["--package", "app", "--package", "lib", "--all-features"]
    );
    assert_eq!(
        v["minimal"].cargo_args,
        [
            "--package",
            "app",
            "--package",
            "lib",
            "--no-default-features"
        ]
    );
    assert_eq!(
        v["default"].cargo_args,
        ["--package", "app", "--package", "lib"]
    );
    // app has a binary: U + --bin app; lib has none: U + --lib.
    assert_eq!(
        v["default"].builds["app"].cargo_args,
        [
            "--package",
            "app",
            "--package",
            "lib",
            "--bin",
            "app",
            "--bin",
            "app-cli"
        ]
    );
    assert_eq!(
        v["default"].builds["lib"].cargo_args,
        ["--package", "app", "--package", "lib", "--lib"]
    );
}

#[test]
fn unification_off_by_policy_builds_each_root_alone() {
    let p = policy("[workspace.metadata.buildplan]\nunify-features = false\n");
    let v = resolve(&ws(), &p, Path::new("Cargo.toml")).unwrap();
    let full = &v["full"];
    assert!(!full.unified);
    assert!(full
        .unify_note
        .as_deref()
        .unwrap()
        .contains("unify-features = false"));
    assert_eq!(
        full.deps_cargo_args,
        [
            vec!["--package", "app", "--all-features"],
            vec!["--package", "lib", "--all-features"]
        ]
    );
    assert_eq!(
        full.builds["app"].cargo_args,
        full.builds["app"].alone_cargo_args
    );
    // The per-variant key overrides the global one, both ways.
    let p = policy(
        r#"
[workspace.metadata.buildplan]
unify-features = false
[workspace.metadata.buildplan.variants.on]
unify = true
[workspace.metadata.buildplan.variants.off]
"#,
    );
    let v = resolve(&ws(), &p, Path::new("Cargo.toml")).unwrap();
    assert!(v["on"].unified);
    assert!(!v["off"].unified);
    let p = policy("[workspace.metadata.buildplan.variants.off]\nunify = false\n");
    let v = resolve(&ws(), &p, Path::new("Cargo.toml")).unwrap();
    assert!(!v["off"].unified);
    assert!(v["off"]
        .unify_note
        .as_deref()
        .unwrap()
        .contains("variants.off.unify"));
}

#[test]
fn policy_variants_select_features() {
    let p = policy(
        r#"
[workspace.metadata.buildplan.variants.lean]
packages = ["app"]
features.app = { default-features = false, features = ["tls", "fast", "tls"] }
"#,
    );
    let v = resolve(&ws(), &p, Path::new("Cargo.toml")).unwrap();
    assert_eq!(v.keys().collect::<Vec<_>>(), ["lean"]);
    let b = &v["lean"].builds["app"];
    assert!(!b.default_features);
    assert_eq!(b.features, ["app/fast", "app/tls"]);
    let alone = [
        "--package",
        "app",
        "--no-default-features",
        "--features",
        "app/fast,app/tls",
    ];
    // A single root is unchanged: no target selection, not "unified".
    assert_eq!(b.cargo_args, alone);
    assert_eq!(b.alone_cargo_args, alone);
    assert!(!v["lean"].unified);
    assert_eq!(v["lean"].cargo_args, alone);
    assert_eq!(v["lean"].deps_cargo_args, [alone]);
    assert_eq!(v["lean"].description, "Variant `lean`");
}

#[test]
fn mixed_selections_spell_every_roots_features() {
    let cases = [
        // lib keeps its defaults (it declares none) + serde; app drops them.
        (
            "features.lib = { features = [\"serde\"] }\n\
             features.app = { default-features = false, features = [\"tls\"] }",
            &["--no-default-features", "--features", "app/tls,lib/serde"][..],
        ),
        // app keeps its defaults, lib does not: app/default is spelt out.
        (
            "features.lib = { default-features = false }\nfeatures.app = { features = [\"fast\"] }",
            &[
                "--no-default-features",
                "--features",
                "app/default,app/fast",
            ],
        ),
        // All default with extra features: no --no-default-features.
        (
            "features.lib = { features = [\"serde\"] }",
            &["--features", "lib/serde"],
        ),
    ];
    let w = ws();
    for (body, features) in cases {
        let p = policy(&format!(
            "[workspace.metadata.buildplan.variants.v]\n{body}\n"
        ));
        let v = resolve(&w, &p, Path::new("Cargo.toml")).unwrap();
        let mut expected = vec!["--package", "app", "--package", "lib"];
        expected.extend(features);
        assert_eq!(v["v"].cargo_args, expected, "{body}");
    }
}

#[test]
fn all_features_in_a_mixed_variant_are_spelt_out() {
    let w = ws();
    let mut builds = BTreeMap::new();
    builds.insert("app".to_string(), build(&w.members["app"], &None));
    builds.insert(
        "lib".to_string(),
        build(
            &w.members["lib"],
            &Some(FeatureSelection {
                default_features: false,
                features: vec![],
            }),
        ),
    );
    assert_eq!(
        unified_args(&builds, &w),
        [
            "--package",
            "app",
            "--package",
            "lib",
            "--no-default-features",
            "--features",
            "app/default,app/fast,app/tls"
        ]
    );
}

#[test]
fn a_shared_binary_name_falls_back_to_building_alone() {
    let mut w = ws();
    w.members.get_mut("lib").unwrap().binaries = vec!["app".into()];
    let v = resolve(&w, &Policy::default(), Path::new("Cargo.toml")).unwrap();
    let d = &v["default"];
    assert!(!d.unified);
    assert!(d.unify_note.as_deref().unwrap().contains("binary `app`"));
    assert_eq!(d.deps_cargo_args.len(), 2);
    assert_eq!(d.builds["lib"].cargo_args, ["--package", "lib"]);
}

#[test]
fn unknown_names_are_errors_naming_the_variant() {
    let cases = [
        ("packages = [\"nope\"]", "package `nope`"),
        ("packages = []", "empty"),
        ("features.nope = { features = [] }", "`nope`"),
        (
            "packages = [\"app\"]\nfeatures.lib = { features = [] }",
            "not one of the variant's packages",
        ),
        (
            "features.app = { features = [\"tsl\"] }",
            "no feature `tsl`",
        ),
    ];
    for (body, needle) in cases {
        let p = policy(&format!(
            "[workspace.metadata.buildplan.variants.broken]\n{body}\n"
        ));
        let err = resolve(&ws(), &p, Path::new("Cargo.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("variant `broken`"), "{err}");
        assert!(err.contains(needle), "{body}: {err}");
    }
}
