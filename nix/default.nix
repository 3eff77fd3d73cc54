# The flake's outputs for one system, from the build plan. flake.nix and the
# evaluation tests (tests/nix/) both call this function.
#
#   pkgs      nixpkgs for this system
#   crane     the crane flake (its `mkLib`)
#   fenix     fenix's packages for this system (fenix.packages.${system})
#   src       the workspace root, as a path
#   planFile  the build plan, nix/plan.json (docs/plan-format.md)
#
# Returns { packages, apps, checks, devShells, formatter } plus `internal`
# (the build matrix and sources), which the flake leaves out and the tests read.
{
  pkgs,
  crane,
  fenix,
  src,
  planFile,
}:
let
  inherit (builtins)
    attrNames
    concatMap
    filter
    head
    listToAttrs
    replaceStrings
    ;

  server = "chronik-server";
  helperName = "cargo-buildplan";

  plan = import ./lib/readPlan.nix planFile;
  toolchains = import ./toolchain.nix { inherit fenix plan; };
  craneLib = (crane.mkLib pkgs).overrideToolchain (_: toolchains.stable);
  sources = import ./sources.nix {
    inherit
      craneLib
      pkgs
      src
      plan
      planFile
      ;
  };

  # x86_64-linux -> x86_64
  arch = head (builtins.match "([^-]+)-.*" pkgs.stdenv.hostPlatform.system);
  crossTargets = filter (name: (plan.targets.${name}.triple or null) != null) (attrNames plan.targets);
  # x86_64-unknown-linux-musl -> x86_64-musl
  shortName = name: replaceStrings [ "-unknown-linux-" ] [ "-" ] name;
  # Packages are static musl builds for this machine's architecture.
  hostTarget =
    let
      own = filter (name: plan.targets.${name}.triple == "${arch}-unknown-linux-musl") crossTargets;
    in
    if own != [ ] then head own else "host";
  # Checks compile and run tests natively; `dev` keeps that fast.
  checksTarget = if plan.targets ? host then "host" else hostTarget;
  checksProfile = if plan.profiles ? dev then "dev" else plan.workspace.default_profile;

  builds = import ./builds.nix {
    inherit
      pkgs
      craneLib
      plan
      sources
      checksTarget
      ;
  };

  defaultProfile = plan.workspace.default_profile;
  defaultVariant = plan.workspace.default_variant;
  buildsOf = target: variant: builds.packages.${target}.${defaultProfile}.${variant};
  hasBinaries = root: (plan.packages.${root}.binaries or [ ]) != [ ];
  rootsOf = variant: attrNames plan.variants.${variant}.builds;
  binaryRoots = variant: filter hasBinaries (rootsOf variant);
  libraryRoots = variant: filter (root: !hasBinaries root) (rootsOf variant);
  variants = attrNames plan.variants;

  gather = f: listToAttrs (concatMap f variants);

  # The variant a package is known by: the default one if it builds the
  # package, else the first that does (e.g. the helper's own `tools`).
  homeVariant =
    root:
    if builtins.elem root (rootsOf defaultVariant) then
      defaultVariant
    else
      head (filter (variant: builtins.elem root (rootsOf variant)) variants);
  binaryPackages = filter (root: builtins.any (variant: builtins.elem root (binaryRoots variant)) variants) (
    attrNames plan.packages
  );
  perPackage =
    f:
    listToAttrs (
      concatMap (
        root:
        map (entry: {
          inherit (entry) name;
          value = (buildsOf entry.target entry.variant).${root};
        }) (f root)
      ) binaryPackages
    );

  # <pkg>                  this architecture's static build, home variant
  # <pkg>-<variant>        the same, per other variant (e.g. -minimal, -full)
  # <pkg>-<arch>-musl      per cross target, home variant
  named = perPackage (
    root:
    [
      {
        name = root;
        target = hostTarget;
        variant = homeVariant root;
      }
    ]
    ++ map (variant: {
      name = "${root}-${variant}";
      target = hostTarget;
      inherit variant;
    }) (filter (variant: variant != homeVariant root && builtins.elem root (binaryRoots variant)) variants)
    ++ map (target: {
      name = "${root}-${shortName target}";
      inherit target;
      variant = homeVariant root;
    }) crossTargets
  );

  # Library-only roots have nothing to install; they are built as checks.
  libraryBuilds = gather (
    variant:
    map (root: {
      name = "${root}-${variant}";
      value = (buildsOf hostTarget variant).${root};
    }) (libraryRoots variant)
  );

  version = plan.packages.${server}.version;
  helper = named.${helperName} or (throw "the plan has no `${helperName}` package with a binary");

  image = import ./image.nix { inherit (pkgs) dockerTools runCommand cacert; } {
    server = named.${server};
    binary = server;
    inherit version;
  };

  packages =
    named
    // {
      default = named.${server};
      "${server}-image" = image;
    };

  staticBinaries = listToAttrs (
    map (target: {
      name = "${server}-static-${shortName target}";
      value = {
        package = named."${server}-${shortName target}";
        binary = server;
        # Only this machine's architecture can be started here.
        run = target == hostTarget;
      };
    }) (filter (target: named ? "${server}-${shortName target}") crossTargets)
  );

  checks =
    import ./checks.nix {
      inherit
        pkgs
        craneLib
        plan
        sources
        builds
        checksTarget
        checksProfile
        version
        helper
        staticBinaries
        ;
    }
    // removeAttrs packages [ "default" ]
    // libraryBuilds;

  apps = builtins.mapAttrs (name: package: {
    type = "app";
    program = "${package}/bin/${head plan.packages.${name}.binaries}";
    meta.description = "${name}, static musl build for ${arch}";
  }) (builtins.intersectAttrs plan.packages named)
  // {
    default = apps.${server};
  };
in
{
  inherit packages apps checks;
  devShells = import ./shells.nix { inherit pkgs toolchains helper; };
  formatter = pkgs.nixfmt;
  internal = {
    inherit
      plan
      builds
      sources
      toolchains
      craneLib
      hostTarget
      checksTarget
      checksProfile
      named
      libraryBuilds
      staticBinaries
      ;
  };
}
