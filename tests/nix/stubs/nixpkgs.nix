# STAND-IN FOR TESTS ONLY (tests/nix): not nixpkgs. It provides just the
# attributes nix/ uses, each a recording derivation (record.nix), so the
# evaluation tests can see what nix/ asked for without fetching nixpkgs.
{ system }:
let
  record = import ./record.nix;
  leaf = name: record "nixpkgs" name { };
  crossCc =
    prefix:
    record "cross-cc" "${prefix}cc-wrapper" { inherit prefix; }
    // {
      targetPrefix = prefix;
    };
in
{
  stdenv.hostPlatform.system = system;

  runCommand =
    name: env: script:
    record "runCommand" name (env // { inherit script; });
  writeText = name: text: record "writeText" name { inherit text; };
  writeShellScriptBin = name: text: record "writeShellScriptBin" name { inherit text; };
  mkShell = args: record "mkShell" "nix-shell" args;
  dockerTools.buildLayeredImage = args: record "buildLayeredImage" "${args.name}.tar.gz" args;

  pkgsCross = {
    musl64.stdenv.cc = crossCc "x86_64-unknown-linux-musl-";
    aarch64-multiplatform-musl.stdenv.cc = crossCc "aarch64-unknown-linux-musl-";
  };

  mold = leaf "mold";
  llvmPackages.lld = leaf "lld";
  clang = leaf "clang";
  cacert = leaf "cacert";
  sccache = leaf "sccache";
  cargo-nextest = leaf "cargo-nextest";
  cargo-machete = leaf "cargo-machete";
  kcat = leaf "kcat";
  rust-analyzer = leaf "rust-analyzer";
  nixfmt = leaf "nixfmt";
  binutils-unwrapped = leaf "binutils";
  file = leaf "file";

  # What flake.nix takes from nixpkgs' lib.
  lib = {
    genAttrs =
      names: f:
      builtins.listToAttrs (
        map (name: {
          inherit name;
          value = f name;
        }) names
      );
    inherit (builtins) mapAttrs;
  };
}
