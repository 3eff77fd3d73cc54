# Every source the flake builds from, cut out of the workspace by the plan:
#
#   deps        the stub workspace the dependency builds use: Cargo.lock with
#               every member at version 0.0.0 (normalizeVersions.nix)
#   baseDeps    the same with the base lock (`baseLock`) in place of
#               Cargo.lock, for the base dependency layer; null without one
#   layers      { mode = "layered" | "single"; reason; }: whether the base
#               lock belongs to this workspace (else one layer, and why)
#   depsLock, baseDepsLock   those two locks, parsed and normalized
#   stubs       the stub workspace with the real versions and Cargo.lock, the
#               base of the per-package sources
#   forMembers  a function of a list of member paths: those members real,
#               every other member a stub (the member layers' sources)
#   forPackage  per package: itself and its workspace dependencies real
#               (`workspace_deps`), every other member a stub
#   full        the whole workspace, real (clippy, tests, fmt, machete, plan check)
#   cargoConfig .cargo/config.toml alone (vendoring reads its registries)
#
# Each piece is copied to the store on its own, so its hash moves only when
# its own files do.
{
  craneLib,
  pkgs,
  src,
  plan,
  planFile,
  baseLock ? null,
}:
let
  inherit (builtins) elem baseNameOf;
  filterSrc = import ./lib/filterSrc.nix;
  mkDummyWorkspace = import ./lib/mkDummyWorkspace.nix {
    inherit craneLib;
    inherit (pkgs) runCommand writeText;
  };
  mkCompositeSrc = import ./lib/mkCompositeSrc.nix { inherit (pkgs) runCommand; };

  # Composed sources share one name, so every build unpacks to the same
  # directory and absolute paths seen by build scripts stay the same.
  srcName = "workspace-src";

  storeName = path: builtins.replaceStrings [ "/" ] [ "-" ] path;

  members =
    let
      ms = plan.workspace.members;
    in
    if elem "." ms || elem "" ms then
      throw "the plan lists the workspace root as a member; only virtual workspaces are supported"
    else
      ms;

  rootManifest = builtins.path {
    path = src + "/Cargo.toml";
    name = "Cargo.toml";
  };

  cargoConfig = filterSrc {
    inherit src;
    name = "cargo-config";
    keep =
      rel: _:
      elem rel [
        ".cargo"
        ".cargo/config.toml"
      ];
  };

  realLock = builtins.path {
    path = src + "/Cargo.lock";
    name = "Cargo.lock";
  };

  normalize = import ./lib/normalizeVersions.nix { memberNames = builtins.attrNames plan.packages; };
  readLock = path: builtins.fromTOML (builtins.readFile path);
  currentLock = readLock (src + "/Cargo.lock");
  depsLock = normalize.lock currentLock;

  # Whether the base lock can serve as this workspace's base layer. It must
  # list the same workspace members (path packages) as Cargo.lock, each with
  # the same dependencies by name: a lock of another workspace, or one written
  # before a member or a dependency was added, cannot be built with these
  # manifests and `--locked`. Either way the build falls back to one layer
  # (the dependency build from scratch), which is always correct.
  layers =
    let
      baseParsed = readLock baseLock;
      sorted = builtins.sort builtins.lessThan;
      membersOf = l: sorted (normalize.lockMembers l);
      depNames =
        l:
        builtins.listToAttrs (
          map (p: {
            inherit (p) name;
            value = sorted (map (e: builtins.head (builtins.split " " e)) (p.dependencies or [ ]));
          }) (builtins.filter (p: !(p ? source)) (l.package or [ ]))
        );
      baseMembers = membersOf baseParsed;
      ourMembers = membersOf currentLock;
      changed = builtins.filter (m: (depNames baseParsed).${m} != (depNames currentLock).${m}) ourMembers;
      show = builtins.concatStringsSep ", ";
      refresh = "building the dependencies in one layer. Refresh the base lock by copying the workspace's Cargo.lock over it";
    in
    if baseLock == null then
      {
        mode = "single";
        reason = "no base lock given";
      }
    else if baseMembers != ourMembers then
      {
        mode = "single";
        reason = "${toString baseLock} does not belong to this workspace: it lists the members [${show baseMembers}], Cargo.lock lists [${show ourMembers}]; ${refresh}";
      }
    else if changed != [ ] then
      {
        mode = "single";
        reason = "${toString baseLock} is stale: the dependencies of [${show changed}] changed since it was written; ${refresh}";
      }
    else
      {
        mode = "layered";
        reason = null;
      };
  baseDepsLock = if layers.mode == "layered" then normalize.lock (readLock baseLock) else null;

  # Tool settings the checks read; not part of any build.
  toolConfigs = filterSrc {
    inherit src;
    name = "tool-configs";
    keep =
      rel: _:
      elem rel [
        "rustfmt.toml"
        ".rustfmt.toml"
        "clippy.toml"
        ".clippy.toml"
        ".config"
        ".config/nextest.toml"
      ];
  };

  planDir = pkgs.runCommand "plan" { } ''
    mkdir -p $out/nix
    cp ${planFile} $out/nix/plan.json
  '';

  memberSrc = builtins.listToAttrs (
    map (path: {
      name = path;
      value = filterSrc {
        src = src + "/${path}";
        name = storeName path;
        keep =
          rel: type:
          let
            base = baseNameOf rel;
          in
          !(type == "directory" && base == "target")
          && !(type == "symlink" && builtins.substring 0 6 base == "result");
      };
    }) members
  );

  real =
    paths:
    map (path: {
      inherit path;
      src = memberSrc.${path} or (throw "`${path}` is not a workspace member in the plan");
    }) paths;

  config = cargoConfig;

  deps = mkDummyWorkspace {
    name = srcName;
    inherit src members config normalize;
    lock = craneLib.writeTOML "Cargo.lock" depsLock;
  };

  baseDeps =
    if baseDepsLock == null then
      null
    else
      mkDummyWorkspace {
        name = srcName;
        inherit src members config normalize;
        lock = craneLib.writeTOML "Cargo.lock" baseDepsLock;
      };

  stubs = mkDummyWorkspace {
    name = srcName;
    inherit src members config;
    lock = realLock;
  };

  # The members at `paths` real, every other one a stub. The same set of
  # members gives the same source, in any order.
  forMembers =
    paths:
    mkCompositeSrc {
      name = srcName;
      dummy = stubs;
      inherit rootManifest;
      members = real (builtins.sort builtins.lessThan paths);
    };

  forPackage = builtins.mapAttrs (_: package: forMembers ([ package.path ] ++ package.workspace_deps)) plan.packages;

  full = mkCompositeSrc {
    name = srcName;
    dummy = stubs;
    inherit rootManifest;
    members = real members;
    extras = [
      toolConfigs
      planDir
    ];
  };
in
{
  inherit
    cargoConfig
    deps
    baseDeps
    depsLock
    baseDepsLock
    layers
    stubs
    forMembers
    forPackage
    full
    memberSrc
    ;
}
