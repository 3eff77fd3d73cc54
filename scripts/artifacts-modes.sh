#!/usr/bin/env bash
# Store size and copying cost of crane's two artifacts modes for one chain of
# layers (nix/README.md, "The cost: store size and copying between layers"),
# from a finished use-zstd run of scripts/member-layers-rehearsal.sh: its work
# dir holds the dependency output and the member layers' outputs of the chain
# built from scratch (deps-out, base-out0, base-out1, ...) and crane's tree.
#
# For each output, bottom first, with crane's own hooks:
#   use-zstd     its size, and the seconds inheritCargoArtifacts takes to
#                restore it (decompressing the chain below it too)
#   use-symlink  that same target directory installed the use-symlink way on
#                the layer below's use-symlink output (files equal to the
#                layer below's become links to it): its size and the install
#                seconds; then the seconds inheritCargoArtifacts takes to
#                restore it as nix/ does with use-symlink (copies,
#                doNotLinkInheritedArtifacts)
# No cargo runs: the target directories are the ones cargo wrote in the
# rehearsal. Sizes are `du -sk` (disk use; a link counts as a link). The last
# column checks that both ways restore the same files with the same sizes
# (cargo's `.cargo-lock` files aside, which crane deletes when copying).
#
# Usage: scripts/artifacts-modes.sh REHEARSAL_WORK_DIR
set -euo pipefail

work=$(cd "${1:?usage: scripts/artifacts-modes.sh REHEARSAL_WORK_DIR}" && pwd)
hooks=$(cd "$work"/*/lib/setupHooks && pwd)
[ -f "$work/deps-out/target.tar.zst" ] || { echo "artifacts-modes: $work has no use-zstd deps-out (run member-layers-rehearsal.sh first)" >&2; exit 2; }
scratch=$work/modes
chmod -R u+w "$scratch" 2>/dev/null || true
rm -rf "$scratch"
mkdir -p "$scratch/tmp"

outputs=(deps-out)
i=0
while [ -d "$work/base-out$i" ]; do outputs+=("base-out$i"); i=$((i + 1)); done

# One crane hook function in a fresh shell, as a derivation runs it; prints
# the seconds it took.
crane() {
  local hook=$1 function=$2
  shift 2
  local start end
  start=$(date +%s.%N)
  (
    export NIX_BUILD_CORES=2 TMPDIR=$scratch/tmp
    # shellcheck disable=SC1090
    source "$hooks/$hook" > /dev/null
    "$function" "$@" > /dev/null 2>&1
  )
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}

kib() { du -sk "$1" | cut -f1; }

printf '%-12s %12s %12s %12s %12s %12s\n' output zstd-KiB zstd-inherit symlink-KiB symlink-inst symlink-inh
prev_symlink=""
for out in "${outputs[@]}"; do
  target=$scratch/target
  chmod -R u+w "$target" 2>/dev/null || true
  rm -rf "$target"
  zstd_inherit=$(cargoArtifacts=$work/$out crane inheritCargoArtifactsHook.sh inheritCargoArtifacts "$work/$out" "$target")
  listing=$(cd "$target" && find . -type f ! -name '.cargo*lock' -printf '%P %s\n' | sort | md5sum)
  symlink_out=$scratch/$out
  symlink_install=$(cargoArtifacts=$prev_symlink installCargoArtifactsMode=use-symlink \
    crane installCargoArtifactsHook.sh prepareAndInstallCargoArtifactsDir "$symlink_out" "$target" use-symlink "$prev_symlink")
  # What the store makes of an output: mtime 1, read-only.
  find "$symlink_out" -exec touch -h -d @1 {} +
  chmod -R a-w "$symlink_out"
  restored=$scratch/restored
  chmod -R u+w "$restored" 2>/dev/null || true
  rm -rf "$restored"
  symlink_inherit=$(cargoArtifacts=$symlink_out doNotLinkInheritedArtifacts=1 \
    crane inheritCargoArtifactsHook.sh inheritCargoArtifacts "$symlink_out" "$restored")
  # The same files, of the same sizes, whichever way the output was stored.
  same=$([ "$(cd "$restored" && find . -type f ! -name '.cargo*lock' -printf '%P %s\n' | sort | md5sum)" = "$listing" ] && echo same-files || echo DIFFERENT-FILES)
  printf '%-12s %12s %12s %12s %12s %12s %s\n' "$out" "$(kib "$work/$out")" "$zstd_inherit" "$(kib "$symlink_out")" "$symlink_install" "$symlink_inherit" "$same"
  prev_symlink=$symlink_out
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
