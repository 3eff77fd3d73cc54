#!/usr/bin/env python3
"""Structure checks over the workspace's Rust sources.

1. No import circle between modules. Every `src/` file is a module
   (`src/lib.rs` and `src/main.rs` are the crate root, `src/a.rs` and
   `src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`). An edge goes from a
   module to each module of its own crate it names in code: `use` trees and
   paths starting with `crate::`, `super::`, `self::` or the name of one of
   its child modules. `mod x;` declarations are not edges, and neither are
   the crate root's `pub use` re-exports (the root is the crate's facade).
   Inline modules (`mod tests { ... }`) count as part of their file.
   Comments and string literals are ignored.

2. No source file over MAX_LINES lines outside its inline `#[cfg(test)]`
   module ("mostly tests" files are fine; files under `tests/` are tests).

3. Under the helper and its bench harness (STRICT_DIRS), no `.rs` file
   over STRICT_MAX_LINES lines, whole file (tests, `tests/` and fixtures
   included): issue 19, "every file is at most 400 lines".

Usage: check.py [ROOT ...]   (default: every crate under crates/, and
STRICT_DIRS for rule 3)
Exits 1 listing each circle and each oversized file, 0 otherwise.
"""

import pathlib
import re
import sys

MAX_LINES = 600

STRICT_MAX_LINES = 400
STRICT_DIRS = ("helper", "bench")

REPO = pathlib.Path(__file__).resolve().parents[2]


def strip_code(text):
    """`text` with comments, string and char literals blanked (newlines
    kept, so line counts survive)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not (
            i and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0))
        elif c == "'" and re.match(r"'\\u\{[0-9a-fA-F]+\}'", text[i:i + 12]):
            m = re.match(r"'\\u\{[0-9a-fA-F]+\}'", text[i:])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(src, path):
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def expand_use(tree):
    """Paths of a use tree body (`a::{b, c::d}` -> a::b, a::c::d)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        items, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            items.append(cur)
        for item in items:
            m = re.match(r"^(.*?)::\{(.*)\}$", item)
            if m:
                walk(prefix + m.group(1).split("::"), m.group(2))
            elif item.startswith("{") and item.endswith("}"):
                walk(prefix, item[1:-1])
            else:
                out.append(prefix + [p for p in item.split("::") if p])

    walk([], tree)
    return out


PATH_RE = re.compile(r"(?<![\w:])((?:[A-Za-z_]\w*)(?:::[A-Za-z_]\w*)+)")
USE_RE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
INLINE_MOD_RE = re.compile(r"\bmod\s+(\w+)\s*\{")


def resolve(segments, current, children, modules, reexports):
    """The module of this crate `segments` (as written in `current`) names,
    or None for other crates and local items. An item the crate root
    re-exports resolves to the module defining it."""
    first = segments[0]
    if first == "crate":
        absolute = list(segments[1:])
    elif first in ("super", "self"):
        base = list(current)
        rest = list(segments)
        while rest and rest[0] in ("super", "self"):
            if rest.pop(0) == "super":
                if not base:
                    return None
                base.pop()
        absolute = base + rest
    elif first in children:
        absolute = list(current) + list(segments)
    else:
        return None
    if absolute and absolute[0] in reexports:
        return reexports[absolute[0]]
    for k in range(len(absolute), -1, -1):
        if tuple(absolute[:k]) in modules:
            return tuple(absolute[:k])
    return None


def edges_of(text, module, modules, reexports):
    """Modules of this crate named by `text`, the code of `module`."""
    found = set()
    is_root = module == ()
    # Inline modules: code inside `mod x { ... }` resolves relative to
    # module::x, but its edges belong to the file.
    spans = []
    for m in INLINE_MOD_RE.finditer(text):
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        spans.append((m.start(), j, m.group(1)))

    def where(pos):
        inner = [name for (a, b, name) in spans if a <= pos < b]
        return tuple(module) + tuple(inner)

    def kids(cur):
        return {m[len(cur)] for m in modules if len(m) == len(cur) + 1 and m[:len(cur)] == cur}

    used = []
    for m in USE_RE.finditer(text):
        if is_root and m.group(1):
            continue  # the root's re-exports
        for segs in expand_use(m.group(2)):
            if segs:
                used.append((m.start(), segs))
    code_only = USE_RE.sub(lambda m: " " * len(m.group(0)), text)
    for m in PATH_RE.finditer(code_only):
        used.append((m.start(), m.group(1).split("::")))
    for pos, segs in used:
        cur = where(pos)
        target = resolve(segs, cur, kids(cur), modules, reexports)
        if target is not None and target != module:
            found.add(target)
    return found


def root_reexports(text, modules):
    """Names the crate root re-exports (`pub use a::X;`), mapped to the
    module they come from."""
    out = {}
    for m in USE_RE.finditer(text or ""):
        if not m.group(1):
            continue
        for segs in expand_use(m.group(2)):
            path = segs[1:] if segs and segs[0] in ("crate", "self") else segs
            for k in range(len(path) - 1, 0, -1):
                if tuple(path[:k]) in modules:
                    out[path[-1]] = tuple(path[:k])
                    break
    return out


def check_crate(crate):
    src = crate / "src"
    files = sorted(src.rglob("*.rs"))
    texts = {f: strip_code(f.read_text()) for f in files}
    modules = {module_of(src, f): f for f in files}
    reexports = root_reexports(texts.get(modules.get(())), modules)
    graph = {m: edges_of(texts[f], m, modules, reexports) for m, f in modules.items()}
    problems = []
    name = lambda m: "::".join(m) or "crate"  # noqa: E731
    for scc in strongly_connected(graph):
        if len(scc) > 1:
            inside = set(scc)
            edges = sorted(
                f"{name(a)} -> {name(b)}" for a in scc for b in graph[a] if b in inside
            )
            problems.append(
                f"{crate.name}: import circle between {', '.join(sorted(map(name, scc)))} "
                f"({'; '.join(edges)})"
            )
    test_files = set()
    for f in files:
        for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+(\w+)\s*;", texts[f]):
            here = module_of(src, f)
            test_files.add(modules.get(here + (m.group(1),)))
    for f in files:
        if f in test_files:
            continue
        raw = f.read_text()
        lines = non_test_lines(raw)
        if lines > MAX_LINES:
            rel = f.relative_to(REPO) if f.is_relative_to(REPO) else f
            problems.append(f"{rel}: {lines} lines outside its tests (limit {MAX_LINES})")
    return problems


def check_strict(root):
    """Rule 3: every `.rs` file under `root` (build output left out) at
    most STRICT_MAX_LINES lines, tests included."""
    problems = []
    for f in sorted(root.rglob("*.rs")):
        if "target" in f.relative_to(root).parts:
            continue
        raw = f.read_text()
        lines = raw.count("\n") + (0 if raw.endswith("\n") or not raw else 1)
        if lines > STRICT_MAX_LINES:
            rel = f.relative_to(REPO) if f.is_relative_to(REPO) else f
            problems.append(f"{rel}: {lines} lines (limit {STRICT_MAX_LINES}, tests included)")
    return problems


def non_test_lines(raw):
    """Lines of `raw` outside a `#[cfg(test)] mod ... { }` block."""
    text = strip_code(raw)
    total = raw.count("\n") + (0 if raw.endswith("\n") else 1)
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        total -= text.count("\n", m.start(), j)
    return total


def strongly_connected(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            out.append(scc)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main(argv):
    roots = [pathlib.Path(a).resolve() for a in argv] or sorted(
        p for p in (REPO / "crates").iterdir() if (p / "Cargo.toml").exists()
    )
    problems = []
    for crate in roots:
        problems += check_crate(crate)
    if not argv:
        for d in STRICT_DIRS:
            problems += check_strict(REPO / d)
    for p in problems:
        print(p)
    if problems:
        print(f"check.py: {len(problems)} problem(s)")
        return 1
    strict = "" if argv else f", nothing over {STRICT_MAX_LINES} lines in {'/, '.join(STRICT_DIRS)}/"
    print(f"check.py: {len(roots)} crate(s): no import circle, no oversized file{strict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
