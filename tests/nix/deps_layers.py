"""Layered dependency artifacts (nix/README.md): the base and the top
layer, lock bumps, member version bumps, foreign and stale base locks."""

from __future__ import annotations

import tomllib
from pathlib import Path

from nixtest import HERE, check, check_none, closure, combos, nix_eval, nix_string


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
        # What starts from the top dependency layer: the first member layer,
        # or without member layers every package.
        first = base["memberLayers"][t][p][v][:1] or base["packages"][t][p][v].values()
        if any(d["cargoArtifacts"] != top["out"] for d in first):
            bad.append(f"{t}/{p}/{v}: the first member layer (or a package) does not start from the top layer")
    check(
        f"{tag}: with nix/base.lock every combination has a base layer (buildDepsOnly over the base lock) and a top layer (mkCargoDerivation, cargoArtifacts = the base layer, same commands and environment) that the member layers start from",
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
    check_none(f"{tag}: member_bump: the packages built from that member do change (the bump is seen)", pk_moved)

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
