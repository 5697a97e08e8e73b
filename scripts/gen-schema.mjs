#!/usr/bin/env node
// Writes schema/whet-run.schema.json, the run config's JSON Schema (editor completion for
// `whet train --config`), from the compiled zod schemas in dist/. Run after `npm run build`
// (or run `npm run gen:schema`, which builds and regenerates the README's reference too).
// src/cli/schema.test.ts fails when the committed file differs from what this writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
let mod;
try {
  mod = await import(new URL("../dist/cli/run_schema.js", import.meta.url).href);
} catch (e) {
  console.error(`gen-schema: cannot load dist/cli/run_schema.js (${e.message.split("\n")[0]}): run "npm run build" first`);
  process.exit(1);
}
mkdirSync(`${root}schema`, { recursive: true });
writeFileSync(`${root}schema/whet-run.schema.json`, mod.runConfigSchemaText());
console.error("wrote schema/whet-run.schema.json");
