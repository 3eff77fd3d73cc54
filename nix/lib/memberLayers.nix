# The workspace members a variant builds, grouped into a short chain of
# layers by depth in the member graph (nix/README.md, "Member layers").
#
# A member's depth is 0 when it depends on no other member, else one more than
# its deepest member dependency. The plan's `workspace_deps` is each member's
# transitive closure (normal and build dependencies), so depth is the longest
# chain of member dependencies below it. Layer i holds the members of the i-th
# smallest depth; with more depths than `maxLayers`, neighbouring depths share
# a layer (depth index * maxLayers / number of depths). A member's
# dependencies are always in its layer or below, so a layer that sees the
# sources of its own and lower members can compile all of them.
#
#   plan       the build plan
#   maxLayers  the longest chain; 0: no member layers
#   variant    one of plan.variants
#
# Returns a list, bottom first, of { index, own, members }: `own` the member
# paths of that layer, `members` those of that layer and every lower one
# (the members whose real sources it sees), both sorted.
{ plan, maxLayers }:
variant:
let
  inherit (builtins)
    attrNames
    concatMap
    elem
    filter
    foldl'
    genList
    length
    listToAttrs
    sort
    ;

  byPath = listToAttrs (
    map (name: {
      name = plan.packages.${name}.path;
      value = plan.packages.${name};
    }) (attrNames plan.packages)
  );
  member = path: byPath.${path} or (throw "`${path}` is in a workspace_deps list but is no package of the plan");

  # Lazy, so each depth is computed once.
  depths = builtins.mapAttrs (
    _: package: foldl' (deepest: dep: if depths.${dep} + 1 > deepest then depths.${dep} + 1 else deepest) 0 package.workspace_deps
  ) byPath;
  depthOf = path: builtins.seq (member path) depths.${path};

  unique = list: foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ] (sort builtins.lessThan list);

  roots = attrNames variant.builds;
  members = unique (concatMap (root: [ plan.packages.${root}.path ] ++ plan.packages.${root}.workspace_deps) roots);
  levels = unique (map depthOf members);
  count = length levels;
  layerCount = if count < maxLayers then count else maxLayers;
  indexOf =
    level:
    let
      position = length (filter (l: l < level) levels);
    in
    if count <= maxLayers then position else position * maxLayers / count;
  layerOf = path: indexOf (depthOf path);
in
if !(builtins.isInt maxLayers) || maxLayers < 0 then
  throw "memberLayers must be a whole number of layers (0: none), not ${builtins.toJSON maxLayers}"
else
  genList (index: {
    inherit index;
    own = filter (path: layerOf path == index) members;
    members = filter (path: layerOf path <= index) members;
  }) layerCount
