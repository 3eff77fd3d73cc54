#!/usr/bin/env bash
# Runs the Nix tests (see test_nix.py): parsing, evaluation of nix/ against
# stand-ins, flake.nix and flake.lock. Needs nix-instantiate (Debian nix-bin)
# and python3; builds nothing and fetches nothing. The last line of output is
# `N passed, N failed`; the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec timeout 900 python3 tests/nix/test_nix.py "$@"
