"""Copies of a workspace that differ in one edit, and evaluating nix/ over
them (facts.nix) with the real crane and fenix."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

from nixtest import HERE, OTHER_WS, ROOT, main_package, nix_eval, nix_string
import layers


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


def first_rs(member: Path) -> Path:
    for candidate in ("src/main.rs", "src/lib.rs"):
        if (member / candidate).is_file():
            return member / candidate
    found = sorted(member.rglob("*.rs"))
    if not found:
        raise SystemExit(f"no .rs file under {member}")
    return found[0]


def make_trees(base: Path, files: list[str] | None, plan: dict, tmp: Path) -> tuple[dict, dict]:
    """Copies of `base`: unchanged, and each with one edit. Returns the tree
    paths and, per edited tree, the member path the edit touched."""
    packages = plan["packages"]
    server = main_package(plan)
    # The member most others depend on (the bottom of the member graph), and
    # a middle one (layers.pick_edits).
    picked = layers.pick_edits(plan)
    shared = picked["bottom"]

    trees, edited = {}, {}
    edits = {
        "base": None,
        "rs_root": (packages[server]["path"], "rs"),
        "rs_middle": (picked["middle"], "rs"),
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
        # flake.nix (a copy of this repository) without its base lock.
        flake = dst / "flake.nix"
        if flake.is_file():
            flake.write_text(flake.read_text().replace(BASE_LOCK_LINE, ""))
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


# flake.nix's argument that gives the dependency layers their base lock.
BASE_LOCK_LINE = "baseLock = ./nix/base.lock;"


def evaluate(inputs: Path, trees: dict, plan_file: Path, system: str, nix_dir: Path | None = None, options: dict | None = None) -> dict:
    facts = (nix_dir.parent / "tests" / "nix" / "facts.nix") if nix_dir else HERE / "facts.nix"
    tree_expr = "{ " + " ".join(f"{k} = {nix_string(v)};" for k, v in trees.items()) + " }"
    code, out, err = nix_eval(
        [
            str(facts),
            "--argstr", "inputsDir", str(inputs),
            "--arg", "trees", tree_expr,
            "--argstr", "planFile", str(plan_file),
            "--argstr", "system", system,
            "--argstr", "optionsJSON", json.dumps(options or {}),
        ]
    )
    if code != 0:
        raise RuntimeError(f"evaluation failed ({system}):\n{err[-4000:]}")
    return json.loads(out)
