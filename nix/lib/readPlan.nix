# Reads the build plan (nix/plan.json, see docs/plan-format.md) and checks the
# parts the Nix code relies on. Unknown fields are ignored, as the contract
# asks; an unknown schema_version or a missing section is a clear error.
planFile:
let
  plan = builtins.fromJSON (builtins.readFile planFile);
  need =
    section:
    if plan ? ${section} then
      true
    else
      throw "${toString planFile}: the plan has no `${section}` section; regenerate it with `cargo buildplan plan`";
  checked = builtins.all need [
    "workspace"
    "packages"
    "variants"
    "targets"
    "profiles"
  ];
in
if (plan.schema_version or null) != 3 then
  throw "${toString planFile}: schema_version ${
    builtins.toJSON (plan.schema_version or null)
  } is not supported (this flake reads version 3); regenerate it with `cargo buildplan plan`"
else
  assert checked;
  plan
