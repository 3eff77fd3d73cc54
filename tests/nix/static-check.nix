# nix/lib/mkStaticCheck.nix's check for a binary built here: `package` is a
# directory with bin/probe. Built with the stand-in's runCommand (a real
# build with the host's readelf and file, sandbox off), so the check script
# itself runs.
{
  inputsDir,
  package,
  version,
}:
let
  inputs = import ./inputs.nix {
    inputsDir = /. + inputsDir;
    system = "x86_64-linux";
  };
  inherit (inputs) pkgs;
  mkStaticCheck = import ../../nix/lib/mkStaticCheck.nix { inherit (pkgs) runCommand binutils-unwrapped file; };
in
mkStaticCheck {
  name = "probe-static-check";
  package = builtins.path {
    path = /. + package;
    name = "probe";
  };
  binary = "probe";
  inherit version;
  run = true;
}
