# STAND-IN FOR TESTS ONLY (tests/nix): not fenix. It mirrors the shape of
# `fenix.packages.${system}` that nix/toolchain.nix uses (stable and latest
# toolchains, `combine`, `targets.<triple>.stable.rust-std`); unknown triples
# and components fail as they would with the real fenix.
let
  record = import ./record.nix;
  component = channel: name: record "fenix-component" "${name}-${channel}" { inherit channel name; };
  toolchain =
    channel:
    let
      names = [
        "cargo"
        "clippy"
        "rust-src"
        "rust-std"
        "rustc"
        "rustfmt"
      ]
      ++ (if channel == "nightly" then [ "rustc-codegen-cranelift-preview" ] else [ ]);
      components = builtins.listToAttrs (
        map (name: {
          inherit name;
          value = component channel name;
        }) names
      );
    in
    components
    // {
      withComponents =
        wanted:
        record "fenix-withComponents" "rust-${channel}-with-components" {
          components = map (
            c: components.${c} or (throw "fenix stand-in: no component `${c}` in ${channel}")
          ) wanted;
        };
    };
  knownTargets = [
    "x86_64-unknown-linux-gnu"
    "x86_64-unknown-linux-musl"
    "aarch64-unknown-linux-gnu"
    "aarch64-unknown-linux-musl"
  ];
in
{
  stable = toolchain "stable";
  latest = toolchain "nightly";
  combine = paths: record "fenix-combine" "rust-mixed" { inherit paths; };
  targets = builtins.listToAttrs (
    map (triple: {
      name = triple;
      value.stable.rust-std = component "stable" "rust-std-${triple}";
    }) knownTargets
  );
}
