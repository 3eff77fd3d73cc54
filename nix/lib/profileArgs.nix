# The cargo arguments that apply one plan profile: every `profile.<name>.*`
# override the plan lists, as `--config` values. The profile itself is chosen
# through crane's CARGO_PROFILE (see mkBuildEnv.nix), so it is not repeated.
plan: profileName:
let
  profile =
    plan.profiles.${profileName}
      or (throw "profile `${profileName}` is not in the plan (known: ${builtins.concatStringsSep ", " (builtins.attrNames plan.profiles)})");
in
builtins.concatMap (value: [
  "--config"
  value
]) (profile.config or [ ])
