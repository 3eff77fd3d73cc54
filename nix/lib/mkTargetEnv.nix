# The environment that makes cargo build for one plan target inside Nix.
#
# For a cross target (a triple with `nix_cross`), the plan's tool names become
# the matching pkgsCross stdenv's compiler: it is the linker driver, CC_<t> and
# AR_<t> for cc-rs (zstd-sys, lz4-sys, ...), and it already knows its target
# and musl sysroot, so `--target=` flags meant for a bare clang are dropped.
# Everything else the plan says is kept: `-fuse-ld=` (mold or lld, put on
# PATH here), target-cpu and `+crt-static`.
#
# Returns { triple, env, nativeBuildInputs, rustflags, linker }.
{ pkgs }:
name: target:
let
  inherit (builtins)
    concatStringsSep
    filter
    length
    elemAt
    substring
    stringLength
    listToAttrs
    attrNames
    replaceStrings
    ;

  lower = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" "-" ];
  upper = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" "_" ];

  hasPrefix = pre: s: substring 0 (stringLength pre) s == pre;
  hasSuffix = suf: s: let n = stringLength s; m = stringLength suf; in n >= m && substring (n - m) m s == suf;

  triple = target.triple or null;
  fuseLd = target.fuse_ld or null;
  planEnv = target.env or { };

  # `-C link-arg=--target=...` pairs only make sense for a bare clang driver.
  isTargetLinkArg = flag: hasPrefix "link-arg=--target=" flag;
  dropTargetLinkArgs =
    flags:
    let
      n = length flags;
      go =
        i:
        if i >= n then
          [ ]
        else if elemAt flags i == "-C" && i + 1 < n && isTargetLinkArg (elemAt flags (i + 1)) then
          go (i + 2)
        else
          [ (elemAt flags i) ] ++ go (i + 1);
    in
    go 0;

  dropTargetWords =
    s: concatStringsSep " " (filter (w: w != "" && !(hasPrefix "--target=" w)) (builtins.filter builtins.isString (builtins.split " " s)));

  linkerTools =
    if fuseLd == null then
      [ ]
    else if fuseLd == "mold" then
      [ pkgs.mold ]
    else if fuseLd == "lld" then
      [ pkgs.llvmPackages.lld ]
    else
      throw "target ${name}: fuse_ld `${fuseLd}` is not one this flake provides (mold, lld)";

  crossCc =
    if triple == null then
      null
    else if (target.nix_cross or null) == null then
      throw "target ${name}: it has no `nix_cross` (the pkgsCross attribute with its C toolchain), so Nix cannot link it"
    else
      pkgs.pkgsCross.${target.nix_cross}.stdenv.cc;

  rustflags = if crossCc == null then target.rustflags or [ ] else dropTargetLinkArgs (target.rustflags or [ ]);

  crossEnv =
    let
      prefix = crossCc.targetPrefix;
      cc = "${crossCc}/bin/${prefix}cc";
      cargoTriple = replaceStrings lower upper triple;
      ccTriple = replaceStrings [ "-" ] [ "_" ] triple;
      # Rewrite the plan's own entries: tool names become the cross tools.
      rewrite =
        key: value:
        if hasPrefix "CARGO_TARGET_" key && hasSuffix "_LINKER" key then
          cc
        else if hasPrefix "CARGO_TARGET_" key && hasSuffix "_RUSTFLAGS" key then
          concatStringsSep " " rustflags
        else if hasPrefix "CC_" key then
          cc
        else if hasPrefix "CXX_" key then
          "${crossCc}/bin/${prefix}c++"
        else if hasPrefix "AR_" key then
          "${prefix}ar"
        else if hasPrefix "CFLAGS_" key || hasPrefix "CXXFLAGS_" key then
          dropTargetWords value
        else
          value;
      rewritten = listToAttrs (
        filter (kv: kv.value != "") (
          map (key: {
            name = key;
            value = rewrite key planEnv.${key};
          }) (attrNames planEnv)
        )
      );
    in
    rewritten
    // {
      CARGO_BUILD_TARGET = triple;
      "CARGO_TARGET_${cargoTriple}_LINKER" = cc;
      "CARGO_TARGET_${cargoTriple}_RUSTFLAGS" = concatStringsSep " " rustflags;
      "CC_${ccTriple}" = cc;
      "CXX_${ccTriple}" = "${crossCc}/bin/${prefix}c++";
      # Found on PATH: the cross compiler brings its binutils along (as crane's
      # mkCrossToolchainEnv relies on too).
      "AR_${ccTriple}" = "${prefix}ar";
    };

  hostEnv =
    planEnv
    // (
      if rustflags == [ ] then { } else { CARGO_BUILD_RUSTFLAGS = concatStringsSep " " rustflags; }
    );
  hostLinker =
    if (target.linker or null) == null then
      [ ]
    else
      [ (pkgs.${target.linker} or (throw "target ${name}: linker `${target.linker}` is not a nixpkgs attribute")) ];
in
{
  inherit triple rustflags;
  linker = if crossCc == null then target.linker or null else crossEnv."CARGO_TARGET_${replaceStrings lower upper triple}_LINKER";
  env = if crossCc == null then hostEnv else crossEnv;
  nativeBuildInputs = linkerTools ++ (if crossCc == null then hostLinker else [ crossCc ]);
}
