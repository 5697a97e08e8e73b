// Reproduces the Python reference exactly: every line of the tokenize_expected_*.jsonl files
// (transformers 4.30 slow tokenizers over the hf/ fixture vocabularies), the input_ids /
// attention_mask / token_type_ids of every hf/*/expected.json batch, and SentencePiece's own
// encodings for the XLM-R layout. Data: fixtures/tokenizers/ (scripts/fixtures/tokenizers_*).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadTokenizer } from "./load.js";

const FIX = fileURLToPath(new URL("../../fixtures/tokenizers/", import.meta.url));

function jsonl(path: string): Record<string, any>[] {
  return readFileSync(FIX + path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

/** Each jsonl file: the folder its vocabulary comes from, and the from_pretrained kwargs it was made with. */
const variants: Record<string, { dir: string; config?: Record<string, unknown> }> = {
  bert_uncased: { dir: "hf/bert-seq" },
  bert_cased: { dir: "hf/bert-seq", config: { do_lower_case: false } },
  bert_nochinese: { dir: "hf/bert-seq", config: { tokenize_chinese_chars: false } },
  bert_pairs: { dir: "hf/bert-seq" },
  roberta: { dir: "hf/roberta-seq" },
};

for (const [name, v] of Object.entries(variants)) {
  test(`tokenize_expected_${name}.jsonl: every line reproduced exactly (ids, tokens, type ids, mask)`, async () => {
    const tok = await loadTokenizer(FIX + v.dir, { config: v.config });
    const lines = jsonl(`tokenize/tokenize_expected_${name}.jsonl`);
    assert.ok(lines.length >= 2);
    for (const d of lines) {
      const where = `${name}: ${JSON.stringify(d.text)}`;
      const e = await tok.encode(d.text, d.text_pair);
      assert.deepEqual(e.ids, d.ids, where);
      assert.deepEqual(e.tokens, d.id_tokens, where);
      assert.deepEqual(e.attentionMask, d.attention_mask, where);
      if (d.token_type_ids) assert.deepEqual(e.typeIds, d.token_type_ids, where);
      // `tokens` is Python's tokenizer.tokenize(text), with "<PAIR>" between the two texts of a pair.
      const want = d.text_pair === undefined ? d.tokens : d.tokens.filter((t: string) => t !== "<PAIR>");
      assert.deepEqual(await tok.tokenize(d.text, d.text_pair), want, where);
    }
  });
}

test("tokenize_texts.txt and tokenize_pairs.txt are the inputs of the jsonl files, in order", () => {
  const texts = readFileSync(FIX + "tokenize/tokenize_texts.txt", "utf8").split("\n");
  assert.deepEqual(jsonl("tokenize/tokenize_expected_bert_uncased.jsonl").map((d) => d.text), texts.slice(0, -1));
  const pairs = readFileSync(FIX + "tokenize/tokenize_pairs.txt", "utf8").trim().split("\n").map((l) => l.split("\t"));
  assert.deepEqual(jsonl("tokenize/tokenize_expected_bert_pairs.jsonl").map((d) => [d.text, d.text_pair]), pairs);
});

for (const name of ["bert-seq", "bert-tok", "bert-mlm", "distilbert-seq", "roberta-seq"]) {
  test(`hf/${name}: the padded batch of expected.json reproduced exactly`, async () => {
    const tok = await loadTokenizer(`${FIX}hf/${name}`);
    const want = JSON.parse(readFileSync(`${FIX}hf/${name}/expected_inputs.json`, "utf8"));
    const batch = await tok.encodeBatch(want.texts, undefined, { padding: "longest" });
    // The MLM fixture masks some tokens after tokenizing: compare with the ids before masking.
    assert.deepEqual(batch.inputIds, want.input_ids_unmasked ?? want.inputs.input_ids);
    assert.deepEqual(batch.attentionMask, want.inputs.attention_mask);
    const names = Object.keys(want.inputs).sort();
    assert.deepEqual([...batch.modelInputNames].sort(), names, "model input names (DistilBERT and RoBERTa take no token_type_ids)");
    if (want.inputs.token_type_ids) assert.deepEqual(batch.tokenTypeIds, want.inputs.token_type_ids);
    // The collators' mask: every special id (the unknown token too), computed from the ids alone.
    assert.deepEqual(batch.inputIds.map((r) => tok.getSpecialTokensMask(r)), want.special_tokens_mask);
    const t = batch.tensors();
    assert.deepEqual(Object.keys(t).sort(), names);
    assert.deepEqual(t.input_ids.shape, [want.texts.length, batch.inputIds[0].length]);
    assert.deepEqual(Array.from(t.input_ids.data as BigInt64Array, Number), batch.inputIds.flat());
  });
}

test("XLM-R layout: sentencepiece.bpe.model converted as XLMRobertaConverter does matches SentencePiece on every text", async () => {
  const tok = await loadTokenizer(FIX + "xlmr-spm");
  for (const d of jsonl("xlmr-spm/expected.jsonl")) {
    const e = await tok.encode(d.text);
    assert.deepEqual(e.ids, d.ids, JSON.stringify(d.text));
    // Unknown pieces come back as <unk> from the fast tokenizer, as their text from SentencePiece.
    const pieces = e.tokens.slice(1, -1);
    assert.deepEqual(pieces.map((p, i) => (p === "<unk>" ? d.tokens[i] : p)), d.tokens, JSON.stringify(d.text));
  }
  assert.equal(tok.tokenizerClass, "XLMRobertaTokenizer");
  assert.deepEqual([tok.clsTokenId, tok.padTokenId, tok.sepTokenId, tok.unkTokenId], [0, 1, 2, 3]);
  assert.equal(tok.maskTokenId, tok.vocabSize - 1, "<mask> is the last id");
  assert.deepEqual(tok.modelInputNames, ["input_ids", "attention_mask"]);
  // <s> A </s> </s> B </s>, all type id 0.
  const pair = await tok.encode("a", "b");
  assert.deepEqual(pair.ids.filter((_, i) => pair.specialTokensMask[i] === 1), [0, 2, 2, 2]);
  assert.ok(pair.typeIds.every((t) => t === 0));
});
