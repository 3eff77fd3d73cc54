//! Cargo's feature resolution for one selection of roots and one target,
//! in-process by guppy (as cargo-hakari): what `cargo tree -e normal,build
//! --target T` lists, each package with its features.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use guppy::graph::cargo::CargoOptions;
use guppy::graph::feature::FeatureLabel;
use guppy::graph::{DependencyDirection, PackageGraph};
use guppy::platform::{Platform, PlatformSpec, TargetFeatures};

use crate::cargo_config::Cfg;
use crate::error::Error;

/// Feature sets per third-party package (name, version) in one resolution
/// (several: e.g. a host copy for build scripts and a target copy).
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

/// Which of cargo's feature resolvers the workspace uses (`V1` or `V2`;
/// `resolver = "3"` resolves features as `"2"`).
pub use guppy::graph::cargo::CargoResolverVersion as Resolver;

/// The platforms to resolve for: `all` (cargo's `--target all`) or one
/// triple (features from `rustc --print cfg`); the host is this machine.
pub fn options(target: &str, resolver: Resolver) -> Result<CargoOptions<'static>, Error> {
    let mut opts = CargoOptions::new();
    opts.set_resolver(resolver);
    if target == "all" {
        opts.set_platform(PlatformSpec::Any);
        return Ok(opts);
    }
    let invalid = |e: &dyn std::fmt::Display| Error::Invalid(format!("target `{target}`: {e}"));
    let cfg =
        crate::cargo_config::rustc_cfg(Path::new(&crate::exec::rustc_program()), Some(target))
            .map_err(|e| invalid(&e))?;
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

/// Resolves `roots` built together with `opts` and returns the features of
/// every package outside the workspace.
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
