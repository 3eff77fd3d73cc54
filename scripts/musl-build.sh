#!/usr/bin/env bash
# Builds chronik-server as a static musl binary for x86_64 and aarch64
# through the plan (`cargo buildplan build --target <triple>`), and proves
# each one from the binary itself (scripts/prove-static.py): no PT_INTERP,
# no DT_NEEDED, the ELF machine, the plan's linker in .comment, and the C
# objects of every build script that compiled C (zstd-sys, lz4-sys, ring)
# built for the target. From the repository root:
#
#   bash scripts/musl-build.sh [--env-file FILE]
#
# With --env-file, writes the binaries' paths there as shell exports, for
# the client tests (scripts/test.sh sources it):
#
#   export CHRONIK_SERVER_X86_64_MUSL=<target-dir>/x86_64-unknown-linux-musl/static-ci/chronik-server
#   export CHRONIK_SERVER_AARCH64_MUSL=<target-dir>/aarch64-unknown-linux-musl/static-ci/chronik-server
#
# What CI builds (cheap, and every C dependency covered by one target):
#   x86_64:  variant default (zstd-sys, lz4-sys)            MUSL_X86_64_VARIANT
#   aarch64: variant full    (zstd-sys, lz4-sys, ring+asm)  MUSL_AARCH64_VARIANT
#   profile static-ci (release at opt-level 0, no LTO)      MUSL_PROFILE
# The toolchain is rustup's choice (RUSTUP_TOOLCHAIN=1.100.0 for another);
# the target directory cargo's (CARGO_TARGET_DIR); the helper $BUILDPLAN
# (a built cargo-buildplan) or built in that target directory.
set -euo pipefail
cd "$(dirname "$0")/.."

env_file=
if [[ ${1-} == --env-file ]]; then
  env_file=${2:?--env-file needs a path}
fi
profile=${MUSL_PROFILE:-static-ci}

target_dir=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
# The helper: $BUILDPLAN if given (a built cargo-buildplan), else built here.
helper=${BUILDPLAN:-$target_dir/debug/cargo-buildplan}
[[ -n ${BUILDPLAN-} ]] || cargo build -q --locked -p cargo-buildplan
echo "musl-build: $(rustc --version), profile $profile, target dir $target_dir" >&2

exports=()
for arch in x86_64 aarch64; do
  triple=$arch-unknown-linux-musl
  if [[ $arch == x86_64 ]]; then
    variant=${MUSL_X86_64_VARIANT:-default}
  else
    variant=${MUSL_AARCH64_VARIANT:-full}
  fi
  # The C dependencies each variant must show objects of.
  case $variant in
    full) require=(zstd-sys lz4-sys ring) ;;
    minimal) require=() ;;
    *) require=(zstd-sys lz4-sys) ;;
  esac
  linker=$(python3 -c 'import json, sys; print(json.load(open("nix/plan.json"))["targets"][sys.argv[1]]["fuse_ld"])' "$triple")
  messages=$target_dir/$triple/musl-build-messages.json
  mkdir -p "$(dirname "$messages")"
  echo "musl-build: $triple, variant $variant, linker $linker" >&2
  start=$SECONDS
  "$helper" buildplan build chronik-server --target "$triple" --variant "$variant" \
    --profile "$profile" -- --locked --message-format=json-render-diagnostics >"$messages"
  echo "musl-build: $triple built in $((SECONDS - start))s" >&2
  binary=$(python3 scripts/prove-static.py --cargo-messages "$messages" \
    --package chronik-server --arch "$arch" --linker "$linker" \
    "${require[@]/#/--require=}" --print-binary)
  exports+=("export CHRONIK_SERVER_${arch^^}_MUSL=$binary")
done

printf '%s\n' "${exports[@]}"
if [[ -n $env_file ]]; then
  printf '%s\n' "${exports[@]}" >"$env_file"
fi
