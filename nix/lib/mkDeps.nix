# The one dependency-only derivation of a (target, profile, variant): crane's
# buildDepsOnly over the stub workspace, running the variant's
# `deps_cargo_args` (one cargo invocation per list, in order) so that every
# root's third-party units are compiled. With `withDevDeps` (the combination
# the checks use) it also checks and compiles the tests of the whole workspace,
# as crane's default does, so the workspace-wide clippy and nextest checks
# find their dependencies (dev-dependencies included) built too.
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
in
craneLib.buildDepsOnly (
  buildEnv.env
  // {
    pname = name;
    inherit version;
    # Our stub workspace, given as crane's `dummySrc` so buildDepsOnly uses it
    # as it is (it becomes the derivation's `src`). No `src` beside it: crane
    # would ignore it and warn.
    inherit dummySrc;
    cargoVendorDir = vendorDir;
    nativeBuildInputs = buildEnv.nativeBuildInputs;
    buildPhaseCargoCommand =
      (if withDevDeps then workspaceWide "check" [ "--all-targets" ] else "") + invocations "build" [ ];
    checkPhaseCargoCommand = workspaceWide "test" [ "--no-run" ];
    doCheck = withDevDeps;
  }
)
