//! Assembling the plan from the workspace, its manifest and its policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Error;
use crate::manifest::RootManifest;
use crate::model::{PackageInfo, Plan, WorkspaceInfo, SCHEMA_VERSION};
use crate::policy::{self, Policy, DEFAULT_PROFILE, DEFAULT_VARIANT};
use crate::workspace::Workspace;

/// A computed plan with what it was computed from.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// The workspace it describes.
    pub workspace: Workspace,
    /// The policy it applied.
    pub policy: Policy,
    /// Absolute path the policy says the plan is written to.
    pub output: PathBuf,
}

/// Whether and how [`compute`] runs the feature audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMode {
    /// Leave every `feature_splits` empty.
    Skip,
    /// Run it; `cargo metadata` may create or update Cargo.lock as usual.
    Run,
    /// Run it with `--locked`: fail rather than touch Cargo.lock.
    Locked,
}

/// Loads the workspace of `manifest_path` (or `.`) and plans it, audit unless [`AuditMode::Skip`].
pub fn compute(manifest_path: Option<&Path>, audit: AuditMode) -> anyhow::Result<Planned> {
    let (workspace, graph) = match audit {
        AuditMode::Skip => (Workspace::load(manifest_path)?, None),
        AuditMode::Run | AuditMode::Locked => {
            let (ws, graph) = Workspace::load_graph(manifest_path, audit == AuditMode::Locked)?;
            (ws, Some(graph))
        }
    };
    let manifest = RootManifest::read(&workspace.root_manifest)?;
    let policy = manifest.policy;
    let env = crate::cargo_config::env_map();
    let inputs = crate::config::plan_inputs(&workspace.root, manifest.profile.as_ref(), env);
    let taken = crate::cargo_config::load(&inputs)?.profile_names();
    let tuned = crate::tuned::with_tuned(&policy, &taken, &manifest.path)?;
    let profiles = crate::config::plan_profiles(&inputs, &tuned)?;
    let mut plan = assemble(&workspace, &policy, profiles, &manifest.path)?;
    if let Some(graph) = graph {
        let targets = crate::audit::audit_targets(&plan.targets);
        let splits = crate::audit::audit(&graph, manifest.resolver, &plan.variants, &targets)
            .context("the feature audit failed")?;
        for (name, found) in splits {
            if let Some(variant) = plan.variants.get_mut(&name) {
                variant.feature_splits = found;
            }
        }
    }
    let output = policy.output.as_deref().unwrap_or(policy::DEFAULT_OUTPUT);
    let output = workspace.root.join(output);
    Ok(Planned {
        plan,
        workspace,
        policy,
        output,
    })
}

/// Builds the plan (no audit) from loaded inputs; `file` is the manifest holding the policy.
pub fn assemble(
    ws: &Workspace,
    policy: &Policy,
    profiles: BTreeMap<String, crate::model::Profile>,
    file: &Path,
) -> anyhow::Result<Plan> {
    let targets = crate::targets::resolve(policy);
    let variants = crate::variants::resolve(ws, policy, file)?;

    // The default variant and profile must exist.
    let check = |key: &str, name: &str, known: Vec<&str>| {
        if known.contains(&name) {
            return Ok(name.to_string());
        }
        let known = known.join(", ");
        let message = format!("names `{name}`, which is not a {key} ({key}s: {known})");
        let key = format!("workspace.metadata.buildplan.default-{key}");
        Err(Error::key(&file.display().to_string(), key, message))
    };
    let variant = policy.default_variant.as_deref().unwrap_or(DEFAULT_VARIANT);
    let default_variant = check("variant", variant, variants.keys().map(|k| &**k).collect())?;
    let profile = policy.default_profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let default_profile = check("profile", profile, profiles.keys().map(|k| &**k).collect())?;

    let info = |m: &crate::workspace::Member| PackageInfo {
        version: m.version.clone(),
        path: m.path.clone(),
        binaries: m.binaries.clone(),
        features: m.features.keys().cloned().collect(),
        workspace_deps: ws.paths(&ws.build_closure(&m.name)),
        workspace_test_deps: ws.paths(&ws.test_closure(&m.name)),
    };
    let packages = (ws.members.iter()).map(|(n, m)| (n.clone(), info(m)));
    let members = ws.paths(ws.members.keys());

    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        generator: "cargo-buildplan".to_string(),
        workspace: WorkspaceInfo {
            lockfile: "Cargo.lock".to_string(),
            members,
            default_variant,
            default_profile,
            mem_per_job_mib: (policy.mem_per_job_mib).unwrap_or(policy::DEFAULT_MEM_PER_JOB_MIB),
        },
        packages: packages.collect(),
        variants,
        targets,
        profiles,
    })
}
