// Entity F1 of a token-classification run is counted on words, as transformers' run_ner counts
// it: sub-word labels (encodeTokenRows) → logits per sub-word → standardMetrics (seqeval).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConll } from "../data/conll.js";
import { encodeTokenRows } from "../data/token_examples.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { standardMetrics } from "./evaluator.js";
import { entities } from "./seqeval.js";

const bert = fileURLToPath(new URL("../../fixtures/hf/bert-tok/", import.meta.url));
const shared = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const TAGS = ["O", "B-person", "I-person", "B-location", "I-location"];
const id2label = Object.fromEntries(TAGS.map((t, i) => [String(i), t]));

/** One-hot logits [tokens, C] that predict `pick(position, label)` at each sub-word. */
function logitsFor(labels: readonly number[], pick: (t: number, label: number) => number): Float32Array {
  const out = new Float32Array(labels.length * TAGS.length);
  labels.forEach((y, t) => (out[t * TAGS.length + pick(t, y)] = 1));
  return out;
}

test("NER metrics: entities are counted on words, whatever the later sub-words predict", async () => {
  const tok = await loadTokenizer(bert);
  // With this fixture's vocabulary "Joan", "Smithsonian", "New-York" and "Paris" split into 4–9 pieces.
  const rows = [
    {
      tokens: ["Joan", "Smithsonian", "visited", "New-York"], tags: ["B-person", "I-person", "O", "B-location"], line: 1,
    },
    { tokens: ["Paris", "grants", "software"], tags: ["B-location", "O", "O"], line: 6 },
  ];
  const { examples } = await encodeTokenRows(rows, tok, 64, new Map(TAGS.map((t, i) => [t, i])));
  const labels = examples.map((e) => e.label as number[]);
  assert.ok(labels[0].length > 12, "the words split into several sub-words each");
  const prediction = (pick: (t: number, y: number) => number) => ({
    logits: labels.map((l) => logitsFor(l, pick)), labels, kind: "token" as const, numLabels: TAGS.length,
  });
  // Right on every word's first sub-word, B-location on every other sub-word and special token:
  // only the words are scored, so 3 of 3 entities (not dozens of one-piece "locations").
  const right = standardMetrics(prediction((_t, y) => (y === -100 ? 3 : y)), id2label);
  assert.equal(right.f1, 1);
  assert.equal(right.person_number, 1);
  assert.equal(right.location_number, 2);
  assert.equal(right.accuracy, 1, "token accuracy is over the 7 words too");
  // "Smithsonian" predicted O at its first sub-word: the person is one word short, wrong as a whole.
  const smithsonian = labels[0].indexOf(2);
  const short = standardMetrics(prediction((t, y) => (t === smithsonian ? 0 : y === -100 ? 3 : y)), id2label);
  assert.equal(short.precision, 2 / 3);
  assert.equal(short.recall, 2 / 3);
  assert.equal(short.person_f1, 0);
  assert.equal(short.accuracy, 6 / 7);
  // All O (what an under-trained model predicts on O-dominated data): 0 precision, recall and F1.
  const allO = standardMetrics(prediction(() => 0), id2label);
  assert.deepEqual([allO.precision, allO.recall, allO.f1], [0, 0, 0]);
});

for (const [name, file] of [["WNUT-17 dev", "wnut17/emerging.dev.conll"], ["WikiANN-en dev", "wikiann_en/dev"]]) {
  test(`NER metrics: every entity of ${name} reaches the metric through sub-word alignment`, async (t) => {
    const path = shared + file;
    if (!existsSync(path)) return t.skip(`${path} is absent (../shared/data holds the public datasets)`);
    const table = await readConll(path);
    const tok = await loadTokenizer(bert);
    const ids = new Map(table.tagSet.map((tag, i) => [tag, i]));
    const { examples, truncated } = await encodeTokenRows(table.sentences, tok, 512, ids);
    assert.equal(truncated, 0);
    let inFile = 0, scored = 0, lostWords = 0;
    table.sentences.forEach((s, n) => {
      const tags = (examples[n].label as number[]).filter((y) => y !== -100).map((y) => table.tagSet[y]);
      inFile += entities(s.tags).length;
      scored += entities(tags).length;
      lostWords += s.tokens.length - tags.length;
      // The scored tags are the words' own, in order, minus words the normalizer erases (U+FE0F).
      if (tags.length === s.tokens.length) assert.deepEqual(tags, s.tags, `sentence at line ${s.line}`);
    });
    assert.equal(scored, inFile, "entities seen by seqeval = entities in the file");
    // WNUT-17 dev has 4 stand-alone variation selectors, all tagged O; the tokenizer erases them
    // as transformers' does (no sub-word, so no label), and no entity loses a word.
    assert.ok(lostWords <= 4, `${lostWords} words have no sub-word`);
  });
}
