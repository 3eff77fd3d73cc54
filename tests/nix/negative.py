"""Negative controls: mutations of nix/ and plans the assertions must
reject."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from matrix import compiler_problems
from nixtest import FIXTURE_PLAN, FIXTURE_WS, HERE, ROOT, captured, check
from proofs import DEBIAN_CROSS, cross_link, dummy_workspace_problems, hostc_build, target_env
from trees import evaluate, make_trees
import layers


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

    # Member layers that see every member of their variant: the edits of a
    # middle and a bottom member reach the layers below them.
    all_real = mutant(
        tmp, "layers-see-everything", "nix/builds.nix",
        "src = sources.forMembers layer.members;",
        "src = sources.forMembers (lib.last (layersOf variant)).members;",
    )
    if all_real:
        layer_trees, edited = make_trees(FIXTURE_WS, None, plan, tmp / "layers-see-everything-trees")
        facts = evaluate(inputs, layer_trees, FIXTURE_PLAN, "x86_64-linux", all_real)
        with captured() as results:
            layers.check_shape("mutant", plan, facts)
            layers.check_edits("mutant", plan, facts, edited)
        failures = [name for name, ok, _ in results if not ok]
        check(
            "negative control member layers that see every member: the layer source and edit assertions reject them",
            any("sees its own and lower" in f for f in failures) and any("rs_middle" in f for f in failures),
            "; ".join(failures[:4]) or "no check failed",
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
