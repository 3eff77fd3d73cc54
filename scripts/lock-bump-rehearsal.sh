#!/usr/bin/env bash
# Rehearses, with plain cargo, what the layered dependency artifacts of the
# Nix flake (nix/README.md, "Layered dependency artifacts") rely on: starting
# from the target directory of an older lock, cargo compiles only what a lock
# bump changed.
#
# In a scratch copy of the workspace (outside the repository) whose targets
# are all stubs (the dependency builds' source, as in scripts/crane-rehearsal.sh):
#
#   base     the variant's dependencies (`deps_cargo_args` of nix/plan.json)
#            built from the base lock (nix/base.lock, else Cargo.lock); the
#            target directory is kept as the base artifacts
#   leaf     one leaf crate of the variant bumped in Cargo.lock to a real newer
#            patch release on crates.io (`cargo update -p CRATE --precise VER`;
#            when no leaf has one, the lock being up to date, an older one),
#            rebuilt from the base artifacts: the third-party crates cargo
#            compiled (`compiler-artifact` messages with "fresh": false) must be
#            exactly that crate and its reverse dependencies in the variant
#            (`cargo tree -i`), nothing else
#   member   a workspace member's version bumped (manifest, workspace
#            requirement, `cargo update --workspace`), rebuilt from the base
#            artifacts: no third-party crate may compile
#
# Each build runs with `cargo -v` (its `Dirty` lines), and the helper's freshness
# gate (`cargo buildplan why --fresh --log --messages`) must pass the member
# build and fail the leaf build naming the bumped crate.
#
# With --bench it also bumps a crate near the root (syn), and builds each bump
# twice, side by side: single layer (a clean dependency build, what one
# dependency derivation per lock does) and layered (from the base artifacts),
# printing the times and unit counts for BENCHMARKS.md. The root bump is
# reported, not asserted.
#
# Usage: scripts/lock-bump-rehearsal.sh [--variant NAME] [--leaf CRATE[,CRATE]] [--root CRATE[,CRATE]] [--bench]
# (--leaf: the leaf to bump instead of the automatic pick; with --bench every
# one listed is measured. --root: default syn.)
# Work dir: $REHEARSAL_DIR, else a fresh `mktemp -d` (removed at the end
# unless $KEEP_REHEARSAL=1). Needs crates.io (the bumped releases). Dev profile
# with unoptimised dependencies, as in scripts/crane-rehearsal.sh. Prints one
# line per check and `N passed, N failed` last; exits non-zero on any failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
variant=minimal
leaf=""
root_crate=syn
bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=${2:?--variant needs a name}; shift 2 ;;
    --leaf) leaf=${2:?--leaf needs a crate}; shift 2 ;;
    --root) root_crate=${2:?--root needs a crate}; shift 2 ;;
    --bench) bench=1; shift ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "lock-bump-rehearsal: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -n "${REHEARSAL_DIR:-}" ]; then
  work=$REHEARSAL_DIR
  case "$work" in /|"$repo"|"$HOME") echo "lock-bump-rehearsal: refusing work dir $work" >&2; exit 2 ;; esac
  rm -rf "$work"
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/lock-bump-rehearsal.XXXXXX")
  if [ "${KEEP_REHEARSAL:-0}" != 1 ]; then
    trap 'rm -rf "$work"' EXIT
  fi
fi
case "$work" in "$repo"/*) echo "lock-bump-rehearsal: the work dir must be outside the repository" >&2; exit 2 ;; esac

# The helper (for its `why --fresh` gate) is built in the caller's target dir.
helper_target=${CARGO_TARGET_DIR:-$repo/target}
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
unset RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_RUSTFLAGS || true

python3 - "$repo" "$work" "$variant" "$leaf" "$root_crate" "$bench" "$helper_target" <<'PY'
import json, os, re, shutil, subprocess, sys, time, tomllib
from pathlib import Path

repo, work, variant, leaf_arg, root_crate, bench = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == "1"
helper_target = sys.argv[7]
sys.path.insert(0, str(repo / "tests" / "nix"))
from nixtest import COUNTS, check  # noqa: E402  (the PASS/FAIL lines and counts of tests/nix)
source, target = work / "source", work / "target"
snapshot = work / "base-artifacts"
DUMMY = "#![allow(clippy::all)]\n#![allow(dead_code)]\n#[allow(unused_extern_crates)]\nextern crate core;\npub fn main() {}\n"
PROFILE = ["--profile", "dev", "--config", 'profile.dev.package."*".opt-level=0', "--config", "profile.dev.debug=false"]
results = []  # (scenario, build, seconds, third-party units compiled, workspace units compiled)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, cwd=kw.pop("cwd", source), **kw)


def out(cmd):
    return run(cmd, capture_output=True).stdout


def load():
    return open("/proc/loadavg").read().split()[0]


# --- the variant
plan = json.loads((repo / "nix" / "plan.json").read_text())
if variant not in plan["variants"]:
    raise SystemExit(f"lock-bump-rehearsal: variant `{variant}` is not in nix/plan.json ({', '.join(plan['variants'])})")
deps_args = plan["variants"][variant]["deps_cargo_args"]
base_lock = repo / "nix" / "base.lock"
if not base_lock.is_file():
    base_lock = repo / "Cargo.lock"
print(f"variant {variant}: {' / '.join(' '.join(a) for a in deps_args)}; base lock {base_lock.relative_to(repo)}; "
      f"{os.cpu_count()} cores, load {load()} at the start", flush=True)

# --- the stub workspace: manifests, the base lock, cargo config, stub targets
files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       cwd=repo, capture_output=True, check=True).stdout.decode().split("\0")
for rel in files:
    if rel and (repo / rel).is_file() and (rel in ("Cargo.toml", ".cargo/config.toml") or rel.endswith("/Cargo.toml")):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, source / rel)
shutil.copy2(base_lock, source / "Cargo.lock")
meta = json.loads(run(["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked", "--offline"], cwd=repo, capture_output=True).stdout)
members = {p["name"]: p for p in meta["packages"] if p["id"] in meta["workspace_members"]}
for name, pkg in members.items():
    pkg_dir = Path(pkg["manifest_path"]).parent
    # Only the members' own manifests (fixture workspaces under a member are not copied).
    for t in pkg["targets"]:
        stub = source / Path(t["src_path"]).relative_to(repo)
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(DUMMY)
# Drop manifests that are not members (fixtures inside member directories).
member_manifests = {Path(p["manifest_path"]).relative_to(repo) for p in members.values()}
for manifest in source.rglob("Cargo.toml"):
    rel = manifest.relative_to(source)
    if rel != Path("Cargo.toml") and rel not in member_manifests:
        manifest.unlink()


def lock_versions():
    """(name, version, source) of every package of Cargo.lock."""
    return {(p["name"], p["version"], p.get("source")) for p in tomllib.loads((source / "Cargo.lock").read_text())["package"]}


def build(label):
    """The variant's dependency build; returns seconds and the compiled units."""
    messages = []
    start = time.monotonic()
    for i, args in enumerate(deps_args):
        cmd = ["cargo", "build", "-v", "--locked", "-j", "2", "--message-format=json-render-diagnostics", *PROFILE, *args]
        # `-v` gives the `why` gate cargo's `Dirty` lines; the fingerprint
        # log is its optional extra.
        env = dict(os.environ, CARGO_LOG="cargo::core::compiler::fingerprint=info")
        proc = subprocess.run(cmd, cwd=source, capture_output=True, text=True, env=env)
        (work / f"{label}-{i}.json").write_text(proc.stdout)
        (work / f"{label}-{i}.log").write_text(proc.stderr)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"lock-bump-rehearsal: `{' '.join(cmd)}` failed ({label})")
        messages += [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    seconds = time.monotonic() - start
    compiled = [m for m in messages if m.get("reason") == "compiler-artifact" and not m["fresh"]]
    third = sorted({m["package_id"] for m in compiled if not m["package_id"].startswith("path+")})
    ours = sorted({m["target"]["name"] for m in compiled if m["package_id"].startswith("path+")})
    return seconds, third, ours, messages


def helper():
    """The helper's binary, built from the repository (not the scratch copy)."""
    proc = subprocess.run(["cargo", "build", "-q", "--locked", "-p", "cargo-buildplan", "--bin", "cargo-buildplan",
                           "--message-format=json"], cwd=repo, capture_output=True, text=True,
                          env=dict(os.environ, CARGO_TARGET_DIR=helper_target))
    if proc.returncode != 0:
        raise SystemExit(f"lock-bump-rehearsal: building the helper failed:\n{proc.stderr[-2000:]}")
    exe = [json.loads(l).get("executable") for l in proc.stdout.splitlines() if l.startswith("{")]
    return [e for e in exe if e][-1]


def gate(label):
    """`cargo buildplan why --fresh` over the saved build `label` (its JSON
    messages and `cargo -v` standard error): (passed, output)."""
    ok, text = True, ""
    for i in range(len(deps_args)):
        proc = subprocess.run([HELPER, "--manifest-path", str(source / "Cargo.toml"), "why", "--fresh",
                               "--log", str(work / f"{label}-{i}.log"), "--messages", str(work / f"{label}-{i}.json")],
                              cwd=source, capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"lock-bump-rehearsal: the why gate could not read {label}-{i}:\n{proc.stderr[-2000:]}")
        ok = ok and proc.returncode == 0
        text += proc.stdout + proc.stderr
    return ok, text


def crate_of(package_id):
    # registry+https://github.com/rust-lang/crates.io-index#name@1.2.3
    tail = package_id.rsplit("#", 1)[-1]
    return tail.split("@")[0] if "@" in tail else tail.split(":")[0]


def reverse_deps(*specs):
    """The crates `specs` (NAME or NAME@VERSION) and every third-party crate
    of the variant that depends on one of them (cargo tree -i), as names."""
    names = set()
    for args in deps_args:
        proc = subprocess.run(["cargo", "tree", "--locked", "-e", "normal,build", "--prefix", "none", "-f", "{p}", *args,
                               *[x for spec in specs for x in ("-i", spec)]],
                              cwd=source, capture_output=True, text=True)
        if proc.returncode != 0:
            continue  # not in this invocation's graph
        for line in proc.stdout.splitlines():
            m = re.match(r"(\S+) v\S+( \(.*\))?", line.strip())
            if m and not (m.group(2) or "").startswith(" (/"):
                names.add(m.group(1))
    return names


def restore(lock_text):
    shutil.rmtree(target)
    run(["cp", "-a", str(snapshot), str(target)])
    (source / "Cargo.lock").write_text(lock_text)


def other_patch(crate, version):
    """Another real patch release of `crate` on crates.io, as `cargo update`
    finds it: a newer one (`--dry-run`), else, when the lock already has the
    newest, an older one (`--precise` of the previous patch numbers, dry run).
    Returns (version, "newer" | "older") or None."""
    proc = subprocess.run(["cargo", "update", "--dry-run", "-p", f"{crate}@{version}"], cwd=source, capture_output=True, text=True)
    m = re.search(rf"Updating {re.escape(crate)} v(\S+) -> v(\S+)", proc.stderr)
    if m and m.group(1).split(".")[:2] == m.group(2).split(".")[:2]:
        return m.group(2), "newer"
    major, minor, patch = version.split("+")[0].split("-")[0].split(".")
    for p in range(int(patch) - 1, max(int(patch) - 4, -1), -1):
        candidate = f"{major}.{minor}.{p}"
        proc = subprocess.run(["cargo", "update", "--dry-run", "-p", f"{crate}@{version}", "--precise", candidate],
                              cwd=source, capture_output=True, text=True)
        if proc.returncode == 0 and re.search(rf"(Updating|Downgrading) {re.escape(crate)} v\S+ -> v{re.escape(candidate)}", proc.stderr):
            return candidate, "older"
    return None


def bump_and_build(scenario, crate, asserted):
    base_text = (source / "Cargo.lock").read_text()
    # A version the variant builds (a crate may be in the lock twice, e.g.
    # syn 2 and 3): the newest with another patch release.
    versions = sorted((v for n, v, src in lock_versions() if src and n == crate and f"{n}@{v}" in variant_units),
                      key=lambda v: [int(x) if x.isdigit() else 0 for x in v.split("+")[0].split("-")[0].split(".")], reverse=True)
    found = None
    for version in versions:
        found = other_patch(crate, version)
        if found:
            break
    if found is None:
        return False
    new, direction = found
    run(["cargo", "update", "-q", "-p", f"{crate}@{version}", "--precise", new])
    moved = sorted(lock_versions() - lock_versions_base)
    changed = sorted(n for n, v, src in moved)
    print(f"{scenario}: {crate} {version} -> {new} in Cargo.lock (a real {direction} patch release; changed entries: {', '.join(changed)})", flush=True)
    bumped_text = (source / "Cargo.lock").read_text()
    # Every package the bump moved (e.g. serde moves serde_core and
    # serde_derive with it) and its reverse dependencies.
    expected = reverse_deps(*[f"{n}@{v}" for n, v, src in moved if src])
    restore(bumped_text)
    secs, third, ours, _ = build(f"{scenario}-layered")
    names = sorted({crate_of(p) for p in third})
    results.append((scenario, "layered (from the base artifacts)", secs, len(third), len(ours), load()))
    print(f"{scenario}: layered rebuild compiled {len(third)} third-party crates ({', '.join(names)}) and {len(ours)} stub members in {secs:.1f} s", flush=True)
    if asserted:
        check(f"{scenario}: only {crate} moved in Cargo.lock", changed == [crate], str(changed))
        check(f"{scenario}: the third-party crates compiled are exactly {crate} and its reverse dependencies in the variant ({len(expected)}: {', '.join(sorted(expected))})",
              set(names) == expected and len(third) == len(expected),
              f"compiled {names}; expected {sorted(expected)}")
        # The gate is not vacuous: this build did compile third-party crates.
        ok, text = gate(f"{scenario}-layered")
        check(f"{scenario}: the why gate (cargo buildplan why --fresh) fails this build, naming {crate}",
              not ok and f"{crate}@" in text, text[-1500:])
    else:
        print(f"{scenario}: the moved crates and their reverse dependencies in the variant: {len(expected)} ({', '.join(sorted(expected))}); "
              f"compiled and not among them: {sorted(set(names) - expected)}", flush=True)
    if bench:
        shutil.rmtree(target)
        secs1, third1, ours1, _ = build(f"{scenario}-single")
        results.append((scenario, "single layer (clean dependency build)", secs1, len(third1), len(ours1), load()))
        print(f"{scenario}: single-layer rebuild compiled {len(third1)} third-party crates in {secs1:.1f} s; layered/single = {secs / secs1:.2f}", flush=True)
    (source / "Cargo.lock").write_text(base_text)
    return True


HELPER = helper()

# --- base
secs, third, ours, base_messages = build("base")
results.append(("base", "base layer (clean dependency build, base lock)", secs, len(third), len(ours), load()))
print(f"base: {len(third)} third-party crates and {len(ours)} stub members compiled in {secs:.1f} s", flush=True)
check("base: the dependency build from the base lock compiled the variant's third-party crates", bool(third))
run(["cp", "-a", str(target), str(snapshot)])
lock_versions_base = lock_versions()
variant_units = {m["package_id"].rsplit("#", 1)[-1] for m in base_messages
                 if m.get("reason") == "compiler-artifact" and not m["package_id"].startswith("path+")}
variant_crates = sorted({u.split("@")[0] for u in variant_units})

# --- leaf: a crate without dependencies, fewest reverse dependencies first
if leaf_arg:
    candidates = leaf_arg.split(",")
else:
    lock = tomllib.loads((source / "Cargo.lock").read_text())["package"]
    count = {}
    for p in lock:
        count[p["name"]] = count.get(p["name"], 0) + 1
    leaves = [p["name"] for p in lock if "source" in p and not p.get("dependencies") and count[p["name"]] == 1 and p["name"] in variant_crates]
    candidates = sorted(leaves, key=lambda n: (len(reverse_deps(n)), n))[:12]
measured = 0
for crate in candidates:
    restore((source / "Cargo.lock").read_text())
    if bump_and_build(f"leaf {crate}", crate, asserted=True):
        measured += 1
        # One leaf unless several were asked for (--leaf A,B --bench measures each).
        if not (leaf_arg and bench):
            break
    elif leaf_arg:
        check(f"leaf: {crate} is a crate of the variant with another patch release on crates.io", False)
if not measured:
    check("leaf: a leaf crate of the variant with another patch release on crates.io", False, f"tried {candidates}")

# --- member: a workspace member's version bump
restore((source / "Cargo.lock").read_text())
by_manifest = {p["manifest_path"]: n for n, p in members.items()}
built_members = {by_manifest.get(str(repo / Path(m["manifest_path"]).relative_to(source))) for m in base_messages
                 if m.get("reason") == "compiler-artifact" and m["package_id"].startswith("path+")}
server_deps = [n for n in members if n != "chronik-server" and n in built_members]
member = sorted(server_deps)[0] if server_deps else "chronik-server"
manifest = Path(members[member]["manifest_path"]).relative_to(repo)
old = members[member]["version"]
major, minor, patch = old.split(".")[:3]
new = f"{major}.{minor}.{int(patch.split('-')[0]) + 1}"
text = (source / manifest).read_text()
text = re.sub(r'(?m)^version(\.workspace\s*=\s*true|\s*=\s*"[^"]*")', f'version = "{new}"', text, count=1)
(source / manifest).write_text(text)
root_manifest = (source / "Cargo.toml").read_text()
(source / "Cargo.toml").write_text(re.sub(rf'(?m)^({re.escape(member)}\s*=\s*{{.*version\s*=\s*)"[^"]*"', rf'\1"{new}"', root_manifest))
run(["cargo", "update", "-q", "--workspace", "--offline"])
changed = sorted(f"{n} {v}" for n, v, src in lock_versions() ^ lock_versions_base)
print(f"member: {member} {old} -> {new} (Cargo.lock: {', '.join(changed)})", flush=True)
check(f"member: Cargo.lock moved only for {member}", changed == sorted([f"{member} {old}", f"{member} {new}"]), str(changed))
secs, third, ours, _ = build("member-layered")
results.append(("member", "layered (from the base artifacts)", secs, len(third), len(ours), load()))
check(f"member: no third-party crate compiled after {member}'s version bump ({len(ours)} stub members did, in {secs:.1f} s)",
      not third, f"compiled {third}")
ok, text = gate("member-layered")
check("member: the why gate (cargo buildplan why --fresh) passes this build", ok, text[-1500:])
(source / manifest).write_text((repo / manifest).read_text())
(source / "Cargo.toml").write_text(root_manifest)
shutil.copy2(base_lock, source / "Cargo.lock")

# --- root (bench only): reported, not asserted
if bench:
    for crate in root_crate.split(","):
        restore((source / "Cargo.lock").read_text())
        if crate not in variant_crates or not bump_and_build(f"root {crate}", crate, asserted=False):
            print(f"root: {crate} is not in the variant or has no other patch release; nothing measured", flush=True)
    print("\n| scenario | build | seconds | third-party crates compiled | stub members compiled | load after |")
    print("|---|---|---:|---:|---:|---:|")
    for scenario, kind, secs, n_third, n_ours, ld in results:
        print(f"| {scenario} | {kind} | {secs:.1f} | {n_third} | {n_ours} | {ld} |")

print(f"load {load()} at the end")
print(f"{COUNTS['passed']} passed, {COUNTS['failed']} failed")
sys.exit(1 if COUNTS["failed"] else 0)
PY
