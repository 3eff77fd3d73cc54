# What every cargo invocation of one (target, profile) shares: the target's
# environment and tools (mkTargetEnv.nix), crane's CARGO_PROFILE, and the
# profile's `--config` overrides. The dependency build and the packages of a
# combination take it from here, so they cannot drift apart (a difference
# would make cargo rebuild the inherited dependencies).
{ pkgs, plan }:
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
  env = targetEnv.env // {
    CARGO_PROFILE = profileName;
  };
  cargoArgs = [ "--locked" ] ++ import ./profileArgs.nix plan profileName;
}
