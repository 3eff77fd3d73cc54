#!/usr/bin/env python3
"""Tests for the Nix code (flake.nix, flake.lock, nix/).

nixpkgs cannot be fetched here, so no cargo derivation is built. What runs:

- every .nix file parses;
- the REAL crane and fenix at the locked revisions (../shared/nix-inputs, or
  $NIX_INPUTS_DIR), with the real nixpkgs `lib` and a stand-in for the nixpkgs
  package set only (tests/nix/standin), evaluate nix/ for both systems, with
  import-from-derivation off and NIX_ABORT_ON_WARN=1, over copies of a
  workspace that differ in one file; the derivations crane makes are checked
  for the properties the flake promises (shared dependency builds, per-package
  sources, the plan's exact cargo arguments, linking, compilers, outputs,
  layered dependency artifacts: a lock bump moves only the top layer, a
  member's version bump neither, a foreign or stale base lock one layer;
  member layers, layers.py); for copies of this repository through
  flake.nix's own call of nix/, and two mutants of flake.nix and nix/ must
  fail those assertions;
- flake.nix itself, called with those inputs, and `nix flake check --no-build`
  through the real flake.lock (nixpkgs overridden by the stand-in);
- the library (lib.<system>.buildWorkspace) on a fixture workspace that is not
  this one, through the example flake in nix/README.md;
- proofs with real tools: the cross link (Debian's cross GCC, mold, lld, with
  the PATH the flake builds), build-machine C with cc-rs in a cargo build, the
  static-binary check script on binaries built here, the stub workspace
  rendered by crane's own TOML writer and compared with `cargo metadata`;
- negative controls: mutations of nix/ that must fail.

Prints one line per check and `N passed, N failed` last; exits non-zero on any
failure. Without the real inputs the tests that need them SKIP, except under
CI=true, where they fail.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from deps_layers import check_layers, check_layers_message
from flake_checks import check_flake_check, check_flake_inputs, check_flake_outputs, check_library_example, check_lock, check_no_crate_names, check_parse, check_workflows
from matrix import check_edits, check_linking, check_matrix, check_no_cross_in_shells, check_outputs
from negative import check_negative_controls
from nixtest import COUNTS, FIXTURE_PLAN, FIXTURE_WS, FLAKES, INPUTS_DIR, INPUTS_USED, ROOT, TARBALLS, WORK, captured, check, run, skip
from proofs import check_compilers, check_cross_link, check_dummy_workspace, check_env_parity, check_static_script
from trees import BASE_LOCK_LINE, copy_tree, evaluate, make_trees, repo_files
import layers


# ---------------------------------------------------------------------------
# The real inputs
# ---------------------------------------------------------------------------


def nar_hash(path: Path) -> str:
    proc = run(["nix", *FLAKES, "hash", "path", str(path)])
    return proc.stdout.strip() if proc.returncode == 0 else f"error: {proc.stderr.strip()}"


def prepare_inputs() -> Path | None:
    """The real crane, fenix and nixpkgs lib: $NIX_INPUTS_DIR either holds
    the tarballs of ../shared/nix-inputs (unpacked into target/tests-nix) or
    the trees themselves as crane/, fenix/, lib/ (CI links the locked inputs
    there). Checks crane's and fenix's NAR hashes against flake.lock."""
    if all((INPUTS_DIR / name).is_dir() for name in TARBALLS):
        dest = INPUTS_DIR
    else:
        missing = [t for t in TARBALLS.values() if not (INPUTS_DIR / t).is_file()]
        if missing:
            skip("real flake inputs", f"{INPUTS_DIR} lacks {', '.join(missing)} (set NIX_INPUTS_DIR)")
            return None
        dest = WORK / "inputs"
        stamp = dest / ".stamp"
        want = json.dumps({t: (INPUTS_DIR / t).stat().st_size for t in TARBALLS.values()})
        if not stamp.is_file() or stamp.read_text() != want:
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for tarball in TARBALLS.values():
                with tarfile.open(INPUTS_DIR / tarball) as t:
                    t.extractall(dest, filter="tar")
            stamp.write_text(want)
    lock = json.loads((ROOT / "flake.lock").read_text())["nodes"]
    for name in ("crane", "fenix"):
        got = nar_hash(dest / name)
        if not check(f"real input {name}: its NAR hash is flake.lock's narHash", got == lock[name]["locked"]["narHash"], got):
            return None
    if not check("real input lib: nixpkgs lib present", (dest / "lib" / "default.nix").is_file()):
        return None
    INPUTS_USED.append(dest.resolve())
    return dest.resolve()


def check_layer_options(inputs: Path, tmp: Path) -> None:
    """buildWorkspace's member-layer options on the fixture: fewer layers
    than depths (neighbouring depths share one) with use-symlink, and none
    (every package on the dependency derivation from its own source)."""
    plan = json.loads(FIXTURE_PLAN.read_text())
    trees, edited = make_trees(FIXTURE_WS, None, plan, tmp / "layer-options")
    for options in ({"memberLayers": 2, "artifactsMode": "use-symlink"}, {"memberLayers": 0}):
        tag = "fixture " + " ".join(f"{k}={v}" for k, v in options.items())
        try:
            facts = evaluate(inputs, trees, FIXTURE_PLAN, "x86_64-linux", options=options)
        except RuntimeError as e:
            check(f"{tag}: nix/ evaluates", False, str(e))
            continue
        layer_counts = {len(x) for ps in facts["trees"]["base"]["memberLayers"].values() for vs in ps.values() for x in vs.values()}
        check(f"{tag}: {sorted(layer_counts)} member layers per combination", max(layer_counts) == options["memberLayers"], str(layer_counts))
        check_matrix(tag, plan, facts)
        check_edits(tag, plan, facts, edited)
        layers.check_shape(tag, plan, facts)
        layers.check_edits(tag, plan, facts, edited)
        layers.check_modes(tag, facts, options.get("artifactsMode", "use-zstd"))


def check_flake_mutations(inputs: Path, tmp: Path) -> None:
    """The suite fails on a copy of this repository whose flake.nix drops its
    base lock, and on one whose packages get another CARGO_PROFILE than their
    dependency build: the evaluation suite runs on each (results captured,
    the stub-workspace build left out) and the named check must fail."""
    mutations = [
        ("flake.nix without `" + BASE_LOCK_LINE + "`", "flake.nix", BASE_LOCK_LINE, "", "every combination has a base layer"),
        (
            "a package with another CARGO_PROFILE than its dependency build",
            "nix/lib/mkPackage.nix",
            "common = buildEnv.env // {",
            'common = buildEnv.env // { CARGO_PROFILE = "release"; } // {',
            "every package reuses its combination's one dependency derivation",
        ),
    ]
    for i, (label, path, old, new, needle) in enumerate(mutations):
        repo = tmp / "flake-mutants" / str(i)
        files = repo_files()
        copy_tree(ROOT, repo, files)
        text = (repo / path).read_text()
        if not check(f"mutation {label}: the code it mutates exists", old in text, f"{old!r} not in {path}"):
            continue
        (repo / path).write_text(text.replace(old, new, 1))
        with captured() as results:
            run_suite("mutant", inputs, repo, files, repo / "nix" / "plan.json", tmp / "flake-mutants" / f"{i}-trees", quick=True)
        failures = [name for name, ok, _ in results if not ok]
        check(
            f"mutation {label}: the suite fails ({len(failures)} of {len(results)} checks, among them `{needle}`)",
            any(needle in name for name in failures),
            "; ".join(failures[:4]) or "no check failed",
        )


def run_suite(tag: str, inputs: Path, base: Path, files: list[str] | None, plan_file: Path, tmp: Path, quick: bool = False) -> dict | None:
    plan = json.loads(plan_file.read_text())
    trees, edited = make_trees(base, files, plan, tmp / tag)
    try:
        facts = evaluate(inputs, trees, plan_file, "x86_64-linux")
        facts_arm = evaluate(inputs, {"base": trees["base"]}, plan_file, "aarch64-linux")
    except RuntimeError as e:
        check(f"{tag}: nix/ evaluates with the real crane and fenix (IFD off, warnings fatal)", False, str(e))
        return None
    check(f"{tag}: nix/ evaluates with the real crane and fenix for x86_64-linux and aarch64-linux (IFD off, warnings fatal)", True)
    call = facts["trees"]["base"]["call"]
    if (base / "flake.nix").is_file():
        check(
            f"{tag}: the assertions run on flake.nix's own call of nix/ (its arguments captured, its packages the flake's outputs)",
            call["via"] == "flake.nix" and call["sameAsFlake"] is True,
            str(call),
        )
    check_matrix(tag, plan, facts)
    check_edits(tag, plan, facts, edited)
    layers.check_shape(tag, plan, facts)
    layers.check_edits(tag, plan, facts, edited)
    layers.check_modes(tag, facts, "use-zstd")
    check_layers(tag, plan, facts, edited | {"_base_tree": trees["base"]})
    check_layers_message(tag, inputs, trees, plan_file)
    check_linking(tag, plan, facts)
    check_outputs(tag, plan, facts, "x86_64-linux")
    check_outputs(tag, plan, facts_arm, "aarch64-linux")
    check_no_cross_in_shells(tag, plan, facts, "x86_64-linux")
    check_no_cross_in_shells(tag, plan, facts_arm, "aarch64-linux")
    if not quick:
        check_dummy_workspace(tag, facts, Path(trees["base"]), tmp)
    return facts


def main() -> int:
    # --plan FILE: use this plan for the real workspace instead of nix/plan.json
    # (e.g. one just written by `cargo buildplan plan --output FILE`).
    args = sys.argv[1:]
    real_plan = ROOT / "nix" / "plan.json"
    if args[:1] == ["--plan"] and len(args) == 2:
        real_plan = Path(args[1]).resolve()
    elif args:
        print("usage: test_nix.py [--plan FILE]", file=sys.stderr)
        return 2
    if shutil.which("nix-instantiate") is None:
        print("nix-instantiate not found (apt-get install nix-bin)")
        print("0 passed, 1 failed")
        return 1
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tests-nix-") as tmp_s:
        tmp = Path(tmp_s)
        check_parse()
        check_no_crate_names()
        check_lock()
        check_flake_inputs()
        check_workflows()
        inputs = prepare_inputs()
        if inputs is not None:
            run_suite("fixture", inputs, FIXTURE_WS, None, FIXTURE_PLAN, tmp)
            if real_plan.is_file():
                run_suite("real", inputs, ROOT, repo_files(), real_plan, tmp)
            else:
                skip("real workspace", f"{real_plan} does not exist")
            check_flake_outputs(inputs)
            check_flake_mutations(inputs, tmp)
            check_layer_options(inputs, tmp)
            layers.check_rehearsal(tmp)
            check_flake_check(inputs, tmp)
            check_library_example(inputs, tmp)
            check_cross_link(inputs, tmp)
            check_compilers(inputs)
            check_env_parity(inputs)
            check_static_script(inputs, tmp)
            check_negative_controls(inputs, tmp)
    print(f"{COUNTS['passed']} passed, {COUNTS['failed']} failed")
    return 1 if COUNTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
