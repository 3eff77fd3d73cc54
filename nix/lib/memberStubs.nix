# The target files cargo needs to see in a workspace member, as paths relative
# to the member, so a dummy copy of it can replace each with a stub: the
# library (declared or src/lib.rs), src/main.rs, src/bin/*, and every
# declared [[bin]], [[test]], [[bench]] and [[example]].
#
# Read at evaluation time from the manifest and directory listings only (never
# a source file's contents), mirroring crane's mkDummySrc.
memberDir: manifest:
let
  inherit (builtins)
    attrNames
    concatMap
    elem
    filter
    pathExists
    readDir
    ;
  entries = if pathExists memberDir then readDir memberDir else { };
  srcDir = if (entries.src or null) == "directory" then readDir (memberDir + "/src") else { };
  binDir = if (srcDir.bin or null) == "directory" then readDir (memberDir + "/src/bin") else { };
  package = manifest.package or { };
  autolib = package.autolib or true;
  autobins = package.autobins or true;

  libs =
    if manifest ? lib then
      [ (manifest.lib.path or "src/lib.rs") ]
    else if autolib && (srcDir."lib.rs" or null) == "regular" then
      [ "src/lib.rs" ]
    else
      [ ];

  mainRs = if autobins && (srcDir."main.rs" or null) == "regular" then [ "src/main.rs" ] else [ ];

  discoveredBins =
    if !autobins then
      [ ]
    else
      concatMap (
        name:
        if binDir.${name} == "regular" && builtins.match ".*\\.rs" name != null then
          [ "src/bin/${name}" ]
        else if binDir.${name} == "directory" && pathExists (memberDir + "/src/bin/${name}/main.rs") then
          [ "src/bin/${name}/main.rs" ]
        else
          [ ]
      ) (attrNames binDir);

  declaredBins = concatMap (
    bin:
    if bin ? path then
      [ bin.path ]
    else if (bin.name or null) == (package.name or null) && mainRs != [ ] then
      [ ]
    else if elem "src/bin/${bin.name}/main.rs" discoveredBins then
      [ ]
    else
      [ "src/bin/${bin.name}.rs" ]
  ) (manifest.bin or [ ]);

  declared = kind: dir: map (t: t.path or "${dir}/${t.name}.rs") (manifest.${kind} or [ ]);

  all =
    libs
    ++ mainRs
    ++ discoveredBins
    ++ declaredBins
    ++ declared "test" "tests"
    ++ declared "bench" "benches"
    ++ declared "example" "examples";
in
# Unique, in a stable order.
builtins.foldl' (acc: p: if elem p acc then acc else acc ++ [ p ]) [ ] (builtins.sort builtins.lessThan all)
