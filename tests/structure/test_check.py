"""Tests of check.py on small throwaway crates: it must find a circle and
an oversized file, and pass a clean crate; and on a throwaway tree, files
over the strict limit, tests included."""

import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check  # noqa: E402


def crate(root, files):
    for rel, text in files.items():
        path = root / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "Cargo.toml").write_text("[package]\nname = \"x\"\n")
    return root


class CheckTest(unittest.TestCase):
    def run_check(self, files):
        with tempfile.TemporaryDirectory() as d:
            return check.check_crate(crate(pathlib.Path(d), files))

    def test_sibling_circle_is_found(self):
        problems = self.run_check({
            "lib.rs": "mod a;\nmod b;\npub use a::A;\n",
            "a.rs": "use crate::b::B;\npub struct A;\n",
            "b.rs": "pub struct B;\nfn f() { let _ = super::a::A; }\n",
        })
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("import circle between a, b", problems[0])

    def test_root_and_child_circle_is_found_but_not_reexports(self):
        problems = self.run_check({
            "lib.rs": "mod a;\npub use a::A;\npub struct R;\nfn f() { a::helper(); }\n",
            "a.rs": "use crate::R;\npub struct A;\npub fn helper() {}\n",
        })
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("crate -> a", problems[0])
        clean = self.run_check({
            "lib.rs": "mod a;\nmod b;\npub use a::A;\npub use b::B;\n",
            "a.rs": "use crate::B;\npub struct A;\n",
            "b.rs": "// use crate::a::A;\npub struct B;\nconst S: &str = \"crate::a::A\";\n",
        })
        self.assertEqual(clean, [])

    def test_oversized_files_count_only_code_outside_tests(self):
        body = "fn f() {}\n" * 650
        problems = self.run_check({
            "lib.rs": "mod big;\nmod tested;\n",
            "big.rs": body,
            "tested.rs": "fn f() {}\n#[cfg(test)]\nmod tests {\n" + body + "}\n",
        })
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("big.rs: 650 lines", problems[0])

    def test_strict_limit_counts_whole_files_under_the_tree(self):
        line = "fn f() {}\n"
        with tempfile.TemporaryDirectory() as d:
            root = pathlib.Path(d)
            files = {
                "src/tested.rs": line * 300 + "#[cfg(test)]\nmod tests {\n" + line * 98 + "}\n",
                "src/fits.rs": line * 400,
                "tests/common/mod.rs": line * 405,
                "target/debug/build/out.rs": line * 900,
            }
            for rel, text in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text)
            problems = check.check_strict(root)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("src/tested.rs: 401 lines (limit 400", problems[0])
        self.assertIn("tests/common/mod.rs: 405 lines", problems[1])


if __name__ == "__main__":
    unittest.main()
