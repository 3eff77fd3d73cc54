# STAND-IN FOR TESTS ONLY (tests/nix): NOT nixpkgs.
#
# The nixpkgs package set cannot be fetched here, so this replaces it (and
# only it): crane and fenix are the real locked trees, and `lib` is the real
# nixpkgs lib (a snapshot, see ../shared/nix-inputs/README.md). It provides
# the attributes that crane, fenix and nix/ use, with nixpkgs' shapes:
#
# - `stdenv.mkDerivation` makes a real `derivation` (so the drvPath covers
#   every argument, as nixpkgs' would), keeps its arguments in `drvAttrs`
#   (as nixpkgs does), merges `env` into the environment and rejects
#   clashes, and fails on values a derivation cannot hold;
# - platforms come from the real `lib.systems.elaborate`, for the `system`
#   it is given (never a fixed one), and `pkgsCross.<name>` is this same set
#   made again with `lib.systems.examples.<name>` as host platform, so its
#   `stdenv.cc.targetPrefix` is the real cross prefix;
# - package leaves (mold, lld, kcat, ...) are named derivations; on the host
#   system those named after host tools link them (sandbox = false), so the
#   small ones the tests build (runCommand, writeText, linker links) really
#   build. crane's cargo derivations and fetchurl never build here.
{
  lib,
  system ? builtins.currentSystem,
  crossSystem ? null,
}:
let
  buildPlatform = lib.systems.elaborate system;
  hostPlatform = if crossSystem == null then buildPlatform else lib.systems.elaborate crossSystem;
  isCross = crossSystem != null;

  # --- derivations ---------------------------------------------------------

  mkDerivation =
    fnOrAttrs:
    let
      args = if builtins.isFunction fnOrAttrs then lib.fix fnOrAttrs else fnOrAttrs;
      name = args.name or "${args.pname}-${args.version}";
      env = args.env or { };
      clashes = builtins.attrNames (builtins.intersectAttrs env args);
      passthru = args.passthru or { };
      drvAttrs =
        removeAttrs args [
          "passthru"
          "meta"
          "env"
          "pos"
        ]
        // env
        // {
          inherit name;
          # Builds run on the build platform, as in nixpkgs.
          system = buildPlatform.system;
          builder = "/bin/bash";
          args = [ ./builder.sh ];
        };
      drv = derivation drvAttrs;
    in
    if clashes != [ ] then
      throw "stand-in mkDerivation ${name}: `env` and the derivation both set ${builtins.concatStringsSep ", " clashes}"
    else
      drv
      // passthru
      // {
        inherit drvAttrs passthru;
        meta = args.meta or { };
        overrideAttrs =
          f: mkDerivation (args // (if builtins.isFunction f then f args else f));
      };

  runCommand =
    name: env: buildCommand:
    mkDerivation (
      {
        inherit name buildCommand;
        passAsFile = [ "buildCommand" ];
      }
      // env
    );

  # runCommand with `text` passed as a file ($textPath).
  runCommandWithText =
    name: text:
    runCommand name {
      inherit text;
      passAsFile = [
        "text"
        "buildCommand"
      ];
    };

  writeText = name: text: runCommandWithText name text ''cp "$textPath" "$out"'';

  writeShellScriptBin =
    name: text:
    runCommandWithText name text ''
      mkdir -p $out/bin
      { echo '#!/bin/bash'; cat "$textPath"; } > $out/bin/${name}
      chmod +x $out/bin/${name}
    '';

  symlinkJoin =
    args:
    runCommand args.name (removeAttrs args [ "name" "postBuild" "meta" ]) ''
      mkdir -p $out
      for p in $paths; do cp -rs --no-preserve=mode "$p"/. $out/ 2>/dev/null || true; done
      ${args.postBuild or ""}
    '';

  makeSetupHook =
    args: script:
    runCommand args.name { inherit script; } ''
      mkdir -p $out/nix-support
      cp "$script" $out/nix-support/setup-hook
    '';

  # Fixed-output, as nixpkgs' fetchurl; there is no network to build it.
  fetchurl =
    args:
    let
      url = args.url or (builtins.head args.urls);
      hash = args.hash or args.sha256;
    in
    derivation {
      name = args.name or (baseNameOf url);
      inherit url;
      system = buildPlatform.system;
      builder = "/bin/bash";
      args = [ ./builder.sh ];
      outputHashMode = "flat";
      outputHashAlgo = if lib.hasPrefix "sha256-" hash then null else "sha256";
      outputHash = hash;
    };

  # A package leaf. `hostBins` are the host commands it stands for: on the
  # host system building it links them (it is never built for another one).
  leaf =
    name: hostBins:
    mkDerivation {
      inherit name;
      standIn = "tests/nix stand-in for nixpkgs' ${name}";
      buildCommand = ''
        mkdir -p $out/bin
        for b in ${builtins.concatStringsSep " " hostBins}; do
          ln -s "$(command -v "$b")" "$out/bin/$b"
        done
      '';
    };

  ccFor =
    platform: hostBins:
    let
      targetPrefix = if isCross then "${platform.config}-" else "";
    in
    mkDerivation {
      name = "${targetPrefix}gcc-wrapper";
      standIn = "tests/nix stand-in for nixpkgs' cc-wrapper";
      buildCommand = "exit 1";
    }
    // {
      inherit targetPrefix;
      isGNU = true;
      isClang = false;
      cc = leaf "${targetPrefix}gcc" [ ] // {
        lib = leaf "${targetPrefix}gcc-lib" [ ];
      };
      bintools = leaf "${targetPrefix}binutils-wrapper" [ ] // {
        dynamicLinker = if platform.isMusl then "/lib/ld-musl.so.1" else "/lib/ld-linux.so";
        inherit targetPrefix;
      };
    };

  stdenv = {
    inherit
      mkDerivation
      buildPlatform
      hostPlatform
      ;
    targetPlatform = hostPlatform;
    inherit (hostPlatform) isLinux isDarwin system;
    cc = ccFor hostPlatform [ ];
    shell = "/bin/bash";
  };

  makeRustPlatform =
    { cargo, rustc, ... }:
    {
      buildRustPackage =
        args:
        mkDerivation (
          removeAttrs args [ "cargoLock" ]
          // {
            nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ [
              cargo
              rustc
            ];
          }
        );
    };

  pythonPackage = name: leaf "python3.13-${name}" [ ];
  python3 = leaf "python3" [ "python3" ] // {
    pkgs = lib.genAttrs [
      "kafka-python"
      "confluent-kafka"
      "moto"
      "flask"
      "flask-cors"
      "boto3"
    ] pythonPackage;
    withPackages =
      f:
      mkDerivation {
        name = "python3-3.13-env";
        standIn = "tests/nix stand-in for nixpkgs' python3.withPackages";
        paths = f python3.pkgs;
        buildCommand = "exit 1";
      };
  };

  leaves = lib.genAttrs [
    "cargo"
    "rustc"
    "clippy"
    "rustfmt"
    "rsync"
    "zstd"
    "jq"
    "zlib"
    "curl"
    "makeBinaryWrapper"
    "moreutils"
    "unzip"
    "cacert"
    "sccache"
    "cargo-nextest"
    "cargo-machete"
    "cargo-audit"
    "cargo-deny"
    "cargo-llvm-cov"
    "cargo-tarpaulin"
    "taplo"
    "rust-analyzer"
    "nixfmt"
    "binaryen"
    "dart-sass"
    "trunk"
    "wasm-bindgen-cli"
    "writableTmpDirAsHomeHook"
    "libiconv"
    "qemu"
  ] (name: leaf name [ ]);

  hostLeaves = {
    mold = leaf "mold" [
      "mold"
      "ld.mold"
    ];
    kcat = leaf "kcat" [ "kcat" ];
    file = leaf "file" [ "file" ];
    binutils-unwrapped = leaf "binutils" [ "readelf" ];
    clang = leaf "clang" [ "clang" ];
    llvmPackages = {
      lld = leaf "lld" [
        "lld"
        "ld.lld"
      ];
      clang = hostLeaves.clang;
    };
  };

  pkgs =
    leaves
    // hostLeaves
    // {
      inherit
        lib
        stdenv
        mkDerivation
        runCommand
        writeText
        writeShellScriptBin
        symlinkJoin
        makeSetupHook
        fetchurl
        makeRustPlatform
        python3
        ;
      standIn = true;
      inherit pkgs;
      python3Packages = python3.pkgs;
      runCommandLocal = runCommand;
      runCommandCC = runCommand;
      rustPlatform = makeRustPlatform { inherit (leaves) cargo rustc; };
      binutils = leaf "binutils" [ ];

      mkShell =
        args:
        mkDerivation (
          removeAttrs args [
            "packages"
            "inputsFrom"
          ]
          // {
            name = args.name or "nix-shell";
            nativeBuildInputs = (args.packages or [ ]) ++ (args.nativeBuildInputs or [ ]);
            buildCommand = "exit 1";
          }
        );

      dockerTools.buildLayeredImage =
        args:
        mkDerivation (
          removeAttrs args [ "config" ]
          // {
            name = "${args.name}.tar.gz";
            # nixpkgs writes the image configuration as JSON too.
            config = builtins.toJSON (args.config or { });
          }
        );

      vscode-utils.buildVscodeExtension = args: mkDerivation (removeAttrs args [ "vscodeExtPublisher" ]);

      # Native package sets: with no cross compilation every splice is this set.
      pkgsBuildBuild = pkgs;
      pkgsBuildHost = pkgs;
      pkgsBuildTarget = pkgs;
      pkgsHostHost = pkgs;
      pkgsHostTarget = pkgs;
      pkgsTargetTarget = pkgs;
      __splicedPackages = pkgs;
      splicePackages = { pkgsHostTarget, ... }: pkgsHostTarget;
      newScope = extra: lib.callPackageWith (pkgs // extra);
      callPackage = lib.callPackageWith pkgs;
      makeScopeWithSplicing' = lib.makeScopeWithSplicing' {
        inherit (pkgs) splicePackages newScope;
      };

      # nixpkgs' cross package sets, plus one the cross-link proof of
      # tests/nix uses: Debian's aarch64 cross GCC has the target prefix
      # `aarch64-linux-gnu-`, which no nixpkgs example has.
      pkgsCross = lib.mapAttrs (
        _: example:
        import ./default.nix {
          inherit lib system;
          crossSystem = example;
        }
      ) (lib.systems.examples // { tests-nix-debian-aarch64 = { config = "aarch64-linux-gnu"; }; });
    };
in
pkgs
