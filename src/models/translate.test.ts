import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { translate, Translator } from "./translate.js";

const DIR = fileURLToPath(new URL("../../fixtures/marian/", import.meta.url));
const expected = JSON.parse(readFileSync(`${DIR}expected.json`, "utf8"));
const beam4 = expected.generate.find((g: { name: string }) => g.name === "beam4");

test("translate(): the library call the CLI and back-translation use; batching does not change outputs", async () => {
  const t = await Translator.load(DIR, { threads: 1 });
  try {
    const seen: number[] = [];
    const one = await translate(t, expected.texts, { numBeams: 4, maxNewTokens: 12, batchSize: 1, onBatch: (d: number) => seen.push(d) });
    const all = await t.translate(expected.texts, { numBeams: 4, maxNewTokens: 12, batchSize: 4 });
    assert.deepEqual(one, all);
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(all.map((r) => r.translation), beam4.decoded);
    assert.deepEqual(await t.translate([]), []);
    await assert.rejects(t.translate(["a"], { batchSize: 0 }), /batch size must be a positive integer/);
    await assert.rejects(t.translate(["a"], { maxNewTokens: 100 }), /max_length 101 needs more decoder positions than the model has \(max_position_embeddings 64\)/);
  } finally {
    await t.release();
  }
  // A path loads, translates and releases in one call.
  const greedy = await translate(DIR, expected.texts.slice(0, 1), { numBeams: 1, maxNewTokens: 12, threads: 1 });
  assert.equal(greedy[0].translation, expected.generate[0].decoded[0]);
});
