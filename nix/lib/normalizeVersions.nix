# Member versions out of the dependency layers' inputs. A workspace member's
# version is no input of any third-party unit, yet it is written in the
# manifests and in Cargo.lock, so bumping it would change every dependency
# derivation (crane issue 445). The stub workspace the dependency layers build
# from therefore states every member at version 0.0.0:
#
#   manifest m   a member's (cleaned) manifest: `package.version` is 0.0.0 and
#                every dependency with a `path` loses its `version`
#                requirement (it names a member, whose version is now 0.0.0)
#   root m       the root manifest: `workspace.package.version` is 0.0.0 and
#                `workspace.dependencies` entries with a `path` lose `version`
#   lock l       a parsed Cargo.lock: every path package named like a member
#                (no `source`) is at 0.0.0, and so is every dependency entry
#                `"<member> <its old version>"` that points at one
#
# cargo itself resolves the result to the same graph of third-party crates,
# with the same features, so their fingerprints are those of the real build
# (scripts/lock-bump-rehearsal.sh builds with such a workspace).
{ memberNames }:
let
  inherit (builtins)
    concatMap
    elem
    filter
    isAttrs
    isList
    length
    listToAttrs
    mapAttrs
    split
    ;

  normal = "0.0.0";

  depTables = [
    "dependencies"
    "dev-dependencies"
    "build-dependencies"
    "dev_dependencies"
    "build_dependencies"
  ];

  stripPathVersions = mapAttrs (_: dep: if isAttrs dep && dep ? path then removeAttrs dep [ "version" ] else dep);

  normalizeDepTables =
    table:
    table
    // listToAttrs (
      concatMap (
        key:
        if table ? ${key} && isAttrs table.${key} then
          [
            {
              name = key;
              value = stripPathVersions table.${key};
            }
          ]
        else
          [ ]
      ) depTables
    );

  words = s: filter (w: !isList w && w != "") (split " " s);
in
{
  manifest =
    m:
    normalizeDepTables m
    // (if m ? package then { package = m.package // { version = normal; }; } else { })
    // (if m ? target && isAttrs m.target then { target = mapAttrs (_: normalizeDepTables) m.target; } else { });

  root =
    m:
    if m ? workspace then
      m
      // {
        workspace =
          m.workspace
          // (
            if m.workspace ? package && m.workspace.package ? version then
              { package = m.workspace.package // { version = normal; }; }
            else
              { }
          )
          // (
            if m.workspace ? dependencies then
              { dependencies = stripPathVersions m.workspace.dependencies; }
            else
              { }
          );
      }
    else
      m;

  lock =
    l:
    let
      packages = l.package or [ ];
      isMemberEntry = p: !(p ? source) && elem p.name memberNames;
      memberVersions = listToAttrs (
        map (p: {
          inherit (p) name;
          value = p.version;
        }) (filter isMemberEntry packages)
      );
      entry =
        e:
        let
          w = words e;
          name = builtins.head w;
        in
        if length w == 2 && (memberVersions.${name} or null) == builtins.elemAt w 1 then "${name} ${normal}" else e;
      package =
        p:
        p
        // (if isMemberEntry p then { version = normal; } else { })
        // (if p ? dependencies then { dependencies = map entry p.dependencies; } else { });
    in
    l // { package = map package packages; };

  # The members' names as Cargo.lock lists them (path packages), for telling
  # whether a lock belongs to this workspace.
  lockMembers = l: map (p: p.name) (filter (p: !(p ? source)) (l.package or [ ]));

  inherit normal;
}
