#!/usr/bin/env node
// Assembles every src/**/*.wat into the same place under dist/ as a .wasm (WebAssembly text →
// binary, with wabt; SIMD enabled). Run after tsc: the kernels' loaders read the .wasm beside
// their compiled .js.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import initWabt from "wabt";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

function* watFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* watFiles(path);
    else if (e.name.endsWith(".wat")) yield path;
  }
}

const wabt = await initWabt();
let count = 0;
for (const file of watFiles(src)) {
  const rel = relative(src, file);
  let module;
  try {
    module = wabt.parseWat(rel, readFileSync(file, "utf8"), { simd: true });
    module.validate();
  } catch (e) {
    process.stderr.write(`build-wasm: ${rel}: ${e.message}\n`);
    process.exit(1);
  }
  const out = join(root, "dist", rel.replace(/\.wat$/, ".wasm"));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, module.toBinary({}).buffer);
  module.destroy();
  count++;
}
process.stdout.write(`build-wasm: ${count} WebAssembly module(s) written under dist/\n`);
