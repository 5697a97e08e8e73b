import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeForMlm, maskTokens, mlmTransform, wordIdsFromPieces, type MaskingOptions, type MlmTokenizer } from "./mlm.js";

// [CLS]=2, [SEP]=3, [PAD]=0, [MASK]=4; everything else is text.
const O: MaskingOptions = { maskTokenId: 4, vocabSize: 1000, specialIds: [0, 1, 2, 3, 4], seed: 7 };
const ids = (n: number) => [2, ...Array.from({ length: n }, (_, i) => 100 + i), 3];

test("maskTokens: 15% of the non-special tokens, labels -100 elsewhere, specials untouched", () => {
  const x = ids(40);
  const m = maskTokens(x, O, { epoch: 0, index: 0 });
  const targets = m.labels.map((l, t) => (l === -100 ? -1 : t)).filter((t) => t >= 0);
  assert.equal(targets.length, 6); // round(40 · 0.15)
  for (const t of targets) assert.equal(m.labels[t], x[t]);
  assert.equal(m.labels[0], -100);
  assert.equal(m.labels[41], -100);
  assert.equal(m.input_ids[0], 2);
  assert.equal(m.input_ids[41], 3);
  // Untargeted tokens keep their ids.
  m.input_ids.forEach((v, t) => m.labels[t] === -100 && assert.equal(v, x[t]));
});

test("maskTokens: about 80% [MASK], 10% random, 10% kept among the targets", () => {
  let mask = 0, kept = 0, random = 0;
  for (let i = 0; i < 400; i++) {
    const x = ids(50);
    const m = maskTokens(x, O, { epoch: 0, index: i });
    m.labels.forEach((l, t) => {
      if (l === -100) return;
      if (m.input_ids[t] === 4) mask++;
      else if (m.input_ids[t] === x[t]) kept++;
      else random++;
    });
  }
  const total = mask + kept + random; // 400 · 8 (random may hit the original id: counted as kept)
  assert.equal(total, 400 * 8);
  assert.ok(Math.abs(mask / total - 0.8) < 0.03, `mask share ${mask / total}`);
  assert.ok(Math.abs(random / total - 0.1) < 0.02, `random share ${random / total}`);
  assert.ok(Math.abs(kept / total - 0.1) < 0.02, `kept share ${kept / total}`);
});

test("maskTokens: a pure function of (seed, epoch, index); epochs and examples differ", () => {
  const x = ids(30);
  const a = maskTokens(x, O, { epoch: 1, index: 5 });
  assert.deepEqual(maskTokens(x, O, { epoch: 1, index: 5 }), a);
  assert.notDeepEqual(maskTokens(x, O, { epoch: 2, index: 5 }).labels, a.labels);
  assert.notDeepEqual(maskTokens(x, O, { epoch: 1, index: 6 }).labels, a.labels);
  assert.notDeepEqual(maskTokens(x, { ...O, seed: 8 }, { epoch: 1, index: 5 }).labels, a.labels);
});

test("maskTokens: short texts still get one target; all-special rows get none", () => {
  const m = maskTokens([2, 50, 3], O, { epoch: 0, index: 0 });
  assert.deepEqual(m.labels, [-100, 50, -100]);
  assert.deepEqual(maskTokens([2, 3, 0, 0], O, { epoch: 0, index: 0 }).labels, [-100, -100, -100, -100]);
});

test("whole-word masking: the pieces of a word are predicted together", () => {
  // Words of 1, 3, 2, 1, 3… pieces: "##" pieces continue the previous word.
  const tokens = ["[CLS]"], x = [2];
  const shape = [1, 3, 2, 1, 3, 2, 1, 1, 2, 3, 1, 2, 2, 1, 3, 1, 2, 1];
  shape.forEach((len, w) => {
    for (let k = 0; k < len; k++) {
      tokens.push(k === 0 ? `w${w}` : `##p${k}`);
      x.push(100 + x.length);
    }
  });
  tokens.push("[SEP]");
  x.push(3);
  const words = wordIdsFromPieces(tokens, (t) => t === 0 || t === tokens.length - 1);
  assert.equal(words[0], null);
  assert.equal(words[1], 0);
  assert.deepEqual(words.slice(2, 5), [1, 1, 1]);
  for (let index = 0; index < 50; index++) {
    const m = maskTokens(x, { ...O, wholeWordMasking: true }, { epoch: 0, index }, words);
    const byWord = new Map<number, boolean[]>();
    m.labels.forEach((l, t) => {
      const w = words[t];
      if (w === null) return assert.equal(l, -100);
      byWord.set(w, [...(byWord.get(w) ?? []), l !== -100]);
    });
    for (const flags of byWord.values()) assert.ok(flags.every((f) => f === flags[0]), "a word is split between predicted and not");
    const n = m.labels.filter((l) => l !== -100).length;
    assert.ok(n >= 1 && n <= Math.round(0.15 * (x.length - 2)), `${n} targets`);
  }
  assert.throws(() => maskTokens(x, { ...O, wholeWordMasking: true }, { epoch: 0, index: 0 }), /word ids/);
});

test("mlmTransform: masks by training-set index, so batch composition does not matter", () => {
  const train = Array.from({ length: 6 }, (_, i) => ({ input_ids: ids(20 + i), token_type_ids: new Array(22 + i).fill(0) }));
  const f = mlmTransform(O);
  const all = f(train, { epoch: 3, indices: [0, 1, 2, 3, 4, 5] });
  const two = f([train[4], train[1]], { epoch: 3, indices: [4, 1] });
  assert.deepEqual(two[0], all[4]);
  assert.deepEqual(two[1], all[1]);
  assert.equal((all[0].label as number[]).length, 22);
  assert.throws(() => maskTokens([2, 5, 3], { ...O, mlmProbability: 1.5 }, { epoch: 0, index: 0 }), /mlm_probability/);
});

// A stand-in tokenizer: one id per character, words split at spaces; [CLS]=2, [SEP]=3.
const charTok: MlmTokenizer = {
  clsTokenId: 2,
  sepTokenId: 3,
  encodeBatch: async (texts) => ({
    encodings: texts.map((t) => {
      const ids: number[] = [], wordIds: (number | null)[] = [];
      t.split(" ").filter(Boolean).forEach((w, wi) => [...w].forEach((c) => (ids.push(c.charCodeAt(0)), wordIds.push(wi))));
      return { ids, wordIds };
    }),
  }),
};

test("encodeForMlm: documents joined by [SEP] and cut into [CLS] block [SEP] of max_length", async () => {
  const c = await encodeForMlm(["ab cd", "", "efg", "hi j"], charTok, { maxLength: 8 });
  const A = (s: string) => [...s].map((ch) => (ch === "|" ? 3 : ch.charCodeAt(0)));
  assert.deepEqual(c.examples.map((e) => e.input_ids), [[2, ...A("abcd|e"), 3], [2, ...A("fg|hij"), 3]]);
  assert.equal(c.documents, 3);
  assert.equal(c.tokens, 10);
  // Word ids stay unique across documents and null on [CLS], [SEP] and separators.
  assert.deepEqual(c.wordIds[0], [null, 0, 0, 1, 1, null, 2, null]);
  assert.deepEqual(c.wordIds[1], [null, 2, 2, null, 3, 3, 4, null]);
  assert.deepEqual(c.examples[0].token_type_ids, new Array(8).fill(0));
  const lines = await encodeForMlm(["ab cd efgh", "x"], charTok, { maxLength: 8, mode: "line" });
  assert.deepEqual(lines.examples.map((e) => e.input_ids), [[2, ...A("abcdef"), 3], [2, ...A("x"), 3]]);
  await assert.rejects(encodeForMlm(["", " "], charTok, { maxLength: 8 }), /no text/);
  await assert.rejects(encodeForMlm(["a"], { ...charTok, clsTokenId: undefined }, { maxLength: 8 }), /cls_token/);
});
