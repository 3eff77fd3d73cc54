# Every source the flake builds from, cut out of the workspace by the plan:
#
#   deps        the stub workspace every dependency-only build uses
#   forPackage  per package: itself and its workspace dependencies real
#               (`workspace_deps`), every other member a stub
#   full        the whole workspace, real (clippy, tests, fmt, machete, plan check)
#   lockAndConfig  Cargo.lock and .cargo/config.toml alone, for vendoring
#
# Each piece is copied to the store on its own, so its hash moves only when
# its own files do.
{
  craneLib,
  pkgs,
  src,
  plan,
  planFile,
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

  lockAndConfig = filterSrc {
    inherit src;
    name = "cargo-lock-and-config";
    keep =
      rel: _:
      elem rel [
        "Cargo.lock"
        ".cargo"
        ".cargo/config.toml"
      ];
  };

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

  deps = mkDummyWorkspace {
    name = srcName;
    inherit src members lockAndConfig;
  };

  forPackage = builtins.mapAttrs (
    _: package:
    mkCompositeSrc {
      name = srcName;
      dummy = deps;
      inherit rootManifest;
      members = real ([ package.path ] ++ package.workspace_deps);
    }
  ) plan.packages;

  full = mkCompositeSrc {
    name = srcName;
    dummy = deps;
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
    lockAndConfig
    deps
    forPackage
    full
    memberSrc
    ;
}
