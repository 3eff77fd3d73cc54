# A dependency-only derivation of a (target, profile, variant), running the
# variant's `deps_cargo_args` (one cargo invocation per list, in order) so
# that every root's third-party units are compiled. For a unified variant
# (`unified`, the default with several roots) that is one invocation of the
# variant's `cargo_args` (U: every root with its features), so each
# third-party crate is compiled once, with the features of all roots. With `withDevDeps` (the
# combination the checks use) it also checks and compiles the tests of the
# whole workspace, as crane's default does, so the workspace-wide clippy and
# nextest checks find their dependencies (dev-dependencies included) built too.
#
# Without `cargoArtifacts` it is crane's buildDepsOnly over the stub
# workspace: a dependency build from scratch (the single layer, or the base
# layer). With `cargoArtifacts` (the base layer) it is the top layer: crane's
# mkCargoDerivation with the same source shape, commands and environment, but
# starting from the base layer's target directory (buildDepsOnly always sets
# `cargoArtifacts = null`, so it cannot be used for this). cargo then decides
# what is stale: only the crates whose version, features or dependencies
# differ between the two locks are compiled, plus their dependents.
#
# With `depsOnly = false` it is a member layer (memberLayers.nix): the same
# cargo invocations on top of `cargoArtifacts`, from a source in which some
# members are real, so cargo compiles those members (everything else is
# fresh); no dependency-only marker, no workspace-wide check or test build.
{ craneLib }:
{
  name,
  version,
  dummySrc,
  vendorDir,
  buildEnv,
  variant,
  withDevDeps ? false,
  workspaceArgs ? [ "--workspace" ],
  cargoArtifacts ? null,
  depsOnly ? true,
}:
let
  shellArgs = import ./shellArgs.nix;
  invocations =
    verb: extra:
    builtins.concatStringsSep "" (
      map (args: ''
        cargoWithProfile ${verb} ${shellArgs (buildEnv.cargoArgs ++ args ++ extra)}
      '') variant.deps_cargo_args
    );
  workspaceWide = verb: extra: ''
    cargoWithProfile ${verb} ${shellArgs (buildEnv.cargoArgs ++ workspaceArgs ++ extra)}
  '';
  common = buildEnv.env // {
    pname = name;
    inherit version;
    cargoVendorDir = vendorDir;
    nativeBuildInputs = buildEnv.nativeBuildInputs;
    buildPhaseCargoCommand =
      (if withDevDeps then workspaceWide "check" [ "--all-targets" ] else "") + invocations "build" [ ];
    checkPhaseCargoCommand = workspaceWide "test" [ "--no-run" ];
    doCheck = withDevDeps;
  };
in
if cargoArtifacts == null then
  craneLib.buildDepsOnly (
    common
    // {
      # Our stub workspace, given as crane's `dummySrc` so buildDepsOnly uses it
      # as it is (it becomes the derivation's `src`). No `src` beside it: crane
      # would ignore it and warn.
      inherit dummySrc;
    }
  )
else
  craneLib.mkCargoDerivation (
    common
    // {
      src = dummySrc;
      inherit cargoArtifacts;
      # The target directory as the output (with use-zstd crane stores only
      # the files this layer wrote, next to a link to the layer below).
      doInstallCargoArtifacts = true;
    }
    // (
      if depsOnly then
        {
          # What buildDepsOnly sets: the marker for hooks.
          pnameSuffix = "-deps";
          env.CRANE_BUILD_DEPS_ONLY = 1;
        }
      else
        {
          buildPhaseCargoCommand = invocations "build" [ ];
          doCheck = false;
        }
    )
  )
