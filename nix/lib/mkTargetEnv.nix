# The environment that makes cargo build for one plan target inside Nix, from
# the target's facts (plan schema 2: docs/plan-format.md). Every variable name
# is built here from the triple; nothing is taken from pre-rendered strings.
#
# A cross target (one with a `triple`) is linked and its C code compiled by
# the pkgsCross stdenv's compiler named by `nix_cross`. That compiler knows
# its target and musl sysroot, so the plan's `link_target` (for a bare clang)
# and its `linker_driver`/`cc`/`ar` names (tools of a developer's machine)
# are not used; everything else is: `fuse_ld`, `target_cpu`, `static`,
# `extra_rustflags`.
#
# Where each compiler goes:
# - target code: CARGO_TARGET_<TRIPLE>_LINKER, CC_<triple>, CXX_<triple> and
#   AR_<triple> are absolute paths into the cross toolchain. The cross
#   compiler is deliberately NOT an input of the derivation: its setup hook
#   would export CC/CXX/AR for the build machine, and build scripts and
#   proc-macros (which run on the build machine) would get the cross compiler.
# - build machine: the native stdenv's compiler, as the derivation's own
#   stdenv already provides it, and named explicitly as HOST_CC/HOST_CXX/
#   HOST_AR for cc-rs.
# - CMake (the cmake crate): CMAKE_TOOLCHAIN_FILE_<triple>, a toolchain file
#   naming the same cross compilers, whose try_compile checks build a static
#   library (a cross compiler cannot link a test program on its own).
# The variable names are the ones `cargo buildplan build` gives cargo for the
# target (helper/core/src/render.rs); tests/nix compares the two sets. The
# plain-cargo path's CFLAGS_/CXXFLAGS_ carry `--target` and the musl headers
# for its bare clang; here they are empty.
#
# `-fuse-ld=<x>` with a cross GCC: GCC's collect2 looks for the linker under
# the target-prefixed name `<prefix>ld.<x>` and fails with "cannot find 'ld'"
# when only `ld.<x>` exists (GCC bug 111605). mkLinkerLinks.nix provides both
# names on PATH; tests/nix proves that shape with Debian's cross GCC.
#
# Returns { triple, env, nativeBuildInputs, rustflags, linker, hostCc, crossCc }.
{ pkgs }:
name: target:
let
  inherit (builtins) concatStringsSep replaceStrings;
  toUpper = pkgs.lib.toUpper;

  triple = target.triple or null;
  fuseLd = target.fuse_ld or null;
  isCross = triple != null;

  need =
    field:
    if target ? ${field} then
      target.${field}
    else
      throw "target `${name}` has no `${field}` field; regenerate the plan with `cargo buildplan plan`";

  linkerTool =
    if fuseLd == null then
      null
    else if fuseLd == "mold" then
      pkgs.mold
    else if fuseLd == "lld" then
      pkgs.llvmPackages.lld
    else
      throw "target ${name}: fuse_ld `${fuseLd}` is not one this flake provides (mold, lld)";

  crossCc =
    if !isCross then
      null
    else if (target.nix_cross or null) == null then
      throw "target ${name}: it has no `nix_cross` (the pkgsCross attribute with its C toolchain), so Nix cannot link it"
    else
      pkgs.pkgsCross.${target.nix_cross}.stdenv.cc
        or (throw "target ${name}: nix_cross `${target.nix_cross}` is not a pkgsCross attribute");

  # The plan's link settings as rustc flags, in the order the plan format
  # gives them (link_target is for a bare clang and is left out here).
  rustflags =
    (if fuseLd == null then [ ] else [ "-C" "link-arg=-fuse-ld=${fuseLd}" ])
    ++ (if (need "target_cpu") == null then [ ] else [ "-C" "target-cpu=${target.target_cpu}" ])
    ++ (
      if need "static" then
        [ "-C" "target-feature=+crt-static" ]
      else if isCross then
        [ "-C" "target-feature=-crt-static" ]
      else
        [ ]
    )
    ++ (target.extra_rustflags or [ ]);

  # The linker under both the plain and the target-prefixed name.
  linkerLinks =
    if linkerTool == null then
      [ ]
    else
      [
        (import ./mkLinkerLinks.nix { inherit (pkgs) runCommand; } {
          targetPrefix = if isCross then crossCc.targetPrefix else "";
          inherit fuseLd;
          tool = linkerTool;
        })
      ];

  hostCc = pkgs.stdenv.cc;
  hostEnv = {
    HOST_CC = "${hostCc}/bin/${hostCc.targetPrefix}cc";
    HOST_CXX = "${hostCc}/bin/${hostCc.targetPrefix}c++";
    HOST_AR = "${hostCc.bintools}/bin/${hostCc.targetPrefix}ar";
  };

  crossEnv =
    let
      prefix = crossCc.targetPrefix;
      cc = "${crossCc}/bin/${prefix}cc";
      cargoTriple = toUpper (replaceStrings [ "-" ] [ "_" ] triple);
      ccTriple = replaceStrings [ "-" ] [ "_" ] triple;
    in
    {
      CARGO_BUILD_TARGET = triple;
      "CARGO_TARGET_${cargoTriple}_LINKER" = cc;
      "CARGO_TARGET_${cargoTriple}_RUSTFLAGS" = concatStringsSep " " rustflags;
      "CC_${ccTriple}" = cc;
      "CXX_${ccTriple}" = "${crossCc}/bin/${prefix}c++";
      "AR_${ccTriple}" = "${crossCc.bintools}/bin/${prefix}ar";
      # The cross compiler's wrapper knows its target and sysroot: the
      # plan's `c_flags` (Debian's musl headers) are for a bare clang.
      "CFLAGS_${ccTriple}" = "";
      "CXXFLAGS_${ccTriple}" = "";
      "CMAKE_TOOLCHAIN_FILE_${ccTriple}" = pkgs.writeText "${triple}.cmake" ''
        # CMake toolchain for ${triple}, from the plan (nix/lib/mkTargetEnv.nix).
        set(CMAKE_SYSTEM_NAME ${if builtins.match ".*-linux.*" triple != null then "Linux" else "Generic"})
        set(CMAKE_SYSTEM_PROCESSOR ${builtins.head (pkgs.lib.splitString "-" triple)})
        set(CMAKE_C_COMPILER ${cc})
        set(CMAKE_ASM_COMPILER ${cc})
        set(CMAKE_CXX_COMPILER ${crossCc}/bin/${prefix}c++)
        set(CMAKE_AR ${crossCc.bintools}/bin/${prefix}ar CACHE FILEPATH "archiver")
        set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
      '';
    };

  # The build machine itself: the plan's flags for every unit cargo builds.
  nativeEnv = if rustflags == [ ] then { } else { CARGO_BUILD_RUSTFLAGS = concatStringsSep " " rustflags; };
in
{
  inherit
    triple
    rustflags
    hostCc
    crossCc
    ;
  linker = if isCross then crossEnv."CARGO_TARGET_${toUpper (replaceStrings [ "-" ] [ "_" ] triple)}_LINKER" else null;
  env = hostEnv // (if isCross then crossEnv else nativeEnv);
  # Only the linker links: never the cross compiler itself (see above).
  nativeBuildInputs = linkerLinks;
}
