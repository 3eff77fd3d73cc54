# The flake's inputs for evaluating nix/ and flake.nix here: the REAL crane
# and fenix trees at the locked revisions and the real nixpkgs `lib`
# (unpacked by test_nix.py from ../shared/nix-inputs), plus the nixpkgs
# package set STAND-IN of ./standin (the only stand-in), for `system`.
#
# Returns { lib, pkgs, crane, fenix, flakeInputs }: crane and fenix as nix/
# takes them, and flakeInputs as flake.nix's `outputs` takes them.
{ inputsDir, system }:
let
  lib = import (inputsDir + "/lib");
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [
      "x86_64-linux"
      "aarch64-linux"
    ] (s: import ./standin { inherit lib; system = s; });
    outPath = ./standin;
  };
  crane = (import (inputsDir + "/crane/flake.nix")).outputs { } // {
    outPath = inputsDir + "/crane";
  };
  fenix =
    (import (inputsDir + "/fenix/flake.nix")).outputs {
      self = fenix;
      inherit nixpkgs;
      # Only rust-analyzer's source build reads it; nothing here does.
      rust-analyzer-src = throw "rust-analyzer-src is not available here";
    }
    // {
      outPath = inputsDir + "/fenix";
    };
in
{
  inherit lib crane;
  pkgs = nixpkgs.legacyPackages.${system};
  fenix = fenix.packages.${system};
  flakeInputs = {
    inherit nixpkgs crane fenix;
  };
}
