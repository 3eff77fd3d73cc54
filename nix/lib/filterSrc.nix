# Copies part of a source tree to the store: the paths (relative to `src`)
# that `keep` accepts. The result's hash depends on those files only, which is
# what keeps a dependency build from seeing an edit to unrelated files.
#
# `keep` is called with the relative path and the file type; a directory it
# rejects is not descended into, so large trees (target/) cost nothing.
{
  src,
  name,
  keep,
}:
let
  root = toString src;
  rootLength = builtins.stringLength root + 1;
in
builtins.path {
  path = src;
  inherit name;
  filter =
    path: type:
    let
      rel = builtins.substring rootLength (builtins.stringLength path) path;
    in
    keep rel type;
}
