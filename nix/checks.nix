# `nix flake check` beyond building every package: clippy, the tests
# (nextest), rustfmt, cargo-machete, plan freshness, and the static-linking
# check. Clippy and the tests cover the whole workspace with every feature (as
# scripts/test.sh runs them) on the plan's native target with the checks
# profile, on top of the default variant's dependency derivation for that
# combination, which compiles them their dependencies with the same arguments.
{
  pkgs,
  craneLib,
  plan,
  sources,
  builds,
  checksTarget,
  checksProfile,
  version,
  name,
  helper,
  staticBinaries,
  checkInputs,
  checkEnv,
  nextestArgs,
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
  workspaceArgs = buildEnv.cargoArgs ++ [
    "--workspace"
    "--all-features"
  ];

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
      pname = "${name}-clippy";
      doInstallCargoArtifacts = false;
      buildPhaseCargoCommand = "cargoWithProfile clippy ${
        shellArgs (
          workspaceArgs
          ++ [
            "--all-targets"
            "--"
            "--deny"
            "warnings"
          ]
        )
      }";
    }
  );

  # The whole test suite, with every tool it needs (checkInputs: for Chronik
  # kcat, python3 with the Kafka clients and moto's S3 server) and its
  # environment (checkEnv).
  nextest = craneLib.mkCargoDerivation (
    common
    // checkEnv
    // {
      pname = "${name}-nextest";
      nativeBuildInputs = common.nativeBuildInputs ++ [ pkgs.cargo-nextest ] ++ checkInputs;
      buildPhaseCargoCommand = "cargo nextest --version";
      checkPhaseCargoCommand = "cargo nextest run \${CARGO_PROFILE:+--cargo-profile $CARGO_PROFILE} ${
        shellArgs (workspaceArgs ++ nextestArgs ++ [ "--no-tests=fail" ])
      }";
      doCheck = true;
      doInstallCargoArtifacts = false;
    }
  );

  rustfmt = craneLib.cargoFmt {
    pname = "${name}-rustfmt";
    inherit version;
    src = sources.full;
    cargoExtraArgs = "--all";
  };

  cargo-machete = pkgs.runCommand "${name}-cargo-machete" { nativeBuildInputs = [ pkgs.cargo-machete ]; } ''
    cd ${sources.full}
    cargo-machete
    touch $out
  '';
}
// (
  if helper == null then
    { }
  else
    {
      # The committed plan must be what the helper computes from the manifests.
      plan-fresh = craneLib.mkCargoDerivation {
        pname = "${name}-plan-fresh";
        inherit version;
        src = sources.full;
        cargoArtifacts = null;
        cargoVendorDir = builds.vendorDir;
        nativeBuildInputs = [ helper ];
        buildPhaseCargoCommand = "cargo buildplan check";
        doInstallCargoArtifacts = false;
      };
    }
)
// builtins.mapAttrs (
  checkName: s:
  mkStaticCheck {
    name = checkName;
    inherit version;
    inherit (s) package binary run;
  }
) staticBinaries
