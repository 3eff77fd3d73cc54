#!/usr/bin/env bash
# Builds chronik-server with the build plan (nix/plan.json: default variant,
# default profile, host target, best installed linker, jobs capped by memory)
# and starts it. Arguments are passed to chronik-server, e.g.:
#
#   bash scripts/run.sh --listen 127.0.0.1:9092 --data-dir ./chronik-data
set -euo pipefail
cd "$(dirname "$0")/.."
profile=$(python3 -c 'import json; print(json.load(open("nix/plan.json"))["workspace"]["default_profile"])')
cargo run -q -p cargo-buildplan -- build chronik-server --profile "$profile"
target_dir=${CARGO_TARGET_DIR:-target}
exec "$target_dir/$profile/chronik-server" "$@"
