# The example flake of nix/README.md (written to exampleDir/flake.nix by
# test_nix.py, beside a fixture workspace that is not this repository),
# called with this repository's flake as its `chronik` input, itself called
# with the real crane and fenix and the nixpkgs stand-in (inputs.nix).
{ inputsDir, exampleDir }:
let
  inputs = import ./inputs.nix {
    inputsDir = /. + inputsDir;
    system = "x86_64-linux";
  };
  chronikFlake = import ../../flake.nix;
  chronik = chronikFlake.outputs (inputs.flakeInputs // { self = chronik; }) // {
    outPath = ../..;
  };
  example = import (/. + exampleDir + "/flake.nix");
  self = example.outputs {
    inherit self chronik;
  } // {
    outPath = /. + exampleDir;
  };
  perSystem = system: {
    packages = builtins.mapAttrs (_: d: d.drvPath) self.packages.${system};
    checks = builtins.mapAttrs (_: d: d.drvPath) self.checks.${system};
    devShells = builtins.mapAttrs (_: d: d.drvPath) self.devShells.${system};
    planFreshHelper =
      let
        fresh = self.checks.${system}.plan-fresh or null;
      in
      if fresh == null then null else (builtins.head fresh.drvAttrs.nativeBuildInputs).name;
  };
in
{
  x86_64-linux = perSystem "x86_64-linux";
  aarch64-linux = perSystem "aarch64-linux";
}
