#!/usr/bin/env bash
# Rehearses, with plain cargo, the two phases the Nix flake runs through crane,
# on the real workspace:
#
#   phase 1  dependency build: a copy of the workspace in which every target's
#            source is a stub and every member's manifest points `build` at a
#            stub build script outside the tree (what nix/lib/mkDummyWorkspace.nix
#            and crane's mkDummySrc produce), built with the variant's
#            deps_cargo_args from nix/plan.json. Then every file gets mtime 1,
#            as in the Nix store.
#   phase 2  package build: the real sources, in the same directory and on the
#            same target dir, every file with mtime 1 (`touch -d @1`), as Nix
#            unpacks them. cargo's JSON messages must show no third-party crate
#            compiled (all `"fresh": true`) while every workspace crate is
#            compiled, and the binary must be the real one (`--version`).
#   phase 3  an edited workspace .rs file, on a fresh copy of the phase-1
#            artifacts (each Nix package build starts from them): the edited
#            crate is compiled, third-party crates still are not.
#   control  the same without the stub build script: cargo cannot tell stub
#            from real source by mtime (both 1), so it keeps the stub binary.
#            This is the stale-fingerprint trap the stub build script defeats
#            (crane issue #117; see the comment in nix/lib/mkDummyWorkspace.nix).
#
# Usage: scripts/crane-rehearsal.sh [--variant NAME] [--no-control]
# Work dir: $REHEARSAL_DIR (default: target/crane-rehearsal), emptied first.
# Builds with the dev profile (deps unoptimised to keep it short); the phases
# use identical settings, which is all the rehearsal needs. Prints one line
# per check and `N passed, N failed` last; exits non-zero on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
variant=minimal
control=1
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=${2:?--variant needs a name}; shift 2 ;;
    --no-control) control=0; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "crane-rehearsal: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=${REHEARSAL_DIR:-$repo/target/crane-rehearsal}
case "$work" in /|"$repo"|"$HOME") echo "crane-rehearsal: refusing work dir $work" >&2; exit 2 ;; esac
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
unset RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_RUSTFLAGS || true
cargo_timeout=${REHEARSAL_CARGO_TIMEOUT:-1800}

exec python3 - "$repo" "$work" "$variant" "$control" "$cargo_timeout" <<'PY'
import json, os, re, shutil, subprocess, sys, tomllib
from pathlib import Path

repo, work, variant, control, cargo_timeout = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", int(sys.argv[5])
sys.path.insert(0, str(repo / "tests" / "nix"))
from nixtest import COUNTS, check  # noqa: E402  (the PASS/FAIL lines and counts of tests/nix)
source = work / "source"          # the one build directory, like /build/<name>
target = work / "target"
snapshot = work / "deps-artifacts"
stub_build = work / "stubs" / "dummy-build.rs"   # outside the tree, like the store path

DUMMY = "#![allow(clippy::all)]\n#![allow(dead_code)]\n#[allow(unused_extern_crates)]\nextern crate core;\npub fn main() {}\n"
# Same settings in every phase; dependencies unoptimised to keep this short.
PROFILE = ["--profile", "dev", "--config", 'profile.dev.package."*".opt-level=0', "--config", "profile.dev.debug=false"]


def finish():
    print(f"{COUNTS['passed']} passed, {COUNTS['failed']} failed")
    sys.exit(1 if COUNTS["failed"] else 0)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def repo_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=repo, capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f and (repo / f).is_file()]


def store_like(path):
    """Every file and directory mtime 1, as in the Nix store."""
    run(["find", str(path), "-exec", "touch", "-h", "-d", "@1", "{}", "+"])


def put_real_source(edit=None):
    if source.exists():
        shutil.rmtree(source)
    for rel in repo_files():
        dst = source / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, dst, follow_symlinks=False)
    if edit:
        path, text = edit
        (source / path).write_text((source / path).read_text() + text)
    store_like(source)


def cargo_build(args, log):
    cmd = ["cargo", "build", "--locked", "-j", "2", "--message-format=json-render-diagnostics", *PROFILE, *args]
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=source, stdout=out, stderr=subprocess.PIPE, text=True, timeout=cargo_timeout)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"crane-rehearsal: `{' '.join(cmd)}` failed in {source}")
    return [json.loads(l) for l in open(log) if l.startswith("{")]


def artifacts(messages):
    return [m for m in messages if m.get("reason") == "compiler-artifact"]


def is_workspace(m):
    return m["package_id"].startswith("path+file://")


def name_of(m):
    return m["target"]["name"]


# --- what to build: the plan's variant, or the server with default features
plan_file = repo / "nix" / "plan.json"
if plan_file.is_file():
    plan = json.loads(plan_file.read_text())
    if variant not in plan["variants"]:
        raise SystemExit(f"crane-rehearsal: variant `{variant}` is not in nix/plan.json ({', '.join(plan['variants'])})")
    v = plan["variants"][variant]
    deps_args = v["deps_cargo_args"]
    root = "chronik-server" if "chronik-server" in v["builds"] else sorted(v["builds"])[0]
    root_args = v["builds"][root]["cargo_args"]
    print(f"plan: variant {variant}, root {root}: {' '.join(root_args)}")
else:
    root = "chronik-server"
    deps_args = [["--package", root]]
    root_args = ["--package", root]
    print(f"plan: nix/plan.json not found; building {root} with its default features")

# --- the workspace as cargo sees it (targets, build scripts)
put_real_source()
meta = json.loads(run(["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked"],
                      cwd=source, capture_output=True).stdout)
members = [p for p in meta["packages"] if p["id"] in meta["workspace_members"]]
root_pkg = next(p for p in members if p["name"] == root)
binary = next(t["name"] for t in root_pkg["targets"] if "bin" in t["kind"])


def make_dummy(guard):
    """Phase-1 source: manifests, lockfile, cargo config and stub targets only.
    With `guard`, every member's `build` points at a stub outside the tree."""
    shutil.rmtree(source)
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml"]:
        if (repo / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / rel, source / rel)
    for pkg in members:
        manifest = Path(pkg["manifest_path"])
        pkg_dir = manifest.parent
        rel_dir = pkg_dir.relative_to(source)
        dst_dir = source / rel_dir
        dst_dir.mkdir(parents=True, exist_ok=True)
        text = (repo / rel_dir / "Cargo.toml").read_text()
        if guard:
            out, in_package = [], False
            for line in text.splitlines():
                s = line.strip()
                if s.startswith("["):
                    in_package = s == "[package]"
                    out.append(line)
                    if in_package:
                        out.append(f'build = "{stub_build}"')
                    continue
                if in_package and re.match(r"build\s*=", s):
                    continue
                out.append(line)
            text = "\n".join(out) + "\n"
            assert tomllib.loads(text)["package"]["build"] == str(stub_build), manifest
        (dst_dir / "Cargo.toml").write_text(text)
        for t in pkg["targets"]:
            if "custom-build" in t["kind"] and guard:
                continue  # replaced by the stub outside the tree
            stub = dst_dir / Path(t["src_path"]).relative_to(pkg_dir)
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text(DUMMY)
    store_like(source)


def saw(messages, pred):
    return sorted({name_of(m) for m in artifacts(messages) if pred(m)})


def check_package_build(tag, messages, expect_workspace_compiled=True):
    third = [m for m in artifacts(messages) if not is_workspace(m)]
    stale_third = saw(messages, lambda m: not is_workspace(m) and not m["fresh"])
    check(f"{tag}: no third-party crate compiled ({len(third)} reused, all \"fresh\": true)",
          third and not stale_third, f"compiled: {stale_third}")
    ws_fresh = saw(messages, lambda m: is_workspace(m) and m["fresh"])
    ws_built = saw(messages, lambda m: is_workspace(m) and not m["fresh"])
    if expect_workspace_compiled:
        check(f"{tag}: every workspace crate compiled from the real source ({', '.join(ws_built)})",
              ws_built and not ws_fresh, f"reused from the stub build: {ws_fresh}")
    return ws_built, ws_fresh


def run_binary(messages):
    exe = [m["executable"] for m in artifacts(messages) if m.get("executable") and name_of(m) == binary]
    if not exe:
        return None, ""
    proc = subprocess.run([exe[-1], "--version"], capture_output=True, text=True, timeout=60)
    return exe[-1], (proc.stdout + proc.stderr).strip()


# --- phase 1
stub_build.parent.mkdir(parents=True, exist_ok=True)
stub_build.write_text(DUMMY)
store_like(stub_build)
make_dummy(guard=True)
phase1 = []
for i, args in enumerate(deps_args):
    phase1 += cargo_build(args, work / f"phase1-{i}.json")
check("phase 1: dependency build from stubs compiled the third-party crates",
      saw(phase1, lambda m: not is_workspace(m) and not m["fresh"]))
store_like(target)
run(["cp", "-a", str(target), str(snapshot)])

# --- phase 2
put_real_source()
phase2 = cargo_build(root_args, work / "phase2.json")
check_package_build("phase 2", phase2)
exe, version = run_binary(phase2)
want = f"{root_pkg['version']}"
check(f"phase 2: the binary is the real one (`{binary} --version` printed {version!r})",
      exe and binary.split("-")[0] in version and want in version,
      "an empty or foreign answer means the stub binary was kept")

# --- phase 3
shutil.rmtree(target)
run(["cp", "-a", str(snapshot), str(target)])
edited = Path(next(t["src_path"] for t in root_pkg["targets"] if "bin" in t["kind"])).relative_to(source)
put_real_source(edit=(edited, "\n// edited by scripts/crane-rehearsal.sh\n"))
phase3 = cargo_build(root_args, work / "phase3.json")
ws_built, _ = check_package_build("phase 3", phase3, expect_workspace_compiled=False)
check(f"phase 3: the edited crate ({root}, {edited}) is compiled",
      any(name_of(m) == binary and not m["fresh"] for m in artifacts(phase3)))
exe, version3 = run_binary(phase3)
check("phase 3: the rebuilt binary runs", exe and want in version3, version3)

# --- control: no stub build script, same mtimes: the trap
if control:
    shutil.rmtree(target)
    run(["mv", str(snapshot), str(target)])
    make_dummy(guard=False)
    for i, args in enumerate(deps_args):
        cargo_build(args, work / f"control1-{i}.json")
    store_like(target)
    put_real_source()
    ctl = cargo_build(root_args, work / "control2.json")
    _, fresh = check_package_build("control", ctl, expect_workspace_compiled=False)
    exe, version_ctl = run_binary(ctl)
    check("control: without the stub build script cargo keeps the stub workspace crates (the trap is real)",
          fresh and want not in version_ctl,
          f"fresh workspace crates: {fresh}; --version printed {version_ctl!r}")
else:
    shutil.rmtree(snapshot, ignore_errors=True)

finish()
PY
