# The build matrix read from the plan: for every target, profile and variant,
#
#   deps.<target>.<profile>.<variant>            the dependency artifacts every
#                                                package of the combination
#                                                starts from
#   baseDeps.<target>.<profile>.<variant>        the base layer under them
#                                                (null in a single layer)
#   memberLayers.<target>.<profile>.<variant>    the member layers on top of
#                                                `deps`, bottom first (a list;
#                                                empty with memberLayers = 0)
#   packages.<target>.<profile>.<variant>.<root> every root package of the
#                                                variant, each starting from
#                                                the top member layer (or, with
#                                                none, the dependency derivation)
#
# Layers (nix/README.md, "Layered dependency artifacts"): with a base lock that
# belongs to the workspace, `baseDeps` builds the dependencies of the base
# lock from scratch and `deps` is a top layer that starts from them and builds
# the current Cargo.lock's; cargo compiles only what the lock bump changed.
# Without one (or with a foreign or stale one), `deps` is one dependency build
# from scratch. Both layers' sources state every member at version 0.0.0, so a
# member's version bump moves neither.
#
# Member layers (nix/README.md, "Member layers"): the members a variant builds,
# grouped by depth in the member graph (lib/memberLayers.nix), each layer
# compiling its own members on top of the layer below, from a source in which
# only its own and lower members are real. An edit to a member changes its
# layer, the layers above and the variant's packages, nothing below.
#
# Attribute sets are lazy: only what the flake outputs refer to is evaluated.
{
  pkgs,
  craneLib,
  plan,
  sources,
  checksTarget,
  name,
  maxMemberLayers,
  artifactsMode,
}:
let
  inherit (builtins) mapAttrs;
  inherit (pkgs) lib;
  mkBuildEnv = import ./lib/mkBuildEnv.nix { inherit pkgs plan artifactsMode; };
  mkDeps = import ./lib/mkDeps.nix { inherit craneLib; };
  mkPackage = import ./lib/mkPackage.nix { inherit craneLib; };
  layersOf = import ./lib/memberLayers.nix {
    inherit plan;
    maxLayers = maxMemberLayers;
  };

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

  # Each layer on the one below, the first on the dependency derivation.
  memberLayers = forEachCombination (
    targetName: profileName: variantName: variant:
    builtins.foldl' (
      below: layer:
      let
        src = sources.forMembers layer.members;
      in
      below
      ++ [
        (
          mkDeps (
            depsArgs targetName profileName variantName variant
            // {
              name = "${name}-${targetName}-${profileName}-${variantName}-members-${toString layer.index}";
              dummySrc = src;
              inherit vendorDir;
              cargoArtifacts = if below == [ ] then deps.${targetName}.${profileName}.${variantName} else lib.last below;
              depsOnly = false;
              withDevDeps = false;
            }
          )
          // {
            inherit (layer) index own members;
            memberSrc = src;
          }
        )
      ]
    ) [ ] (layersOf variant)
  );

  packages = forEachCombination (
    targetName: profileName: variantName: variant:
    let
      layers = memberLayers.${targetName}.${profileName}.${variantName};
      top = if layers == [ ] then null else lib.last layers;
    in
    mapAttrs (
      root: build:
      mkPackage {
        name = root;
        package = plan.packages.${root};
        inherit build vendorDir;
        # On the top layer, which has compiled every member of the variant,
        # from the same source, so cargo finds everything fresh.
        src = if top == null then sources.forPackage.${root} else top.memberSrc;
        deps = if top == null then deps.${targetName}.${profileName}.${variantName} else top;
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
    memberLayers
    packages
    vendorDir
    mkBuildEnv
    ;
  inherit (sources) layers;
}
