// SentencePiece BPE models (model_type 2) converted as transformers' SpmConverter does, against
// the ids the real sentencepiece library gives (fixtures/spm_bpe, made by make_fixture.py).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";
import { parseSpmModel, spmBpeMerges } from "./sentencepiece.js";

const DIR = fileURLToPath(new URL("../../fixtures/spm_bpe/", import.meta.url));
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8"));

/** A folder holding `model` as XLM-R's sentencepiece.bpe.model. */
function xlmrFolder(model: string): string {
  const dir = mkdtempSync(join(tmpdir(), "whet-spm-bpe-"));
  copyFileSync(model, join(dir, "sentencepiece.bpe.model"));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "XLMRobertaTokenizer", model_max_length: 512 }),
  );
  return dir;
}

/** SentencePiece ids in XLM-R's fairseq layout: unknown (0) is 3, the others shift by one. */
const fairseq = (ids: number[]) => ids.map((i) => (i === 0 ? 3 : i + 1));

/**
 * The converter's one departure from sentencepiece: its normaliser collapses runs of spaces but
 * does not strip the end, so trailing whitespace becomes a final "▁" piece (as in Python's fast
 * XLM-R tokenizer; the slow one drops it).
 */
function converted(text: string, ids: number[], spaceId: number): number[] {
  return /\s$/.test(text) && text.trim() !== "" ? [...fairseq(ids), spaceId] : fairseq(ids);
}

for (const [name, m] of Object.entries(expected.models) as [
  string,
  { ids: number[][]; pieces: string[][]; decoded: string[] },
][]) {
  test(`sentencepiece BPE (${name}): ids as sentencepiece gives them, in the converted vocabulary`, async () => {
    const tok = await loadTokenizer(xlmrFolder(join(DIR, `${name}.model`)));
    for (const [i, text] of expected.texts.entries()) {
      const e = await tok.encode(text);
      assert.deepEqual(e.ids, [0, ...converted(text, m.ids[i], tok.tokenToId("\u2581")!), 2], JSON.stringify(text));
      const known = m.pieces[i].every((p, k) => m.ids[i][k] !== 0) && !/\s$/.test(text);
      if (known) assert.deepEqual(e.tokens, ["<s>", ...m.pieces[i], "</s>"]);
      if (known) assert.equal(await tok.decode(e.ids, { skipSpecialTokens: true }), m.decoded[i]);
    }
  });
}

test("sentencepiece BPE: merges are every split of a piece into two pieces, by the merged piece's id", () => {
  const spm = parseSpmModel(readFileSync(join(DIR, "bpe.model")));
  assert.equal(spm.modelType, 2);
  const merges = spmBpeMerges(spm);
  const id = new Map(spm.pieces.map((p, i) => [p.piece, i]));
  for (const [l, r] of merges) assert.ok(id.has(l + r), `${l} + ${r}`);
  const ranks = merges.map(([l, r]) => id.get(l + r)!);
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => a - b),
  );
  // "▁the" can be built as "▁t"+"he" or "▁th"+"e" (when those are pieces): both merges exist.
  const splits = merges.filter(([l, r]) => l + r === "\u2581the").map(([l]) => l);
  assert.ok(splits.length >= 1 && splits.every((l) => id.has(l)));
});

// With Debian's sentencepiece (apt-get install sentencepiece python3-sentencepiece), a model
// trained now with other settings is checked too; without it the fixture above still runs.
const hasSpm =
  spawnSync("/usr/bin/python3", ["-c", "import sentencepiece"]).status === 0 &&
  spawnSync("spm_train", ["--help"]).status !== null;
test(
  "sentencepiece BPE: a model trained now with spm_train (vocab 120, no dummy prefix)",
  { skip: hasSpm ? false : "spm_train / python3-sentencepiece not installed" },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "whet-spm-train-"));
    const corpus = [
      "the quick brown fox jumps over the lazy dog",
      "pack my box with five dozen liquor jugs",
      "sphinx of black quartz, judge my vow",
    ];
    writeFileSync(join(dir, "corpus.txt"), Array.from({ length: 40 }, (_, i) => `${corpus[i % 3]} ${i}`).join("\n"));
    const train = spawnSync(
      "spm_train",
      [
        `--input=${join(dir, "corpus.txt")}`,
        `--model_prefix=${join(dir, "m")}`,
        "--model_type=bpe",
        "--vocab_size=120",
        "--add_dummy_prefix=false",
        "--num_threads=1",
      ],
      { encoding: "utf8" },
    );
    assert.equal(train.status, 0, train.stderr);
    const texts = ["the lazy fox", "judge  my box!", "quartz ☃ dozen"];
    const py = spawnSync(
      "/usr/bin/python3",
      [
        "-c",
        `import sentencepiece as s, json, sys; p = s.SentencePieceProcessor(model_file=sys.argv[1]); print(json.dumps([p.encode(t) for t in json.loads(sys.argv[2])]))`,
        join(dir, "m.model"),
        JSON.stringify(texts),
      ],
      { encoding: "utf8" },
    );
    assert.equal(py.status, 0, py.stderr);
    const want = JSON.parse(py.stdout) as number[][];
    const tok = await loadTokenizer(xlmrFolder(join(dir, "m.model")));
    for (const [i, text] of texts.entries())
      assert.deepEqual((await tok.encode(text)).ids, [0, ...fairseq(want[i]), 2], text);
  },
);
