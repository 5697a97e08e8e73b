import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzzFailed, runFuzz } from "./fuzz.js";

// The short fixed-seed run of CI; `npm run fuzz -- --iterations 20000` is the long one.
test("fuzz: every parser survives a fixed-seed mutation run (no crash, no hang, bounded RSS)", async () => {
  const r = await runFuzz({ iterations: 40, seed: 20261206, deadlineMs: 10_000, maxRssMb: 1500 });
  assert.deepEqual(r.crashes, []);
  assert.deepEqual(r.hangs, []);
  assert.equal(r.rssExceeded, false);
  const names = Object.keys(r.targets);
  for (const t of ["safetensors", "zip/pickle", "config.json", "tokenizer.json", "vocab.txt", "csv/tsv/jsonl", "conll", "run config", "hub headers",
    "tokenizer_config", "vocab.json/merges"]) {
    assert.ok(names.includes(t), `${t} was fuzzed`);
    assert.equal(r.targets[t].cases, 40);
  }
});

// The harness itself: targets that crash, throw from a timer, hang and eat memory must each fail the run.
test("fuzz self-test: a crash, an uncaught throw, a hang and an RSS overrun are each reported and fail the run", async () => {
  const hostile = new URL("../testing/fuzz_hostile.js", import.meta.url).href;
  const lines: string[] = [];
  const r = await runFuzz({ iterations: 2, deadlineMs: 1000, targets: ["crash", "stray", "hang"], targetsModule: hostile, log: (l) => lines.push(l) });
  assert.deepEqual(r.crashes.map((c) => [c.target, c.case]), [["crash", 0], ["crash", 1], ["stray", 0], ["stray", 1]], lines.join("\n"));
  assert.match(r.crashes[0].error, /TypeError: json\.added_tokens\.map is not a function/);
  assert.match(r.crashes[2].error, /uncaught RangeError: Invalid typed array length/);
  assert.deepEqual(r.hangs, [{ target: "hang", case: 0 }, { target: "hang", case: 1 }], lines.join("\n"));
  assert.equal(r.rssExceeded, false);
  assert.ok(fuzzFailed(r));
  assert.ok(lines.some((l) => /hang: hang case 0 ran past 1000 ms/.test(l)), lines.join("\n"));

  // Page faults are slow on some machines (70 MB/s here): a modest bound, and no hang deadline in the way.
  const bound = Math.round(process.memoryUsage().rss / 1e6) + 120;
  const m = await runFuzz({ iterations: 1, targets: ["memory"], targetsModule: hostile, maxRssMb: bound, deadlineMs: 120_000,
    log: (l) => lines.push(l) });
  assert.equal(m.rssExceeded, true, lines.join("\n"));
  assert.ok(m.maxRssMb >= bound, `max RSS ${m.maxRssMb} MB, bound ${bound} MB`);
  assert.deepEqual([m.crashes, m.hangs], [[], []], lines.join("\n"));
  assert.ok(fuzzFailed(m));
  assert.ok(lines.some((l) => /passed the bound while fuzzing memory case 0/.test(l)), lines.join("\n"));
  // A clean run passes.
  assert.equal(fuzzFailed({ targets: {}, crashes: [], hangs: [], maxRssMb: 1, rssExceeded: false, seconds: 0 }), false);
});
