# The target files cargo needs to see in a workspace member, as paths relative
# to the member, so a dummy copy of it can replace each with a stub: the
# library (declared or src/lib.rs), src/main.rs, src/bin/*, tests/, benches/
# and examples/ as cargo discovers them, and every declared [[bin]], [[test]],
# [[bench]] and [[example]]. tests/nix compares the result with what
# `cargo metadata` says of the real workspace.
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

  # Cargo's target discovery in tests/, benches/, examples/: `<dir>/*.rs` and
  # `<dir>/<name>/main.rs`, unless `auto<kind>` is false.
  discovered =
    dir: auto:
    let
      listing = if auto && (entries.${dir} or null) == "directory" then readDir (memberDir + "/${dir}") else { };
    in
    concatMap (
      name:
      if listing.${name} == "regular" && builtins.match ".*\\.rs" name != null then
        [ "${dir}/${name}" ]
      else if listing.${name} == "directory" && pathExists (memberDir + "/${dir}/${name}/main.rs") then
        [ "${dir}/${name}/main.rs" ]
      else
        [ ]
    ) (attrNames listing);

  # A declared target without a path is `<dir>/<name>.rs` or
  # `<dir>/<name>/main.rs`, whichever exists (the first when neither does).
  declared =
    kind: dir:
    map (
      t:
      t.path or (
        if pathExists (memberDir + "/${dir}/${t.name}/main.rs") then "${dir}/${t.name}/main.rs" else "${dir}/${t.name}.rs"
      )
    ) (manifest.${kind} or [ ]);

  all =
    libs
    ++ mainRs
    ++ discoveredBins
    ++ declaredBins
    ++ discovered "tests" (package.autotests or true)
    ++ discovered "benches" (package.autobenches or true)
    ++ discovered "examples" (package.autoexamples or true)
    ++ declared "test" "tests"
    ++ declared "bench" "benches"
    ++ declared "example" "examples";
in
# Unique, in a stable order.
builtins.foldl' (acc: p: if elem p acc then acc else acc ++ [ p ]) [ ] (builtins.sort builtins.lessThan all)
