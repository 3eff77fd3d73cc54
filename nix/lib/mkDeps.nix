# The one dependency-only derivation of a (target, profile, variant): crane's
# buildDepsOnly over the stub workspace, running the variant's
# `deps_cargo_args` (one cargo invocation per list, in order) so that every
# root's third-party units are compiled. With `withDevDeps` (the combination
# the checks use) it also checks all targets and compiles the tests, so
# clippy and nextest find their dependencies built too.
{ craneLib }:
{
  name,
  version,
  dummySrc,
  vendorDir,
  buildEnv,
  variant,
  withDevDeps ? false,
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
in
craneLib.buildDepsOnly (
  buildEnv.env
  // {
    pname = name;
    inherit version;
    # buildDepsOnly would make its own stub source from `src`; ours is already
    # one, so both point at it and nothing here depends on real sources.
    src = dummySrc;
    inherit dummySrc;
    cargoVendorDir = vendorDir;
    nativeBuildInputs = buildEnv.nativeBuildInputs;
    buildPhaseCargoCommand =
      (if withDevDeps then invocations "check" [ "--all-targets" ] else "") + invocations "build" [ ];
    checkPhaseCargoCommand = invocations "test" [ "--no-run" ];
    doCheck = withDevDeps;
  }
)
