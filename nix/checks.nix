# `nix flake check` beyond building every package: clippy, the tests
# (nextest), rustfmt, cargo-machete, plan freshness, and the static-linking
# check. The compiling checks run on the plan's host target with the checks
# profile and the default variant, on top of that combination's one
# dependency derivation (built with dev-dependencies for them).
{
  pkgs,
  craneLib,
  plan,
  sources,
  builds,
  checksTarget,
  checksProfile,
  version,
  helper,
  staticBinaries,
}:
let
  shellArgs = import ./lib/shellArgs.nix;
  mkStaticCheck = import ./lib/mkStaticCheck.nix {
    inherit (pkgs) runCommand binutils-unwrapped file;
  };

  variantName = plan.workspace.default_variant;
  variant = plan.variants.${variantName};
  buildEnv = builds.mkBuildEnv checksTarget checksProfile;

  # One cargo invocation per argument list of the variant, as in its
  # dependency build, so each reuses exactly the units built there.
  invocations =
    command: extra:
    builtins.concatStringsSep "" (
      map (args: ''
        ${command} ${shellArgs (buildEnv.cargoArgs ++ args ++ extra)}
      '') variant.deps_cargo_args
    );

  common = buildEnv.env // {
    inherit version;
    src = sources.full;
    cargoArtifacts = builds.deps.${checksTarget}.${checksProfile}.${variantName};
    cargoVendorDir = builds.vendorDir;
    nativeBuildInputs = buildEnv.nativeBuildInputs;
  };
in
{
  # mkCargoDerivation rather than cargoClippy, which composes its own single
  # cargo command; the combined toolchain provides cargo-clippy.
  clippy = craneLib.mkCargoDerivation (
    common
    // {
      pname = "chronik-clippy";
      doInstallCargoArtifacts = false;
      buildPhaseCargoCommand = invocations "cargoWithProfile clippy" [
        "--all-targets"
        "--"
        "--deny"
        "warnings"
      ];
    }
  );

  nextest = craneLib.mkCargoDerivation (
    common
    // {
      pname = "chronik-nextest";
      nativeBuildInputs = common.nativeBuildInputs ++ [ pkgs.cargo-nextest ];
      buildPhaseCargoCommand = "cargo nextest --version";
      checkPhaseCargoCommand = invocations "cargo nextest run \${CARGO_PROFILE:+--cargo-profile $CARGO_PROFILE}" [
        "--no-tests=warn"
      ];
      doCheck = true;
      doInstallCargoArtifacts = false;
    }
  );

  rustfmt = craneLib.cargoFmt {
    pname = "chronik-rustfmt";
    inherit version;
    src = sources.full;
    cargoExtraArgs = "--all";
  };

  cargo-machete = pkgs.runCommand "chronik-cargo-machete" { nativeBuildInputs = [ pkgs.cargo-machete ]; } ''
    cd ${sources.full}
    cargo-machete
    touch $out
  '';

  # The committed plan must be what the helper computes from the manifests.
  plan-fresh = craneLib.mkCargoDerivation {
    pname = "chronik-plan-fresh";
    inherit version;
    src = sources.full;
    cargoArtifacts = null;
    cargoVendorDir = builds.vendorDir;
    nativeBuildInputs = [ helper ];
    buildPhaseCargoCommand = "cargo buildplan check";
    doInstallCargoArtifacts = false;
  };
}
// builtins.mapAttrs (
  name: s:
  mkStaticCheck {
    inherit name version;
    inherit (s) package binary run;
  }
) staticBinaries
