"""The static musl targets' C toolchain, on the fixture workspace
tests/musl/fixture (two tiny binaries), through `cargo buildplan build`:

- cside: its build script compiles C for the target with cc-rs (CC_<triple>)
  and a program for the build machine with HOST_CC, which it runs; the binary
  reports both sides (x86_64 natively, aarch64 under qemu-aarch64-static);
- cmakeside: its build script builds a static C library with CMake through
  the cmake crate (CMAKE_TOOLCHAIN_FILE_<triple>);
- both proven static from the binaries by scripts/prove-static.py (no
  PT_INTERP, no DT_NEEDED, ELF machine, the plan's linker in .comment, the
  build scripts' C objects for the target);
- mutants of the plan (static dropped, linker swapped) must fail the proof.

Each test runs for the active toolchain and for $MUSL_TEST_TOOLCHAINS
(default 1.100.0). A missing tool skips, saying so; under CI=true it fails.

    python3 -m unittest -v tests/musl/test_musl.py
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "musl" / "fixture"
PROVE = ROOT / "scripts" / "prove-static.py"
CI = os.environ.get("CI") == "true"
ARCHES = {"x86_64": "mold", "aarch64": "lld"}
TOOLCHAINS = [""] + os.environ.get("MUSL_TEST_TOOLCHAINS", "1.100.0").split()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def missing_tools():
    """What the fixture builds need and this machine lacks."""
    tools = ["cargo", "clang", "clang++", "llvm-ar", "mold", "ld.lld", "cmake", "readelf",
             "qemu-aarch64-static"]
    lacking = [t for t in tools if shutil.which(t) is None]
    lacking += [d for d in ("/usr/include/x86_64-linux-musl", "/usr/include/aarch64-linux-musl")
                if not Path(d).is_dir()]
    return lacking


def toolchain_env(toolchain):
    env = {k: v for k, v in os.environ.items() if k not in ("CARGO_TARGET_DIR", "RUSTUP_TOOLCHAIN")}
    if toolchain:
        env["RUSTUP_TOOLCHAIN"] = toolchain
    return env


def toolchain_ok(toolchain):
    """Whether the toolchain has both musl standard libraries."""
    out = run(["rustc", "--print", "sysroot"], env=toolchain_env(toolchain))
    if out.returncode != 0:
        return False
    lib = Path(out.stdout.strip()) / "lib" / "rustlib"
    return all((lib / f"{a}-unknown-linux-musl" / "lib").is_dir() for a in ARCHES)


class Fixture:
    """A copy of the fixture workspace with a fresh plan, and builds in it."""

    def __init__(self, helper, work, scratch, toolchain):
        self.helper, self.toolchain = helper, toolchain
        self.env = toolchain_env(toolchain)
        # Outside the repository: cargo would read its .cargo/config.toml,
        # whose musl target tables restate the plan's flags.
        self.ws = Path(tempfile.mkdtemp(prefix="musl-fixture-", dir=scratch))
        shutil.copytree(FIXTURE, self.ws, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("target", "plan.json"))
        # One target directory per toolchain: the cc and cmake crates build once.
        self.env["CARGO_TARGET_DIR"] = str(work / f"target-{toolchain or 'active'}")
        out = run([helper, "buildplan", "plan"], cwd=self.ws, env=self.env)
        assert out.returncode == 0, out.stderr
        self.plan_path = self.ws / "plan.json"

    def plan(self):
        return json.loads(self.plan_path.read_text())

    def mutate(self, triple, **facts):
        plan = self.plan()
        plan["targets"][triple].update(facts)
        self.plan_path.write_text(json.dumps(plan, indent=2))

    def build(self, package, triple):
        """Builds through the plan; returns (ok, messages file, stderr)."""
        messages = self.ws / f"{package}-{triple}.json"
        with open(messages, "w") as out:
            proc = subprocess.run(
                [self.helper, "buildplan", "build", package, "--target", triple, "--",
                 "--locked", "--message-format=json-render-diagnostics"],
                cwd=self.ws, env=self.env, stdout=out, stderr=subprocess.PIPE, text=True)
        return proc.returncode == 0, messages, proc.stderr

    def prove(self, messages, package, arch, linker):
        """scripts/prove-static.py on the build: (ok, binary, report)."""
        proc = run(["python3", str(PROVE), "--cargo-messages", str(messages), "--package", package,
                    "--arch", arch, "--linker", linker, f"--require={package}", "--print-binary"])
        return proc.returncode == 0, proc.stdout.strip(), proc.stderr


def runner(arch):
    return [] if arch == "x86_64" else ["qemu-aarch64-static"]


class MuslFixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        lacking = missing_tools()
        if lacking:
            msg = f"missing {', '.join(lacking)} (scripts/install-test-deps.sh)"
            if CI:
                raise AssertionError(f"CI=true: the musl fixture tests must run; {msg}")
            raise unittest.SkipTest(msg)
        out = run(["cargo", "build", "-q", "--locked", "-p", "cargo-buildplan",
                   "--message-format=json"], cwd=ROOT)
        assert out.returncode == 0, out.stderr
        cls.helper = next(json.loads(l)["executable"] for l in out.stdout.splitlines()
                          if '"executable":"' in l and "cargo-buildplan" in l)
        work = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "tests-musl"
        work.mkdir(parents=True, exist_ok=True)
        cls.work = work
        cls.scratch = tempfile.TemporaryDirectory(prefix="tests-musl-")

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def toolchains(self):
        for tc in TOOLCHAINS:
            if toolchain_ok(tc):
                yield tc
            elif CI:
                self.fail(f"CI=true: toolchain {tc or 'active'} lacks the musl targets")
            else:
                print(f"SKIP toolchain {tc}: not installed with both musl targets")

    def test_each_compiler_gets_its_side_and_cmake_builds_for_the_target(self):
        for tc in self.toolchains():
            fx = Fixture(self.helper, self.work, self.scratch.name, tc)
            for arch, linker in ARCHES.items():
                triple = f"{arch}-unknown-linux-musl"
                with self.subTest(toolchain=tc or "active", target=triple):
                    outputs = []
                    for package in ("cside", "cmakeside"):
                        ok, messages, err = fx.build(package, triple)
                        self.assertTrue(ok, err[-2000:])
                        ok, binary, report = fx.prove(messages, package, arch, linker)
                        self.assertTrue(ok, report)
                        run_out = run(runner(arch) + [binary])
                        self.assertEqual(run_out.returncode, 0, run_out.stderr)
                        outputs.append(run_out.stdout)
                    # The target's C was compiled by the target compiler (not
                    # against glibc's headers), the build machine's program by
                    # HOST_CC (for x86_64 glibc), the CMake library for the
                    # target.
                    self.assertEqual(
                        "".join(outputs),
                        f"target: {arch} not-glibc\nhost: x86_64 glibc\ncmake: {arch} 2+3=5\n")
                    cache = next(Path(json.loads(l)["out_dir"]) for l in messages.read_text().splitlines()
                                 if '"build-script-executed"' in l and "cmakeside" in l)
                    text = (cache / "build" / "CMakeCache.txt").read_text()
                    self.assertIn(f"buildplan/cmake/{triple}.cmake\n", text)
                    self.assertIn(f"--target={triple} -nostdlibinc -isystem /usr/include/{arch}-linux-musl", text)
                    compiler = next((cache / "build" / "CMakeFiles").glob("*/CMakeCCompiler.cmake")).read_text()
                    self.assertIn(f'set(CMAKE_C_COMPILER "{shutil.which("clang")}")', compiler)

    def test_mutant_plans_fail_the_proof(self):
        """A plan that links the C runtime dynamically, or that swaps a
        target's linker, gives a binary the proof rejects."""
        tc = next(self.toolchains(), None)
        if tc is None:
            self.skipTest("no toolchain with the musl targets")
        cases = [
            ("x86_64", {"static": False}, ["PT_INTERP present", "DT_NEEDED"]),
            ("x86_64", {"fuse_ld": "lld"}, [".comment linker mark: none (expected mold)"]),
            ("aarch64", {"fuse_ld": "mold"}, [".comment linker mark: none (expected lld)"]),
        ]
        for arch, facts, failures in cases:
            with self.subTest(arch=arch, mutation=facts):
                fx = Fixture(self.helper, self.work, self.scratch.name, tc)
                triple = f"{arch}-unknown-linux-musl"
                fx.mutate(triple, **facts)
                ok, messages, err = fx.build("cside", triple)
                self.assertTrue(ok, err[-2000:])
                ok, _, report = fx.prove(messages, "cside", arch, ARCHES[arch])
                self.assertFalse(ok, report)
                for failure in failures:
                    self.assertIn(f"FAIL {failure}", report)


if __name__ == "__main__":
    unittest.main()
