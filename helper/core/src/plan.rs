//! Assembling the plan from the workspace, its manifest and its policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Error;
use crate::manifest::RootManifest;
use crate::model::{PackageInfo, Plan, WorkspaceInfo, SCHEMA_VERSION};
use crate::policy::{self, Policy};
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
    /// Run it; cargo may create or update Cargo.lock as usual.
    Run,
    /// Run it with `--locked`: fail rather than touch Cargo.lock.
    Locked,
}

/// Loads the workspace named by `--manifest-path` (or found from the
/// current directory) and computes its plan. Unless `audit` is
/// [`AuditMode::Skip`], runs the feature audit (one `cargo tree` per root,
/// target and variant) to fill `feature_splits`.
pub fn compute(manifest_path: Option<&Path>, audit: AuditMode) -> anyhow::Result<Planned> {
    let workspace = Workspace::load(manifest_path)?;
    let manifest = RootManifest::read(&workspace.root_manifest)?;
    let policy = manifest.policy;
    let inputs = crate::config::plan_inputs(
        &workspace.root,
        manifest.profile.as_ref(),
        crate::config::process_env(),
    );
    let taken = crate::config::load(&inputs)?.profile_names();
    let tuned = crate::tuned::with_tuned(&policy, &taken, &manifest.path)?;
    let profiles = crate::config::plan_profiles(&inputs, &tuned)?;
    let mut plan = assemble(&workspace, &policy, profiles, &manifest.path)?;
    if audit != AuditMode::Skip {
        let targets = crate::audit::audit_targets(&plan.targets);
        let locked = audit == AuditMode::Locked;
        let splits = crate::audit::audit(&workspace, &plan.variants, &targets, locked)
            .context("the feature audit (cargo tree) failed")?;
        for (name, found) in splits {
            if let Some(variant) = plan.variants.get_mut(&name) {
                variant.feature_splits = found;
            }
        }
    }
    let output = workspace
        .root
        .join(policy.output.as_deref().unwrap_or(policy::DEFAULT_OUTPUT));
    Ok(Planned {
        plan,
        workspace,
        policy,
        output,
    })
}

/// Builds the plan (without the audit) from already loaded inputs:
/// `profiles` are resolved by [`crate::config::plan_profiles`]; `file` is
/// the manifest holding the policy.
pub fn assemble(
    ws: &Workspace,
    policy: &Policy,
    profiles: BTreeMap<String, crate::model::Profile>,
    file: &Path,
) -> anyhow::Result<Plan> {
    let targets = crate::targets::resolve(policy);
    let variants = crate::variants::resolve(ws, policy, file)?;

    let default_variant = policy
        .default_variant
        .clone()
        .unwrap_or_else(|| policy::DEFAULT_VARIANT.to_string());
    if !variants.contains_key(&default_variant) {
        return Err(Error::PolicyKey {
            file: file.display().to_string(),
            key: "workspace.metadata.buildplan.default-variant".into(),
            message: format!(
                "names `{default_variant}`, which is not a variant (variants: {})",
                variants.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
        .into());
    }
    let default_profile = policy
        .default_profile
        .clone()
        .unwrap_or_else(|| policy::DEFAULT_PROFILE.to_string());
    if !profiles.contains_key(&default_profile) {
        return Err(Error::PolicyKey {
            file: file.display().to_string(),
            key: "workspace.metadata.buildplan.default-profile".into(),
            message: format!(
                "names `{default_profile}`, which is not a profile (profiles: {})",
                profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
        .into());
    }

    let packages: BTreeMap<String, PackageInfo> = ws
        .members
        .values()
        .map(|m| {
            let info = PackageInfo {
                version: m.version.clone(),
                path: m.path.clone(),
                binaries: m.binaries.clone(),
                features: m.features.keys().cloned().collect(),
                workspace_deps: ws.paths(&ws.build_closure(&m.name)),
                workspace_test_deps: ws.paths(&ws.test_closure(&m.name)),
            };
            (m.name.clone(), info)
        })
        .collect();
    let mut members: Vec<String> = packages.values().map(|p| p.path.clone()).collect();
    members.sort();

    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        generator: "cargo-buildplan".to_string(),
        workspace: WorkspaceInfo {
            lockfile: "Cargo.lock".to_string(),
            members,
            default_variant,
            default_profile,
            mem_per_job_mib: policy
                .mem_per_job_mib
                .unwrap_or(policy::DEFAULT_MEM_PER_JOB_MIB),
        },
        packages,
        variants,
        targets,
        profiles,
    })
}

/// Where a command reads or writes the plan: `explicit` (from the command
/// line, relative to the current directory) or the policy's output path.
pub fn plan_path(planned_output: &Path, explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => planned_output.to_path_buf(),
    }
}
