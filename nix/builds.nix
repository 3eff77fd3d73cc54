# The build matrix read from the plan: for every target, profile and variant,
#
#   deps.<target>.<profile>.<variant>            one dependency-only derivation
#   packages.<target>.<profile>.<variant>.<root> every root package of the
#                                                variant, each reusing that one
#                                                dependency derivation
#
# Attribute sets are lazy: only what the flake outputs refer to is evaluated.
{
  pkgs,
  craneLib,
  plan,
  sources,
  checksTarget,
  name,
}:
let
  inherit (builtins) mapAttrs;
  mkBuildEnv = import ./lib/mkBuildEnv.nix { inherit pkgs plan; };
  mkDeps = import ./lib/mkDeps.nix { inherit craneLib; };
  mkPackage = import ./lib/mkPackage.nix { inherit craneLib; };

  # Vendoring reads Cargo.lock and the cargo config (for registries) only.
  vendorDir = craneLib.vendorCargoDeps { src = sources.lockAndConfig; };

  # Versions are the workspace's; take them from any member (they only name
  # the dependency derivations).
  workspaceVersion = (builtins.head (builtins.attrValues plan.packages)).version;

  forEachCombination =
    f:
    mapAttrs (
      targetName: _:
      mapAttrs (
        profileName: _:
        mapAttrs (variantName: variant: f targetName profileName variantName variant) plan.variants
      ) plan.profiles
    ) plan.targets;

  deps = forEachCombination (
    targetName: profileName: variantName: variant:
    mkDeps {
      name = "${name}-${targetName}-${profileName}-${variantName}";
      version = workspaceVersion;
      dummySrc = sources.deps;
      inherit vendorDir variant;
      buildEnv = mkBuildEnv targetName profileName;
      withDevDeps = targetName == checksTarget;
      # The workspace-wide check and test builds use every feature, as the
      # clippy and nextest checks do.
      workspaceArgs = [ "--workspace" "--all-features" ];
    }
  );

  packages = forEachCombination (
    targetName: profileName: variantName: variant:
    mapAttrs (
      root: build:
      mkPackage {
        name = root;
        package = plan.packages.${root};
        inherit build vendorDir;
        src = sources.forPackage.${root};
        deps = deps.${targetName}.${profileName}.${variantName};
        buildEnv = mkBuildEnv targetName profileName;
        passthru = {
          target = targetName;
          profile = profileName;
          variant = variantName;
        };
      }
    ) variant.builds
  );
in
{
  inherit
    deps
    packages
    vendorDir
    mkBuildEnv
    ;
}
