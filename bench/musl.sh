#!/usr/bin/env bash
# Clean builds of chronik-server for the host and both static musl targets,
# then each musl binary serving kcat (the aarch64 one under
# qemu-aarch64-static). BENCHMARKS.md, section "Static musl binaries", holds
# the figures of a run and the command that took them.
#
#   bash bench/musl.sh all              build (every target) + serve + report
#   bash bench/musl.sh build [TRIPLE..] clean builds, one after the other
#                                       (default: host, x86_64 musl, aarch64 musl)
#   bash bench/musl.sh serve            kcat rates against both musl binaries
#   bash bench/musl.sh report           the table of what was measured
#
# Results go under $BENCH_OUT (default /work/target-musl/bench), one
# directory per target. Each target is built from an empty target directory
# of its own, with plain cargo and the workspace's .cargo/config.toml target
# tables (mold for x86_64 musl, lld for aarch64 musl), variant full (every C
# dependency), profile $PROFILE (default release-fast), plus $CARGO_EXTRA. The C code of the musl
# targets is compiled by clang against Debian's musl headers (musl-dev,
# musl-dev:arm64), archived by llvm-ar. Measured by GNU time: wall time and
# the largest resident set of any single process of the build (`%M`, not a
# process-tree sum). The 1-minute load average is sampled every 10 s during
# each build, because the machine may be shared: read the figures with it.
#
# `serve` starts each musl binary on 127.0.0.1 and times kcat producing
# $MESSAGES messages of 100 bytes (zstd) and consuming them back. Under qemu
# the rates measure the emulator, not the broker: they are EMULATED.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-/work/target-musl/bench}
PROFILE=${PROFILE:-release-fast}
# Extra cargo arguments, the same for every target (e.g. a --config).
read -r -a EXTRA <<< "${CARGO_EXTRA:-}"
# cargo's output directory of the profile.
case $PROFILE in dev | test) PROFILE_DIR=debug ;; bench) PROFILE_DIR=release ;; *) PROFILE_DIR=$PROFILE ;; esac
MESSAGES=${MESSAGES:-20000}
HOST=$(rustc -vV | sed -n 's/^host: //p')
MUSL=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

# The C toolchain of a musl target: clang with only musl's headers (and
# clang's own, e.g. arm_neon.h), llvm-ar for the archives.
musl_env() {
  local var=${1//-/_}
  printf '%s\n' "CC_$var=clang" \
    "CFLAGS_$var=-nostdlibinc -isystem /usr/include/${1%%-*}-linux-musl" \
    "AR_$var=llvm-ar"
}

# "min/mean/max" of the load samples in $1.
load_summary() {
  awk '{ v = $1; s += v; n++; if (n == 1 || v < lo) lo = v; if (v > hi) hi = v }
       END { if (n) printf "%.2f/%.2f/%.2f", lo, s / n, hi; else printf "-" }' "$1"
}

# The result row of a finished build of $1.
row() {
  local dir=$OUT/$1 wall rss_kib
  read -r wall rss_kib < "$dir/time.txt"
  printf '%s\t%s\t%s\t%d\t%d\t%s\n' "$1" "$PROFILE${CARGO_EXTRA:+ $CARGO_EXTRA}" "$wall" $((rss_kib / 1024)) \
    "$(stat -c %s "$dir/$1/$PROFILE_DIR/chronik-server")" "$(load_summary "$dir/load.txt")" \
    > "$dir/row.tsv"
}

build() {
  local triple dir envs sampler
  for triple in "$@"; do
    dir=$OUT/$triple
    rm -rf "$dir"
    mkdir -p "$dir"
    envs=()
    [[ $triple == *musl ]] && mapfile -t envs < <(musl_env "$triple")
    (while :; do cut -d' ' -f1 /proc/loadavg >> "$dir/load.txt"; sleep 10; done) &
    sampler=$!
    echo "musl.sh: building $triple ($PROFILE, variant full); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    if ! env "${envs[@]}" CARGO_TARGET_DIR="$dir" CARGO_INCREMENTAL=0 \
      /usr/bin/time -f '%e %M' -o "$dir/time.txt" \
      cargo build --locked -p chronik-server --features full --profile "$PROFILE" \
      --target "$triple" "${EXTRA[@]}" > "$dir/build.log" 2>&1; then
      kill "$sampler"
      tail -30 "$dir/build.log" >&2
      return 1
    fi
    kill "$sampler"
    row "$triple"
    file "$dir/$triple/$PROFILE_DIR/chronik-server" >&2
  done
}

serve() {
  local payload input triple bin runner data line addr start mid end got
  payload=$(head -c 100 /dev/zero | tr '\0' 'x')
  input=$OUT/messages.txt
  for ((i = 0; i < MESSAGES; i++)); do echo "$payload"; done > "$input"
  : > "$OUT/serve.tsv"
  for triple in "${MUSL[@]}"; do
    bin=$OUT/$triple/$triple/$PROFILE_DIR/chronik-server
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
    kill "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
    rm -rf "$data"
    if [[ $got -ne $MESSAGES ]]; then
      echo "musl.sh: $triple served $got of $MESSAGES messages" >&2
      return 1
    fi
    awk -v t="$triple" -v r="${runner[*]:-native}" -v n="$MESSAGES" -v s="$start" -v m="$mid" \
      -v e="$end" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "%s\t%s\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%s\n", t, r, n, m - s, e - m,
               n / (m - s), n / (e - m), l }' >> "$OUT/serve.tsv"
  done
}

report() {
  printf 'target\tprofile\twall_s\tmax_rss_mib\tbinary_bytes\tload_min/mean/max\n'
  cat "$OUT"/*/row.tsv
  printf '\ntarget\trunner\tmessages\tproduce_s\tconsume_s\tproduce_msg_per_s\tconsume_msg_per_s\tload_1min\n'
  cat "$OUT/serve.tsv"
}

mkdir -p "$OUT"
case ${1-} in
  all) build "$HOST" "${MUSL[@]}" && serve && report ;;
  build) shift; if (($#)); then build "$@"; else build "$HOST" "${MUSL[@]}"; fi ;;
  serve) serve ;;
  report) report ;;
  row) row "$2" ;;  # the row of a build that finished outside `build`
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
