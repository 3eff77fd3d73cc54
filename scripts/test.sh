#!/usr/bin/env bash
# Runs every test of the project, in the order CI runs them. From the
# repository root:
#
#   bash scripts/test.sh
#
# Installs missing test tools first (scripts/install-test-deps.sh; root on
# Debian), then: formatting, plan freshness, module structure (no import
# circle, no oversized file: tests/structure/check.py), clippy (warnings
# denied), the static musl binaries (built and proven static) and the musl
# toolchain fixture, the Rust test suites with cargo-nextest (unit, integration, real Kafka clients
# against the broker; the helper's suite again on cargo 1.100), doc tests, the Nix evaluation tests, the crane
# two-phase rehearsal, the lock-bump rehearsal and the flake.lock/workflow
# checks.
#
# One shared target dir (./target, or $CARGO_TARGET_DIR) for every step.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=0   # nothing to reuse across CI runs; saves disk and time
# The S3 backup test fails, rather than skips, when moto_server is missing.
export CHRONIK_REQUIRE_S3_TESTS=1

failed=()
step() {
  local name=$1; shift
  local start=$SECONDS
  echo "::: $name"
  if "$@"; then
    echo "::: $name ok ($((SECONDS - start))s)"
  else
    echo "::: $name FAILED ($((SECONDS - start))s)"
    failed+=("$name")
  fi
}

step "rustfmt" cargo fmt --all --check
step "plan is fresh" cargo run -q -p cargo-buildplan -- check
# The Nix base layer and the lock-bump rehearsal start from nix/base.lock:
# after adding or removing a dependency, `cargo buildplan rebase` refreshes it.
step "base lock fits" cargo run -q -p cargo-buildplan -- rebase --check
step "module structure" sh -c 'python3 -m unittest -q tests/structure/test_check.py && python3 tests/structure/check.py'
step "clippy" cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# Static musl chronik-server for x86_64 and aarch64, built through the plan
# and proven static from the binaries (scripts/musl-build.sh); their paths
# are exported for the client tests of the nextest step
# (CHRONIK_SERVER_X86_64_MUSL, CHRONIK_SERVER_AARCH64_MUSL).
musl_env=$(mktemp)
step "static musl builds" bash scripts/musl-build.sh --env-file "$musl_env"
# shellcheck source=/dev/null
source "$musl_env"
rm -f "$musl_env"
step "musl toolchain fixture" python3 -m unittest tests/musl/test_musl.py
step "nextest" cargo nextest run --workspace --all-features --locked --profile ci
# The helper reads cargo's output and build directory: its suite also runs on
# the current stable cargo (issue 19), in a target dir of its own. Its
# third-party crates are built unoptimised there (the manifest's dev profile
# optimises them for the broker's traffic tests, which this step does not run);
# `--config` reaches only this build, not the cargo the tests start.
step "helper on cargo 1.100" env CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/rust-1.100.0" \
  cargo +1.100.0 nextest run -p buildplan -p cargo-buildplan -p buildplan-bench --locked --profile ci \
  --config 'profile.dev.package."*".opt-level=0'
step "doc tests" cargo test --workspace --all-features --locked --doc
step "nix evaluation tests" bash tests/nix/run.sh
step "crane rehearsal" bash scripts/crane-rehearsal.sh
# Leaf-crate and member-version bumps from base artifacts (needs crates.io for
# the bumped release); the root-crate bump and timings are `--bench` only.
step "lock-bump rehearsal" bash scripts/lock-bump-rehearsal.sh

if ((${#failed[@]})); then
  echo "test.sh: failed steps: ${failed[*]}"
  exit 1
fi
echo "test.sh: every step passed"
