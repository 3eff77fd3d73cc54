# Builder of the nixpkgs STAND-IN (tests/nix/standin): not nixpkgs' stdenv.
# Runs `buildCommand` (runCommand, writeText, symlinkJoin, setup hooks, host
# tool links) with the inputs' bin directories and the host's /usr/bin:/bin
# on PATH (sandbox = false here). Every other derivation (crane's cargo
# builds, fetchurl, ...) only exists to be evaluated and refuses to build.
set -eu
PATH=/usr/bin:/bin
for input in ${nativeBuildInputs:-} ${depsBuildBuild:-} ${buildInputs:-}; do
  if [ -d "$input/bin" ]; then PATH="$input/bin:$PATH"; fi
done
export PATH
if [ -n "${buildCommandPath:-}" ]; then
  . "$buildCommandPath"
elif [ -n "${buildCommand:-}" ]; then
  eval "$buildCommand"
else
  echo "tests/nix stand-in: '$name' is a stand-in derivation for evaluation only; it cannot be built here" >&2
  exit 1
fi
