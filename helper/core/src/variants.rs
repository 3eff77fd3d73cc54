//! Feature variants: which packages a variant builds and with which
//! features, and the exact cargo arguments for each.
//!
//! Without a `variants` table in the policy there are three, each building
//! every workspace member:
//!
//! - `minimal`: `--no-default-features`
//! - `default`: default features
//! - `full`: `--all-features`
//!
//! A policy variant lists its root packages (`packages`, default: every
//! member) and, per root, `default-features` and `features`. Every name is
//! checked against the workspace: an unknown package or feature is an error
//! naming the variant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Error;
use crate::model::{PackageBuild, Variant};
use crate::policy::{FeatureSelection, Policy, VariantPolicy};
use crate::workspace::{Member, Workspace};

/// How a root's features are chosen.
#[derive(Debug, Clone, PartialEq)]
enum Selection {
    /// `--all-features`.
    All,
    /// An explicit selection.
    Some(FeatureSelection),
}

/// Resolves the policy's variants (or the built-in three) against the
/// workspace. `file` names the manifest holding the policy, for errors.
pub fn resolve(
    ws: &Workspace,
    policy: &Policy,
    file: &Path,
) -> Result<BTreeMap<String, Variant>, Error> {
    let mut variants = BTreeMap::new();
    match &policy.variants {
        None => {
            let all: Vec<String> = ws.names().cloned().collect();
            let builtin = [
                (
                    "minimal",
                    "Every package without its default features",
                    Selection::Some(FeatureSelection {
                        default_features: false,
                        features: Vec::new(),
                    }),
                ),
                (
                    "default",
                    "Every package with its default features",
                    Selection::Some(FeatureSelection::default()),
                ),
                (
                    "full",
                    "Every package with all its features",
                    Selection::All,
                ),
            ];
            for (name, description, selection) in builtin {
                let builds = all
                    .iter()
                    .map(|p| {
                        let member = &ws.members[p];
                        (p.clone(), build(member, &selection))
                    })
                    .collect();
                let unify = Unify {
                    on: policy.unify_features != Some(false),
                    off_because: Some(
                        "not unified: `unify-features = false` in [workspace.metadata.buildplan]"
                            .into(),
                    ),
                };
                variants.insert(
                    name.to_string(),
                    assemble(description.into(), builds, ws, unify),
                );
            }
        }
        Some(table) => {
            if table.is_empty() {
                return Err(Error::PolicyKey {
                    file: file.display().to_string(),
                    key: "workspace.metadata.buildplan.variants".into(),
                    message: "defines no variants; remove the table to get the defaults".into(),
                });
            }
            for (name, spec) in table {
                variants.insert(name.clone(), from_policy(ws, policy, name, spec, file)?);
            }
        }
    }
    Ok(variants)
}

fn from_policy(
    ws: &Workspace,
    policy: &Policy,
    name: &str,
    spec: &VariantPolicy,
    file: &Path,
) -> Result<Variant, Error> {
    let err = |message: String| Error::Variant {
        file: file.display().to_string(),
        variant: name.to_string(),
        message,
    };
    let known = || ws.names().cloned().collect::<Vec<_>>().join(", ");
    let roots: BTreeSet<String> = match &spec.packages {
        Some(list) => list.iter().cloned().collect(),
        None => ws.names().cloned().collect(),
    };
    if roots.is_empty() {
        return Err(err("`packages` is empty".into()));
    }
    for root in &roots {
        if !ws.members.contains_key(root) {
            return Err(err(format!(
                "package `{root}` is not a workspace member (members: {})",
                known()
            )));
        }
    }
    for (pkg, selection) in &spec.features {
        let Some(member) = ws.members.get(pkg) else {
            return Err(err(format!(
                "features given for `{pkg}`, which is not a workspace member (members: {})",
                known()
            )));
        };
        if !roots.contains(pkg) {
            return Err(err(format!(
                "features given for `{pkg}`, which is not one of the variant's packages"
            )));
        }
        for feature in &selection.features {
            if !member.features.contains_key(feature) {
                let declared: Vec<&str> = member.features.keys().map(String::as_str).collect();
                return Err(err(format!(
                    "package `{pkg}` has no feature `{feature}` (declared: {})",
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    }
                )));
            }
        }
    }
    let builds = roots
        .iter()
        .map(|root| {
            let member = &ws.members[root];
            let selection = spec.features.get(root).cloned().unwrap_or_default();
            (root.clone(), build(member, &Selection::Some(selection)))
        })
        .collect();
    let description = spec
        .description
        .clone()
        .unwrap_or_else(|| format!("Variant `{name}`"));
    let unify = match spec.unify {
        Some(on) => Unify {
            on,
            off_because: Some(format!(
                "not unified: `variants.{name}.unify = false` in [workspace.metadata.buildplan]"
            )),
        },
        None => Unify {
            on: policy.unify_features != Some(false),
            off_because: Some(
                "not unified: `unify-features = false` in [workspace.metadata.buildplan]".into(),
            ),
        },
    };
    Ok(assemble(description, builds, ws, unify))
}

fn build(member: &Member, selection: &Selection) -> PackageBuild {
    let name = &member.name;
    let mut cargo_args = vec!["--package".to_string(), name.clone()];
    match selection {
        Selection::All => {
            cargo_args.push("--all-features".into());
            PackageBuild {
                default_features: true,
                features: member
                    .features
                    .keys()
                    .map(|f| format!("{name}/{f}"))
                    .collect(),
                alone_cargo_args: cargo_args.clone(),
                cargo_args,
            }
        }
        Selection::Some(sel) => {
            let features: Vec<String> = sel
                .features
                .iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|f| format!("{name}/{f}"))
                .collect();
            if !sel.default_features {
                cargo_args.push("--no-default-features".into());
            }
            if !features.is_empty() {
                cargo_args.push("--features".into());
                cargo_args.push(features.join(","));
            }
            PackageBuild {
                default_features: sel.default_features,
                features,
                alone_cargo_args: cargo_args.clone(),
                cargo_args,
            }
        }
    }
}

/// Whether `unify` (the policy's wish) is on, and why not when it is off.
struct Unify {
    on: bool,
    off_because: Option<String>,
}

fn assemble(
    description: String,
    builds: BTreeMap<String, PackageBuild>,
    ws: &Workspace,
    unify: Unify,
) -> Variant {
    let mut builds = builds;
    let cargo_args = if builds.len() == 1 {
        builds
            .values()
            .next()
            .expect("one build")
            .alone_cargo_args
            .clone()
    } else {
        unified_args(&builds, ws)
    };
    let mut note = None;
    let mut unified = false;
    if builds.len() > 1 {
        match (unify.on, clashing_binary(&builds, ws)) {
            (false, _) => note = unify.off_because,
            (true, Some(clash)) => note = Some(clash),
            (true, None) => unified = true,
        }
    }
    if unified {
        for (root, build) in builds.iter_mut() {
            build.cargo_args = cargo_args.clone();
            build.cargo_args.extend(target_selection(&ws.members[root]));
        }
    }
    Variant {
        description,
        packages: builds.keys().cloned().collect(),
        deps_cargo_args: if unified || builds.len() == 1 {
            vec![cargo_args.clone()]
        } else {
            builds.values().map(|b| b.cargo_args.clone()).collect()
        },
        unified,
        unify_note: note,
        cargo_args,
        builds,
        feature_splits: Vec::new(),
    }
}

/// The targets a root adds to the unified selection: `--bin` for each of
/// its binaries; `--lib` for a library-only root (which builds the libs of
/// every selected root that has one).
fn target_selection(member: &Member) -> Vec<String> {
    if member.binaries.is_empty() {
        return vec!["--lib".into()];
    }
    member
        .binaries
        .iter()
        .flat_map(|b| ["--bin".to_string(), b.clone()])
        .collect()
}

/// Two roots with a binary of the same name cannot be unified: `--bin x`
/// would select (and write to one path) both.
fn clashing_binary(builds: &BTreeMap<String, PackageBuild>, ws: &Workspace) -> Option<String> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for root in builds.keys() {
        for bin in &ws.members[root].binaries {
            if let Some(other) = owner.insert(bin, root) {
                return Some(format!(
                    "not unified: `{other}` and `{root}` both have a binary `{bin}`, \
                     which `--bin {bin}` cannot tell apart; each root is built alone"
                ));
            }
        }
    }
    None
}

/// Cargo arguments that select every root with exactly the features it
/// gets alone, in one invocation. All roots `--all-features`:
/// `--all-features`; all roots the same `default-features` (and none with
/// all features): `[--no-default-features] [--features r/x,..]`;
/// otherwise `--no-default-features --features ..` with `r/default` for
/// the roots that keep their defaults and every declared feature spelled
/// out for an all-features root.
fn unified_args(builds: &BTreeMap<String, PackageBuild>, ws: &Workspace) -> Vec<String> {
    let mut args = Vec::new();
    for root in builds.keys() {
        args.push("--package".to_string());
        args.push(root.clone());
    }
    let all = |b: &PackageBuild| b.alone_cargo_args.iter().any(|a| a == "--all-features");
    if builds.values().all(all) {
        args.push("--all-features".into());
        return args;
    }
    let mut features = Vec::new();
    let uniform_default = !builds.values().any(all)
        && builds
            .values()
            .all(|b| b.default_features == builds.values().next().expect("roots").default_features);
    if uniform_default {
        if !builds.values().next().expect("roots").default_features {
            args.push("--no-default-features".into());
        }
        for build in builds.values() {
            features.extend(build.features.iter().cloned());
        }
    } else {
        args.push("--no-default-features".into());
        for (root, build) in builds {
            let declared = &ws.members[root].features;
            if all(build) {
                features.extend(declared.keys().map(|f| format!("{root}/{f}")));
            } else {
                if build.default_features && declared.contains_key("default") {
                    features.push(format!("{root}/default"));
                }
                features.extend(build.features.iter().cloned());
            }
        }
    }
    features.sort();
    features.dedup();
    if !features.is_empty() {
        args.push("--features".into());
        args.push(features.join(","));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn ws() -> Workspace {
        let member = |name: &str, features: &[&str]| Member {
            name: name.into(),
            version: "0.1.0".into(),
            path: name.into(),
            binaries: vec![],
            features: features.iter().map(|f| (f.to_string(), vec![])).collect(),
            member_deps: BTreeSet::new(),
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
        // lib keeps its defaults (it declares none) + serde; app drops them.
        let p = policy(
            r#"
[workspace.metadata.buildplan.variants.v]
features.lib = { features = ["serde"] }
features.app = { default-features = false, features = ["tls"] }
"#,
        );
        let w = ws();
        let v = resolve(&w, &p, Path::new("Cargo.toml")).unwrap();
        assert_eq!(
            v["v"].cargo_args,
            [
                "--package",
                "app",
                "--package",
                "lib",
                "--no-default-features",
                "--features",
                "app/tls,lib/serde"
            ]
        );
        // app keeps its defaults, lib does not: app/default is spelt out.
        let p = policy(
            r#"
[workspace.metadata.buildplan.variants.v]
features.lib = { default-features = false }
features.app = { features = ["fast"] }
"#,
        );
        let v = resolve(&w, &p, Path::new("Cargo.toml")).unwrap();
        assert_eq!(
            v["v"].cargo_args,
            [
                "--package",
                "app",
                "--package",
                "lib",
                "--no-default-features",
                "--features",
                "app/default,app/fast"
            ]
        );
        // All default with extra features: no --no-default-features.
        let p = policy(
            r#"
[workspace.metadata.buildplan.variants.v]
features.lib = { features = ["serde"] }
"#,
        );
        let v = resolve(&w, &p, Path::new("Cargo.toml")).unwrap();
        assert_eq!(
            v["v"].cargo_args,
            [
                "--package",
                "app",
                "--package",
                "lib",
                "--features",
                "lib/serde"
            ]
        );
    }

    #[test]
    fn all_features_in_a_mixed_variant_are_spelt_out() {
        let w = ws();
        let mut builds = BTreeMap::new();
        builds.insert("app".to_string(), build(&w.members["app"], &Selection::All));
        builds.insert(
            "lib".to_string(),
            build(
                &w.members["lib"],
                &Selection::Some(FeatureSelection {
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
}
