import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadTokenizer } from "./load.js";
import { trainWordPiece } from "./train_wordpiece.js";

const TEXTS = Array.from({ length: 200 }, (_, i) => `Unhappiness and happiness number ${i % 7}: the anthropologist's Café notes.`);

test("trainWordPiece: specials first, the vocabulary cut to size, a folder loadTokenizer reads", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-wp-"));
  try {
    const tok = await trainWordPiece(TEXTS, dir, { vocabSize: 80 });
    const vocab = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n").slice(0, -1);
    assert.equal(vocab.length, 80);
    assert.deepEqual(vocab.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    assert.ok(vocab.some((p) => p.startsWith("##")), "continuation pieces");
    const again = await loadTokenizer(dir);
    assert.equal(again.totalVocabSize, 80);
    const e = await again.encode("Happiness café!");
    // Lower-cased, accents stripped; "!" never occurred in the corpus.
    assert.equal(e.tokens[0], "[CLS]");
    assert.equal(e.tokens.at(-2), "[UNK]");
    assert.equal((await tok.decode(e.ids, { skipSpecialTokens: true })).replace(/ /g, ""), "happinesscafe");
    await assert.rejects(trainWordPiece(TEXTS, dir, { vocabSize: 20 }), /smaller than the corpus alphabet/);
    await assert.rejects(trainWordPiece(["", "  "], dir, { vocabSize: 100 }), /no text/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
