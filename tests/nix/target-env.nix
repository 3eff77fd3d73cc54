# mkTargetEnv (nix/lib) for one target, evaluated with the real nixpkgs lib
# and the stand-in package set (inputs.nix): what the flake hands cargo for
# that target. Used by the cross-link and compiler-placement proofs.
#
#   nixDir  the nix/ directory to evaluate (the repository's, or a mutant)
#   target  the plan target's facts (JSON)
{
  inputsDir,
  nixDir,
  name,
  targetJSON,
  system ? "x86_64-linux",
}:
let
  inputs = import ./inputs.nix {
    inputsDir = /. + inputsDir;
    inherit system;
  };
  env = import (/. + nixDir + "/lib/mkTargetEnv.nix") { inherit (inputs) pkgs; } name (builtins.fromJSON targetJSON);
  nameOf = d: d.name or (toString d);
in
{
  inherit (env) linker rustflags env;
  # What the derivation's setup hooks see: the inputs, with the drvPaths to
  # realise the ones built here (linker links) and their names.
  nativeBuildInputs = map (d: {
    name = nameOf d;
    drvPath = d.drvPath;
    out = "${d}";
    targetPrefix = d.targetPrefix or null;
  }) env.nativeBuildInputs;
  hostCc = {
    name = nameOf env.hostCc;
    out = "${env.hostCc}";
  };
  crossCc = if env.crossCc == null then null else {
    name = nameOf env.crossCc;
    out = "${env.crossCc}";
    targetPrefix = env.crossCc.targetPrefix;
  };
}
