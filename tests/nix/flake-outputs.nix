# flake.nix's `outputs`, called with the real crane and fenix and the
# nixpkgs stand-in (inputs.nix), as facts for test_nix.py: every output's
# drvPath for both systems, and this repository's test check.
{ inputsDir }:
let
  flake = import ../../flake.nix;
  inputs = import ./inputs.nix {
    inputsDir = /. + inputsDir;
    system = "x86_64-linux";
  };
  self = flake.outputs (inputs.flakeInputs // { inherit self; }) // {
    outPath = ../..;
  };
  nameOf = d: d.name or (toString d);
  names = map nameOf;
  envVars =
    attrs:
    builtins.listToAttrs (
      builtins.concatMap (
        k:
        if builtins.isString attrs.${k} && builtins.match "[A-Z][A-Z0-9]*_[A-Za-z0-9_]+" k != null then
          [
            {
              name = k;
              value = attrs.${k};
            }
          ]
        else
          [ ]
      ) (builtins.attrNames attrs)
    );
  perSystem =
    system:
    let
      nextest = self.checks.${system}.nextest.drvAttrs;
      shell = self.devShells.${system}.default.drvAttrs;
      helpers = builtins.filter (d: (d.pname or "") == "cargo-buildplan") shell.nativeBuildInputs;
    in
    {
      packages = builtins.mapAttrs (_: d: d.drvPath) self.packages.${system};
      checks = builtins.mapAttrs (_: d: d.drvPath) self.checks.${system};
      devShells = builtins.mapAttrs (_: d: d.drvPath) self.devShells.${system};
      apps = builtins.mapAttrs (_: a: a.program) self.apps.${system};
      formatter = self.formatter.${system}.drvPath;
      buildWorkspace = builtins.typeOf self.lib.${system}.buildWorkspace;
      nextest = {
        inherit (nextest) checkPhase;
        env = envVars nextest;
        nativeBuildInputs = names nextest.nativeBuildInputs;
        inputs = map (d: {
          name = nameOf d;
          paths = names (d.drvAttrs.paths or [ ]);
        }) nextest.nativeBuildInputs;
      };
      shellHelper =
        if helpers == [ ] then
          null
        else
          {
            env = envVars (builtins.head helpers).drvAttrs;
          };
    };
in
{
  x86_64-linux = perSystem "x86_64-linux";
  aarch64-linux = perSystem "aarch64-linux";
}
