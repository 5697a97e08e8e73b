import assert from "node:assert/strict";
import { test } from "node:test";
import { buildReport, formatReport, mixedSpellings, quantile } from "./report.js";

// A small hand-made table; lines as a reader would give them.
const rows = [
  { text: "good movie", label: "pos", line: 2 },
  { text: "bad movie", label: "neg", line: 3 },
  { text: "good movie", label: "pos", line: 4 }, // duplicate, same label
  { text: "so so", label: "neg", line: 5 },
  { text: "so so", label: "pos", line: 6 }, // conflict with line 5
  { text: "great", label: "pos", line: 7 },
  { text: "great", textPair: "x", label: "neg", line: 8 }, // a different input: has a pair
  { text: "a long text that goes on and on", label: "pos", line: 9 },
];
const words = (t: string, p?: string) => 2 + t.split(" ").length + (p === undefined ? 0 : 1 + p.split(" ").length);

test("report numbers on a hand-made table", () => {
  const r = buildReport(rows, { tokenCount: words, maxLength: 6, skipped: { count: 1, byReason: { "empty text": 1 }, examples: [{ line: 10, reason: "empty text" }] } });
  assert.equal(r.rows, 8);
  assert.deepEqual(r.labels, { classes: 2, counts: [{ label: "pos", rows: 5 }, { label: "neg", rows: 3 }], imbalanceRatio: 5 / 3, unlabelled: 0 });
  assert.equal(r.targets, null);
  assert.deepEqual(r.duplicates, {
    rows: 2, texts: 2,
    examples: [{ text: "good movie", lines: [2, 4] }, { text: "so so", lines: [5, 6] }],
  });
  assert.deepEqual(r.conflicts, { texts: 1, rows: 2, examples: [{ text: "so so", lines: [5, 6], labels: ["neg", "pos"] }] });
  assert.equal(r.emptyTexts, 0);
  // Token counts: 4 4 4 4 4 3 5 10 → sorted 3 4 4 4 4 4 5 10; p95 = 5 + 0.65 × (10 − 5).
  const { p95, ...rest } = r.lengths!;
  assert.deepEqual(rest, { maxLength: 6, min: 3, median: 4, max: 10, mean: 38 / 8, truncated: 1, truncatedShare: 1 / 8, countedInPart: 0 });
  assert.ok(Math.abs(p95 - 8.25) < 1e-12);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r, "the report is plain JSON");
});

test("formatReport: short and readable", () => {
  const text = formatReport(buildReport(rows, { tokenCount: words, maxLength: 6, skipped: { count: 1, byReason: { "empty text": 1 }, examples: [] } }));
  assert.equal(text, [
    "Rows: 8 (1 skipped: empty text 1)",
    "Labels: 2 classes: pos 5 (62.5%), neg 3 (37.5%)",
    "Imbalance: 1.67 (largest class / smallest)",
    `Duplicates: 2 rows repeat an earlier text (2 distinct texts), e.g. lines 2, 4: "good movie"`,
    "Conflicting labels: 1 texts (2 rows) carry different labels, e.g.",
    `  lines 5, 6: "so so" → neg / pos`,
    "Length in tokens: min 3, median 4, p95 8.25, max 10; 12.5% of rows (1) exceed max_length 6 and will be cut",
  ].join("\n"));
});

test("integer labels stay most-frequent-first; regression targets; no tokenizer", () => {
  const r = buildReport([{ text: "a", label: 0 }, { text: "b", label: 1 }, { text: "c", label: 1 }, { text: " " }]);
  assert.deepEqual(r.labels?.counts, [{ label: "1", rows: 2 }, { label: "0", rows: 1 }]);
  assert.equal(r.labels?.unlabelled, 1);
  assert.equal(r.emptyTexts, 1);
  assert.equal(r.lengths, null);
  const g = buildReport([{ text: "a", label: 0.5 }, { text: "b", label: "2.5" }, { text: "c", label: 1 }]);
  assert.equal(g.labels, null);
  assert.deepEqual(g.targets, { min: 0.5, median: 1, max: 2.5, mean: 4 / 3 });
  assert.match(formatReport(g), /Targets \(regression\): min 0\.5, median 1, max 2\.5, mean 1\.33/);
  // Multi-label rows count once per label; the same labels in another order do not conflict.
  const m = buildReport([{ text: "x", label: ["a", "b"] }, { text: "x", label: ["b", "a"] }, { text: "y", label: ["a"] }]);
  assert.deepEqual(m.labels?.counts, [{ label: "a", rows: 3 }, { label: "b", rows: 2 }]);
  assert.equal(m.conflicts.texts, 0);
  assert.equal(m.duplicates.rows, 1);
});

test("quantile matches numpy's default (linear)", () => {
  // numpy.quantile([1, 2, 3, 4], [0.5, 0.95]) = [2.5, 3.85]
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([1, 2, 3, 4], 0.95) - 3.85) < 1e-12);
  assert.equal(quantile([7], 0.95), 7);
});

test("mixed label spellings are reported, and the imbalance advice does not blame imbalance for them", () => {
  assert.equal(mixedSpellings(["pos", "neg", "pos"]), null);
  assert.equal(mixedSpellings(["1", "0", 1, 0]), null);
  assert.match(mixedSpellings(["1", "1.0", "0"])!, /"1" and "1\.0" are one number written differently/);
  assert.match(mixedSpellings(["1", "0", "pos"])!, /mixes numbers and words/);
  assert.match(mixedSpellings(["true", "false", "1"])!, /mixes numbers and booleans/);
  const rows = [...Array(30)].map((_, i) => ({ text: `t${i}`, label: i < 27 ? "1" : i < 29 ? "1.0" : "pos" }));
  const text = formatReport(buildReport(rows));
  assert.match(text, /Label spellings: mixed: .*--strict makes this an error/);
  assert.doesNotMatch(text, /class weights/);
  assert.match(text, /not meaningful until the label spellings below are fixed/);
  // A chosen problem type overrides the inference: 0.0/1.0 as classes.
  const r = buildReport([{ text: "a", label: "0.0" }, { text: "b", label: "1.0" }], { problemType: "single_label_classification" });
  assert.equal(r.targets, null);
  assert.equal(r.labels!.classes, 2);
});
