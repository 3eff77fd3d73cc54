# buildWorkspace: the flake outputs of one Cargo workspace for one system,
# from its build plan. flake.nix exposes it as `lib.<system>.buildWorkspace`
# (with pkgs, crane and fenix filled in) and builds this repository with one
# call of it; tests/nix evaluates it directly. Every workspace-specific name
# comes from the plan or from the arguments below; nothing here names a crate.
#
#   pkgs      nixpkgs for this system
#   crane     the crane flake (its `mkLib`)
#   fenix     fenix's packages for this system (fenix.packages.${system})
#   src       the workspace root, as a path
#   planFile  the workspace's build plan (docs/plan-format.md, schema 2)
#   helper    the plan helper (the plan's generator) for the plan-fresh check and
#             the shells, when the plan's generator is not a member of this
#             workspace; null: no plan-fresh check, no helper in the shells
#   image     null (no image), or { user, dataDir, ports } for an OCI image of
#             the main package
#   checkInputs  pkgs -> [ derivation ]: tools the workspace's tests need
#                (nextest check and default shell)
#   checkEnv     extra environment of the test check
#   nextestArgs  extra `cargo nextest run` arguments (e.g. a nextest profile)
#   mainPackage  the package behind `default`, the image and the static
#                checks; null: the default variant's first root with a binary
#                other than the plan's generator (the helper)
#   baseLock     null (one dependency layer), or a Cargo.lock of this
#                workspace from some time ago (e.g. ./nix/base.lock): the
#                dependencies are then built in two layers, the base lock's and
#                the current lock's on top, so a lock bump rebuilds only what
#                it changed (nix/README.md, "Layered dependency artifacts")
#   memberLayers the longest chain of member layers (default 4): the members
#                each variant builds are compiled in layers by depth in the
#                member graph, each on the one below, so an edit recompiles
#                only its layer and those above; 0: every package compiles its
#                members on the dependency derivation (nix/README.md, "Member
#                layers")
#   artifactsMode  crane's installCargoArtifactsMode for the dependency and
#                member layers: "use-zstd" (default; each layer stores the
#                files it wrote, compressed) or "use-symlink" (uncompressed,
#                files unchanged from the layer below linked to it)
# Returns { packages, apps, checks, devShells, formatter } plus `internal`
# (the build matrix and sources), which the flake leaves out and the tests read.
{
  pkgs,
  crane,
  fenix,
  src,
  planFile,
  helper ? null,
  image ? null,
  checkInputs ? (_: [ ]),
  checkEnv ? { },
  nextestArgs ? [ ],
  mainPackage ? null,
  baseLock ? null,
  memberLayers ? 4,
  artifactsMode ? "use-zstd",
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

  plan = import ./lib/readPlan.nix planFile;
  toolchains = import ./toolchain.nix { inherit fenix plan; };
  craneLib = (crane.mkLib pkgs).overrideToolchain (_: toolchains.stable);

  defaultProfile = plan.workspace.default_profile;
  defaultVariant = plan.workspace.default_variant;
  hasBinaries = root: (plan.packages.${root}.binaries or [ ]) != [ ];
  rootsOf = variant: attrNames plan.variants.${variant}.builds;
  binaryRoots = variant: filter hasBinaries (rootsOf variant);
  libraryRoots = variant: filter (root: !hasBinaries root) (rootsOf variant);
  variants = attrNames plan.variants;

  generator = plan.generator or null;
  main =
    let
      all = binaryRoots defaultVariant;
      others = filter (root: root != generator) all;
      roots = if mainPackage != null then [ mainPackage ] else if others != [ ] then others else all;
    in
    if roots == [ ] then
      throw "${toString planFile}: the default variant `${defaultVariant}` builds no package with a binary"
    else
      head roots;

  sources = import ./sources.nix {
    inherit
      craneLib
      pkgs
      src
      plan
      planFile
      baseLock
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
  # Checks and tools for this machine are built natively; `dev` keeps the
  # checks fast.
  nativeTarget = if plan.targets ? host then "host" else hostTarget;
  checksTarget = nativeTarget;
  checksProfile = if plan.profiles ? dev then "dev" else defaultProfile;

  builds = import ./builds.nix {
    inherit
      pkgs
      craneLib
      plan
      sources
      checksTarget
      ;
    name = main;
    maxMemberLayers = memberLayers;
    artifactsMode =
      if builtins.elem artifactsMode [
        "use-zstd"
        "use-symlink"
      ] then
        artifactsMode
      else
        throw "artifactsMode must be \"use-zstd\" or \"use-symlink\" (crane's installCargoArtifactsMode), not ${builtins.toJSON artifactsMode}";
  };

  buildsOf = target: variant: builds.packages.${target}.${defaultProfile}.${variant};

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

  version = plan.packages.${main}.version;

  # The plan helper for the shells and the plan-fresh check, built natively
  # (no cross toolchain): from this workspace when it is a member, else the
  # `helper` argument.
  helperTool =
    if generator != null && plan.packages ? ${generator} && hasBinaries generator then
      builds.packages.${nativeTarget}.${defaultProfile}.${homeVariant generator}.${generator}
    else
      helper;

  imagePackage =
    if image == null then
      { }
    else
      {
        "${main}-image" = import ./image.nix { inherit (pkgs) dockerTools runCommand cacert; } (
          image
          // {
            name = main;
            package = named.${main};
            binary = head plan.packages.${main}.binaries;
            inherit version;
          }
        );
      };

  packages =
    named
    // imagePackage
    // {
      default = named.${main};
    };

  staticBinaries = listToAttrs (
    map (target: {
      name = "${main}-static-${shortName target}";
      value = {
        package = named."${main}-${shortName target}";
        binary = head plan.packages.${main}.binaries;
        # Only this machine's architecture can be started here.
        run = target == hostTarget;
      };
    }) (filter (target: named ? "${main}-${shortName target}" && plan.targets.${target}.static) crossTargets)
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
        staticBinaries
        nextestArgs
        checkEnv
        ;
      name = main;
      helper = helperTool;
      checkInputs = checkInputs pkgs;
    }
    // removeAttrs packages [ "default" ]
    // libraryBuilds;

  apps =
    builtins.mapAttrs (name: package: {
      type = "app";
      program = "${package}/bin/${head plan.packages.${name}.binaries}";
      meta.description = "${name}, static musl build for ${arch}";
    }) (builtins.intersectAttrs plan.packages named)
    // {
      default = apps.${main};
    };
in
{
  inherit packages apps checks;
  devShells = import ./shells.nix {
    inherit pkgs toolchains;
    helper = helperTool;
    extraPackages = checkInputs pkgs;
  };
  formatter = pkgs.nixfmt;
  internal = {
    inherit
      plan
      builds
      sources
      toolchains
      craneLib
      hostTarget
      nativeTarget
      checksTarget
      checksProfile
      named
      libraryBuilds
      staticBinaries
      main
      ;
    helper = helperTool;
  };
}
