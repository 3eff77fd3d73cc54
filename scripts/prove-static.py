#!/usr/bin/env python3
"""Proves from a binary itself (never from the flags that built it) that it
is a static executable for the expected machine, linked by the expected
linker, and that the C objects its build scripts compiled are for the same
machine. Reads everything with binutils' readelf.

    prove-static.py BINARY --arch aarch64 --linker lld [--objects DIR ...]
    prove-static.py --cargo-messages build.json --package chronik-server \\
        --arch aarch64 --linker lld [--require zstd-sys ...]

With --cargo-messages (the output of a cargo build run with
--message-format=json...), the binary is the package's executable from
its `compiler-artifact` message, and the object directories are the
`out_dir`s of the `build-script-executed` messages of build scripts run
for the target (their out_dir lies under <target-dir>/<triple>/) whose
directory holds C objects (.o) or archives (.a).

Checks, each printed as one line:
  - no PT_INTERP program header (no dynamic loader is asked for);
  - no DT_NEEDED entry (no shared library is loaded);
  - the ELF machine of the binary;
  - the linker's mark in .comment: mold writes "mold <version>", lld
    "Linker: <vendor> LLD <version>"; the other linker's mark must be absent;
  - every object in each object directory (archive members included) has
    the expected ELF machine.
Exit status 1 if any check fails, 2 on bad usage.
"""

import argparse
import json
import os
import re
import subprocess
import sys

# readelf's "Machine:" text for each architecture name the plan uses.
MACHINES = {
    "x86_64": "Advanced Micro Devices X86-64",
    "aarch64": "AArch64",
}

# How each linker signs .comment.
LINKER_MARKS = {
    "mold": re.compile(r"\bmold \d"),
    "lld": re.compile(r"Linker: .*\bLLD \d"),
}


def readelf(*args):
    """readelf's output (wide), or raises with its error."""
    out = subprocess.run(
        ["readelf", "-W", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"readelf {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def machines(path):
    """The ELF machine of a file, or of each member of an archive."""
    return re.findall(r"^\s*Machine:\s*(.+?)\s*$", readelf("-h", path), re.M)


def comment_strings(path):
    """The strings of the .comment section (empty if there is none)."""
    out = subprocess.run(
        ["readelf", "-W", "-p", ".comment", path],
        capture_output=True,
        text=True,
        check=False,
    )
    return re.findall(r"^\s*\[\s*[0-9a-f]+\]\s+(.*?)\s*$", out.stdout, re.M)


def object_files(directory):
    """The .o and .a files under a directory, sorted."""
    found = []
    for dirpath, _, files in os.walk(directory):
        found += [os.path.join(dirpath, f) for f in files if f.endswith((".o", ".a"))]
    return sorted(found)


def prove(binary, arch, linker, object_dirs):
    """The checks as (ok, line) pairs."""
    results = []
    headers = readelf("-l", binary)
    interp = re.search(r"^\s*INTERP\b.*$", headers, re.M)
    results.append(
        (interp is None, "no PT_INTERP" if interp is None else "PT_INTERP present")
    )
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", readelf("-d", binary))
    results.append(
        (not needed, "no DT_NEEDED" if not needed else f"DT_NEEDED: {', '.join(needed)}")
    )
    got = machines(binary)
    results.append(
        (got == [MACHINES[arch]], f"ELF machine: {', '.join(got) or 'none'} (expected {MACHINES[arch]})")
    )
    comments = comment_strings(binary)
    marks = {name: [c for c in comments if pat.search(c)] for name, pat in LINKER_MARKS.items()}
    others = [c for name, cs in marks.items() if name != linker for c in cs]
    ok = bool(marks[linker]) and not others
    results.append(
        (
            ok,
            f".comment linker mark: {'; '.join(marks[linker]) or 'none'} (expected {linker})"
            + (f", but also {'; '.join(others)}" if others else ""),
        )
    )
    for directory in object_dirs:
        files = object_files(directory)
        seen = {}
        for f in files:
            for m in machines(f):
                seen[m] = seen.get(m, 0) + 1
        ok = bool(seen) and set(seen) == {MACHINES[arch]}
        summary = ", ".join(f"{n} {m}" for m, n in sorted(seen.items())) or "no objects"
        results.append((ok, f"C objects in {directory}: {len(files)} files, {summary}"))
    return results


def package_name(package_id):
    """The package name in a cargo package id (`...#name@version`, or
    `...#version` for a path package whose directory is its name)."""
    tail = package_id.rsplit("#", 1)[-1]
    if "@" in tail:
        return tail.split("@", 1)[0]
    return package_id.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def from_cargo_messages(path, package):
    """(executable, {out_dir: package name}) of a package's build, from
    cargo's JSON messages."""
    executable, out_dirs = None, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            if msg.get("reason") == "compiler-artifact":
                if msg.get("executable") and msg["target"]["name"] == package:
                    executable = msg["executable"]
            elif msg.get("reason") == "build-script-executed":
                out_dirs[msg["out_dir"]] = package_name(msg["package_id"])
    if executable is None:
        raise RuntimeError(f"{path}: no executable of {package} among cargo's messages")
    # The target's build scripts write under <target-dir>/<triple>/; build
    # scripts of build-machine crates under <target-dir>/<profile>/.
    target_root = os.path.dirname(os.path.dirname(os.path.dirname(executable)))
    out_dirs = {
        d: name
        for d, name in out_dirs.items()
        if d.startswith(target_root + os.sep) and object_files(d)
    }
    return executable, out_dirs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", nargs="?")
    parser.add_argument("--arch", required=True, choices=sorted(MACHINES))
    parser.add_argument("--linker", required=True, choices=sorted(LINKER_MARKS))
    parser.add_argument("--objects", action="append", default=[], metavar="DIR")
    parser.add_argument("--cargo-messages", metavar="FILE")
    parser.add_argument("--package")
    parser.add_argument("--require", action="append", default=[], metavar="PKG",
                        help="with --cargo-messages: fail unless PKG's build script left C objects")
    parser.add_argument("--print-binary", action="store_true",
                        help="print the binary's path last, on stdout")
    args = parser.parse_args()
    try:
        binary, object_dirs = args.binary, list(args.objects)
        if args.cargo_messages:
            if not args.package:
                parser.error("--cargo-messages needs --package")
            binary, found = from_cargo_messages(args.cargo_messages, args.package)
            object_dirs += sorted(found)
            absent = sorted(set(args.require) - set(found.values()))
            if absent:
                print(f"prove-static: no C objects from the build scripts of {', '.join(absent)}",
                      file=sys.stderr)
                return 1
        if not binary:
            parser.error("give a BINARY or --cargo-messages")
        results = prove(binary, args.arch, args.linker, object_dirs)
    except (RuntimeError, OSError) as e:
        print(f"prove-static: {e}", file=sys.stderr)
        return 1
    print(f"prove-static: {binary} ({os.path.getsize(binary)} bytes)", file=sys.stderr)
    for ok, line in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {line}", file=sys.stderr)
    failed = [line for ok, line in results if not ok]
    if args.print_binary:
        print(binary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
