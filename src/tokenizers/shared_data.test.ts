// Third-party tokenizer files in ../shared/data (never copied into the project): a tiny BERT's
// tokenizer.json and the public bert-base-uncased / bert-base-chinese vocabularies. Each test
// skips, saying why, where ../shared is absent.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";

const DATA = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
const TINY = DATA + "tiny_bert";
const UNCASED = DATA + "vocab/bert-base-uncased-vocab.txt";
const CHINESE = DATA + "vocab/bert-base-chinese-vocab.txt";
const absent = (p: string) => (existsSync(p) ? false : `${p} is absent (third-party data lives in ../shared/data)`);

/** A folder holding only a vocab.txt (and optionally a config): what old BERT checkpoints ship. */
async function withVocab<T>(vocab: string, config: Record<string, unknown> | null, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "whet-vocab-"));
  try {
    copyFileSync(vocab, join(dir, "vocab.txt"));
    if (config) writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config));
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("tiny_bert/tokenizer.json: loads as written (Whitespace pre-tokenizer, no normalizer) with its config's specials", { skip: absent(TINY) }, async () => {
  const tok = await loadTokenizer(TINY);
  assert.equal(tok.vocabSize, 256);
  assert.equal(tok.tokenizerClass, "BertTokenizerFast");
  assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 1, 2, 3, 4]);
  assert.equal(tok.modelMaxLength, 128);
  const e = await tok.encode("t5 t6 T7 nope", "t9");
  assert.deepEqual(e.ids, [2, 5, 6, 1, 1, 3, 9, 3], "do_lower_case false: T7 is unknown");
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 1, 1]);
  // Its added_tokens list is empty; the config's special tokens are registered on load, as Python does.
  assert.deepEqual((await tok.encode("t5[MASK]t6", null, { addSpecialTokens: false })).ids, [5, 4, 6]);
  // The stored padding setting (BatchLongest) is ignored: padding is per call.
  assert.deepEqual((await tok.encode("t5")).ids, [2, 5, 3]);
  const batch = await tok.encodeBatch(["t5", "t5 t6 t7"]);
  assert.deepEqual(batch.inputIds, [[2, 5, 3, 0, 0], [2, 5, 6, 7, 3]]);
});

test("bert-base-uncased vocab.txt: well-known encodings", { skip: absent(UNCASED) }, async () => {
  await withVocab(UNCASED, null, async (dir) => {
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, 30522);
    assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 100, 101, 102, 103]);
    assert.deepEqual((await tok.encode("hello world")).ids, [101, 7592, 2088, 102]);
    assert.deepEqual((await tok.encode("Hello, World!")).ids, [101, 7592, 1010, 2088, 999, 102]);
    assert.deepEqual((await tok.tokenize("unaffable")), ["una", "##ffa", "##ble"]);
    assert.deepEqual((await tok.tokenize("Héllo naïve café")), ["hello", "naive", "cafe"]);
    assert.deepEqual((await tok.encode("the cat", "sat down")).typeIds, [0, 0, 0, 0, 1, 1, 1]);
    assert.equal(await tok.decode((await tok.encode("Hello, world! It's a test.")).ids, { skipSpecialTokens: true }), "hello, world! it's a test.");
  });
});

test("bert-base-uncased with do_lower_case false: capitalised words become [UNK]", { skip: absent(UNCASED) }, async () => {
  await withVocab(UNCASED, { do_lower_case: false }, async (dir) => {
    const tok = await loadTokenizer(dir);
    assert.deepEqual((await tok.encode("Hello world")).ids, [101, 100, 2088, 102]);
  });
});

test("bert-base-chinese vocab.txt: one token per CJK character", { skip: absent(CHINESE) }, async () => {
  await withVocab(CHINESE, { do_lower_case: false }, async (dir) => {
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, 21128);
    assert.deepEqual(await tok.tokenize("我爱自然语言处理"), ["我", "爱", "自", "然", "语", "言", "处", "理"]);
  });
});
