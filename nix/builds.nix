# The build matrix read from the plan: for every target, profile and variant,
#
#   deps.<target>.<profile>.<variant>            the dependency artifacts every
#                                                package of the combination
#                                                starts from
#   baseDeps.<target>.<profile>.<variant>        the base layer under them
#                                                (null in a single layer)
#   packages.<target>.<profile>.<variant>.<root> every root package of the
#                                                variant, each reusing that one
#                                                dependency derivation
#
# Layers (nix/README.md, "Layered dependency artifacts"): with a base lock that
# belongs to the workspace, `baseDeps` builds the dependencies of the base
# lock from scratch and `deps` is a top layer that starts from them and builds
# the current Cargo.lock's; cargo compiles only what the lock bump changed.
# Without one (or with a foreign or stale one), `deps` is one dependency build
# from scratch. Both layers' sources state every member at version 0.0.0, so a
# member's version bump moves neither.
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

  # Vendoring reads the lock (the normalized one: the same third-party crates)
  # and the cargo config (for registries) only.
  vendorDir = craneLib.vendorCargoDeps {
    src = sources.cargoConfig;
    cargoLockParsed = sources.depsLock;
  };
  baseVendorDir = craneLib.vendorCargoDeps {
    src = sources.cargoConfig;
    cargoLockParsed = sources.baseDepsLock;
  };

  # A foreign or stale base lock: say why the build has one layer.
  layered =
    if sources.layers.mode == "layered" then
      true
    else if sources.layers.reason == "no base lock given" then
      false
    else
      builtins.trace "buildWorkspace: ${sources.layers.reason}" false;

  # The dependency derivations are named without the members' version, which
  # they do not depend on (members are at 0.0.0 in their sources).
  depsVersion = "0.0.0";

  forEachCombination =
    f:
    mapAttrs (
      targetName: _:
      mapAttrs (
        profileName: _:
        mapAttrs (variantName: variant: f targetName profileName variantName variant) plan.variants
      ) plan.profiles
    ) plan.targets;

  depsArgs = targetName: profileName: variantName: variant: {
    name = "${name}-${targetName}-${profileName}-${variantName}";
    version = depsVersion;
    inherit variant;
    buildEnv = mkBuildEnv targetName profileName;
    withDevDeps = targetName == checksTarget;
    # The workspace-wide check and test builds use every feature, as the
    # clippy and nextest checks do.
    workspaceArgs = [
      "--workspace"
      "--all-features"
    ];
  };

  baseDeps = forEachCombination (
    targetName: profileName: variantName: variant:
    if layered then
      mkDeps (
        depsArgs targetName profileName variantName variant
        // {
          name = "${name}-${targetName}-${profileName}-${variantName}-base";
          dummySrc = sources.baseDeps;
          vendorDir = baseVendorDir;
        }
      )
    else
      null
  );

  deps = forEachCombination (
    targetName: profileName: variantName: variant:
    mkDeps (
      depsArgs targetName profileName variantName variant
      // {
        dummySrc = sources.deps;
        inherit vendorDir;
        cargoArtifacts = baseDeps.${targetName}.${profileName}.${variantName};
      }
    )
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
    baseDeps
    packages
    vendorDir
    mkBuildEnv
    ;
  inherit (sources) layers;
}
