"""Proofs with real tools: the cross link, build-machine C with cc-rs, the
static-check script, the stub workspace as cargo reads it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tomllib
from pathlib import Path

from nixtest import FIXTURE_PLAN, HERE, HOSTC_WS, INPUTS_USED, NIX_FLAGS, ROOT, WORK, check, check_none, nix_env, nix_eval, nix_string, realise, run, skip


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
    check_none(f"{tag}: every stub manifest written by crane's writer parses as TOML with the same content", bad_toml)
    # The resolves below are offline: on a fresh machine nothing has
    # downloaded the workspace's crates yet.
    proc = run(["cargo", "fetch", "--locked"], cwd=tree, timeout=900)
    check(f"{tag}: cargo fetch --locked downloads the crates the offline resolves below read", proc.returncode == 0, proc.stderr[-400:])
    dummy, real = third_party_graph(tmp / f"dummy-{tag}"), third_party_graph(tree)
    if isinstance(real, str):
        skip(f"{tag}: cargo resolve of the real workspace", real)
    else:
        check(
            f"{tag}: cargo accepts the layers' normalized Cargo.lock with --locked and resolves exactly the real graph (cargo tree: {real[1]} third-party crates, same features and edges)",
            dummy == real,
            dummy if isinstance(dummy, str) else "\n".join(l for l in __import__("difflib").unified_diff(real[0].splitlines(), dummy[0].splitlines(), lineterm=""))[:800],
        )
    check_none(
        f"{tag}: cargo metadata of the stub workspace lists every member ({members}) with the real targets (stub build script aside)",
        diffs,
    )
