//! Feature variants: packages, features and cargo arguments; by default
//! `minimal`, `default` and `full` over every member.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Error;
use crate::model::{PackageBuild, Variant};
use crate::policy::{FeatureSelection, Policy, VariantPolicy};
use crate::workspace::{Member, Workspace};

/// Resolves the policy's variants (or the built-in three); `file` is the policy's manifest.
pub fn resolve(
    ws: &Workspace,
    policy: &Policy,
    file: &Path,
) -> Result<BTreeMap<String, Variant>, Error> {
    let Some(table) = &policy.variants else {
        let none = FeatureSelection {
            default_features: false,
            features: Vec::new(),
        };
        let default = FeatureSelection::default();
        let builtin = [
            ("minimal", "without its default", Some(none)),
            ("default", "with its default", Some(default)),
            ("full", "with all its", None),
        ];
        let variant = |(name, what, selection): (&str, &str, Option<FeatureSelection>)| {
            let builds = (ws.members.iter())
                .map(|(p, member)| (p.clone(), build(member, &selection)))
                .collect();
            let off = unify_off(policy, name, None);
            let description = format!("Every package {what} features");
            (name.to_string(), assemble(description, builds, ws, off))
        };
        return Ok(builtin.into_iter().map(variant).collect());
    };
    if table.is_empty() {
        let message = "defines no variants; remove the table to get the defaults";
        let key = "workspace.metadata.buildplan.variants";
        return Err(Error::key(&file.display().to_string(), key, message));
    }
    (table.iter())
        .map(|(name, spec)| Ok((name.clone(), from_policy(ws, policy, name, spec, file)?)))
        .collect()
}

/// The note naming the key (`unify`, else `unify-features`) that turned unification off.
fn unify_off(policy: &Policy, name: &str, unify: Option<bool>) -> Option<String> {
    let key = match unify {
        Some(false) => format!("variants.{name}.unify"),
        None if policy.unify_features == Some(false) => "unify-features".into(),
        _ => return None,
    };
    Some(format!(
        "not unified: `{key} = false` in [workspace.metadata.buildplan]"
    ))
}

fn from_policy(
    ws: &Workspace,
    policy: &Policy,
    name: &str,
    spec: &VariantPolicy,
    file: &Path,
) -> Result<Variant, Error> {
    let err = |message: String| {
        Error::invalid(format!("{}: variant `{name}`: {message}", file.display()))
    };
    let members = ws.members.keys().cloned().collect::<Vec<_>>().join(", ");
    let roots: BTreeSet<String> = match &spec.packages {
        Some(list) => list.iter().cloned().collect(),
        None => ws.members.keys().cloned().collect(),
    };
    if roots.is_empty() {
        return Err(err("`packages` is empty".into()));
    }
    if let Some(root) = roots.iter().find(|r| !ws.members.contains_key(*r)) {
        return Err(err(format!(
            "package `{root}` is not a workspace member (members: {members})"
        )));
    }
    for (pkg, selection) in &spec.features {
        let Some(member) = ws.members.get(pkg) else {
            return Err(err(format!(
                "features given for `{pkg}`, which is not a workspace member (members: {members})"
            )));
        };
        if !roots.contains(pkg) {
            return Err(err(format!(
                "features given for `{pkg}`, which is not one of the variant's packages"
            )));
        }
        let mut features = selection.features.iter();
        if let Some(feature) = features.find(|f| !member.features.contains_key(*f)) {
            let mut declared: Vec<&str> = member.features.keys().map(String::as_str).collect();
            if declared.is_empty() {
                declared.push("none");
            }
            let declared = declared.join(", ");
            return Err(err(format!(
                "package `{pkg}` has no feature `{feature}` (declared: {declared})"
            )));
        }
    }
    let builds = (roots.iter())
        .map(|root| {
            let (member, selection) = (&ws.members[root], spec.features.get(root));
            let selection = Some(selection.cloned().unwrap_or_default());
            (root.clone(), build(member, &selection))
        })
        .collect();
    let description = (spec.description.clone()).unwrap_or_else(|| format!("Variant `{name}`"));
    let off = unify_off(policy, name, spec.unify);
    Ok(assemble(description, builds, ws, off))
}

/// The build of `member` with `selection` (`None`: `--all-features`).
fn build(member: &Member, selection: &Option<FeatureSelection>) -> PackageBuild {
    let name = &member.name;
    let qualified = |features: BTreeSet<&String>| -> Vec<String> {
        features.iter().map(|f| format!("{name}/{f}")).collect()
    };
    let mut args = vec!["--package".to_string(), name.clone()];
    let (default_features, features) = match selection {
        None => {
            args.push("--all-features".into());
            (true, qualified(member.features.keys().collect()))
        }
        Some(sel) => {
            let features = qualified(sel.features.iter().collect());
            if !sel.default_features {
                args.push("--no-default-features".into());
            }
            if !features.is_empty() {
                args.extend(["--features".to_string(), features.join(",")]);
            }
            (sel.default_features, features)
        }
    };
    PackageBuild {
        default_features,
        features,
        alone_cargo_args: args.clone(),
        cargo_args: args,
    }
}

/// The variant of `builds`; `unify_off` as [`unify_off`] says.
fn assemble(
    description: String,
    mut builds: BTreeMap<String, PackageBuild>,
    ws: &Workspace,
    unify_off: Option<String>,
) -> Variant {
    let cargo_args = match builds.values().next() {
        Some(only) if builds.len() == 1 => only.alone_cargo_args.clone(),
        _ => unified_args(&builds, ws),
    };
    let several = builds.len() > 1;
    let clash = || clashing_binary(&builds, ws);
    let note = unify_off.or_else(clash).filter(|_| several);
    let unified = several && note.is_none();
    if unified {
        for (root, build) in builds.iter_mut() {
            // The root's targets: `--bin` for each binary, else `--lib`.
            let bins = &ws.members[root].binaries;
            let lib = bins.is_empty().then(|| "--lib".to_string());
            build.cargo_args = cargo_args.clone();
            build.cargo_args.extend(lib);
            build
                .cargo_args
                .extend(bins.iter().flat_map(|b| ["--bin".into(), b.clone()]));
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

/// Roots with a same-named binary cannot be unified: `--bin x` would select both.
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

/// Arguments building every root with its features alone in one invocation (helper-notes).
fn unified_args(builds: &BTreeMap<String, PackageBuild>, ws: &Workspace) -> Vec<String> {
    let package = |r: &String| ["--package".to_string(), r.clone()];
    let mut args: Vec<String> = builds.keys().flat_map(package).collect();
    let all = |b: &PackageBuild| b.alone_cargo_args.iter().any(|a| a == "--all-features");
    if builds.values().all(all) {
        args.push("--all-features".into());
        return args;
    }
    let first_default = builds.values().next().expect("roots").default_features;
    let uniform =
        !builds.values().any(all) && builds.values().all(|b| b.default_features == first_default);
    // An all-features root's `features` already spell out every feature.
    let mut features: BTreeSet<String> = builds.values().flat_map(|b| b.features.clone()).collect();
    if !uniform || !first_default {
        args.push("--no-default-features".into());
    }
    for (root, build) in builds.iter().filter(|_| !uniform) {
        let has_default = ws.members[root].features.contains_key("default");
        if !all(build) && build.default_features && has_default {
            features.insert(format!("{root}/default"));
        }
    }
    if !features.is_empty() {
        let features: Vec<String> = features.into_iter().collect();
        args.extend(["--features".to_string(), features.join(",")]);
    }
    args
}

#[cfg(test)]
mod tests;
