// The aggregation strategies of transformers' TokenClassificationPipeline, on hand-made
// probabilities over a real WordPiece tokenizer's pieces; every expected value is worked out by
// hand in the comments from the pipeline's rules.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { aggregateEntities, groupWords, scoredTokens, wordTags, type ScoredToken } from "./token_entities.js";

const LABELS = ["O", "B-ORG", "I-ORG", "B-PER", "I-PER", "B-LOC", "I-LOC"];
const VOCAB = [
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hu", "##gging", "face", "met", "micro", "##soft", "in", "new", "york",
];
const TEXT = "Hugging Face met Microsoft in New York";

/** A WordPiece tokenizer over VOCAB (uncased), loaded the way a model folder's vocab.txt is. */
async function wordPiece(): Promise<Tokenizer> {
  const dir = mkdtempSync(join(tmpdir(), "whet-ents-"));
  try {
    writeFileSync(join(dir, "vocab.txt"), VOCAB.join("\n") + "\n");
    const config = { do_lower_case: true, tokenizer_class: "BertTokenizer" };
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config));
    return await loadTokenizer(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A probability row from {label: p} (the rest 0). */
const row = (ps: Record<string, number>) => Float64Array.from(LABELS, (l) => ps[l] ?? 0);

// Token by token (index in the encoding, [CLS] = 0):
const PROBS: Record<number, Float64Array> = {
  1: row({ "B-ORG": 0.7, "I-ORG": 0.1, O: 0.2 }), // hu        (0, 2)
  2: row({ "I-ORG": 0.6, "B-ORG": 0.1, O: 0.3 }), // ##gging   (2, 7)
  3: row({ "I-ORG": 0.8, O: 0.2 }), //              face      (8, 12)
  4: row({ O: 0.9, "B-PER": 0.1 }), //              met       (13, 16)
  5: row({ "B-ORG": 0.5, "B-PER": 0.1, O: 0.4 }), // micro     (17, 22)  a word split across labels:
  6: row({ "I-PER": 0.7, "I-ORG": 0.2, O: 0.1 }), // ##soft    (22, 26)  B-ORG then I-PER
  7: row({ O: 1 }), //                              in        (27, 29)
  8: row({ "B-LOC": 0.9, O: 0.1 }), //              new       (30, 33)
  9: row({ "B-LOC": 0.6, "I-LOC": 0.4 }), //        york      (34, 38)  B after B: a new entity
};

async function tokens(tok: Tokenizer, text = TEXT, probs = PROBS): Promise<ScoredToken[]> {
  const enc = await tok.encode(text);
  return scoredTokens(text, enc, (i) => probs[i] ?? row({ O: 1 }), tok);
}

/** deepEqual, with scores compared to 1e-12 (sums of floats). */
function assertEntities(actual: object[], expected: object[]): void {
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  actual.forEach((a, i) => {
    const { score: sa, ...ra } = a as { score: number };
    const { score: se, ...re } = expected[i] as { score: number };
    assert.deepEqual(ra, re, `entity ${i}`);
    assert.ok(Math.abs(sa - se) < 1e-12, `entity ${i}: score ${sa}, expected ${se}`);
  });
}

test("token entities: the tokens, their offsets and which continue a word (WordPiece: ## marks it)", async () => {
  const tok = await wordPiece();
  const ts = await tokens(tok);
  assert.deepEqual(ts.map((t) => [t.index, t.token, t.start, t.end, t.isSubword]), [
    [1, "hu", 0, 2, false], [2, "##gging", 2, 7, true], [3, "face", 8, 12, false], [4, "met", 13, 16, false],
    [5, "micro", 17, 22, false], [6, "##soft", 22, 26, true], [7, "in", 27, 29, false], [8, "new", 30, 33, false],
    [9, "york", 34, 38, false],
  ]);
});

test("token entities: none gives each token's argmax, special tokens and O left out", async () => {
  const tok = await wordPiece();
  const out = aggregateEntities(await tokens(tok), "none", LABELS, (t) => tok.convertTokensToString(t));
  assertEntities(out, [
    { entity: "B-ORG", score: 0.7, index: 1, word: "hu", start: 0, end: 2 },
    { entity: "I-ORG", score: 0.6, index: 2, word: "##gging", start: 2, end: 7 },
    { entity: "I-ORG", score: 0.8, index: 3, word: "face", start: 8, end: 12 },
    { entity: "B-ORG", score: 0.5, index: 5, word: "micro", start: 17, end: 22 },
    { entity: "I-PER", score: 0.7, index: 6, word: "##soft", start: 22, end: 26 },
    { entity: "B-LOC", score: 0.9, index: 8, word: "new", start: 30, end: 33 },
    { entity: "B-LOC", score: 0.6, index: 9, word: "york", start: 34, end: 38 },
  ]);
});

test("token entities: simple groups adjacent tokens of one type; a B- or another type starts a new group", async () => {
  const tok = await wordPiece();
  const out = aggregateEntities(await tokens(tok), "simple", LABELS, (t) => tok.convertTokensToString(t));
  assertEntities(out, [
    // hu B-ORG + ##gging I-ORG + face I-ORG: mean(0.7, 0.6, 0.8)
    { entity_group: "ORG", score: 0.7, word: "hugging face", start: 0, end: 12 },
    // simple splits the word microsoft: micro is ORG, ##soft PER (the docstring's "Micro|soft" case)
    { entity_group: "ORG", score: 0.5, word: "micro", start: 17, end: 22 },
    { entity_group: "PER", score: 0.7, word: "##soft", start: 22, end: 26 },
    { entity_group: "LOC", score: 0.9, word: "new", start: 30, end: 33 },
    { entity_group: "LOC", score: 0.6, word: "york", start: 34, end: 38 },
  ]);
});

test("token entities: first takes each word's first token, then groups words", async () => {
  const tok = await wordPiece();
  const out = aggregateEntities(await tokens(tok), "first", LABELS, (t) => tok.convertTokensToString(t));
  assertEntities(out, [
    // hugging: hu's B-ORG 0.7; face I-ORG 0.8 → mean 0.75
    { entity_group: "ORG", score: 0.75, word: "hugging face", start: 0, end: 12 },
    // microsoft: micro's B-ORG 0.5 for the whole word
    { entity_group: "ORG", score: 0.5, word: "microsoft", start: 17, end: 26 },
    { entity_group: "LOC", score: 0.9, word: "new", start: 30, end: 33 },
    { entity_group: "LOC", score: 0.6, word: "york", start: 34, end: 38 },
  ]);
});

test("token entities: average averages a word's probabilities before the argmax", async () => {
  const tok = await wordPiece();
  const out = aggregateEntities(await tokens(tok), "average", LABELS, (t) => tok.convertTokensToString(t));
  assertEntities(out, [
    // hugging: B-ORG (0.7+0.1)/2 = 0.4 > I-ORG 0.35 > O 0.25; with face I-ORG 0.8 → mean 0.6
    { entity_group: "ORG", score: 0.6, word: "hugging face", start: 0, end: 12 },
    // microsoft: I-PER (0+0.7)/2 = 0.35 beats B-ORG 0.25 and O 0.25; an I- of a new type opens a group
    { entity_group: "PER", score: 0.35, word: "microsoft", start: 17, end: 26 },
    { entity_group: "LOC", score: 0.9, word: "new", start: 30, end: 33 },
    { entity_group: "LOC", score: 0.6, word: "york", start: 34, end: 38 },
  ]);
});

test("token entities: max takes the word's most confident token", async () => {
  const tok = await wordPiece();
  const out = aggregateEntities(await tokens(tok), "max", LABELS, (t) => tok.convertTokensToString(t));
  assertEntities(out, [
    // hugging: hu (0.7) over ##gging (0.6) → B-ORG 0.7; face 0.8 → 0.75
    { entity_group: "ORG", score: 0.75, word: "hugging face", start: 0, end: 12 },
    // microsoft: ##soft (0.7) over micro (0.5) → I-PER
    { entity_group: "PER", score: 0.7, word: "microsoft", start: 17, end: 26 },
    { entity_group: "LOC", score: 0.9, word: "new", start: 30, end: 33 },
    { entity_group: "LOC", score: 0.6, word: "york", start: 34, end: 38 },
  ]);
});

test("token entities: ignore_labels, labels without B-/I- (one entity while the type repeats), [UNK]", async () => {
  const tok = await wordPiece();
  const ts = await tokens(tok);
  const kept = aggregateEntities(ts, "simple", LABELS, (t) => tok.convertTokensToString(t), ["O", "LOC"]);
  assert.deepEqual(kept.map((e) => "entity_group" in e && e.entity_group), ["ORG", "ORG", "PER"]);
  const all = aggregateEntities(ts, "first", LABELS, (t) => tok.convertTokensToString(t), []);
  assert.deepEqual(all.map((e) => "entity_group" in e && e.entity_group), ["ORG", "O", "ORG", "O", "LOC", "LOC"]);

  // IO tags (no prefix): every tag continues, so adjacent PER tokens are one entity.
  const io = ["O", "PER", "LOC"];
  const text = "hu met new york";
  const p = {
    1: Float64Array.of(0.1, 0.9, 0), 2: Float64Array.of(0.1, 0.8, 0.1),
    3: Float64Array.of(0, 0.2, 0.8), 4: Float64Array.of(0, 0.4, 0.6),
  };
  const groups = aggregateEntities(await tokens(tok, text, p), "simple", io, (t) => tok.convertTokensToString(t));
  assertEntities(groups, [
    { entity_group: "PER", score: 0.85, word: "hu met", start: 0, end: 6 },
    { entity_group: "LOC", score: 0.7, word: "new york", start: 7, end: 15 },
  ]);

  // An unknown piece stands for its text, and starts a word of its own.
  const unk = await tokens(tok, "hu ☃gging");
  assert.deepEqual(unk.map((t) => [t.token, t.start, t.end, t.isSubword]),
    [["hu", 0, 2, false], ["☃gging", 3, 9, false]]);
});

test("token entities: one tag per word (first for none/simple; average and max aggregate)", async () => {
  const tok = await wordPiece();
  const words = groupWords(await tokens(tok), (t) => t.isSubword);
  assert.equal(words.length, 7);
  const tags = (s: "simple" | "average" | "max") => wordTags(words, s, LABELS).map((t) => t.tag);
  assert.deepEqual(tags("simple"), ["B-ORG", "I-ORG", "O", "B-ORG", "O", "B-LOC", "B-LOC"]);
  assert.deepEqual(tags("average"), ["B-ORG", "I-ORG", "O", "I-PER", "O", "B-LOC", "B-LOC"]);
  assert.deepEqual(tags("max"), ["B-ORG", "I-ORG", "O", "I-PER", "O", "B-LOC", "B-LOC"]);
});

test("token entities: byte-level BPE (RoBERTa): a piece continues a word when no space precedes it", async () => {
  const tok = await loadTokenizer(fileURLToPath(new URL("../../fixtures/hf/roberta-seq/", import.meta.url)));
  assert.equal(tok.continuingSubwordPrefix, null);
  const text = "the licensor, hello";
  const ts = await tokens(tok, text);
  // Each piece's span, and whether it starts a word: only pieces right after a space (or at 0) do.
  for (const t of ts) {
    const startsWord = t.start === 0 || text[t.start! - 1] === " " || text[t.start!] === " ";
    assert.equal(t.isSubword, !startsWord, `${JSON.stringify(t.token)} at ${t.start}`);
  }
  const words = groupWords(ts, (t) => t.isSubword).map((w) => text.slice(w[0].start!, w[w.length - 1].end!));
  assert.deepEqual(words, ["the", "licensor,", "hello"]);
  assert.equal(tok.convertTokensToString(ts.map((t) => t.token)), text, "the byte-level decoder joins the pieces back");
});
