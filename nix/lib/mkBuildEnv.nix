# What every cargo invocation of one (target, profile) shares: the target's
# environment and tools (mkTargetEnv.nix), crane's CARGO_PROFILE, and the
# profile's `--config` overrides. The dependency build and the packages of a
# combination take it from here, so they cannot drift apart (a difference
# would make cargo rebuild the inherited dependencies).
#
# `artifactsMode` is crane's installCargoArtifactsMode of every derivation
# (one chain must use one mode). With "use-symlink" inherited artifacts are
# copied, not linked (doNotLinkInheritedArtifacts): crane links deps/*.rlib
# and *.rmeta to the read-only store, and rustc refuses to overwrite one when
# cargo compiles that unit again, which every member layer and package does
# with the members it turns from stubs into real crates (crane issue 385;
# scripts/member-layers-rehearsal.sh --link-inherited shows it).
{
  pkgs,
  plan,
  artifactsMode ? "use-zstd",
}:
targetName: profileName:
let
  target =
    plan.targets.${targetName}
      or (throw "target `${targetName}` is not in the plan (known: ${builtins.concatStringsSep ", " (builtins.attrNames plan.targets)})");
  targetEnv = import ./mkTargetEnv.nix { inherit pkgs; } targetName target;
in
{
  inherit targetName profileName;
  inherit (targetEnv)
    triple
    rustflags
    linker
    nativeBuildInputs
    hostCc
    crossCc
    ;
  # crane's cargoWithProfile turns this into --release / --profile <name>.
  env =
    targetEnv.env
    // {
      CARGO_PROFILE = profileName;
      installCargoArtifactsMode = artifactsMode;
    }
    // (if artifactsMode == "use-symlink" then { doNotLinkInheritedArtifacts = true; } else { });
  cargoArgs = [ "--locked" ] ++ import ./profileArgs.nix plan profileName;
}
