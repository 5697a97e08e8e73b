// Loads the public datasets from ../shared/data (third-party files, never copied into the project)
// and checks the row counts its README verified. Skips, saying so, where that folder is absent.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LabelMap } from "./labels.js";
import { loadTextDataset, loadTokenDataset, datasetPath } from "./datasets.js";
import { readTable } from "./read.js";
import { decodeText } from "./text_file.js";

// dist/data/x.test.js → repository root → ../shared/data (a sibling of the checkout).
const DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const skip = existsSync(join(DATA, "README.md")) ? false : `public datasets not found at ${DATA} (../shared/data); skipping`;

test("SST-2: 67,349 train and 872 validation rows, labels 0/1", { skip }, async () => {
  const train = await loadTextDataset(DATA, "sst2", "train");
  const dev = await loadTextDataset(DATA, "sst2", "validation");
  assert.equal(train.rows.length, 67_349);
  assert.equal(dev.rows.length, 872);
  assert.equal(train.skipped.count + dev.skipped.count, 0);
  assert.deepEqual(train.rows[0], { text: "hide new secretions from the parental units ", label: "0", line: 2 });
  const map = LabelMap.fit(train.rows.map((r) => r.label));
  assert.deepEqual(map.names, ["0", "1"]);
  assert.ok(dev.rows.every((r) => map.has(r.label as string)));
});

test("ChnSentiCorp: three layouts, 9,600 / 1,200 / 1,200 rows, test unlabelled", { skip }, async () => {
  const [train, dev, testSplit] = await Promise.all(
    (["train", "validation", "test"] as const).map((s) => loadTextDataset(DATA, "chnsenticorp", s)));
  assert.deepEqual([train.rows.length, dev.rows.length, testSplit.rows.length], [9_600, 1_200, 1_200]);
  assert.deepEqual(train.columns, ["label", "text_a"]);
  assert.deepEqual(dev.columns, ["qid", "label", "text_a"]);
  assert.deepEqual(testSplit.columns, ["qid", "text_a"]);
  assert.ok(testSplit.rows.every((r) => r.label === undefined));
  assert.deepEqual(LabelMap.fit(dev.rows.map((r) => r.label)).names, ["0", "1"]);
  // Line 944 opens a field with a quote that is plain text: read as quoted it would swallow the
  // following rows (Python's csv does so silently); whet stops and says why. By default a TSV
  // with bare quotes is read unquoted, row for row as the dataset's own reader.
  await assert.rejects(readTable(datasetPath(DATA, "chnsenticorp", "train"), { textColumn: "text_a", quote: "\"" }),
    /train\.tsv:944: a quoted field here runs over \d+ lines and holds tabs.*--no-quote/);
  const plain = await readTable(datasetPath(DATA, "chnsenticorp", "train"), { textColumn: "text_a" });
  assert.deepEqual(plain.rows.map((r) => r.text), train.rows.map((r) => r.text));
  assert.ok(train.rows.find((r) => r.line === 944)!.text.startsWith("\"此期间预订"));
});

test("TREC: 5,452 / 500 questions, 6 coarse and 50 fine classes, Latin-1", { skip }, async () => {
  const train = await loadTextDataset(DATA, "trec", "train");
  const testSplit = await loadTextDataset(DATA, "trec", "test");
  assert.equal(train.rows.length, 5_452);
  assert.equal(testSplit.rows.length, 500);
  assert.deepEqual(train.rows[0], { text: "How did serfdom develop in and then leave Russia ?", label: "DESC", line: 1 });
  assert.deepEqual(LabelMap.fit(train.rows.map((r) => r.label)).names, ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]);
  const fine = await loadTextDataset(DATA, "trec", "train", { trecLabels: "fine" });
  assert.equal(new Set(fine.rows.map((r) => r.label)).size, 50);
  assert.equal(fine.rows[0].label, "DESC:manner");
  // The one non-ASCII byte (0xF0 at offset 3665, line 66) is Latin-1 "ð"; as UTF-8 it is invalid.
  assert.match(train.rows[65].text, /sisterðcity/);
  const bytes = await readFile(datasetPath(DATA, "trec", "train"));
  assert.throws(() => decodeText(bytes, "TREC"), /invalid UTF-8 at byte offset 3665 \(line 66, bytes f0 63 69 74\)/);
});

test("WikiANN-en: 20,000 / 10,000 / 10,000 sentences, en: prefix stripped, clean IOB2", { skip }, async () => {
  const counts: number[] = [];
  for (const split of ["train", "validation", "test"] as const) {
    const t = await loadTokenDataset(DATA, "wikiann_en", split);
    counts.push(t.sentences.length);
    assert.equal(t.strippedPrefix, "en:");
    assert.deepEqual(t.tagSet, ["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"]);
    assert.equal(t.iob2.violations, 0);
    assert.ok(t.sentences.every((s) => s.tokens.length === s.tags.length && s.tokens.length > 0));
  }
  assert.deepEqual(counts, [20_000, 10_000, 10_000]);
  const train = await loadTokenDataset(DATA, "wikiann_en", "train");
  assert.deepEqual(train.sentences[0].tokens.slice(0, 3), ["R.H.", "Saunders", "("]);
});

test("WNUT-17: 3,394 / 1,009 / 1,287 sentences, 13 tags, one IOB2 slip in dev", { skip }, async () => {
  const [train, dev, testSplit] = await Promise.all(
    (["train", "validation", "test"] as const).map((s) => loadTokenDataset(DATA, "wnut17", s)));
  assert.deepEqual([train.sentences.length, dev.sentences.length, testSplit.sentences.length], [3_394, 1_009, 1_287]);
  for (const t of [train, dev, testSplit]) assert.equal(t.tagSet.length, 13);
  assert.equal(train.iob2.violations + testSplit.iob2.violations, 0);
  // dev line 1674: "I-creative-work" right after "I-person".
  assert.deepEqual(dev.iob2.examples, [{ line: 1674, position: 2, tag: "I-creative-work", previous: "I-person" }]);
  // dev ends with a line holding only U+FEFF and no blank line: that is not a token.
  assert.deepEqual(dev.sentences[dev.sentences.length - 1].tokens.slice(-2), ["Channel", "!"]);
});

test("unknown splits and datasets are clear errors", () => {
  assert.throws(() => datasetPath(DATA, "sst2", "test"), /"sst2" has no "test" split \(it has: train, validation\)/);
  assert.throws(() => datasetPath(DATA, "imdb" as "sst2", "train"), /Unknown dataset "imdb"/);
});
