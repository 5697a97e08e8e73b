// boundText must never change an id that truncation keeps: checked for WordPiece (cased and
// uncased), byte-level BPE and SentencePiece (XLM-R) over the fixture texts cut short (small
// max_length, so the bound falls inside them) and over rows far longer than the bound.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";
import { boundText, charBound } from "./text_bound.js";
import type { Tokenizer } from "./tokenizer.js";

const FIX = fileURLToPath(new URL("../../fixtures/tokenizers/", import.meta.url));
const TEXTS = readFileSync(FIX + "tokenize/tokenize_texts.txt", "utf8").split("\n").filter((t) => t !== "");
const KINDS: [string, string, Record<string, unknown>?][] = [
  ["WordPiece uncased", "hf/bert-seq"], ["WordPiece cased", "hf/bert-seq", { do_lower_case: false }],
  ["byte-level BPE", "hf/roberta-seq"], ["SentencePiece", "xlmr-spm"],
];

/** Long rows (4,000–5,000 characters): the fixture texts joined; whitespace runs; short words; CJK. */
function longRows(): string[] {
  const all = TEXTS.join(" ");
  return [
    Array(4).fill(all).join("\n"),
    TEXTS.map((t) => t + " ".repeat(300)).join(""),
    "word ".repeat(900),
    TEXTS[4].repeat(80),
  ];
}

async function assertSameIds(
  tok: Tokenizer, text: string, maxLength: number, where: string, charsPerToken?: number,
): Promise<boolean> {
  const b = await boundText(tok, text, maxLength, charsPerToken);
  assert.ok(b.exact, `${where}: a checked prefix was found`);
  if (!b.cut) assert.equal(b.text, text, where);
  assert.ok(text.startsWith(b.text), where);
  const full = await tok.encode(text, null, { maxLength });
  const cut = await tok.encode(b.text, null, { maxLength });
  assert.deepEqual(cut.ids, full.ids, `${where} (max_length ${maxLength})`);
  // Untruncated: the prefix's ids begin with the full text's first max_length ids.
  const rawFull = (await tok.encode(text, null, { addSpecialTokens: false })).ids.slice(0, maxLength);
  const rawCut = (await tok.encode(b.text, null, { addSpecialTokens: false })).ids;
  assert.deepEqual(rawCut.slice(0, maxLength), rawFull, `${where}: prefix of the full ids`);
  return b.cut;
}

for (const [kind, dir, config] of KINDS) {
  test(`boundText (${kind}): the same ids with and without the bound, fixture texts and long rows`, async () => {
    const tok = await loadTokenizer(FIX + dir, { config });
    let cuts = 0;
    // Bounds from 1 character per token up: the cut falls everywhere inside the fixture texts.
    for (const maxLength of [3, 6]) {
      for (const perToken of [1, 2, 4]) {
        for (const t of TEXTS) if (await assertSameIds(tok, t, maxLength, JSON.stringify(t), perToken)) cuts++;
      }
    }
    assert.ok(cuts >= 40, `the bound fell inside fixture texts (${cuts} cuts)`);
    // (SentencePiece reads CJK without spaces as one word: that row has no boundary to cut at.)
    let longCuts = 0;
    for (const maxLength of [8, 64]) {
      for (const [i, t] of longRows().entries()) {
        assert.ok(t.length > charBound(maxLength));
        if (await assertSameIds(tok, t, maxLength, `long row ${i}`)) longCuts++;
      }
    }
    assert.ok(longCuts >= 6, `long rows were cut (${longCuts} of 8)`);
    // A pair: longest_first plans the same cut on the bounded texts.
    const [a, b] = [longRows()[0], longRows()[2]];
    for (const maxLength of [16, 64]) {
      const full = await tok.encode(a, b, { maxLength });
      const ba = await boundText(tok, a, maxLength), bb = await boundText(tok, b, maxLength);
      assert.deepEqual((await tok.encode(ba.text, bb.text, { maxLength })).ids, full.ids);
      const short = TEXTS[0];
      const half = await tok.encode(a, short, { maxLength });
      assert.deepEqual((await tok.encode(ba.text, (await boundText(tok, short, maxLength)).text, { maxLength })).ids, half.ids);
    }
  });
}

test("boundText: normal rows come back untouched; a row without word boundaries is cut, flagged inexact", async () => {
  const tok = await loadTokenizer(FIX + "hf/bert-seq");
  const normal = "a review of ordinary length, well under the bound";
  assert.deepEqual(await boundText(tok, normal, 128), { text: normal, cut: false, exact: true });
  const wordless = "x".repeat(2_000_000);
  const b = await boundText(tok, wordless, 8);
  assert.equal(b.cut, true);
  assert.equal(b.exact, false);
  assert.ok(b.text.length < 100_000, `cut at ${b.text.length} characters`);
  // Emoji are surrogate pairs in JS strings: the cut never splits one.
  const emoji = "🙂".repeat(10_000);
  const e = await boundText(tok, emoji, 4);
  assert.equal(e.text.length % 2, 0);
});
