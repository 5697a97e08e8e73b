// MarianTokenizer against transformers 4.30 + sentencepiece 0.1.97 on fixtures/marian.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { cleanUpTokenization, loadMarianTokenizer } from "./marian_tokenizer.js";

const DIR = fileURLToPath(new URL("../../fixtures/marian/", import.meta.url));
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8"));
const tok = loadMarianTokenizer(DIR);

test("marian tokenizer: source and target pieces (nmt_nfkc, unknown runs, language code)", async () => {
  for (const [i, text] of expected.texts.entries())
    assert.deepEqual(await tok.tokenize(text), expected.tokenizer.source_tokens[i], text);
  for (const [i, text] of expected.target_texts.entries()) {
    assert.deepEqual(await tok.tokenize(text, { target: true }), expected.tokenizer.target_tokens[i], text);
  }
});

test("marian tokenizer: input ids, attention mask and padded labels", async () => {
  const batch = await tok.encodeBatch(expected.texts);
  assert.deepEqual(batch.inputIds, expected.inputs.input_ids);
  assert.deepEqual(batch.attentionMask, expected.inputs.attention_mask);
  assert.deepEqual((await tok.encodeBatch(expected.target_texts, { target: true })).inputIds, expected.labels_with_pad);
});

test("marian tokenizer: decode with and without special tokens, pieces only one side knows", () => {
  for (const c of expected.tokenizer.decode_cases) {
    assert.equal(tok.decode(c.ids, { skipSpecialTokens: c.skip_special_tokens }), c.text, JSON.stringify(c.tokens));
  }
  for (const [piece, ex] of Object.entries(expected.tokenizer.spm_decode_examples) as [
    string,
    Record<string, string>,
  ][]) {
    assert.equal(tok.target.decodePieces([piece]), ex["target_spm_decode_pieces([piece])"], piece);
    assert.equal(tok.target.decodePieces(["\u2581a", piece]), ex["target_spm_decode_pieces(['▁a', piece])"], piece);
  }
});

test("marian tokenizer: special tokens typed in the text stay whole; truncation keeps </s>; empty text", async () => {
  assert.deepEqual(await tok.tokenize("copy </s> the program"), [
    ...(await tok.tokenize("copy")),
    "</s>",
    ...(await tok.tokenize("the program")),
  ]);
  const ids = await tok.encode(expected.texts[0], { maxLength: 5 });
  assert.deepEqual(ids, [...expected.inputs.input_ids[0].slice(0, 4), 0]);
  assert.deepEqual(await tok.encode("   "), [0]);
  assert.equal(cleanUpTokenization("a , b . c n't d 's"), "a, b. cn't d's");
});

test("marian tokenizer: a folder without source.spm says what is missing", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-marian-tok-"));
  copyFileSync(join(DIR, "vocab.json"), join(dir, "vocab.json"));
  writeFileSync(join(dir, "target.spm"), "");
  assert.throws(() => loadMarianTokenizer(dir), /not a MarianTokenizer folder: source.spm missing/);
});
