# `nix flake check` beyond building every package: clippy, the tests
# (nextest), rustfmt, cargo-machete, plan freshness, and the static-linking
# check. Clippy and the tests cover the whole workspace (every member with its
# default features, as `cargo test --workspace` would) on the plan's host
# target with the checks profile, on top of the default variant's dependency
# derivation for that combination, which compiles them their dependencies.
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
  buildEnv = builds.mkBuildEnv checksTarget checksProfile;

  # The same workspace-wide arguments as the dependency build's check and
  # test invocations (mkDeps.nix), so the units built there are reused.
  workspaceWide = command: extra: "${command} ${shellArgs (buildEnv.cargoArgs ++ [ "--workspace" ] ++ extra)}";

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
      buildPhaseCargoCommand = workspaceWide "cargoWithProfile clippy" [
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
      checkPhaseCargoCommand = workspaceWide "cargo nextest run \${CARGO_PROFILE:+--cargo-profile $CARGO_PROFILE}" [
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
