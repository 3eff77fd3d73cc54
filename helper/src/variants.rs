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
                variants.insert(name.to_string(), assemble(description.into(), builds));
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
                variants.insert(name.clone(), from_policy(ws, name, spec, file)?);
            }
        }
    }
    Ok(variants)
}

fn from_policy(
    ws: &Workspace,
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
    Ok(assemble(description, builds))
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
                cargo_args,
            }
        }
    }
}

fn assemble(description: String, builds: BTreeMap<String, PackageBuild>) -> Variant {
    Variant {
        description,
        packages: builds.keys().cloned().collect(),
        deps_cargo_args: builds.values().map(|b| b.cargo_args.clone()).collect(),
        builds,
        feature_splits: Vec::new(),
    }
}

/// Cargo arguments that build all of a variant's roots in one invocation,
/// each with its own features: `--no-default-features` for all, then
/// `root/default` for the roots that keep their defaults. Used by the audit
/// to see what building the roots together resolves to.
pub fn together_args(variant: &Variant, ws: &Workspace) -> Vec<String> {
    let mut args = Vec::new();
    let mut features = Vec::new();
    for (root, build) in &variant.builds {
        args.push("--package".to_string());
        args.push(root.clone());
        if build.cargo_args.iter().any(|a| a == "--all-features") {
            features.extend(
                ws.members[root]
                    .features
                    .keys()
                    .map(|f| format!("{root}/{f}")),
            );
        } else {
            if build.default_features && ws.members[root].features.contains_key("default") {
                features.push(format!("{root}/default"));
            }
            features.extend(build.features.iter().cloned());
        }
    }
    args.push("--no-default-features".into());
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
                member("app", &["default", "fast", "tls"]),
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
            v["minimal"].builds["app"].cargo_args,
            ["--package", "app", "--no-default-features"]
        );
        assert_eq!(v["default"].builds["lib"].cargo_args, ["--package", "lib"]);
        assert_eq!(
            v["full"].builds["app"].features,
            ["app/default", "app/fast", "app/tls"]
        );
        assert_eq!(
            v["full"].deps_cargo_args,
            [
                vec!["--package", "app", "--all-features"],
                vec!["--package", "lib", "--all-features"]
            ]
        );
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
        assert_eq!(
            b.cargo_args,
            [
                "--package",
                "app",
                "--no-default-features",
                "--features",
                "app/fast,app/tls"
            ]
        );
        assert_eq!(v["lean"].description, "Variant `lean`");
    }

    #[test]
    fn together_args_keep_each_roots_defaults() {
        let p = policy(
            r#"
[workspace.metadata.buildplan.variants.v]
features.lib = { features = ["serde"] }
"#,
        );
        let w = ws();
        let v = resolve(&w, &p, Path::new("Cargo.toml")).unwrap();
        assert_eq!(
            together_args(&v["v"], &w),
            [
                "--package",
                "app",
                "--package",
                "lib",
                "--no-default-features",
                "--features",
                "app/default,lib/serde"
            ]
        );
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
