# STAND-IN FOR TESTS ONLY (tests/nix): not crane. `mkLib pkgs` returns the
# crane functions nix/ calls; each returns a recording derivation (record.nix)
# that also notes the toolchain chosen with overrideToolchain.
# cleanCargoToml and writeTOML keep crane's contract: the first parses a
# manifest at evaluation time and drops fields that do not affect a build,
# the second writes a file from an attribute set (as JSON here, not TOML).
let
  record = import ./record.nix;
  dropKeys = keys: attrs: removeAttrs attrs keys;
  cleanCargoToml =
    { cargoToml }:
    let
      parsed = builtins.fromTOML (builtins.readFile cargoToml);
    in
    dropKeys [ "lints" "badges" ] parsed
    // (
      if parsed ? package then
        {
          package = dropKeys [
            "build"
            "description"
            "default-run"
            "readme"
            "repository"
            "license"
            "rust-version"
            "metadata"
          ] parsed.package;
        }
      else
        { }
    )
    // (if parsed ? workspace then { workspace = dropKeys [ "lints" "metadata" ] parsed.workspace; } else { });

  mkLib =
    toolchain:
    let
      call = kind: args: record kind "${args.pname or "crane"}-${kind}" (args // { craneToolchain = toolchain; });
    in
    {
      overrideToolchain =
        f:
        if builtins.isFunction f then
          mkLib (f null)
        else
          throw "crane stand-in: overrideToolchain takes a function (p: toolchain)";
      inherit cleanCargoToml;
      writeTOML = name: contents: record "writeTOML" name { contents = builtins.toJSON contents; };
      vendorCargoDeps = args: record "vendorCargoDeps" "vendor-cargo-deps" args;
      buildDepsOnly = call "buildDepsOnly";
      buildPackage = call "buildPackage";
      cargoBuild = call "cargoBuild";
      cargoClippy = call "cargoClippy";
      cargoFmt = call "cargoFmt";
      mkCargoDerivation = call "mkCargoDerivation";
    };
in
{
  mkLib = _pkgs: mkLib null;
}
