# The source of a dependency-only build: every workspace member (from the
# plan) reduced to its cleaned manifest and stub targets, plus Cargo.lock and
# .cargo/config.toml. It is made from manifests and directory listings only,
# so editing any .rs file leaves it, and every dependency build, untouched.
#
# Each member's manifest points `package.build` at a stub build script in the
# store, as crane's mkDummySrc does. That is what defeats the stale-fingerprint
# trap: Nix gives every source file the same mtime, so cargo cannot tell a stub
# from the real file by time. With a build script the real build does not have
# (or has at another path), every workspace unit's fingerprint differs between
# the two builds, so cargo compiles the workspace crates again from their real
# sources while the third-party units it inherited stay fresh.
# (scripts/crane-rehearsal.sh shows both halves with cargo itself.)
{
  craneLib,
  runCommand,
  writeText,
}:
#
# With `normalize` (a normalizeVersions.nix instance) every member is stated at
# version 0.0.0 in the manifests, and `lock` is expected normalized the same
# way: that is the source of the dependency layers, whose derivations then do
# not move when a member's version is bumped. Without it the manifests keep
# their versions: that is the stub part of the per-package sources, which
# build against the real Cargo.lock.
{
  name,
  src,
  members,
  # Cargo.lock to put at the root (a file)
  lock,
  # a directory holding the workspace's .cargo/config.toml, if it has one
  config,
  normalize ? null,
}:
let
  shellArgs = import ./shellArgs.nix;
  q = p: shellArgs [ p ];

  dummyRs = writeText "dummy.rs" ''
    #![allow(clippy::all)]
    #![allow(dead_code)]
    #[allow(unused_extern_crates)]
    extern crate core;
    pub fn main() {}
  '';

  norm = f: if normalize == null then (m: m) else normalize.${f};

  rootManifest = norm "root" (craneLib.cleanCargoToml { cargoToml = src + "/Cargo.toml"; });

  manifests = builtins.listToAttrs (
    map (path: {
      name = path;
      value =
        let
          cleaned = norm "manifest" (craneLib.cleanCargoToml { cargoToml = src + "/${path}/Cargo.toml"; });
        in
        cleaned
        // {
          package = (cleaned.package or { }) // {
            build = "${dummyRs}";
          };
        };
    }) members
  );

  stubs = builtins.listToAttrs (
    map (path: {
      name = path;
      value =
        let
          dir = src + "/${path}";
        in
        import ./memberStubs.nix dir (builtins.fromTOML (builtins.readFile (dir + "/Cargo.toml")));
    }) members
  );

  stubMember =
    path:
    let
      manifest = manifests.${path};
    in
    ''
      mkdir -p $out/${q path}
      cp ${craneLib.writeTOML "Cargo.toml" manifest} $out/${q path}/Cargo.toml
    ''
    + builtins.concatStringsSep "" (
      map (stub: ''
        mkdir -p "$(dirname $out/${q "${path}/${stub}"})"
        cp ${dummyRs} $out/${q "${path}/${stub}"}
      '') stubs.${path}
    );
in
(runCommand name { } (
  ''
    mkdir -p $out
    cp -r --no-preserve=ownership ${config}/. $out/
    chmod -R u+w $out
    cp ${lock} $out/Cargo.lock
    cp ${craneLib.writeTOML "Cargo.toml" rootManifest} $out/Cargo.toml
  ''
  + builtins.concatStringsSep "" (map stubMember members)
))
// {
  # What each member's stub manifest says and which stub files it gets, for
  # inspection (tests/nix materialises the workspace from them).
  inherit
    manifests
    rootManifest
    stubs
    dummyRs
    ;
}
