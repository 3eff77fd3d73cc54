#!/usr/bin/env bash
# Runs the Nix tests (see test_nix.py): parsing; evaluation of nix/ and
# flake.nix against the real crane and fenix with a stand-in for the nixpkgs
# package set only; nix flake check --no-build through flake.lock; the
# cross-link, compiler, static-check and stub-workspace proofs with real
# tools; the member-layers rehearsal on the fixture with crane's own hooks;
# negative controls. Needs nix (Debian nix-bin), python3, cargo, zstd, rsync,
# aarch64-linux-gnu-gcc, mold, lld, and the real inputs in
# ../shared/nix-inputs or $NIX_INPUTS_DIR (without them those tests skip,
# and fail under CI=true). Builds only tiny local derivations; fetches, through
# cargo, crane-utils' crates and this workspace's (`cargo fetch --locked`,
# for the offline resolves), so it passes on a fresh machine. The last line of
# output is `N passed, N failed`; the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec timeout 1800 python3 tests/nix/test_nix.py "$@"
