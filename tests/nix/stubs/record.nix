# STAND-IN FOR TESTS ONLY (tests/nix): not part of nixpkgs, crane or fenix.
#
# Makes a "recording" derivation: a real `derivation` value (so it has a
# drvPath whose hash covers everything it was given) that is never built, plus
# the arguments it was called with (`stubArgs`) and who made it (`stubKind`),
# for the evaluation tests to inspect.
kind: name: args:
let
  # Functions cannot go into a derivation; everything else (including other
  # derivations, which become their output paths) is recorded as JSON.
  clean =
    v:
    if builtins.isFunction v then
      "<function>"
    else if builtins.isAttrs v && !(v ? outPath) then
      builtins.mapAttrs (_: clean) v
    else if builtins.isList v then
      map clean v
    else
      v;
  drv = derivation {
    inherit name;
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [
      "-c"
      "echo 'stand-in derivation from tests/nix/stubs: never built' >&2; exit 1"
    ];
    stubKind = kind;
    stubArgs = builtins.toJSON (clean args);
  };
in
drv
// {
  stubKind = kind;
  stubArgs = args;
}
