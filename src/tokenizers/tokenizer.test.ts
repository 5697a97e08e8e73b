// The Tokenizer API around the fixtures' BERT and RoBERTa vocabularies: truncation, padding,
// offsets and word ids, decoding, special tokens, saving.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";

const FIX = fileURLToPath(new URL("../../fixtures/tokenizers/", import.meta.url));
const BERT = FIX + "hf/bert-seq";
const ROBERTA = FIX + "hf/roberta-seq";

test("BERT: special tokens, sizes and config values", async () => {
  const tok = await loadTokenizer(BERT);
  assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 1, 2, 3, 4]);
  assert.equal(tok.bosTokenId, undefined);
  assert.equal(tok.vocabSize, 1000);
  assert.equal(tok.totalVocabSize, 1000, "special tokens already in vocab.txt add no ids");
  assert.equal(tok.modelMaxLength, 64);
  assert.equal(tok.tokenizerClass, "BertTokenizer");
  assert.deepEqual(tok.modelInputNames, ["input_ids", "token_type_ids", "attention_mask"]);
  assert.deepEqual(tok.allSpecialIds.sort(), [0, 1, 2, 3, 4]);
  assert.equal(await tok.numSpecialTokensToAdd(false), 2);
  assert.equal(await tok.numSpecialTokensToAdd(true), 3);
});

test("encode: pair type ids, special mask, word ids and offsets into each text", async () => {
  const tok = await loadTokenizer(BERT);
  const e = await tok.encode("The licensor", "grants you");
  assert.deepEqual(e.tokens, ["[CLS]", "the", "licensor", "[SEP]", "grants", "you", "[SEP]"]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(e.specialTokensMask, [1, 0, 0, 1, 0, 0, 1]);
  assert.deepEqual(e.wordIds, [null, 0, 1, null, 0, 1, null]);
  assert.deepEqual(e.sequenceIds, [null, 0, 0, null, 1, 1, null]);
  assert.deepEqual(e.offsets, [[0, 0], [0, 3], [4, 12], [0, 0], [0, 6], [7, 10], [0, 0]]);
  const noSpecial = await tok.encode("The licensor", null, { addSpecialTokens: false });
  assert.deepEqual(noSpecial.ids, [186, 432]);
});

test("offsets are UTF-16 positions: text.slice(start, end) gives each token's text after an emoji", async () => {
  const tok = await loadTokenizer(BERT);
  const text = "🙂 licensor 🙂🙂 grants";
  const e = await tok.encode(text, null, { addSpecialTokens: false });
  assert.deepEqual(e.tokens, ["[UNK]", "licensor", "[UNK]", "grants"]);
  assert.deepEqual(e.offsets.map(([s, t]) => text.slice(s, t)), ["🙂", "licensor", "🙂🙂", "grants"]);
});

test("literal special tokens in a text stay whole; decode skips them on request", async () => {
  const tok = await loadTokenizer(BERT);
  const e = await tok.encode("you [MASK] the program");
  assert.deepEqual(e.tokens, ["[CLS]", "you", "[MASK]", "the", "program", "[SEP]"]);
  assert.equal(await tok.decode(e.ids), "[CLS] you [MASK] the program [SEP]");
  assert.equal(await tok.decode(e.ids, { skipSpecialTokens: true }), "you the program");
  const h = await tok.encode("Hello, World! It's free.");
  assert.equal(await tok.decode(h.ids, { skipSpecialTokens: true }), "hello, world! it's free.");
  // The WordPiece decoder cleans up token by token; joining " ' " needs transformers' pass over the whole text.
  assert.equal(await tok.decode(h.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), "hello, world! it ' s free.");
});

test("RoBERTa: <s> A </s></s> B </s>, no token_type_ids, decode restores the text", async () => {
  const tok = await loadTokenizer(ROBERTA);
  assert.deepEqual([tok.clsTokenId, tok.padTokenId, tok.sepTokenId, tok.unkTokenId], [0, 1, 2, 3]);
  assert.deepEqual(tok.modelInputNames, ["input_ids", "attention_mask"]);
  const text = "The licensor grants you a copy of the program.";
  const e = await tok.encode(text, "You may redistribute it!");
  assert.deepEqual(e.ids.filter((_, i) => e.specialTokensMask[i] === 1), [0, 2, 2, 2]);
  assert.equal(await tok.decode((await tok.encode(text)).ids, { skipSpecialTokens: true }), text);
  // trim_offsets: the leading space of "Ġgrants" is not part of the word.
  const g = e.tokens.indexOf("Ġgrant");
  assert.equal(text.slice(...e.offsets[g]), "grant");
  // The mask token strips the space before it (lstrip) and stays whole.
  // (The Rust core reports the token as the matched text, " <mask>", and its offsets include the space.)
  const m = await tok.encode("a <mask> copy", null, { addSpecialTokens: false });
  assert.deepEqual(m.ids, [101, tok.maskTokenId, 366]);
  assert.deepEqual(m.ids, (await tok.encode("a<mask> copy", null, { addSpecialTokens: false })).ids);
});

test("encodeBatch: truncation counts the special tokens, longest_first cuts the longer text", async () => {
  const tok = await loadTokenizer(BERT);
  const a = "the licensor grants you a copy of the program";
  const b = "you may redistribute it";
  const full = await tok.encode(a, b);
  assert.equal(full.ids.length, 3 + 9 + 4);
  const batch = await tok.encodeBatch([a], [b], { maxLength: 12, truncation: "longest_first" });
  const e = batch.encodings[0];
  assert.equal(e.ids.length, 12);
  assert.deepEqual(e.tokens, ["[CLS]", "the", "licensor", "grants", "you", "a", "[SEP]", "you", "may", "redistribute", "it", "[SEP]"]);
  // maxLength alone implies longest_first, as in transformers.
  assert.deepEqual((await tok.encodeBatch([a], [b], { maxLength: 12 })).inputIds, batch.inputIds);
  const onlySecond = await tok.encode(a, b, { maxLength: 14, truncation: "only_second" });
  assert.deepEqual(onlySecond.tokens.slice(-3), ["you", "may", "[SEP]"]);
  await assert.rejects(tok.encode(a, b, { maxLength: 8, truncation: "only_second" }), /second sequence has only 4/);
  const single = await tok.encode(a, null, { maxLength: 5 });
  assert.deepEqual(single.tokens, ["[CLS]", "the", "licensor", "grants", "[SEP]"]);
  assert.equal(single.offsets.length, 5);
  // truncation: true uses model_max_length (64 here).
  const long = Array(100).fill("copy").join(" ");
  assert.equal((await tok.encode(long, null, { truncation: true })).ids.length, 64);
  assert.equal((await tok.encode(long)).ids.length, 102, "no truncation unless asked");
});

test("encodeBatch: padding longest / max_length / multiple-of / left, and tensors()", async () => {
  const tok = await loadTokenizer(BERT);
  const texts = ["the program", "you may redistribute it"];
  const longest = await tok.encodeBatch(texts);
  assert.deepEqual(longest.inputIds, [[2, 186, 210, 3, 0, 0], [2, 190, 209, 393, 203, 3]]);
  assert.deepEqual(longest.attentionMask, [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]);
  assert.deepEqual(longest.specialTokensMask[0], [1, 0, 0, 1, 1, 1]);
  assert.deepEqual(longest.encodings[0].wordIds, [null, 0, 1, null, null, null]);
  assert.deepEqual(longest.encodings[0].tokens.slice(-2), ["[PAD]", "[PAD]"]);
  const t = longest.tensors();
  assert.deepEqual(Object.keys(t), ["input_ids", "token_type_ids", "attention_mask"]);
  assert.equal(t.attention_mask.dtype, "int64");
  assert.deepEqual(t.attention_mask.shape, [2, 6]);
  assert.deepEqual((await tok.encodeBatch(texts, null, { padding: "max_length", maxLength: 10 })).inputIds[0].length, 10);
  assert.deepEqual((await tok.encodeBatch(texts, null, { padding: "max_length" })).inputIds[1].length, 64, "model_max_length");
  assert.deepEqual((await tok.encodeBatch(texts, null, { padToMultipleOf: 8 })).inputIds[0].length, 8);
  const ragged = await tok.encodeBatch(texts, null, { padding: false });
  assert.deepEqual(ragged.inputIds.map((r) => r.length), [4, 6]);
  assert.throws(() => ragged.tensors(), /ragged batch/);
  const left = await loadTokenizer(BERT, { config: { padding_side: "left" } });
  assert.deepEqual((await left.encodeBatch(texts)).inputIds[0], [0, 0, 2, 186, 210, 3]);
  assert.deepEqual((await tok.encodeBatch([])).inputIds, []);
  await assert.rejects(tok.encodeBatch(["a", "b"], ["c"]), /2 texts but 1 pairs/);
  await assert.rejects(tok.encode(42 as unknown as string), /text must be a string, got number/);
});

for (const [name, dir] of [["BERT", BERT], ["RoBERTa", ROBERTA]]) {
  test(`${name}: save() writes tokenizer.json + config files that load back to the same tokenizer`, async () => {
    const tok = await loadTokenizer(dir);
    const out = mkdtempSync(join(tmpdir(), "whet-tok-"));
    try {
      await tok.save(out);
      const cfg = JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8"));
      const original = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
      assert.deepEqual(cfg, original, "tokenizer_config.json round-trips key for key");
      assert.deepEqual(JSON.parse(readFileSync(join(out, "special_tokens_map.json"), "utf8")), JSON.parse(readFileSync(join(dir, "special_tokens_map.json"), "utf8")));
      const json = JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8"));
      assert.equal(json.padding, null);
      assert.ok(json.added_tokens.every((t: { special: boolean }) => t.special));
      const back = await loadTokenizer(out);
      const texts = readFileSync(FIX + "tokenize/tokenize_texts.txt", "utf8").split("\n");
      assert.deepEqual((await back.encodeBatch(texts, null)).inputIds, (await tok.encodeBatch(texts, null)).inputIds);
      // The slow files are written too, and load (without tokenizer.json) to the same ids.
      rmSync(join(out, "tokenizer.json"));
      const slow = await loadTokenizer(out);
      assert.deepEqual((await slow.encodeBatch(texts, null)).inputIds, (await tok.encodeBatch(texts, null)).inputIds);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test("override from_pretrained-style: do_lower_case false also wins over a saved tokenizer.json", async () => {
  const tok = await loadTokenizer(BERT);
  const out = mkdtempSync(join(tmpdir(), "whet-tok-"));
  try {
    await tok.save(out);
    const cased = await loadTokenizer(out, { config: { do_lower_case: false } });
    assert.deepEqual((await cased.encode("The program", null, { addSpecialTokens: false })).tokens, ["[UNK]", "program"]);
    const saved = mkdtempSync(join(tmpdir(), "whet-tok-"));
    await cased.save(saved);
    assert.equal(JSON.parse(readFileSync(join(saved, "tokenizer_config.json"), "utf8")).do_lower_case, false);
    assert.equal(JSON.parse(readFileSync(join(saved, "tokenizer.json"), "utf8")).normalizer.lowercase, false);
    rmSync(saved, { recursive: true, force: true });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
