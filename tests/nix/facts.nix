# Evaluates nix/ (the same entry function flake.nix calls) against the
# stand-ins in stubs/ for each given source tree, and returns plain facts
# (derivation paths and the arguments nix/ passed to crane, fenix and
# nixpkgs) for check_facts.py to assert on.
#
#   trees     { <label> = "/abs/path/of/a/workspace"; ... }
#   planFile  path of the plan to read
#   system    the system to evaluate for
{
  trees,
  planFile,
  system ? "x86_64-linux",
}:
let
  inherit (builtins) mapAttrs attrNames;
  pkgs = import ./stubs/nixpkgs.nix { inherit system; };
  crane = import ./stubs/crane.nix;
  fenix = import ./stubs/fenix.nix;

  evalTree =
    root:
    import ../../nix {
      inherit pkgs crane fenix;
      src = /. + root;
      planFile = /. + planFile;
    };

  names = drvs: map (d: d.name) drvs;

  argsOf = d: d.stubArgs;

  # Only string-valued attributes whose names look like environment variables.
  envVars =
    args:
    builtins.listToAttrs (
      builtins.concatMap (
        k:
        if builtins.isString args.${k} && builtins.match "[A-Z][A-Z0-9]*_[A-Za-z0-9_]+" k != null then
          [
            {
              name = k;
              value = args.${k};
            }
          ]
        else
          [ ]
      ) (attrNames args)
    );

  factsOf =
    out:
    let
      inherit (out.internal) builds sources plan;
      depsFacts = mapAttrs (
        _: profiles:
        mapAttrs (
          _: variants:
          mapAttrs (
            _: d:
            let
              a = argsOf d;
            in
            {
              inherit (d) drvPath;
              kind = d.stubKind;
              pname = a.pname;
              src = a.src.drvPath;
              dummySrc = a.dummySrc.drvPath;
              buildPhaseCargoCommand = a.buildPhaseCargoCommand;
              checkPhaseCargoCommand = a.checkPhaseCargoCommand;
              doCheck = a.doCheck;
              env = envVars a;
              nativeBuildInputs = names a.nativeBuildInputs;
              toolchain = a.craneToolchain.name;
              vendorDir = a.cargoVendorDir.drvPath;
            }
          ) variants
        ) profiles
      ) builds.deps;
      packageFacts = mapAttrs (
        _: profiles:
        mapAttrs (
          _: variants:
          mapAttrs (
            _: roots:
            mapAttrs (
              _: d:
              let
                a = argsOf d;
              in
              {
                inherit (d) drvPath;
                kind = d.stubKind;
                cargoArtifacts = a.cargoArtifacts.drvPath;
                cargoExtraArgs = a.cargoExtraArgs;
                src = a.src.drvPath;
                env = envVars a;
                nativeBuildInputs = names a.nativeBuildInputs;
                doCheck = a.doCheck;
                vendorDir = a.cargoVendorDir.drvPath;
              }
            ) roots
          ) variants
        ) profiles
      ) builds.packages;
      checkFacts = mapAttrs (
        _: d:
        let
          a = argsOf d;
        in
        {
          inherit (d) drvPath name;
          kind = d.stubKind;
          cargoArtifacts = if a ? cargoArtifacts && a.cargoArtifacts != null then a.cargoArtifacts.drvPath else null;
          buildPhaseCargoCommand = a.buildPhaseCargoCommand or null;
          checkPhaseCargoCommand = a.checkPhaseCargoCommand or null;
          script = a.script or null;
          nativeBuildInputs = names (a.nativeBuildInputs or [ ]);
          src = if a ? src then a.src.drvPath else null;
        }
      ) out.checks;
      depsSrcArgs = argsOf sources.deps;
      image = argsOf out.packages.chronik-server-image;
      shell = argsOf out.devShells.default;
      nightly = argsOf out.devShells.nightly;
      toolchainArgs = argsOf out.internal.toolchains.stable;
    in
    {
      deps = depsFacts;
      packages = packageFacts;
      checks = checkFacts;
      outputs = {
        packages = mapAttrs (_: d: d.drvPath) out.packages;
        apps = mapAttrs (_: a: a.program) out.apps;
        devShells = attrNames out.devShells;
        checks = attrNames out.checks;
        formatter = out.formatter.name;
      };
      internal = {
        inherit (out.internal) hostTarget checksTarget checksProfile;
      };
      sources = {
        deps = sources.deps.drvPath;
        depsScript = depsSrcArgs.script;
        depsManifests = sources.deps.manifests;
        depsRootManifest = sources.deps.rootManifest;
        forPackage = mapAttrs (_: s: s.drvPath) sources.forPackage;
        full = sources.full.drvPath;
        memberSrc = mapAttrs (_: s: "${s}") sources.memberSrc;
      };
      toolchain = {
        stable = names toolchainArgs.paths;
        nightly = names (argsOf out.internal.toolchains.nightly).components;
        crane = (argsOf (out.internal.craneLib.buildPackage { pname = "probe"; })).craneToolchain.name;
      };
      image = {
        contents = names image.contents;
        config = image.config;
        fakeRootCommands = image.fakeRootCommands;
      };
      shells = {
        default = {
          packages = names shell.packages;
          RUSTC_WRAPPER = shell.RUSTC_WRAPPER or null;
          CARGO_INCREMENTAL = shell.CARGO_INCREMENTAL or null;
        };
        nightly = {
          packages = names nightly.packages;
          shellHook = nightly.shellHook;
          wrapper = (argsOf (builtins.head nightly.packages)).text;
        };
      };
    };
in
{
  plan = builtins.fromJSON (builtins.readFile (/. + planFile));
  trees = mapAttrs (_: root: factsOf (evalTree root)) trees;
}
