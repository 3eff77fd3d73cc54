# One root package of a (target, profile, variant): built with the variant's
# exact `cargo_args` from the plan, on `deps`: the variant's top member layer
# (builds.nix), from its source, so cargo finds every unit fresh and crane
# only installs; or, without member layers, the combination's dependency
# derivation, from the package's own source (itself and its workspace
# dependencies real), compiling those members. In a unified variant `cargo_args` is the variant's U (every
# root selected, so features resolve as in the dependency build; the other
# roots are stubs here, their manifests real) plus this root's `--bin`s, or
# `--lib` for a library-only root, so no third-party crate is compiled again. A package with binaries is installed by crane's buildPackage;
# a library-only one is compiled (a check that it builds) and installs nothing.
{ craneLib }:
{
  name,
  package,
  build,
  src,
  deps,
  vendorDir,
  buildEnv,
  passthru ? { },
}:
let
  shellArgs = import ./shellArgs.nix;
  binaries = package.binaries or [ ];
  common = buildEnv.env // {
    pname = name;
    inherit (package) version;
    inherit src;
    cargoArtifacts = deps;
    cargoVendorDir = vendorDir;
    nativeBuildInputs = buildEnv.nativeBuildInputs;
    cargoExtraArgs = shellArgs (buildEnv.cargoArgs ++ build.cargo_args);
    # Tests run once, in the nextest check; cross builds could not run them.
    doCheck = false;
    passthru = passthru // {
      inherit deps;
    };
  };
in
if binaries != [ ] then
  craneLib.buildPackage (
    common
    // {
      meta.mainProgram = builtins.head binaries;
    }
  )
else
  craneLib.cargoBuild (
    common
    // {
      doInstallCargoArtifacts = false;
    }
  )
