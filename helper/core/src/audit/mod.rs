//! The feature audit: does a variant compile any third-party package twice
//! with different features? Cargo unifies features over the packages of
//! one invocation, so building a variant's roots together can give a
//! dependency more features than building one alone, and the dependency is
//! compiled again. The audit resolves ([`resolve`]: guppy, as cargo's
//! feature resolver) every root alone and all roots together, for every
//! target triple of the plan (`--target all` without one); a third-party
//! package whose feature sets differ between those invocations is a
//! *split*. Its limits are in `docs/helper-notes.md`.

use std::collections::{BTreeMap, BTreeSet};

use guppy::graph::PackageGraph;

use crate::error::Error;
use crate::model::{FeatureResolution, FeatureSplit, PackageBuild, Target, Variant};

mod resolve;
pub use resolve::{options, resolve, Resolution, Resolver, Selection};

/// Label of the invocation that builds all roots together.
pub const TOGETHER: &str = "<together>";

/// The `--target` values the audit resolves for: every triple of the plan,
/// or `all` when there is none.
pub fn audit_targets(targets: &BTreeMap<String, Target>) -> Vec<String> {
    let triples: Vec<String> = targets.values().filter_map(|t| t.triple.clone()).collect();
    if triples.is_empty() {
        vec!["all".to_string()]
    } else {
        triples
    }
}

/// What `build` selects when its root is built alone.
pub fn selection(root: &str, build: &PackageBuild) -> Selection {
    let prefix = format!("{root}/");
    Selection {
        package: root.to_string(),
        all: build.alone_cargo_args.iter().any(|a| a == "--all-features"),
        default: build.default_features,
        features: build
            .features
            .iter()
            .map(|f| f.strip_prefix(&prefix).unwrap_or(f).to_string())
            .collect(),
    }
}

/// Audits `variants` for the `--target` values `targets` against `graph`
/// (the workspace's full `cargo metadata`, resolved with `resolver`) and
/// returns the splits of each variant. Every root is resolved alone, and
/// the roots of a variant together; variants sharing a selection resolve it
/// once.
pub fn audit(
    graph: &PackageGraph,
    resolver: Resolver,
    variants: &BTreeMap<String, Variant>,
    targets: &[String],
) -> Result<BTreeMap<String, Vec<FeatureSplit>>, Error> {
    let mut found: BTreeMap<&String, BTreeMap<SplitKey, BTreeSet<String>>> = BTreeMap::new();
    for target in targets {
        let opts = options(target, resolver)?;
        let mut cache: BTreeMap<Vec<Selection>, Resolution> = BTreeMap::new();
        let mut resolved = |roots: Vec<Selection>| -> Result<Resolution, Error> {
            if !cache.contains_key(&roots) {
                let answer = resolve(graph, &roots.iter().collect::<Vec<_>>(), &opts)?;
                cache.insert(roots.clone(), answer);
            }
            Ok(cache[&roots].clone())
        };
        for (name, variant) in variants {
            let alone: Vec<Selection> = (variant.builds.iter())
                .map(|(root, build)| selection(root, build))
                .collect();
            let mut by_label = BTreeMap::new();
            for one in &alone {
                by_label.insert(one.package.clone(), resolved(vec![one.clone()])?);
            }
            if alone.len() > 1 {
                by_label.insert(TOGETHER.to_string(), resolved(alone)?);
            }
            let variant_splits = found.entry(name).or_default();
            for key in splits(&by_label) {
                variant_splits
                    .entry(key)
                    .or_default()
                    .insert(target.clone());
            }
        }
    }
    let split = |((package, version, resolutions), targets): (SplitKey, BTreeSet<String>)| {
        let targets = targets.into_iter().collect();
        FeatureSplit {
            package,
            version,
            targets,
            resolutions,
        }
    };
    Ok(variants
        .keys()
        .map(|v| {
            let keys = found.remove(v).unwrap_or_default();
            (v.clone(), keys.into_iter().map(split).collect())
        })
        .collect())
}

type SplitKey = (String, String, Vec<FeatureResolution>);

/// The splits among the resolutions of one variant and target.
fn splits(by_label: &BTreeMap<String, Resolution>) -> Vec<SplitKey> {
    let mut packages: BTreeSet<&(String, String)> = BTreeSet::new();
    for resolution in by_label.values() {
        packages.extend(resolution.keys());
    }
    let mut out = Vec::new();
    for pkg in packages {
        let sets: Vec<(&String, &BTreeSet<Vec<String>>)> = by_label
            .iter()
            .filter_map(|(label, r)| r.get(pkg).map(|s| (label, s)))
            .collect();
        if sets.windows(2).all(|w| w[0].1 == w[1].1) {
            continue;
        }
        let mut by_set: BTreeMap<&Vec<String>, BTreeSet<String>> = BTreeMap::new();
        for (label, feature_sets) in &sets {
            for set in *feature_sets {
                by_set.entry(set).or_default().insert((*label).clone());
            }
        }
        let resolutions = by_set
            .into_iter()
            .map(|(features, roots)| FeatureResolution {
                features: features.clone(),
                roots: roots.into_iter().collect(),
            })
            .collect();
        out.push((pkg.0.clone(), pkg.1.clone(), resolutions));
    }
    out
}

/// One line saying whether `variant`'s splits are resolved by the plan.
pub fn verdict(variant: &Variant) -> String {
    if variant.unified {
        "  resolved: the plan builds this variant's roots as one unified build \
         (every root's invocation selects all roots), so each package above is \
         compiled once, with the features of the roots together\n"
            .to_string()
    } else {
        format!(
            "  NOT resolved: {}; set `unify-features = true` in \
             [workspace.metadata.buildplan] (or `variants.<name>.unify = true`) \
             to compile each package once\n",
            variant
                .unify_note
                .as_deref()
                .unwrap_or("the roots are built one by one")
        )
    }
}

/// Human-readable report of one variant's splits.
pub fn describe(variant: &str, splits: &[FeatureSplit]) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    if splits.is_empty() {
        let _ = writeln!(
            text,
            "variant `{variant}`: no third-party package is compiled with different features"
        );
        return text;
    }
    let _ = writeln!(
        text,
        "variant `{variant}`: {} third-party package(s) compiled with different features:",
        splits.len()
    );
    for split in splits {
        let _ = writeln!(
            text,
            "  {} {} (targets: {})",
            split.package,
            split.version,
            split.targets.join(", ")
        );
        for r in &split.resolutions {
            let _ = writeln!(
                text,
                "    [{}] when building: {}",
                r.features.join(", "),
                r.roots.join(", ")
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(entries: &[(&str, &[&str])]) -> Resolution {
        let mut r: Resolution = BTreeMap::new();
        for (name, features) in entries {
            r.entry((name.to_string(), "1.0.0".to_string()))
                .or_default()
                .insert(features.iter().map(|s| s.to_string()).collect());
        }
        r
    }

    #[test]
    fn differing_sets_are_splits_and_absence_is_not() {
        let by_label = BTreeMap::from([
            ("a".to_string(), res(&[("serde", &["std"]), ("itoa", &[])])),
            ("b".to_string(), res(&[("serde", &["derive", "std"])])),
            (
                TOGETHER.to_string(),
                res(&[("serde", &["derive", "std"]), ("itoa", &[])]),
            ),
        ]);
        let s = splits(&by_label);
        assert_eq!(s.len(), 1);
        let (name, _, resolutions) = &s[0];
        assert_eq!(name, "serde");
        assert_eq!(
            resolutions,
            &[
                FeatureResolution {
                    features: vec!["derive".into(), "std".into()],
                    roots: vec![TOGETHER.into(), "b".into()],
                },
                FeatureResolution {
                    features: vec!["std".into()],
                    roots: vec!["a".into()],
                },
            ]
        );
        let text = describe(
            "v",
            &[FeatureSplit {
                package: name.clone(),
                version: "1.0.0".into(),
                targets: vec!["all".into()],
                resolutions: resolutions.clone(),
            }],
        );
        assert!(text.contains("serde 1.0.0"), "{text}");
        assert!(text.contains("[std] when building: a"), "{text}");
    }

    #[test]
    fn equal_sets_are_not_splits() {
        let by_label = BTreeMap::from([
            ("a".to_string(), res(&[("serde", &["std"])])),
            ("b".to_string(), res(&[("serde", &["std"])])),
        ]);
        assert!(splits(&by_label).is_empty());
        assert!(describe("v", &[]).contains("no third-party"));
    }

    #[test]
    fn audit_targets_never_depend_on_the_host() {
        let mut targets = BTreeMap::from([("host".to_string(), Default::default())]);
        assert_eq!(audit_targets(&targets), ["all"]);
        let musl = crate::targets::defaults();
        for (triple, spec) in &musl {
            targets.insert(triple.clone(), crate::targets::from_policy(triple, spec));
        }
        assert_eq!(
            audit_targets(&targets),
            ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"]
        );
    }
}
