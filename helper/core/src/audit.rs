//! The feature audit: does a variant compile any third-party package twice
//! with different features?
//!
//! Cargo unifies features over the packages of one invocation. Building a
//! variant's roots together (`-p a -p b`) can therefore give a dependency
//! more features than building `a` alone, and a cache filled by one
//! invocation misses for the other: the dependency is compiled again. The
//! audit asks cargo's own resolver, through
//! `cargo tree -e normal,build -f '{p}|{f}' --target T`, which features every
//! package gets when each root is built alone and when all roots are built
//! together, for every target triple of the plan (or `--target all` when the
//! plan has none, so the answer never depends on the machine). A
//! third-party package whose feature sets differ between those invocations
//! is a *split*.
//!
//! Limits: build dependencies and proc-macros are resolved for the machine
//! running the audit (cargo tree's host), so a build dependency whose
//! features depend on the host platform could make plans from different
//! machines differ. Within one invocation a package may appear with two
//! feature sets (host and target copies); that is not a split, only a
//! difference between invocations is.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::error::Error;
use crate::model::{FeatureResolution, FeatureSplit, Target, Variant};
use crate::workspace::Workspace;

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

/// Feature sets per third-party package (name, version) in one resolution.
/// A package can appear with several sets, e.g. once as a build dependency
/// for the host and once for the target.
type Resolution = BTreeMap<(String, String), BTreeSet<Vec<String>>>;

/// One cargo invocation to resolve.
struct Job {
    variant: String,
    target: String,
    label: String,
    args: Vec<String>,
}

/// Audits `variants` for the `--target` values `targets` and returns the
/// splits of each variant. With `locked`, cargo runs with `--locked`. Each (root, target) pair costs one `cargo tree` run; runs are
/// spread over the available cores.
pub fn audit(
    ws: &Workspace,
    variants: &BTreeMap<String, Variant>,
    targets: &[String],
    locked: bool,
) -> Result<BTreeMap<String, Vec<FeatureSplit>>, Error> {
    let mut jobs = Vec::new();
    for (name, variant) in variants {
        for target in targets {
            for (root, build) in &variant.builds {
                jobs.push(Job {
                    variant: name.clone(),
                    target: target.clone(),
                    label: root.clone(),
                    args: build.alone_cargo_args.clone(),
                });
            }
            if variant.builds.len() > 1 {
                jobs.push(Job {
                    variant: name.clone(),
                    target: target.clone(),
                    label: TOGETHER.to_string(),
                    args: variant.cargo_args.clone(),
                });
            }
        }
    }
    // Variants often share a root's invocation (same arguments, same
    // target): resolve each distinct one once.
    let mut unique: Vec<(String, Vec<String>)> = jobs
        .iter()
        .map(|j| (j.target.clone(), j.args.clone()))
        .collect();
    unique.sort();
    unique.dedup();
    eprintln!(
        "auditing features: {} `cargo tree` run(s) over {} variant(s) and {} target(s)",
        unique.len(),
        variants.len(),
        targets.len()
    );
    let results = run_jobs(ws, &unique, locked)?;

    // (variant, target) -> label -> resolution
    let mut grouped: BTreeMap<(String, String), BTreeMap<String, Resolution>> = BTreeMap::new();
    for job in &jobs {
        let index = unique
            .binary_search(&(job.target.clone(), job.args.clone()))
            .expect("every job is in the unique list");
        grouped
            .entry((job.variant.clone(), job.target.clone()))
            .or_default()
            .insert(job.label.clone(), results[index].clone());
    }
    // variant -> (package, version, resolutions) -> targets
    let mut found: BTreeMap<String, BTreeMap<SplitKey, BTreeSet<String>>> = variants
        .keys()
        .map(|v| (v.clone(), BTreeMap::new()))
        .collect();
    for ((variant, target), by_label) in grouped {
        for key in splits(&by_label) {
            found
                .get_mut(&variant)
                .expect("every variant was inserted")
                .entry(key)
                .or_default()
                .insert(target.clone());
        }
    }
    Ok(found
        .into_iter()
        .map(|(variant, keys)| {
            let splits = keys
                .into_iter()
                .map(|((package, version, resolutions), targets)| FeatureSplit {
                    package,
                    version,
                    targets: targets.into_iter().collect(),
                    resolutions,
                })
                .collect();
            (variant, splits)
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

/// Runs one `cargo tree` per (target, arguments) pair, spread over the
/// available cores, and returns the resolutions in the same order.
fn run_jobs(
    ws: &Workspace,
    jobs: &[(String, Vec<String>)],
    locked: bool,
) -> Result<Vec<Resolution>, Error> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(jobs.len().max(1));
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<Resolution, Error>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = {
                    let mut n = next.lock().expect("no panics while held");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some((target, args)) = jobs.get(index) else {
                    break;
                };
                let result = resolve(ws, args, target, locked);
                results.lock().expect("no panics while held")[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .expect("no panics while held")
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// Asks cargo which features every third-party package gets for `args`
/// (package and feature selection) on `target`.
fn resolve(
    ws: &Workspace,
    args: &[String],
    target: &str,
    locked: bool,
) -> Result<Resolution, Error> {
    let mut full = vec![
        "tree".to_string(),
        "--manifest-path".into(),
        ws.root_manifest.display().to_string(),
        "--edges".into(),
        "normal,build".into(),
        "--prefix".into(),
        "none".into(),
        "--format".into(),
        "{p}|{f}".into(),
        "--target".into(),
        target.into(),
    ];
    if locked {
        full.push("--locked".into());
    }
    full.extend(args.iter().cloned());
    let stdout = crate::exec::CargoCommand::cargo(full, &ws.root).output()?;
    Ok(parse_tree(&stdout, ws))
}

/// Parses `cargo tree --prefix none -f '{p}|{f}'` output, skipping
/// workspace members.
fn parse_tree(stdout: &str, ws: &Workspace) -> Resolution {
    let mut out: Resolution = BTreeMap::new();
    for line in stdout.lines() {
        let line = line.trim_end();
        let line = line.strip_suffix(" (*)").unwrap_or(line);
        let Some((package, features)) = line.rsplit_once('|') else {
            continue;
        };
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let version = version.strip_prefix('v').unwrap_or(version);
        if ws.members.get(name).is_some_and(|m| m.version == version) {
            continue;
        }
        let mut features: Vec<String> = features
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        features.sort();
        out.entry((name.to_string(), version.to_string()))
            .or_default()
            .insert(features);
    }
    out
}

/// Whether the variant's splits are resolved by its build: a unified
/// variant compiles each third-party package once (with the features of
/// the roots together); otherwise every root's build compiles its own copy.
pub fn resolved(variant: &Variant) -> bool {
    variant.unified
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
    use crate::workspace::Member;

    fn ws() -> Workspace {
        Workspace {
            root: "/w".into(),
            root_manifest: "/w/Cargo.toml".into(),
            members: BTreeMap::from([(
                "app".to_string(),
                Member {
                    name: "app".into(),
                    version: "0.1.0".into(),
                    path: "app".into(),
                    binaries: vec![],
                    features: BTreeMap::new(),
                    member_deps: BTreeSet::new(),
                },
            )]),
        }
    }

    const TREE: &str = "app v0.1.0 (/w/app)|default
memchr v2.8.3|alloc,std
serde_derive v1.0.229 (proc-macro)|default
proc-macro2 v1.0.107|proc-macro (*)
memchr v2.8.3|
cfg-if v1.0.5|
";

    #[test]
    fn tree_output_is_parsed_without_members() {
        let r = parse_tree(TREE, &ws());
        assert!(!r.contains_key(&("app".into(), "0.1.0".into())));
        let memchr = &r[&("memchr".to_string(), "2.8.3".to_string())];
        assert_eq!(memchr.len(), 2);
        assert!(memchr.contains(&vec!["alloc".to_string(), "std".to_string()]));
        assert!(memchr.contains(&Vec::<String>::new()));
        assert_eq!(
            r[&("proc-macro2".to_string(), "1.0.107".to_string())],
            BTreeSet::from([vec!["proc-macro".to_string()]])
        );
        assert!(r.contains_key(&("serde_derive".to_string(), "1.0.229".to_string())));
    }

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
        let mut targets = BTreeMap::from([("host".to_string(), crate::targets::host())]);
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
