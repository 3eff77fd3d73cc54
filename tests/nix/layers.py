"""Member layers (nix/README.md, "Member layers"), asserted on what the real
crane made: the grouping of each variant's members by depth in the member
graph (computed here from the plan's `workspace_deps`, not read back), the
chain (each layer on the one below, the first on the dependency derivation,
every package on the top one), each layer's source (its own and lower
members real, every other member a stub), and, over copies of the workspace
with an edit of a top, a middle and a bottom member, which layers change:
exactly the edited member's layer and those above, in every variant that
builds it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from nixtest import FIXTURE_PLAN, FIXTURE_WS, INPUTS_DIR, ROOT, cargo_lines, check, check_none, closure, combos, run, skip

# nix/default.nix's default for `memberLayers`.
DEFAULT_MAX_LAYERS = 4


def depths(plan: dict) -> dict[str, int]:
    """Each member path's depth: 0 without member dependencies, else one more
    than its deepest member dependency."""
    by_path = {p["path"]: p for p in plan["packages"].values()}
    memo: dict[str, int] = {}

    def depth(path: str) -> int:
        if path not in memo:
            memo[path] = max((depth(d) + 1 for d in by_path[path]["workspace_deps"]), default=0)
        return memo[path]

    return {path: depth(path) for path in by_path}


def variant_members(plan: dict, variant: str) -> list[str]:
    return sorted(set().union(*(closure(plan, root) for root in plan["variants"][variant]["builds"])))


def expected_layers(plan: dict, variant: str, max_layers: int) -> list[list[str]]:
    """The member paths of each layer, bottom first: one layer per depth, or
    with more depths than `max_layers`, neighbouring depths together."""
    d = depths(plan)
    members = variant_members(plan, variant)
    levels = sorted({d[m] for m in members})
    n = len(levels)

    def index(m: str) -> int:
        position = levels.index(d[m])
        return position if n <= max_layers else position * max_layers // n

    return [sorted(m for m in members if index(m) == i) for i in range(min(n, max_layers))]


def layer_of(layers: list[list[str]], member: str) -> int | None:
    return next((i for i, own in enumerate(layers) if member in own), None)


def pick_edits(plan: dict, variant: str | None = None, max_layers: int = DEFAULT_MAX_LAYERS) -> dict[str, str]:
    """A top, a middle and a bottom member of a variant (the default one):
    in the top, the middle and the bottom layer, the member with the most
    dependents there (scripts/member-layers-rehearsal.sh edits the same)."""
    variant = variant or plan["workspace"]["default_variant"]
    layers = expected_layers(plan, variant, max_layers)
    dependents = {m: 0 for m in variant_members(plan, variant)}
    for p in plan["packages"].values():
        for dep in p["workspace_deps"]:
            if dep in dependents:
                dependents[dep] += 1
    most = lambda paths: max(sorted(paths), key=lambda m: dependents[m])  # noqa: E731
    return {"top": most(layers[-1]), "middle": most(layers[len(layers) // 2]), "bottom": most(layers[0])}


def max_layers_of(tree: dict) -> int:
    given = tree["call"]["memberLayers"]
    return DEFAULT_MAX_LAYERS if given is None else given


def inheriting(tree: dict) -> list[tuple[str, dict]]:
    """Every derivation that starts from another one's artifacts."""
    out = [(f"check {n}", c) for n, c in tree["checks"].items() if c["cargoArtifacts"]]
    for t, profiles in tree["deps"].items():
        for p, variants in profiles.items():
            for v, d in variants.items():
                where = f"{t}/{p}/{v}"
                out += [(f"{where} deps", d)] if d["cargoArtifacts"] else []
                out += [(f"{where} layer {i}", layer) for i, layer in enumerate(tree["memberLayers"][t][p][v])]
                out += [(f"{where}/{root}", pk) for root, pk in tree["packages"][t][p][v].items()]
    return out


def check_modes(tag: str, facts: dict, mode: str) -> None:
    """One artifacts mode for every derivation; with use-symlink every one
    that inherits copies the inherited files (crane's links to the read-only
    store would stop rustc from writing a member it compiles again)."""
    base = facts["trees"]["base"]
    all_drvs = inheriting(base)
    bad = [
        where
        for where, d in all_drvs
        if d["artifactsMode"] != mode or bool(d["copiesInherited"]) != (mode == "use-symlink")
    ]
    check(
        f"{tag}: every derivation that inherits artifacts ({len(all_drvs)}) has installCargoArtifactsMode {mode}"
        + (" and copies what it inherits (doNotLinkInheritedArtifacts)" if mode == "use-symlink" else ", linking what it inherits as crane does"),
        all_drvs and not bad,
        "; ".join(bad[:4]),
    )


def real_members(script: str) -> list[str]:
    """The members a composed source copies in for real (mkCompositeSrc's
    `rm -rf $out/<path>` before each copy)."""
    return sorted(m.group(1) for m in re.finditer(r"(?m)^\s*rm -rf \$out/'([^']+)'$", script or ""))


def check_shape(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    max_layers = max_layers_of(base)
    bad_group, bad_chain, bad_src, bad_cmd = [], [], [], []
    by_path = {x["path"]: x for x in plan["packages"].values()}
    for t, p, v in combos(plan):
        got = base["memberLayers"][t][p][v]
        want = expected_layers(plan, v, max_layers)
        where = f"{t}/{p}/{v}"
        if [layer["own"] for layer in got] != want:
            bad_group.append(f"{where}: {[layer['own'] for layer in got]} != {want}")
            continue
        deps = base["deps"][t][p][v]
        below = deps["out"]
        for i, layer in enumerate(got):
            seen = sorted(m for own in want[: i + 1] for m in own)
            if layer["cargoArtifacts"] != below:
                bad_chain.append(f"{where} layer {i}: starts from {layer['cargoArtifacts']}, not {below}")
            below = layer["out"]
            if layer["members"] != seen or real_members(layer["memberSrcScript"]) != seen or layer["src"] != layer["memberSrcOut"]:
                bad_src.append(f"{where} layer {i}: sees {real_members(layer['memberSrcScript'])} real, not {seen}")
            if any(dep not in seen for m in layer["own"] for dep in by_path[m]["workspace_deps"]):
                bad_group.append(f"{where} layer {i}: a member below one of its dependencies")
            if (
                cargo_lines(layer["buildPhase"], "build") != cargo_lines(deps["buildPhase"], "build")
                or cargo_lines(layer["buildPhase"], "check")
                or layer["doCheck"]
                or layer["env"] != {k: x for k, x in deps["env"].items() if k != "CRANE_BUILD_DEPS_ONLY"}
                or (layer["vendorDir"], layer["artifactsMode"]) != (deps["vendorDir"], deps["artifactsMode"])
                or not layer["installsArtifacts"]
            ):
                bad_cmd.append(f"{where} layer {i}: not the dependency build's cargo build invocations, environment and artifacts mode")
        for root in plan["variants"][v]["builds"]:
            pk = base["packages"][t][p][v][root]
            if got and (pk["cargoArtifacts"] != got[-1]["out"] or pk["src"] != got[-1]["src"]):
                bad_chain.append(f"{where}/{root}: not built on the top layer from its source")
    check_none(
        f"{tag}: each variant's members are in layers by depth in the member graph (at most {max_layers}; each member's dependencies in its layer or below)",
        bad_group,
    )
    check_none(f"{tag}: each member layer starts from the one below (the first from the dependency derivation), every package from the top one", bad_chain)
    check_none(f"{tag}: each member layer sees its own and lower members' sources only, every other member a stub", bad_src)
    check_none(
        f"{tag}: member layers run the dependency build's cargo build invocations in its environment, install their target directory (same artifacts mode), no check or test build, no deps-only marker",
        bad_cmd,
    )


def check_edits(tag: str, plan: dict, facts: dict, edited: dict) -> None:
    """For each layer of each combination: changed or not after an edit of a
    top, a middle and a bottom member, as predicted from the member graph."""
    trees = facts["trees"]
    base = trees["base"]
    max_layers = max_layers_of(base)
    for label, position in (("rs_root", "top"), ("rs_middle", "middle"), ("rs_shared", "bottom")):
        if label not in trees:
            continue
        member = edited[label]
        wrong, moved_count, kept_count = [], 0, 0
        for t, p, v in combos(plan):
            layers = expected_layers(plan, v, max_layers)
            at = layer_of(layers, member)
            for i, layer in enumerate(trees[label]["memberLayers"][t][p][v]):
                moved = layer["drvPath"] != base["memberLayers"][t][p][v][i]["drvPath"]
                should = at is not None and at <= i
                moved_count += moved
                kept_count += not moved
                if moved != should:
                    wrong.append(f"{t}/{p}/{v} layer {i}: changed={moved}, predicted={should} ({member} in layer {at})")
        check(
            f"{tag}: {label} ({position} member {member}): exactly its layer and those above change, in every variant that builds it ({moved_count} layers changed, {kept_count} not)",
            not wrong and (moved_count > 0 or max_layers == 0),
            "; ".join(wrong[:4]),
        )


def check_rehearsal(tmp: Path) -> None:
    """scripts/member-layers-rehearsal.sh on the fixture workspace, with
    crane's own hooks: passes in both artifacts modes, and fails as crane
    issue 385 says when use-symlink links what it inherits (the reason nix/
    copies it)."""
    if shutil.which("rsync") is None:
        skip("member-layers rehearsal", "rsync not installed (crane's use-symlink inheritance needs it)")
        return
    script = ROOT / "scripts" / "member-layers-rehearsal.sh"
    for mode, extra, should_pass in (("use-zstd", [], True), ("use-symlink", [], True), ("use-symlink", ["--link-inherited"], False)):
        proc = run(
            ["bash", str(script), "--workspace", str(FIXTURE_WS), "--plan", str(FIXTURE_PLAN), "--artifacts-mode", mode, *extra],
            timeout=900,
            env=dict(os.environ, REHEARSAL_DIR=str(tmp / f"rehearsal-{mode}{''.join(extra)}"), NIX_INPUTS_DIR=str(INPUTS_DIR)),
        )
        out = proc.stdout + proc.stderr
        tail = out.strip().splitlines()[-1:] or [""]
        if should_pass:
            check(
                f"member-layers rehearsal on the fixture ({mode}): each layer compiles its own members, an edit its layer and those above ({tail[0]})",
                proc.returncode == 0 and tail[0].endswith(" 0 failed") and "edit bottom" in out,
                out[-1500:],
            )
        else:
            check(
                f"member-layers rehearsal ({mode} {' '.join(extra)}): rustc cannot overwrite a linked inherited unit (crane issue 385)",
                proc.returncode != 0 and "is not writeable" in out,
                out[-800:],
            )
