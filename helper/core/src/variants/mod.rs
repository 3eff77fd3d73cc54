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
                return Err(Error::Key {
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
mod tests;
