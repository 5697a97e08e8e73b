import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BackTranslator, pivotModelIds } from "./back_translate.js";

test("pivotModelIds: en-de names the Helsinki-NLP pair; two models, or exactly one of the options", () => {
  assert.deepEqual(pivotModelIds({ backTranslate: "en-de" }),
    ["Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en"]);
  assert.deepEqual(pivotModelIds({ pivotModels: ["a", "b"] }), ["a", "b"]);
  assert.throws(() => pivotModelIds({ pivotModels: ["a"] }), /takes two models .*got 1: a/);
  assert.throws(() => pivotModelIds({ backTranslate: "english-german" }), /must look like "en-de"/);
  assert.throws(() => pivotModelIds({}), /give exactly one of back_translate/);
});

test("BackTranslator: a round trip through the fixture's Marian model, one output per text, in order", async () => {
  const marian = fileURLToPath(new URL("../../fixtures/marian", import.meta.url));
  const bt = await BackTranslator.load({ pivotModels: [marian, marian], numBeams: 2, threads: 1 });
  try {
    const texts = ["The house is small.", "Section 7 applies.", "The house is small."];
    const out = await bt.paraphrase(texts);
    assert.equal(out.length, 3);
    assert.ok(out.every((t) => typeof t === "string"));
    assert.equal(out[2], out[0], "deterministic: the same text gives the same paraphrase");
  } finally {
    await bt.release();
  }
});
