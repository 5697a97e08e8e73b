import assert from "node:assert/strict";
import { test } from "node:test";
import { runFuzz } from "./fuzz.js";

// The short fixed-seed run of CI; `npm run fuzz -- --iterations 20000` is the long one.
test("fuzz: every parser survives a fixed-seed mutation run (no crash, no hang, bounded RSS)", async () => {
  const r = await runFuzz({ iterations: 40, seed: 20261206, deadlineMs: 10_000, maxRssMb: 1500 });
  assert.deepEqual(r.crashes, []);
  assert.deepEqual(r.hangs, []);
  assert.equal(r.rssExceeded, false);
  const names = Object.keys(r.targets);
  for (const t of ["safetensors", "zip/pickle", "config.json", "tokenizer.json", "vocab.txt", "csv/tsv/jsonl", "conll", "run config", "hub headers"]) {
    assert.ok(names.includes(t), `${t} was fuzzed`);
    assert.equal(r.targets[t].cases, 40);
  }
});
