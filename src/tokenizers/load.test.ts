// loadTokenizer on odd and broken folders: every failure names the file and says what was expected.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { loadTokenizer } from "./load.js";
import { parseSpmModel } from "./sentencepiece.js";

const FIX = fileURLToPath(new URL("../../fixtures/tokenizers/", import.meta.url));
const BERT = FIX + "hf/bert-seq";
const ROBERTA = FIX + "hf/roberta-seq";

/** A fresh folder with the given files (string contents, or a path to copy). */
async function folder(files: Record<string, string | { copy: string }>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "whet-load-"));
  try {
    for (const [name, v] of Object.entries(files)) {
      if (typeof v === "string") writeFileSync(join(dir, name), v);
      else copyFileSync(v.copy, join(dir, name));
    }
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => e instanceof WhetError && re.test(e.message));

test("missing folder, empty folder, or no usable files: a WhetError that lists what is expected", async () => {
  await rejects(loadTokenizer("/nonexistent/whet-tok"), /Tokenizer folder "\/nonexistent\/whet-tok" does not exist/);
  await folder({}, (dir) => rejects(loadTokenizer(dir), /No tokenizer in ".*": expected tokenizer.json, or vocab.txt/));
  await folder({ "merges.txt": "#version: 0.2\n" }, (dir) => rejects(loadTokenizer(dir), /found only merges/));
  await folder({ "vocab.txt": "", "tokenizer_config.json": '{"tokenizer_class": "GPT2Tokenizer"}' }, (dir) =>
    rejects(loadTokenizer(dir), /Cannot build a "GPT2Tokenizer" from slow tokenizer files/));
});

test("malformed JSON names the file", async () => {
  await folder({ "vocab.txt": { copy: BERT + "/vocab.txt" }, "tokenizer_config.json": "{ do_lower_case: true" }, (dir) =>
    rejects(loadTokenizer(dir), /Malformed JSON in tokenizer file ".*tokenizer_config.json"/));
  await folder({ "vocab.txt": { copy: BERT + "/vocab.txt" }, "special_tokens_map.json": "[1, 2]" }, (dir) =>
    rejects(loadTokenizer(dir), /".*special_tokens_map.json" must hold a JSON object, got an array/));
  await folder({ "tokenizer.json": '{"version": "1.0", "model": ' }, (dir) => rejects(loadTokenizer(dir), /Malformed JSON in tokenizer file ".*tokenizer.json"/));
  await folder({ "tokenizer.json": '{"version": "1.0"}' }, (dir) => rejects(loadTokenizer(dir), /".*tokenizer.json" has no "model"/));
  await folder({ "tokenizer.json": '{"version": "1.0", "model": {"type": "Nonsense"}}' }, (dir) =>
    rejects(loadTokenizer(dir), /tokenizer.json": "model\.type" is "Nonsense"; expected one of WordPiece/));
  await folder({ "vocab.json": "{", "merges.txt": { copy: ROBERTA + "/merges.txt" } }, (dir) =>
    rejects(loadTokenizer(dir), /Malformed JSON in tokenizer file ".*vocab.json"/));
  await folder({ "vocab.json": { copy: ROBERTA + "/vocab.json" }, "merges.txt": "#version: 0.2\na b c\n" }, (dir) =>
    rejects(loadTokenizer(dir), /".*merges.txt", line 2 column 5: expected two tokens/));
  await folder({ "vocab.txt": "" }, (dir) => rejects(loadTokenizer(dir), /".*vocab.txt" is empty/));
  await folder({ "sentencepiece.bpe.model": "\x0a\xff\xff" }, (dir) => rejects(loadTokenizer(dir), /Malformed SentencePiece model ".*sentencepiece.bpe.model"/));
  assert.throws(() => parseSpmModel(new Uint8Array([0x0a, 0x02, 0x0a, 0x00])), /has 1 pieces/);
});

test("vocab.txt as Python reads it: CRLF lines, a repeated token keeps its last line", async () => {
  const lines = readFileSync(BERT + "/vocab.txt", "utf8").split("\n").slice(0, -1);
  await folder({ "vocab.txt": lines.join("\r\n") + "\r\n" }, async (dir) => {
    const tok = await loadTokenizer(dir);
    assert.deepEqual((await tok.encode("the licensor")).ids, [2, 186, 432, 3]);
  });
  await folder({ "vocab.txt": [...lines, "the"].join("\n") + "\n" }, async (dir) => {
    assert.deepEqual((await (await loadTokenizer(dir)).encode("the")).ids, [2, lines.length, 3]);
  });
});

test("a special token missing from the vocabulary gets the next id; added_tokens.json extends the vocabulary", async () => {
  const lines = readFileSync(BERT + "/vocab.txt", "utf8").split("\n").slice(0, -1).filter((l) => l !== "[MASK]");
  await folder({ "vocab.txt": lines.join("\n") + "\n", "added_tokens.json": '{"<new>": 1000}' }, async (dir) => {
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, 999);
    assert.equal(tok.maskTokenId, 999);
    assert.equal(tok.tokenToId("<new>"), 1000);
    assert.equal(tok.totalVocabSize, 1001);
    assert.deepEqual((await tok.encode("the [MASK] <new>", null, { addSpecialTokens: false })).ids, [185, 999, 1000]);
  });
});

test("a bare tokenizer.json (no config files) still knows its [CLS], [SEP], [PAD], [UNK] and [MASK]", async () => {
  const out = mkdtempSync(join(tmpdir(), "whet-load-"));
  try {
    await (await loadTokenizer(BERT)).save(out);
    await folder({ "tokenizer.json": { copy: join(out, "tokenizer.json") } }, async (dir) => {
      const tok = await loadTokenizer(dir);
      assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 1, 2, 3, 4]);
      assert.equal(tok.tokenizerClass, "BertTokenizer");
      assert.equal(tok.modelMaxLength, Infinity);
      assert.deepEqual((await tok.encodeBatch(["the", "the program"])).inputIds, [[2, 186, 3, 0], [2, 186, 210, 3]]);
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
