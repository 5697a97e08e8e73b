#!/usr/bin/env node
// Rewrites README.md's "Configuration reference" tables (between the markers
// <!-- config-reference:start --> and <!-- config-reference:end -->) from the compiled zod
// schemas in dist/. Run after `npm run build` (or run `npm run gen:schema`). Nothing outside the
// markers changes; src/cli/schema.test.ts fails when the block is stale.
import { readFileSync, writeFileSync } from "node:fs";

const readme = new URL("../README.md", import.meta.url);
let mod;
try {
  mod = await import(new URL("../dist/cli/run_schema.js", import.meta.url).href);
} catch (e) {
  console.error(`gen-config-docs: cannot load dist/cli/run_schema.js (${e.message.split("\n")[0]}): run "npm run build" first`);
  process.exit(1);
}
const before = readFileSync(readme, "utf8");
const after = mod.replaceMarkedBlock(before, mod.configReferenceMarkdown());
if (after !== before) writeFileSync(readme, after);
console.error(after === before ? "README.md: configuration reference already current" : "README.md: configuration reference rewritten");
