# A workspace source in which some members are real (a package and its
# workspace dependencies, per the plan) and all others stay stubs from the
# dependency-only source, so cargo still resolves the whole workspace. A
# package built from it depends only on the crates it is made of: editing a
# crate rebuilds its dependents and nothing else.
#
# `members` is a list of { path, src } (src: the member's real files);
# `extras` are store directories copied over the root (tool configs, plan).
{ runCommand }:
{
  name,
  dummy,
  rootManifest,
  members,
  extras ? [ ],
}:
let
  shellArgs = import ./shellArgs.nix;
  q = p: shellArgs [ p ];
in
runCommand name { } (
  ''
    mkdir -p $out
    cp -r --no-preserve=ownership ${dummy}/. $out/
    chmod -R u+w $out
    cp ${rootManifest} $out/Cargo.toml
  ''
  + builtins.concatStringsSep "" (
    map (extra: ''
      cp -r --no-preserve=ownership ${extra}/. $out/
      chmod -R u+w $out
    '') extras
  )
  + builtins.concatStringsSep "" (
    map (member: ''
      rm -rf $out/${q member.path}
      mkdir -p $out/${q member.path}
      cp -r --no-preserve=ownership ${member.src}/. $out/${q member.path}/
      chmod -R u+w $out/${q member.path}
    '') members
  )
)
