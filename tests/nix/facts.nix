# Evaluates nix/ (the buildWorkspace function flake.nix exposes) with the real
# crane and fenix and the nixpkgs stand-in (inputs.nix) for each given source
# tree, and returns plain facts: derivation paths and the attributes of the
# derivations crane made (`drvAttrs`, as nixpkgs' mkDerivation keeps them),
# for test_nix.py to assert on.
#
# A tree with a flake.nix (a copy of this repository) is evaluated through
# flake.nix's OWN call of nix/: the arguments it passes to
# lib.<system>.buildWorkspace (src, planFile, baseLock, image, checkInputs,
# ...) are captured by calling its `outputs` with a `self` whose
# buildWorkspace returns them, then handed to its real
# lib.<system>.buildWorkspace; `call.sameAsFlake` says the result's packages
# are the flake's own. A tree without one (a fixture) gets the call below.
#
#   inputsDir  the unpacked real inputs (crane/, fenix/, lib/)
#   trees      { <label> = "/abs/path/of/a/workspace"; ... }
#   planFile   path of the plan to read
#   system     the system to evaluate for
#   optionsJSON  further buildWorkspace arguments (JSON) of the test's call,
#                e.g. {"memberLayers": 2, "artifactsMode": "use-symlink"}
{
  inputsDir,
  trees,
  planFile,
  system ? "x86_64-linux",
  optionsJSON ? "{}",
}:
let
  inherit (builtins) mapAttrs attrNames;
  inputs = import ./inputs.nix {
    inputsDir = /. + inputsDir;
    inherit system;
  };

  testArgs = root: {
    src = /. + root;
    planFile = /. + planFile;
    # The tree's base lock, where the fixture has one.
    baseLock = if builtins.pathExists (/. + root + "/nix/base.lock") then /. + root + "/nix/base.lock" else null;
    image = {
      user = "svc";
      dataDir = "/var/lib/svc";
      ports = [ 9092 ];
    };
    checkInputs = pkgs: [ pkgs.kcat ];
    checkEnv.TESTS_NIX_CHECK_ENV = "1";
  }
  // builtins.fromJSON optionsJSON;

  # flake.nix's call: its arguments, and its real buildWorkspace applied to them.
  flakeCall =
    root:
    let
      flake = import (/. + root + "/flake.nix");
      capture = {
        lib = builtins.listToAttrs (
          map (s: {
            name = s;
            value.buildWorkspace = args: {
              packages = args;
              apps = args;
              checks = args;
              devShells = args;
              formatter = args;
            };
          }) [ system ]
        );
      };
      args = (flake.outputs (inputs.flakeInputs // { self = capture; })).packages.${system};
      self = flake.outputs (inputs.flakeInputs // { inherit self; }) // {
        outPath = /. + root;
      };
      out = self.lib.${system}.buildWorkspace args;
    in
    {
      inherit args out;
      via = "flake.nix";
      # Evaluated for the `base` tree only (it doubles the work).
      sameAsFlake = builtins.mapAttrs (_: d: d.drvPath) out.packages == builtins.mapAttrs (_: d: d.drvPath) self.packages.${system};
    };

  testCall = root: {
    args = testArgs root;
    out = import ../../nix ({ inherit (inputs) pkgs crane fenix; } // testArgs root);
    via = "tests/nix/facts.nix";
    sameAsFlake = null;
  };

  evalTree = root: if builtins.pathExists (/. + root + "/flake.nix") then flakeCall root else testCall root;

  nameOf = d: if builtins.isAttrs d then d.name or (toString d) else toString d;
  names = map nameOf;
  str = v: if v == null then null else toString v;

  # Only string-valued attributes whose names look like environment variables.
  envVars =
    attrs:
    builtins.listToAttrs (
      builtins.concatMap (
        k:
        let
          v = attrs.${k};
        in
        if (builtins.isString v || builtins.isInt v) && builtins.match "[A-Z][A-Z0-9]*_[A-Za-z0-9_]+" k != null then
          [
            {
              name = k;
              value = toString v;
            }
          ]
        else
          [ ]
      ) (attrNames attrs)
    );

  kindOf =
    d:
    let
      a = d.drvAttrs;
    in
    # A dependency build that starts from another one's artifacts: the top
    # layer (crane's mkCargoDerivation; buildDepsOnly never inherits).
    if (a.CRANE_BUILD_DEPS_ONLY or null) != null && (a.cargoArtifacts or null) != null then
      "depsLayer"
    else if (a.CRANE_BUILD_DEPS_ONLY or null) != null then
      "buildDepsOnly"
    else if builtins.any (n: n == "installFromCargoBuildLogHook") (names (a.nativeBuildInputs or [ ])) then
      "buildPackage"
    else if builtins.match ".*-build" (a.pname or "") != null then
      "cargoBuild"
    else
      "other";

  # Inputs with what they are made of (a python3.withPackages lists its
  # modules in `paths`).
  inputFacts = map (d: {
    name = nameOf d;
    paths = if builtins.isAttrs d && d ? drvAttrs then names (d.drvAttrs.paths or [ ]) else [ ];
  });

  drvFacts =
    d:
    let
      a = d.drvAttrs;
    in
    {
      inherit (d) drvPath name;
      out = toString d;
      kind = kindOf d;
      pname = a.pname or null;
      system = a.system or null;
      buildPhase = a.buildPhase or null;
      checkPhase = a.checkPhase or null;
      buildCommand = a.buildCommand or null;
      doCheck = a.doCheck or null;
      env = envVars a;
      nativeBuildInputs = names (a.nativeBuildInputs or [ ]);
      inputs = inputFacts (a.nativeBuildInputs or [ ]);
      src = str (a.src or null);
      cargoArtifacts = str (a.cargoArtifacts or null);
      vendorDir = str (a.cargoVendorDir or null);
      artifactsMode = a.installCargoArtifactsMode or null;
      installsArtifacts = a.doInstallCargoArtifacts or null;
      copiesInherited = a.doNotLinkInheritedArtifacts or null;
    };

  layerFacts =
    l:
    drvFacts l
    // {
      inherit (l) index own members;
      memberSrc = l.memberSrc.drvPath;
      memberSrcOut = toString l.memberSrc;
      memberSrcScript = l.memberSrc.drvAttrs.buildCommand;
    };

  factsOf =
    label: call:
    let
      inherit (call) out;
      inherit (out.internal) builds sources;
      image = out.packages."${out.internal.main}-image".drvAttrs;
      shell = out.devShells.default.drvAttrs;
      nightly = out.devShells.nightly.drvAttrs;
    in
    {
      call = {
        inherit (call) via;
        sameAsFlake = if label == "base" then call.sameAsFlake else null;
        baseLock = str (call.args.baseLock or null);
        checkEnv = call.args.checkEnv or { };
        memberLayers = call.args.memberLayers or null;
      };
      deps = mapAttrs (_: mapAttrs (_: mapAttrs (_: drvFacts))) builds.deps;
      baseDeps = mapAttrs (_: mapAttrs (_: mapAttrs (_: d: if d == null then null else drvFacts d))) builds.baseDeps;
      layers = builds.layers;
      memberLayers = mapAttrs (_: mapAttrs (_: mapAttrs (_: map layerFacts))) builds.memberLayers;
      packages = mapAttrs (_: mapAttrs (_: mapAttrs (_: mapAttrs (_: drvFacts)))) builds.packages;
      checks = mapAttrs (_: drvFacts) out.checks;
      outputs = {
        packages = mapAttrs (_: d: d.drvPath) out.packages;
        checks = mapAttrs (_: d: d.drvPath) out.checks;
        devShells = mapAttrs (_: d: d.drvPath) out.devShells;
        apps = mapAttrs (_: a: a.program) out.apps;
        formatter = out.formatter.drvPath;
      };
      internal = {
        inherit (out.internal)
          hostTarget
          nativeTarget
          checksTarget
          checksProfile
          main
          ;
        helper = if out.internal.helper == null then null else drvFacts out.internal.helper;
      };
      sources = {
        deps = sources.deps.drvPath;
        baseDeps = if sources.baseDeps == null then null else sources.baseDeps.drvPath;
        baseDepsOut = if sources.baseDeps == null then null else toString sources.baseDeps;
        stubs = sources.stubs.drvPath;
        depsLock = sources.depsLock;
        baseDepsLock = sources.baseDepsLock;
        depsOut = toString sources.deps;
        dummyRsOut = toString sources.deps.dummyRs;
        depsScript = sources.deps.drvAttrs.buildCommand;
        depsManifests = sources.deps.manifests;
        depsRootManifest = sources.deps.rootManifest;
        depsStubs = sources.deps.stubs;
        dummyRs = sources.deps.dummyRs.drvPath;
        forPackage = mapAttrs (_: s: s.drvPath) sources.forPackage;
        full = sources.full.drvPath;
      };
      toolchain = {
        stable = names out.internal.toolchains.stable.drvAttrs.paths;
        # fenix's component downloads (rust-std of each target triple).
        stableUrls = map (d: (d.drvAttrs.src or { url = ""; }).url or "") out.internal.toolchains.stable.drvAttrs.paths;
        nightly = names out.internal.toolchains.nightly.drvAttrs.paths;
        crane = out.internal.craneLib.cargo.name;
      };
      image = {
        contents = names image.contents;
        config = builtins.fromJSON (builtins.unsafeDiscardStringContext image.config);
        fakeRootCommands = image.fakeRootCommands;
      };
      shells = {
        default = {
          packages = names shell.nativeBuildInputs;
          RUSTC_WRAPPER = shell.RUSTC_WRAPPER or null;
          CARGO_INCREMENTAL = shell.CARGO_INCREMENTAL or null;
        };
        nightly = {
          packages = names nightly.nativeBuildInputs;
          shellHook = nightly.shellHook;
          wrapper = (builtins.head nightly.nativeBuildInputs).drvAttrs.text;
        };
      };
    };
in
{
  trees = mapAttrs (label: root: factsOf label (evalTree root)) trees;
}
