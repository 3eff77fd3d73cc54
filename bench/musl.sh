#!/usr/bin/env bash
# Clean builds of chronik-server for the host and both static musl targets,
# measured one after the other in one run, then each built binary serving
# kcat (the aarch64 one under qemu-aarch64-static). BENCHMARKS.md, section
# "Static musl binaries", holds the figures of a run and this command.
#
#   bash bench/musl.sh [OUT_DIR]       (default OUT_DIR: /work/target-musl/bench)
#
# Every target is built from an empty target directory of its own,
# OUT_DIR/<triple>, with plain cargo and the workspace's .cargo/config.toml
# target tables (mold for x86_64 musl, lld for aarch64 musl), variant full
# (every C dependency), profile $PROFILE (default release-fast). The C code of
# the musl targets is compiled by clang against Debian's musl headers
# (musl-dev, musl-dev:arm64). Measured by GNU time: wall time and the
# largest resident set of any single process of the build (`%M`, not a
# process-tree sum). The load average is sampled every 10 s during each
# build, because the machine may be shared: read the figures with it.
#
# The serve check starts each binary on 127.0.0.1, then times kcat producing
# $MESSAGES messages of 100 bytes (zstd) and consuming them back. Under qemu
# the rates measure the emulator, not the broker: they are EMULATED.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/work/target-musl/bench}
PROFILE=${PROFILE:-release-fast}
MESSAGES=${MESSAGES:-20000}
HOST=$(rustc -vV | sed -n 's/^host: //p')
TARGETS=("$HOST" x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"

# The C toolchain of each musl target: clang with only musl's headers (and
# clang's own, e.g. arm_neon.h), llvm-ar for the archives.
musl_env() {
  local triple=$1 debian
  debian=${triple%%-*}-linux-musl
  local var=${triple//-/_}
  printf '%s\n' \
    "CC_$var=clang" \
    "CFLAGS_$var=-nostdlibinc -isystem /usr/include/$debian" \
    "AR_$var=llvm-ar"
}

# "min/mean/max" of the 1-minute load average samples in $1.
load_summary() {
  awk '{ v = $1; s += v; n++; if (n == 1 || v < lo) lo = v; if (v > hi) hi = v }
       END { if (n) printf "%.2f/%.2f/%.2f", lo, s / n, hi; else printf "-" }' "$1"
}

printf 'target\tprofile\twall_s\tmax_rss_mib\tbinary_bytes\tload_min_mean_max\n' > "$RESULTS"
for triple in "${TARGETS[@]}"; do
  dir="$OUT/$triple"
  rm -rf "$dir"
  mkdir -p "$dir"
  envs=()
  [[ $triple == *musl ]] && mapfile -t envs < <(musl_env "$triple")
  samples="$dir/load.txt"
  (while :; do cut -d' ' -f1 /proc/loadavg >> "$samples"; sleep 10; done) &
  sampler=$!
  echo "musl.sh: building $triple ($PROFILE, variant full); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  env "${envs[@]}" CARGO_TARGET_DIR="$dir" CARGO_INCREMENTAL=0 \
    /usr/bin/time -f '%e %M' -o "$dir/time.txt" \
    cargo build --locked -p chronik-server --features full --profile "$PROFILE" \
    --target "$triple" > "$dir/build.log" 2>&1 || { kill "$sampler"; tail -30 "$dir/build.log"; exit 1; }
  kill "$sampler"
  read -r wall rss_kib < "$dir/time.txt"
  bin="$dir/$triple/$PROFILE/chronik-server"
  printf '%s\t%s\t%s\t%d\t%d\t%s\n' "$triple" "$PROFILE" "$wall" $((rss_kib / 1024)) \
    "$(stat -c %s "$bin")" "$(load_summary "$samples")" >> "$RESULTS"
  file "$bin" >&2
done

# Serve check: kcat produce + consume against each binary.
payload=$(head -c 100 /dev/zero | tr '\0' 'x')
input="$OUT/messages.txt"
for ((i = 0; i < MESSAGES; i++)); do echo "$payload"; done > "$input"
printf '\ntarget\trunner\tmessages\tproduce_s\tconsume_s\tproduce_msg_s\tconsume_msg_s\tload_1min\n' >> "$RESULTS"
for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  bin="$OUT/$triple/$triple/$PROFILE/chronik-server"
  runner=()
  [[ $triple == aarch64* ]] && runner=(qemu-aarch64-static)
  data=$(mktemp -d)
  coproc BROKER { exec "${runner[@]}" "$bin" --data-dir "$data/data" --listen 127.0.0.1:0 2> "$data/broker.log"; }
  read -r -t 60 line <&"${BROKER[0]}"
  addr=${line#chronik-server listening on }
  start=$(date +%s.%N)
  kcat -b "$addr" -P -t rate -z zstd < "$input"
  mid=$(date +%s.%N)
  got=$(kcat -b "$addr" -C -t rate -o beginning -e -q | wc -l)
  end=$(date +%s.%N)
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$data"
  [[ $got -eq $MESSAGES ]] || { echo "musl.sh: $triple served $got of $MESSAGES messages" >&2; exit 1; }
  awk -v t="$triple" -v r="${runner[*]:-native}" -v n="$MESSAGES" -v s="$start" -v m="$mid" -v e="$end" \
    -v l="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%s\t%s\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%s\n", t, r, n, m - s, e - m, n / (m - s), n / (e - m), l }' >> "$RESULTS"
done
cat "$RESULTS"
