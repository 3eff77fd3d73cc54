"""Assertions on the evaluated matrix: dependency derivations, packages,
cargo arguments and profiles, edits, linking, compilers, outputs, shells."""

from __future__ import annotations

import json
import re
import shlex
import tomllib

from nixtest import cargo_lines, check, check_none, closure, combos, main_package
import layers


# ---------------------------------------------------------------------------
# What the plan says, rendered independently of nix/
# ---------------------------------------------------------------------------


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def profile_config(plan: dict, profile: str) -> dict:
    """The effective profile table the plan describes: settings,
    build-override and per-package settings, with `overrides` on top."""
    p = plan["profiles"][profile]
    ov = p.get("overrides", {})
    table = {k: f["value"] for k, f in p.get("settings", {}).items()} | ov.get("settings", {})
    bo = {k: f["value"] for k, f in p.get("build_override", {}).items()} | ov.get("build_override", {})
    if bo:
        table["build-override"] = bo
    pkgs = {}
    for name in sorted(set(p.get("package", {})) | set(ov.get("package", {}))):
        pkgs[name] = {k: f["value"] for k, f in p.get("package", {}).get(name, {}).items()} | ov.get("package", {}).get(name, {})
    if pkgs:
        table["package"] = pkgs
    if p.get("inherits"):
        table["inherits"] = p["inherits"]
    return table


def configs_of(words: list[str]) -> tuple[list[str], dict]:
    """Splits `--config K=V` pairs out of a cargo argument list and merges
    them as TOML (each must parse)."""
    rest, merged, i = [], {}, 0
    while i < len(words):
        if words[i] == "--config" and i + 1 < len(words):
            doc = tomllib.loads(words[i + 1])
            stack = [(merged, doc)]
            while stack:
                into, frm = stack.pop()
                for k, v in frm.items():
                    if isinstance(v, dict):
                        stack.append((into.setdefault(k, {}), v))
                    else:
                        into[k] = v
            i += 2
        else:
            rest.append(words[i])
            i += 1
    return rest, merged


def expected_rustflags(target: dict) -> list[str]:
    flags = []
    if target.get("fuse_ld"):
        flags += ["-C", f"link-arg=-fuse-ld={target['fuse_ld']}"]
    if target.get("target_cpu"):
        flags += ["-C", f"target-cpu={target['target_cpu']}"]
    if target.get("static"):
        flags += ["-C", "target-feature=+crt-static"]
    elif target.get("triple"):
        flags += ["-C", "target-feature=-crt-static"]
    return flags + list(target.get("extra_rustflags", []))


# ---------------------------------------------------------------------------
# Assertions on the evaluated facts
# ---------------------------------------------------------------------------


def check_matrix(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    deps, pkgs = base["deps"], base["packages"]
    internal = base["internal"]
    n = len(plan["targets"]) * len(plan["profiles"]) * len(plan["variants"])

    all_deps = [deps[t][p][v]["drvPath"] for t, p, v in combos(plan)]
    # One layer: crane's buildDepsOnly. Two (a base lock): the top layer, on
    # the base layer's buildDepsOnly (check_layers).
    want_kind = "depsLayer" if base["layers"]["mode"] == "layered" else "buildDepsOnly"
    check(
        f"{tag}: one distinct dependency derivation ({want_kind}) per target/profile/variant ({n})",
        len(set(all_deps)) == n and all(deps[t][p][v]["kind"] == want_kind for t, p, v in combos(plan)),
        f"{len(set(all_deps))} distinct of {n}; kinds {sorted({deps[t][p][v]['kind'] for t, p, v in combos(plan)})}",
    )

    bad_share, bad_args, bad_kind, bad_deps_args, bad_config = [], [], [], [], []
    bad_unified, unified_seen = [], 0
    for t, p, v in combos(plan):
        variant = plan["variants"][v]
        d = deps[t][p][v]
        # The packages start from the top member layer (layers.py checks the
        # chain down to `d`), or from `d` without member layers.
        start = (base["memberLayers"][t][p][v] or [d])[-1]
        want_config = profile_config(plan, p)
        artifacts = set()
        for root, build in variant["builds"].items():
            pk = pkgs[t][p][v][root]
            artifacts.add(pk["cargoArtifacts"])
            if pk["cargoArtifacts"] != start["out"]:
                bad_share.append(f"{t}/{p}/{v}/{root}: cargoArtifacts {pk['cargoArtifacts']} is not {start['out']}")
            lines = cargo_lines(pk["buildPhase"], "build")
            if len(lines) != 1:
                bad_args.append(f"{t}/{p}/{v}/{root}: {len(lines)} cargo build lines")
                continue
            words, config = configs_of(lines[0])
            if words != ["--locked"] + build["cargo_args"]:
                bad_args.append(f"{t}/{p}/{v}/{root}: {words}")
            if config != ({"profile": {p: want_config}} if want_config else {}):
                bad_config.append(f"{t}/{p}/{v}/{root}: {config} != {want_config}")
            feats = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--features"]
            given = sorted(",".join(feats).split(",") if feats else [])
            if variant.get("unified"):
                # U (every root, their features together) + this root's targets,
                # computed here from the plan's binaries, not read back.
                bins = plan["packages"][root].get("binaries") or []
                targets = [x for b in bins for x in ("--bin", b)] or ["--lib"]
                selected = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--package"]
                if words != ["--locked"] + variant["cargo_args"] + targets:
                    bad_unified.append(f"{t}/{p}/{v}/{root}: {words} is not U + {targets}")
                if sorted(selected) != sorted(variant["packages"]):
                    bad_unified.append(f"{t}/{p}/{v}/{root}: selects {selected}, not every root")
                if "--all-features" not in words and not set(build["features"]) <= set(given):
                    bad_args.append(f"{t}/{p}/{v}/{root}: features {build['features']} not in {given}")
            else:
                if given != sorted(build["features"]):
                    bad_args.append(f"{t}/{p}/{v}/{root}: features {feats} != {build['features']}")
                if ("--no-default-features" in words) == build["default_features"]:
                    bad_args.append(f"{t}/{p}/{v}/{root}: default features mismatch")
            want_kind = "buildPackage" if plan["packages"][root].get("binaries") else "cargoBuild"
            if pk["kind"] != want_kind:
                bad_kind.append(f"{t}/{p}/{v}/{root}: {pk['kind']}")
            # Every variable, CARGO_PROFILE included: another profile than
            # the dependency build's would recompile every inherited unit.
            if pk["env"] != {k: x for k, x in d["env"].items() if k != "CRANE_BUILD_DEPS_ONLY"} or pk["vendorDir"] != d["vendorDir"]:
                diff = sorted(set(pk["env"].items()) ^ set(d["env"].items()))
                bad_share.append(f"{t}/{p}/{v}/{root}: environment differs from its dependency build: {diff[:4]}")
        if len(artifacts) != 1:
            bad_share.append(f"{t}/{p}/{v}: {len(artifacts)} different cargoArtifacts")
        build_lines = [configs_of(l) for l in cargo_lines(d["buildPhase"], "build")]
        expected = [["--locked"] + a for a in variant["deps_cargo_args"]]
        if [w for w, _ in build_lines] != expected:
            bad_deps_args.append(f"{t}/{p}/{v}: build {[w for w, _ in build_lines]}")
        if variant.get("unified"):
            unified_seen += 1
            if [w for w, _ in build_lines] != [["--locked"] + variant["cargo_args"]]:
                bad_unified.append(f"{t}/{p}/{v}: deps run {[w for w, _ in build_lines]}, not U once")
        if any(c != ({"profile": {p: want_config}} if want_config else {}) for _, c in build_lines):
            bad_config.append(f"{t}/{p}/{v}: deps --config differs from the plan's profile")
        with_dev = t == internal["checksTarget"]
        ws = ["--locked", "--workspace", "--all-features"]
        if with_dev:
            if [configs_of(l)[0] for l in cargo_lines(d["buildPhase"], "check")] != [ws + ["--all-targets"]]:
                bad_deps_args.append(f"{t}/{p}/{v}: check --workspace --all-features --all-targets missing")
            if [configs_of(l)[0] for l in cargo_lines(d["checkPhase"], "test")] != [ws + ["--no-run"]] or not d["doCheck"]:
                bad_deps_args.append(f"{t}/{p}/{v}: test --workspace --all-features --no-run missing")
        elif cargo_lines(d["buildPhase"], "check") or d["doCheck"]:
            bad_deps_args.append(f"{t}/{p}/{v}: compiles dev-dependencies it never needs")
        if d["src"] != base["sources"]["depsOut"]:
            bad_deps_args.append(f"{t}/{p}/{v}: not built from the stub workspace ({d['src']})")
        if d["env"].get("CARGO_PROFILE") != p:
            bad_deps_args.append(f"{t}/{p}/{v}: CARGO_PROFILE {d['env'].get('CARGO_PROFILE')}")

    check_none(
        f"{tag}: every package reuses its combination's one dependency derivation (through the member layers), with its environment (CARGO_PROFILE included) and vendored crates",
        bad_share,
        5,
    )
    check_none(f"{tag}: package cargo arguments are exactly the plan's features", bad_args, 5)
    check_none(
        f"{tag}: --config arguments are valid TOML and state exactly the plan's effective profile (settings, build-override, package, overrides, inherits)",
        bad_config,
    )
    check_none(f"{tag}: binary packages use buildPackage, library-only ones cargoBuild", bad_kind, 5)
    check_none(f"{tag}: dependency builds run deps_cargo_args, one invocation per list", bad_deps_args, 5)
    multi_root = [v for v, x in plan["variants"].items() if len(x["builds"]) > 1]
    check(
        f"{tag}: a unified multi-root variant's deps derivation runs U once and each package U + its --bin/--lib"
        f" ({unified_seen} unified combination(s); multi-root variants: {multi_root})",
        not bad_unified and (unified_seen > 0 or not multi_root),
        "; ".join(bad_unified[:5]),
    )


def check_edits(tag: str, plan: dict, facts: dict, edited: dict) -> None:
    trees = facts["trees"]
    base = trees["base"]

    def deps_paths(tree):
        return {(t, p, v): tree["deps"][t][p][v]["drvPath"] for t, p, v in combos(plan)}

    for label in ("rs_root", "rs_middle", "rs_shared", "manifest_comment"):
        tree = trees[label]
        changed = [k for k, v in deps_paths(tree).items() if v != deps_paths(base)[k]]
        check(
            f"{tag}: {label} ({edited[label]}): no dependency derivation changes",
            not changed and tree["sources"]["deps"] == base["sources"]["deps"],
            f"changed: {changed[:3]}",
        )
        wrong = []
        for t, p, v in combos(plan):
            # With member layers every package of a variant starts from its
            # top layer, which every member of the variant reaches.
            layered = bool(base["memberLayers"][t][p][v])
            for root in plan["variants"][v]["builds"]:
                moved = tree["packages"][t][p][v][root]["drvPath"] != base["packages"][t][p][v][root]["drvPath"]
                should = edited[label] in (layers.variant_members(plan, v) if layered else closure(plan, root))
                if moved != should:
                    wrong.append(f"{t}/{p}/{v}/{root}: rebuilt={moved}, expected={should}")
        check_none(
            f"{tag}: {label} ({edited[label]}): exactly the packages built from that crate rebuild (with member layers: every package of a variant that builds it)",
            wrong,
            4,
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


def linking_problems(plan: dict, base: dict) -> list[str]:
    problems = []
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        upper = (triple or "").upper().replace("-", "_")
        lower = (triple or "").replace("-", "_")
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                for root, pk in base["packages"][name][p][v].items():
                    env, nbi, where = pk["env"], pk["nativeBuildInputs"], f"{name}/{p}/{v}/{root}"
                    want = expected_rustflags(target)
                    fuse = target.get("fuse_ld")
                    if fuse and f"{(triple + '-') if triple else ''}ld.{fuse}-links" not in nbi:
                        problems.append(f"{where}: -fuse-ld={fuse} without the linker links on PATH ({nbi})")
                    if any("--target=" in val for val in env.values()):
                        problems.append(f"{where}: a bare-clang --target= flag reaches the cross cc")
                    if not triple:
                        if "CARGO_BUILD_TARGET" in env or env.get("CARGO_BUILD_RUSTFLAGS", "").split() != want:
                            problems.append(f"{where}: native target env {env}")
                        continue
                    cc = env.get(f"CARGO_TARGET_{upper}_LINKER", "")
                    if env.get("CARGO_BUILD_TARGET") != triple:
                        problems.append(f"{where}: CARGO_BUILD_TARGET {env.get('CARGO_BUILD_TARGET')}")
                    if not re.fullmatch(rf"/nix/store/[0-9a-z]{{32}}-{re.escape(triple)}-gcc-wrapper/bin/{re.escape(triple)}-cc", cc):
                        problems.append(f"{where}: linker {cc!r} is not the {target.get('nix_cross')} cross cc")
                    if env.get(f"CC_{lower}") != cc or not re.fullmatch(rf"/nix/store/\S+/bin/{re.escape(triple)}-ar", env.get(f"AR_{lower}", "")):
                        problems.append(f"{where}: CC/AR for cc-rs not the cross toolchain")
                    if env.get(f"CARGO_TARGET_{upper}_RUSTFLAGS", "").split() != want:
                        problems.append(f"{where}: rustflags {env.get(f'CARGO_TARGET_{upper}_RUSTFLAGS')} != plan's {want}")
    return problems


def compiler_problems(plan: dict, base: dict) -> list[str]:
    """Target C code gets the cross compiler through CC_<triple>/AR_<triple>
    only; build scripts and proc-macros get the build machine's compiler
    (HOST_CC), and no input's setup hook exports the cross compiler as CC."""
    problems = []
    for name, target in sorted(plan["targets"].items()):
        triple = target.get("triple")
        for p in sorted(plan["profiles"]):
            for v in sorted(plan["variants"]):
                for root, pk in list(base["packages"][name][p][v].items()) + [("deps", base["deps"][name][p][v])]:
                    env, nbi, where = pk["env"], pk["nativeBuildInputs"], f"{name}/{p}/{v}/{root}"
                    for key in ("CC", "CXX", "AR", "LD"):
                        if key in env:
                            problems.append(f"{where}: sets {key} for every compilation")
                    if not re.fullmatch(r"/nix/store/[0-9a-z]{32}-gcc-wrapper/bin/cc", env.get("HOST_CC", "")):
                        problems.append(f"{where}: HOST_CC {env.get('HOST_CC')!r} is not the build machine's stdenv cc")
                    if any(re.search(r"-(gcc|cc|clang)-wrapper$", n) for n in nbi):
                        problems.append(f"{where}: a compiler wrapper among nativeBuildInputs ({[n for n in nbi if 'wrapper' in n]}): its setup hook would export CC")
    return problems


def check_linking(tag: str, plan: dict, facts: dict) -> None:
    base = facts["trees"]["base"]
    cross = [t for t in plan["targets"].values() if t.get("triple")]
    problems = linking_problems(plan, base)
    check(
        f"{tag}: cross targets link through their pkgsCross cc with the plan's rustflags and the linker links on PATH",
        not problems and len(cross) >= 2,
        "; ".join(problems[:4]) or f"{len(cross)} cross targets",
    )
    problems = compiler_problems(plan, base)
    check_none(f"{tag}: target C code gets the cross compiler via CC_<triple> only; build machine code HOST_CC", problems, 4)


def c_all(base: dict) -> list[dict]:
    """Every dependency build, package build and check of one evaluation."""
    out = list(base["checks"].values())
    for profiles in base["deps"].values():
        for variants in profiles.values():
            out += variants.values()
    for profiles in base["packages"].values():
        for variants in profiles.values():
            for roots in variants.values():
                out += roots.values()
    return out


def check_outputs(tag: str, plan: dict, facts: dict, system: str, has_helper: bool = True) -> None:
    base = facts["trees"]["base"]
    out = base["outputs"]
    packages, checks = out["packages"], set(out["checks"])
    internal = base["internal"]
    main = internal["main"]
    arch = system.split("-")[0]
    host = f"{arch}-unknown-linux-musl"
    check(f"{tag} [{system}]: main package {main} is the plan's (default variant, not the generator)", main == main_package(plan))
    check(f"{tag} [{system}]: packages are static musl builds for this architecture", internal["hostTarget"] == host, internal["hostTarget"])

    want = ["default", main, f"{main}-image"]
    want += [f"{main}-{t.replace('-unknown-linux-', '-')}" for t, x in plan["targets"].items() if x.get("triple")]
    want += [f"{main}-{v}" for v in plan["variants"] if v != plan["workspace"]["default_variant"] and main in plan["variants"][v]["builds"]]
    missing = [w for w in want if w not in packages]
    check(f"{tag} [{system}]: named packages exist", not missing, f"missing {missing}")
    check(f"{tag} [{system}]: {main} is the {host} build", packages.get(main) == packages.get(f"{main}-{arch}-musl") == packages.get("default"))

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
                if x.get("triple") and packages.get(f"{name}-{short}") != base["packages"][t][plan["workspace"]["default_profile"]][home][name]["drvPath"]:
                    missing_roots.append(f"{name}-{short}")
    check(f"{tag} [{system}]: every package a variant builds has an output", not missing_roots, f"missing: {missing_roots}")

    need = {"clippy", "nextest", "rustfmt", "cargo-machete", f"{main}-static-{arch}-musl"} | ({"plan-fresh"} if has_helper else set())
    check(f"{tag} [{system}]: checks exist", need <= checks and set(packages) - {"default"} <= checks, f"missing {sorted(need - checks)}")
    check(f"{tag} [{system}]: apps", {main, "default"} <= set(out["apps"]), str(out["apps"]))
    wrong = sorted({d["system"] for d in c_all(base)} - {system})
    check(f"{tag} [{system}]: every cargo derivation builds on {system} (the stand-in honours the evaluated system)", not wrong, str(wrong))
    check(
        f"{tag} [{system}]: every package, check and shell is a derivation",
        all(re.fullmatch(r"/nix/store/[0-9a-z]{32}-.+\.drv", d) for group in ("packages", "checks", "devShells") for d in out[group].values())
        and out["formatter"].endswith("-nixfmt.drv"),
    )

    c = base["checks"]
    deps = base["deps"][internal["checksTarget"]][internal["checksProfile"]][dv]
    check(
        f"{tag} [{system}]: clippy and nextest reuse the checks combination's dependency derivation",
        c["clippy"]["cargoArtifacts"] == deps["out"] == c["nextest"]["cargoArtifacts"],
        f"{c['clippy']['cargoArtifacts']} vs {deps['out']}",
    )
    ws = ["--locked", "--workspace", "--all-features"]
    clippy = [configs_of(l)[0] for l in cargo_lines(c["clippy"]["buildPhase"], "clippy")]
    check(
        f"{tag} [{system}]: clippy covers the whole workspace with all features and targets, and denies warnings",
        clippy == [ws + ["--all-targets", "--", "--deny", "warnings"]],
        str(clippy),
    )
    nextest = [shlex.split(l) for l in (c["nextest"]["checkPhase"] or "").splitlines() if "nextest run" in l]
    rest = configs_of(nextest[0])[0] if len(nextest) == 1 else []
    check(
        f"{tag} [{system}]: nextest runs the whole workspace's tests with all features, failing when none run",
        rest[:3] == ["cargo", "nextest", "run"] and rest[5:8] == ws and rest[-1] == "--no-tests=fail" and c["nextest"]["doCheck"],
        str(nextest),
    )
    check(
        f"{tag} [{system}]: nextest carries the workspace's test tools and environment ({base['call']['via']}'s checkEnv)",
        "kcat" in c["nextest"]["nativeBuildInputs"] and "cargo-nextest" in c["nextest"]["nativeBuildInputs"]
        and base["call"]["checkEnv"] and c["nextest"]["env"].items() >= base["call"]["checkEnv"].items(),
        str(c["nextest"]["nativeBuildInputs"]),
    )
    if has_helper:
        helper = internal["helper"]
        check(
            f"{tag} [{system}]: plan freshness runs the natively built helper",
            c["plan-fresh"]["buildPhase"] and "cargo buildplan check" in c["plan-fresh"]["buildPhase"]
            and helper and helper["env"].get("CARGO_BUILD_TARGET") is None
            and any(n == helper["name"] for n in c["plan-fresh"]["nativeBuildInputs"]),
        )
    own = c[f"{main}-static-{arch}-musl"]["buildCommand"] or ""
    others = [c[k]["buildCommand"] or "" for k in checks if k.startswith(f"{main}-static-") and k != f"{main}-static-{arch}-musl"]
    check(
        f"{tag} [{system}]: the static check runs --version on this architecture only",
        "--version" in own and others and all("INTERP" in o and "--version" not in o for o in others),
    )

    tc = base["toolchain"]
    check(
        f"{tag} [{system}]: one fenix stable toolchain with cargo, rustc, clippy, rustfmt, rust-src and a rust-std per target, used by crane",
        all(any(f"rust-std-" in u and u.endswith(f"-{t['triple']}.tar.gz") for u in tc["stableUrls"]) for t in plan["targets"].values() if t.get("triple"))
        and any(n.startswith("cargo-stable") for n in tc["stable"]) and any(n.startswith("clippy-stable") for n in tc["stable"])
        and any(n.startswith("rustfmt-preview-stable") for n in tc["stable"]) and any(n.startswith("rust-src-stable") for n in tc["stable"])
        and tc["crane"] == "rust-mixed",
        str(tc),
    )
    check(f"{tag} [{system}]: the nightly toolchain has Cranelift", any(n.startswith("rustc-codegen-cranelift-preview-nightly") for n in tc["nightly"]), str(tc["nightly"]))

    img = base["image"]
    check(
        f"{tag} [{system}]: image: static {main}, CA certificates, passwd/group, non-root user, no shell",
        "cacert" in img["contents"] and f"{main}-etc" in img["contents"]
        and any(n.startswith(main) for n in img["contents"])
        and not any(re.search(r"bash|coreutils|busybox", n) for n in img["contents"])
        and img["config"]["User"].split(":")[0] not in ("0", "root", "")
        and img["config"]["Entrypoint"][0].endswith(f"/bin/{plan['packages'][main]['binaries'][0]}"),
        str(img),
    )
    sh = base["shells"]
    helper_name = internal["helper"]["name"] if internal["helper"] else None
    check(
        f"{tag} [{system}]: devShells.default: tools, the workspace's test tools, the native helper, sccache with CARGO_INCREMENTAL=0",
        {"rust-mixed", "rust-analyzer", "mold", "sccache", "cargo-nextest", "cargo-machete", "kcat"} <= set(sh["default"]["packages"])
        and (helper_name is None or helper_name in sh["default"]["packages"])
        and sh["default"]["RUSTC_WRAPPER"] == "sccache" and sh["default"]["CARGO_INCREMENTAL"] == "0",
        str(sh["default"]),
    )
    check(
        f"{tag} [{system}]: devShells.nightly's cargo reads .cargo/nightly.toml",
        sh["nightly"]["packages"][0] == "cargo" and "--config" in sh["nightly"]["wrapper"]
        and ".cargo/nightly.toml" in sh["nightly"]["shellHook"],
    )

    manifests = base["sources"]["depsManifests"]
    bad = [
        path
        for path, m in manifests.items()
        if not re.fullmatch(r"/nix/store/[0-9a-z]{32}-dummy\.rs", m.get("package", {}).get("build", "")) or "lints" in m
    ]
    check(
        f"{tag} [{system}]: every stub manifest's build script is the store stub (crane's guard against stale fingerprints)",
        set(manifests) == set(plan["workspace"]["members"]) and not bad,
        f"bad: {bad}",
    )


def check_no_cross_in_shells(tag: str, plan: dict, facts: dict, system: str) -> None:
    """nix develop needs no cross build: every package the shells pull is a
    native one (no CARGO_BUILD_TARGET)."""
    base = facts["trees"]["base"]
    helper = base["internal"]["helper"]
    native = base["internal"]["nativeTarget"]
    ok = helper is not None and helper["env"].get("CARGO_BUILD_TARGET") is None and native == "host"
    want = None
    if helper:
        for v in plan["variants"]:
            for p in plan["profiles"]:
                cand = base["packages"][native][p][v].get(helper["pname"])
                if cand and cand["drvPath"] == helper["drvPath"]:
                    want = (p, v)
    check(f"{tag} [{system}]: the shells' helper is the native build ({want}), no cross toolchain", ok and want is not None, str(helper and helper["env"]))
