//! The feature audit: packages whose features differ between a variant's roots resolved
//! alone and together ([`resolve`], by guppy), per target triple: *splits*.

use std::collections::{BTreeMap, BTreeSet};

use guppy::graph::cargo::CargoOptions;
use guppy::graph::feature::FeatureLabel;
use guppy::graph::{DependencyDirection, PackageGraph};
use guppy::platform::{Platform, PlatformSpec, TargetFeatures};

use crate::cargo_config::Cfg;
use crate::error::Error;
use crate::model::{FeatureResolution, FeatureSplit, PackageBuild, Target, Variant};

/// Label of the invocation that builds all roots together.
const TOGETHER: &str = "<together>";

/// The `--target` values to audit: every triple of the plan, else `all`.
pub fn audit_targets(targets: &BTreeMap<String, Target>) -> Vec<String> {
    let mut triples: Vec<String> = targets.values().filter_map(|t| t.triple.clone()).collect();
    if triples.is_empty() {
        triples.push("all".into());
    }
    triples
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

/// The splits of each of `variants` for `targets` against `graph` (full `cargo metadata`).
pub fn audit(
    graph: &PackageGraph,
    resolver: Resolver,
    variants: &BTreeMap<String, Variant>,
    targets: &[String],
) -> Result<BTreeMap<String, Vec<FeatureSplit>>, Error> {
    let mut found: BTreeMap<&String, BTreeMap<SplitKey, BTreeSet<String>>> =
        variants.keys().map(|v| (v, BTreeMap::new())).collect();
    for target in targets {
        let opts = options(target, resolver)?;
        let mut cache: BTreeMap<Vec<Selection>, Resolution> = BTreeMap::new();
        for (name, variant) in variants {
            let builds = variant.builds.iter();
            let alone: Vec<Selection> = builds.map(|(r, b)| selection(r, b)).collect();
            let mut runs: Vec<(String, Vec<Selection>)> = (alone.iter())
                .map(|one| (one.package.clone(), vec![one.clone()]))
                .collect();
            if alone.len() > 1 {
                runs.push((TOGETHER.to_string(), alone));
            }
            let mut by_label = BTreeMap::new();
            for (label, roots) in runs {
                if !cache.contains_key(&roots) {
                    let answer = resolve(graph, &roots.iter().collect::<Vec<_>>(), &opts)?;
                    cache.insert(roots.clone(), answer);
                }
                by_label.insert(label, cache[&roots].clone());
            }
            let variant_splits = found.get_mut(name).expect("every variant");
            for key in splits(&by_label) {
                let key_targets = variant_splits.entry(key).or_default();
                key_targets.insert(target.clone());
            }
        }
    }
    let split = |((package, version, resolutions), targets): (SplitKey, BTreeSet<_>)| {
        let targets = targets.into_iter().collect();
        FeatureSplit {
            package,
            version,
            targets,
            resolutions,
        }
    };
    let mut out = BTreeMap::new();
    for (v, keys) in found {
        out.insert(v.clone(), keys.into_iter().map(split).collect());
    }
    Ok(out)
}

type SplitKey = (String, String, Vec<FeatureResolution>);

/// The splits among the resolutions of one variant and target.
fn splits(by_label: &BTreeMap<String, Resolution>) -> Vec<SplitKey> {
    let packages: BTreeSet<&(String, String)> = by_label.values().flat_map(|r| r.keys()).collect();
    let mut out = Vec::new();
    for pkg in packages {
        let sets: Vec<(&String, &BTreeSet<Vec<String>>)> = by_label
            .iter()
            .filter_map(|(label, r)| r.get(pkg).map(|s| (label, s)))
            .collect();
        if sets.windows(2).all(|w| w[0].1 == w[1].1) {
            continue;
        }
        let mut by_set: BTreeMap<&Vec<String>, Vec<String>> = BTreeMap::new();
        for (label, feature_sets) in &sets {
            for set in *feature_sets {
                by_set.entry(set).or_default().push((*label).clone());
            }
        }
        let resolution = |(features, roots): (&Vec<String>, _)| {
            let features = features.clone();
            FeatureResolution { features, roots }
        };
        let resolutions = by_set.into_iter().map(resolution).collect();
        out.push((pkg.0.clone(), pkg.1.clone(), resolutions));
    }
    out
}

/// One line saying whether `variant`'s splits are resolved by the plan.
pub fn verdict(variant: &Variant) -> String {
    if variant.unified {
        return "  resolved: the plan builds this variant's roots as one unified build \
                (every root's invocation selects all roots), so each package above is \
                compiled once, with the features of the roots together\n"
            .to_string();
    }
    let why = (variant.unify_note.as_deref()).unwrap_or("the roots are built one by one");
    format!(
        "  NOT resolved: {why}; set `unify-features = true` in \
         [workspace.metadata.buildplan] (or `variants.<name>.unify = true`) \
         to compile each package once\n"
    )
}

/// Human-readable report of one variant's splits.
pub fn describe(variant: &str, splits: &[FeatureSplit]) -> String {
    let head = format!("variant `{variant}`:");
    if splits.is_empty() {
        return format!("{head} no third-party package is compiled with different features\n");
    }
    let n = splits.len();
    let mut text = format!("{head} {n} third-party package(s) compiled with different features:\n");
    for s in splits {
        let targets = s.targets.join(", ");
        text += &format!("  {} {} (targets: {targets})\n", s.package, s.version);
        for r in &s.resolutions {
            let (features, roots) = (r.features.join(", "), r.roots.join(", "));
            text += &format!("    [{features}] when building: {roots}\n");
        }
    }
    text
}

/// Feature sets per third-party (name, version) in one resolution (host and target copies).
pub type Resolution = BTreeMap<(String, String), BTreeSet<Vec<String>>>;

/// What one root asks for: `--package <root>` and its feature flags.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selection {
    /// The workspace member.
    pub package: String,
    /// `--all-features`.
    pub all: bool,
    /// Its `default` feature (unless `--no-default-features`).
    pub default: bool,
    /// Features named with `--features`, without the `package/` prefix.
    pub features: BTreeSet<String>,
}

/// The workspace's feature resolver (`V1` or `V2`; `resolver = "3"` is `V2`).
pub use guppy::graph::cargo::CargoResolverVersion as Resolver;

/// Platforms to resolve for: `all` or one triple (from `rustc --print cfg`); host is this one.
pub fn options(target: &str, resolver: Resolver) -> Result<CargoOptions<'static>, Error> {
    let mut opts = CargoOptions::new();
    opts.set_resolver(resolver);
    if target == "all" {
        opts.set_platform(PlatformSpec::Any);
        return Ok(opts);
    }
    let invalid = |e: &dyn std::fmt::Display| Error::Invalid(format!("target `{target}`: {e}"));
    let cfg = crate::cargo_config::rustc_cfg(Some(target)).map_err(|e| invalid(&e))?;
    let features: Vec<String> = cfg
        .into_iter()
        .filter_map(|c| match c {
            Cfg::KeyPair(key, value) if key.as_str() == "target_feature" => Some(value),
            _ => None,
        })
        .collect();
    let platform = Platform::new(target.to_string(), TargetFeatures::features(features))
        .map_err(|e| invalid(&e))?;
    let host = PlatformSpec::build_target().map_err(|e| invalid(&e))?;
    opts.set_target_platform(platform).set_host_platform(host);
    Ok(opts)
}

/// Features of every non-workspace package with `roots` built together with `opts`.
pub fn resolve(
    graph: &PackageGraph,
    roots: &[&Selection],
    opts: &CargoOptions<'_>,
) -> Result<Resolution, Error> {
    let guppy = |e: guppy::Error| Error::Invalid(format!("feature resolution: {e}"));
    let features = graph.feature_graph();
    let workspace = graph.workspace();
    let mut initials = Vec::new();
    for root in roots {
        let package = workspace.member_by_name(&root.package).map_err(guppy)?;
        let all = features.all_features_for(package.id()).map_err(guppy)?;
        for label in all.labels() {
            let wanted = root.all
                || match label {
                    FeatureLabel::Base => true,
                    FeatureLabel::Named(name) => {
                        (root.default && *name == "default") || root.features.contains(*name)
                    }
                    FeatureLabel::OptionalDependency(_) => false,
                };
            if wanted {
                initials.push((package.id(), *label));
            }
        }
    }
    let set = features
        .resolve_ids(initials)
        .map_err(guppy)?
        .into_cargo_set(opts)
        .map_err(guppy)?;
    let mut out = Resolution::new();
    for (_, side) in set.all_features() {
        let lists = side.packages_with_features(DependencyDirection::Forward);
        for list in lists.filter(|l| !l.package().in_workspace()) {
            let package = list.package();
            let mut named: Vec<String> = list.named_features().map(str::to_string).collect();
            named.sort();
            out.entry((package.name().to_string(), package.version().to_string()))
                .or_default()
                .insert(named);
        }
    }
    Ok(out)
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
