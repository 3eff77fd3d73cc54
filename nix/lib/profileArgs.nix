# The cargo arguments that apply one plan profile (schema 2): a
# `--config profile.<name>.<key>=<value>` for every effective setting the plan
# lists (settings, build_override, package.<pkg>), with the plan's own
# `overrides` on top, plus `inherits` for a custom profile. The stub workspace
# of the dependency builds has no config files, so stating every effective
# value on both phases keeps their fingerprints equal. The profile itself is
# chosen through crane's CARGO_PROFILE (see mkBuildEnv.nix).
plan: profileName:
let
  inherit (builtins)
    attrNames
    concatMap
    isAttrs
    isBool
    isInt
    isString
    isFloat
    toJSON
    match
    ;
  profile =
    plan.profiles.${profileName}
      or (throw "profile `${profileName}` is not in the plan (known: ${builtins.concatStringsSep ", " (attrNames plan.profiles)})");

  # A TOML key: bare when cargo's key syntax allows it, else quoted ("*").
  key = k: if match "[A-Za-z0-9_-]+" k != null then k else toJSON k;
  # A TOML value: strings, integers, floats and booleans are written as JSON
  # writes them, which TOML reads the same way.
  value =
    where: v:
    if isString v || isInt v || isBool v || isFloat v then
      toJSON v
    else
      throw "profile `${profileName}`: ${where} has a value TOML --config cannot state: ${toJSON v}";

  # { key = { value, source }; } with plain overrides { key = value; } on top.
  effective =
    facts: overrides:
    builtins.mapAttrs (_: f: if isAttrs f && f ? value then f.value else throw "profile `${profileName}`: a setting without `value`") facts
    // overrides;

  render =
    prefix: attrs:
    concatMap (k: [
      "--config"
      "${prefix}.${key k}=${value "${prefix}.${k}" attrs.${k}}"
    ]) (attrNames attrs);

  base = "profile.${key profileName}";
  overrides = profile.overrides or { };
  packages =
    let
      facts = profile.package or { };
      extra = overrides.package or { };
    in
    attrNames (facts // extra);
in
(if (profile.inherits or null) == null then [ ] else [ "--config" "${base}.inherits=${toJSON profile.inherits}" ])
++ render base (effective (profile.settings or { }) (overrides.settings or { }))
++ render "${base}.build-override" (effective (profile.build_override or { }) (overrides.build_override or { }))
++ concatMap (
  pkg:
  render "${base}.package.${key pkg}" (
    effective ((profile.package or { }).${pkg} or { }) ((overrides.package or { }).${pkg} or { })
  )
) packages
