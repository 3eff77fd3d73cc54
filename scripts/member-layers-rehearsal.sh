#!/usr/bin/env bash
# Replays, with plain cargo, the member layers of the Nix flake (nix/README.md,
# "Member layers") on a workspace, and checks from cargo's JSON messages
# (`compiler-artifact` with "fresh": false) which units each layer compiles.
#
#   deps      the stub workspace (every target a stub, every manifest's
#             `build` a stub script outside the tree, as crane-rehearsal.sh
#             and nix/lib/mkDummyWorkspace.nix do) built with the variant's
#             deps_cargo_args
#   layers    the variant's members grouped as nix/lib/memberLayers.nix does
#             (tests/nix/layers.py computes the same from the plan); layer i
#             is built on layer i-1's target directory (the first on the deps
#             one) from a source in which only its own and lower members are
#             real, with every deps_cargo_args invocation; every source file
#             has mtime 1, as in the Nix store. Target directories pass from
#             layer to layer through crane's own hooks (its setup hooks'
#             prepareAndInstallCargoArtifactsDir and inheritCargoArtifacts,
#             sourced from the real crane tree) in the artifacts mode given,
#             each output made read-only with mtime 1 as the store does. Of the
#             members it sees, it must compile exactly its own, and no
#             third-party unit (the stubs of higher members whose
#             dependencies it made real compile again too: empty files).
#   package   each root's cargo_args on the top layer: nothing compiled.
#   edits     a top, a middle and a bottom member of the variant (the same
#             picks as tests/nix) edited; the layers that changed (the edited
#             member's and those above) rebuilt, each on the one below, the
#             unchanged ones reused: the real units compiled are exactly the
#             members of those layers. The script prints them beside the
#             edited member and its dependents; equal when no member of the
#             edited member's layer or above is independent of it.
#
# Last, a table per layer: the output's size on disk and the seconds crane's
# hooks took to inherit and to install it (nix/README.md's trade-off).
#
# Usage: scripts/member-layers-rehearsal.sh [--workspace DIR] [--plan FILE]
#        [--variant NAME] [--max-layers N] [--artifacts-mode use-zstd|use-symlink]
#        [--no-edits] [--link-inherited]
# Defaults: this repository, DIR/nix/plan.json, the plan's default variant, 4,
# use-zstd. With use-symlink inherited files are copied, as nix/ sets
# doNotLinkInheritedArtifacts; --link-inherited keeps crane's links to the
# read-only outputs instead, which fails (crane issue 385). Needs the crane
# tarball of ${NIX_INPUTS_DIR:-../shared/nix-inputs}, zstd, GNU tar, and rsync
# (use-symlink). scripts/artifacts-modes.sh compares both modes on the work
# dir a use-zstd run leaves.
# Work dir: $REHEARSAL_DIR (default target/member-layers-rehearsal), emptied
# first. Dev profile with unoptimised dependencies (the same settings in
# every phase, which is all the replay needs). Prints one line per check and
# `N passed, N failed` last; exits non-zero on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
workspace=$repo
plan=""
variant=""
max_layers=4
mode=use-zstd
edits=1
link=0
while [ $# -gt 0 ]; do
  case "$1" in
    --workspace) workspace=$(cd "${2:?--workspace needs a directory}" && pwd); shift 2 ;;
    --plan) plan=${2:?--plan needs a file}; shift 2 ;;
    --variant) variant=${2:?--variant needs a name}; shift 2 ;;
    --max-layers) max_layers=${2:?--max-layers needs a number}; shift 2 ;;
    --artifacts-mode) mode=${2:?--artifacts-mode needs use-zstd or use-symlink}; shift 2 ;;
    --no-edits) edits=0; shift ;;
    --link-inherited) link=1; shift ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    *) echo "member-layers-rehearsal: unknown argument $1" >&2; exit 2 ;;
  esac
done
plan=${plan:-$workspace/nix/plan.json}
case "$mode" in use-zstd|use-symlink) ;; *) echo "member-layers-rehearsal: unknown artifacts mode $mode" >&2; exit 2 ;; esac
inputs=${NIX_INPUTS_DIR:-$repo/../shared/nix-inputs}
crane_tarball=$(ls "$inputs"/crane-*.tar.gz 2>/dev/null | head -1)
[ -n "$crane_tarball" ] || { echo "member-layers-rehearsal: no crane tarball in $inputs (set NIX_INPUTS_DIR)" >&2; exit 2; }

work=${REHEARSAL_DIR:-$repo/target/member-layers-rehearsal}
case "$work" in /|"$repo"|"$workspace"|"$HOME") echo "member-layers-rehearsal: refusing work dir $work" >&2; exit 2 ;; esac
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
tar -xzf "$crane_tarball" -C "$work" --wildcards '*/lib/setupHooks/*'
hooks=$(cd "$work"/*/lib/setupHooks && pwd)

export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
unset RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_RUSTFLAGS || true

exec python3 - "$repo" "$workspace" "$plan" "$variant" "$max_layers" "$work" "$hooks" "$mode" "$edits" "$link" <<'PY'
import json, os, shutil, subprocess, sys, time, tomllib
from pathlib import Path

repo, workspace, plan_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
variant_arg, max_layers, work = sys.argv[4], int(sys.argv[5]), Path(sys.argv[6])
hooks, mode, edits, link = Path(sys.argv[7]), sys.argv[8], sys.argv[9] == "1", sys.argv[10] == "1"
sys.path.insert(0, str(repo / "tests" / "nix"))
import layers  # noqa: E402  (the grouping tests/nix checks nix/ against)

source, target = work / "source", work / "target"
stub_build = work / "stubs" / "build.rs"  # outside the tree, like the store path
STUB = "#![allow(dead_code)]\npub fn main() {}\n"
PROFILE = ["--profile", "dev", "--config", 'profile.dev.package."*".opt-level=0', "--config", "profile.dev.debug=false"]
counts = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    counts["passed" if ok else "failed"] += 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok or not detail else f"\n        {detail}"), flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def mtime_one(path):
    """Every file and directory at mtime 1, as in the Nix store and as crane's
    archives restore a target directory."""
    sh(["find", str(path), "-exec", "touch", "-h", "-d", "@1", "{}", "+"])


def workspace_files():
    proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          cwd=workspace, capture_output=True)
    if proc.returncode == 0:
        return [f for f in proc.stdout.decode().split("\0") if f and (workspace / f).is_file()]
    return [str(p.relative_to(workspace)) for p in workspace.rglob("*")
            if p.is_file() and "target" not in p.relative_to(workspace).parts]


plan = json.loads(plan_file.read_text())
variant = variant_arg or plan["workspace"]["default_variant"]
if variant not in plan["variants"]:
    raise SystemExit(f"member-layers-rehearsal: no variant `{variant}` in {plan_file}")
v = plan["variants"][variant]
chain = layers.expected_layers(plan, variant, max_layers)
name_of = {p["path"]: n for n, p in plan["packages"].items()}
print(f"variant {variant}: {len(chain)} layers: " + " | ".join(", ".join(name_of[m] for m in own) for own in chain))
files = workspace_files()
meta = json.loads(sh(["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked"],
                     cwd=workspace, capture_output=True).stdout)
targets = {str(Path(p["manifest_path"]).parent.relative_to(workspace)): p["targets"] for p in meta["packages"]}


def compose(real, edit=None):
    """The workspace with the members in `real` real and every other one a
    stub (its manifest's `build` the stub script, every target a stub file)."""
    shutil.rmtree(source, ignore_errors=True)
    members = plan["workspace"]["members"]
    for rel in files:
        # The innermost member holding the file (members may nest: helper, helper/core).
        owner = max((m for m in members if rel.startswith(m + "/")), key=len, default=None)
        if owner is None or owner in real:
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(workspace / rel, source / rel, follow_symlinks=False)
    for m in members:
        if m in real:
            continue
        text = (workspace / m / "Cargo.toml").read_text()
        lines = [l for l in text.splitlines() if not (l.strip().startswith("build") and "=" in l and "build" == l.split("=")[0].strip())]
        at = lines.index("[package]") + 1
        lines.insert(at, f'build = "{stub_build}"')
        (source / m).mkdir(parents=True, exist_ok=True)
        (source / m / "Cargo.toml").write_text("\n".join(lines) + "\n")
        assert tomllib.loads((source / m / "Cargo.toml").read_text())["package"]["build"] == str(stub_build), m
        for t in targets[m]:
            if "custom-build" not in t["kind"]:
                stub = source / Path(t["src_path"]).relative_to(workspace)
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(STUB)
    if edit:
        path = source / edit
        path.write_text(path.read_text() + "\n// edited by scripts/member-layers-rehearsal.sh\n")
    mtime_one(source)


def build(arg_lists, log):
    """Every argument list as one cargo build; the non-fresh units by package."""
    compiled, seen = set(), set()
    for i, args in enumerate(arg_lists):
        cmd = ["cargo", "build", "--locked", "-j", "2", "--message-format=json-render-diagnostics", *PROFILE, *args]
        with open(f"{log}-{i}.json", "w") as out:
            proc = subprocess.run(cmd, cwd=source, stdout=out, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"member-layers-rehearsal: `{' '.join(cmd)}` failed in {source}")
        for line in open(f"{log}-{i}.json"):
            m = json.loads(line) if line.startswith("{") else {}
            if m.get("reason") == "compiler-artifact":
                pid = m["package_id"]
                key = pid if not pid.startswith("path+file://") else "member:" + str(Path(m["manifest_path"]).parent.relative_to(source))
                seen.add(key)
                if not m["fresh"]:
                    compiled.add(key)
    return compiled, seen


costs = []  # (output, seconds to inherit, seconds to install, KiB on disk)
inherited = {"seconds": 0.0}


def crane(function, *args):
    """One of crane's hook functions, as its setup hook defines it."""
    hook = {"inheritCargoArtifacts": "inheritCargoArtifactsHook.sh"}.get(function, "installCargoArtifactsHook.sh")
    # As in a crane derivation: `cargoArtifacts` always set (empty for none).
    env = dict(os.environ, NIX_BUILD_CORES="2", TMPDIR=str(work / "tmp"), installCargoArtifactsMode=mode,
               cargoArtifacts=str(args[-1]) if function != "inheritCargoArtifacts" else str(args[0]))
    if mode == "use-symlink" and not link:
        env["doNotLinkInheritedArtifacts"] = "1"
    (work / "tmp").mkdir(exist_ok=True)
    start = time.monotonic()
    proc = subprocess.run(["bash", "-eo", "pipefail", "-c", f'source "{hooks / hook}" >/dev/null; {function} "$@"', "crane", *map(str, args)],
                          env=env, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"member-layers-rehearsal: crane's {function} {' '.join(map(str, args))} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return time.monotonic() - start


def restore(output):
    """A build's start: crane's inheritCargoArtifacts of `output` into a new
    target directory."""
    shutil.rmtree(target, ignore_errors=True)
    inherited["seconds"] = crane("inheritCargoArtifacts", output, target)


def keep(output, prev):
    """A build's end: crane's install of the target directory as `output`
    (on `prev`, the output it inherited), then what the store does to an
    output: every mtime 1, read-only."""
    seconds = crane("prepareAndInstallCargoArtifactsDir", output, target, mode, prev or "")
    mtime_one(output)
    sh(["chmod", "-R", "a-w", str(output)])
    kib = int(sh(["du", "-sk", str(output)], capture_output=True).stdout.split()[0])
    costs.append((output.name, inherited["seconds"], seconds, kib))


def run_chain(tag, start, edit=None, edited_layer=0):
    """Builds layers edited_layer.. on the output below. Returns, per layer,
    the units compiled from real sources and the stubs compiled, and every
    unit seen in the last layer."""
    below = start
    result = {}
    for i in range(edited_layer, len(chain)):
        restore(below)
        real = {f"member:{m}" for own in chain[: i + 1] for m in own}
        compose(sorted(m[7:] for m in real), edit)
        compiled, seen = build(v["deps_cargo_args"], work / f"{tag}-layer{i}")
        stubs = {c for c in compiled if c.startswith("member:") and c not in real}
        result[i] = (compiled - stubs, stubs)
        below = work / f"{tag}-out{i}"
        keep(below, work / (start if i == edited_layer else f"{tag}-out{i - 1}"))
    return result, seen


# --- deps
stub_build.parent.mkdir(parents=True, exist_ok=True)
stub_build.write_text(STUB)
mtime_one(stub_build)
compose(set())
shutil.rmtree(target, ignore_errors=True)
compiled, _ = build(v["deps_cargo_args"], work / "deps")
third_party = [p for p in tomllib.loads((workspace / "Cargo.lock").read_text()).get("package", []) if "source" in p]
check(f"deps: the stub workspace's build compiles the third-party crates ({len(third_party)} in Cargo.lock)",
      any(not c.startswith("member:") for c in compiled) or not third_party)
keep(work / "deps-out", None)

# --- the chain from scratch
base, seen = run_chain("base", work / "deps-out")
built = {c.removeprefix("member:") for c in seen if c.startswith("member:")}
bad = {i: sorted(c) for i, (c, _) in base.items() if c != {f"member:{m}" for m in chain[i] if m in built}}
check(f"layers: of the members it sees each layer compiles exactly its own ({', '.join(str(len(c)) for c, _ in base.values())} per layer), "
      f"no third-party unit (stubs of higher members compiled again: {', '.join(str(len(s)) for _, s in base.values())})",
      not bad, str(bad)[:600])

# --- the packages on the top layer
restore(work / f"base-out{len(chain) - 1}")
compiled, _ = build([b["cargo_args"] for b in v["builds"].values()], work / "package")
check(f"package: every root's build on the top layer compiles nothing ({', '.join(v['builds'])})", not compiled, str(sorted(compiled)))

# --- edits
dependents = {m: {p["path"] for p in plan["packages"].values() if m in p["workspace_deps"]} for m in name_of}
picks = layers.pick_edits(plan, variant, max_layers)
for position, member in (picks.items() if edits else []):
    at = layers.layer_of(chain, member)
    rs = next((t["src_path"] for t in targets[member] if "lib" in t["kind"] or "bin" in t["kind"]))
    edit = Path(rs).relative_to(workspace)
    start = work / ("deps-out" if at == 0 else f"base-out{at - 1}")
    result, _ = run_chain(f"edit-{position}", start, edit, at)
    units = set().union(*(c for c, _ in result.values()))
    predicted = {f"member:{m}" for own in chain[at:] for m in own if m in built}
    closure = {f"member:{m}" for m in {member} | dependents[member] if m in built}
    check(f"edit {position} ({name_of[member]}, layer {at}): layers {at}..{len(chain) - 1} rebuilt, compiling exactly their members "
          f"({len(units)}: {', '.join(sorted(name_of[u[7:]] for u in units))}); the edited member and its dependents are {len(closure)}"
          + ("" if units == closure else f" (also compiled, independent of it: {', '.join(sorted(name_of[u[7:]] for u in units - closure))})"),
          units == predicted and closure <= units, f"compiled {sorted(units)}, predicted {sorted(predicted)}")
    restore(work / f"edit-{position}-out{len(chain) - 1}")
    compiled, _ = build([b["cargo_args"] for b in v["builds"].values()], work / f"edit-{position}-package")
    check(f"edit {position}: every root's build on the new top layer compiles nothing", not compiled, str(sorted(compiled)))

load = open("/proc/loadavg").read().split()[:3]
print(f"{mode}: per output, seconds crane's hooks took to inherit the one below and to install it, and KiB on disk (load average {' '.join(load)} at the end)")
for name, inherit_s, install_s, kib in costs:
    print(f"  {name:<24} inherit {inherit_s:7.2f}  install {install_s:7.2f}  {kib:>10} KiB")
print(f"{counts['passed']} passed, {counts['failed']} failed")
sys.exit(1 if counts["failed"] else 0)
PY
