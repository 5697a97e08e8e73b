import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "../tokenizers/index.js";
import { encodeTokenRows } from "./token_examples.js";

const bert = fileURLToPath(new URL("../../fixtures/hf/bert-tok/", import.meta.url));

test("token labels: the first subword of each word carries its tag, the rest and specials -100", async () => {
  const tok = await loadTokenizer(bert);
  const rows = [{ tokens: ["The", "licensor", "grants", "New-York"], tags: ["O", "B-ORG", "O", "B-LOC"], line: 1 }];
  const tags = new Map([["O", 0], ["B-ORG", 1], ["B-LOC", 2]]);
  const { examples } = await encodeTokenRows(rows, tok, 64, tags);
  const e = examples[0];
  const enc = await tok.encode("The licensor grants New-York", null, {});
  assert.deepEqual(e.input_ids, enc.ids);
  const labels = e.label as number[];
  assert.equal(labels[0], -100, "[CLS]");
  assert.equal(labels.at(-1), -100, "[SEP]");
  const scored = labels.filter((l) => l !== -100);
  assert.deepEqual(scored, [0, 1, 0, 2], "one label per word, in order");
  // "New-York" splits into several pieces: only the first is scored.
  const firstOfNewYork = labels.indexOf(2);
  assert.ok(labels.slice(firstOfNewYork + 1, -1).every((l) => l === -100));
});

test("token labels: an unknown tag is an error naming the line", async () => {
  const tok = await loadTokenizer(bert);
  await assert.rejects(encodeTokenRows([{ tokens: ["a", "b"], tags: ["O", "B-XYZ"], line: 7 }], tok, 64, new Map([["O", 0]])), /line 8: tag "B-XYZ"/);
});
