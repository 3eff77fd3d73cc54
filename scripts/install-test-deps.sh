#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (as root), and
# nothing that is already there. Idempotent: a second run only checks.
#
#   apt: kcat (real Kafka client), nix-bin (evaluates nix/), mold + lld +
#        clang + musl-tools (linkers the plan names), binutils (readelf), file,
#        gcc-aarch64-linux-gnu + libc6-dev-arm64-cross (the cross-link proof
#        of tests/nix), zstd + rsync (crane's artifact hooks in the
#        member-layers rehearsal of tests/nix)
#   the static musl targets' C toolchain (the plan's defaults, see
#   docs/plan-format.md "Rendering the targets"): clang + llvm (llvm-ar)
#   compile and archive C for both musl targets against the musl headers of
#   musl-dev (amd64) and musl-dev:arm64 (Debian multiarch: needs the arm64
#   architecture added to dpkg), cmake (CMake-built C dependencies),
#   qemu-user-static (runs the aarch64 binaries), and the rustup targets
#   x86_64/aarch64-unknown-linux-musl for the active toolchain and for
#   $MUSL_EXTRA_TOOLCHAINS (default 1.100.0, the current stable).
#   rustup: toolchain 1.100.0 (the helper's suite on the current stable)
#   pip: kafka-python, confluent-kafka (real Kafka clients), moto[server]
#        (local S3 endpoint for the backup tests)
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have kcat            || need_apt+=(kcat)
have nix-instantiate || need_apt+=(nix-bin)
have mold            || need_apt+=(mold)
have ld.lld          || need_apt+=(lld)
have clang           || need_apt+=(clang)
have musl-gcc        || need_apt+=(musl-tools)
have readelf         || need_apt+=(binutils)
have file            || need_apt+=(file)
have aarch64-linux-gnu-gcc || need_apt+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
have llvm-ar         || need_apt+=(llvm)
have cmake           || need_apt+=(cmake)
have qemu-aarch64-static || need_apt+=(qemu-user-static)
[[ -f /usr/include/x86_64-linux-musl/stdio.h ]] || need_apt+=(musl-dev)
[[ -f /usr/include/aarch64-linux-musl/stdio.h ]] || need_apt+=(musl-dev:arm64)
have zstd            || need_apt+=(zstd)
have rsync           || need_apt+=(rsync)

if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-test-deps: missing ${need_apt[*]}; run as root or: sudo apt-get install ${need_apt[*]}" >&2
    exit 2
  fi
  echo "install-test-deps: apt-get install ${need_apt[*]}" >&2
  # musl-dev:arm64 is a package of the arm64 architecture (multiarch).
  if [[ " ${need_apt[*]} " == *":arm64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Nix 2.8 from Debian evaluates and builds local derivations offline, as
# root, only with the sandbox off.
if [[ $(id -u) -eq 0 ]] && ! grep -q '^sandbox' /etc/nix/nix.conf 2>/dev/null; then
  mkdir -p /etc/nix
  printf 'sandbox = false\nbuild-users-group =\n' >> /etc/nix/nix.conf
fi

pip_mods=()
python3 -c 'import kafka' 2>/dev/null          || pip_mods+=("kafka-python==3.0.12")
python3 -c 'import confluent_kafka' 2>/dev/null || pip_mods+=("confluent-kafka==2.16.1")
# moto's server mode: a local S3-compatible endpoint for the backup tests.
command -v moto_server >/dev/null 2>&1 && python3 -c 'import flask, flask_cors' 2>/dev/null \
  || pip_mods+=("moto[server]==5.2.1")
if ((${#pip_mods[@]})); then
  echo "install-test-deps: pip install ${pip_mods[*]}" >&2
  python3 -m pip install -q --disable-pip-version-check "${pip_mods[@]}"
fi

have cargo-nextest || cargo install --locked cargo-nextest

# The musl targets' standard libraries, for the active toolchain (the
# workspace's rust-version) and the current stable.
musl_targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
missing_targets=()
if have rustup; then
  for toolchain in "" ${MUSL_EXTRA_TOOLCHAINS-1.100.0}; do
    tc_args=(${toolchain:+--toolchain "$toolchain"})
    if [[ -n $toolchain ]] && ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
      echo "install-test-deps: rustup toolchain install $toolchain" >&2
      rustup toolchain install --profile minimal "$toolchain" >&2
    fi
    installed=$(rustup target list --installed "${tc_args[@]}")
    for t in "${musl_targets[@]}"; do
      grep -qx "$t" <<<"$installed" || missing_targets+=("$t")
    done
    if ((${#missing_targets[@]})); then
      echo "install-test-deps: rustup target add ${missing_targets[*]} ${toolchain:+(toolchain $toolchain)}" >&2
      rustup target add "${tc_args[@]}" "${missing_targets[@]}" >&2
    fi
    missing_targets=()
  done
else
  echo "install-test-deps: rustup not found; add the targets ${musl_targets[*]} to your toolchain yourself" >&2
fi
echo "install-test-deps: all test tools present" >&2
