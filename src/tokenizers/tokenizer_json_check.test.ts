import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";

const fixture = fileURLToPath(new URL("../../fixtures/hf/bert-seq/", import.meta.url));

/** A folder with the fixture's tokenizer saved as tokenizer.json, changed by `edit`. */
async function tokenizerJsonWith(edit: (j: Record<string, unknown>) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "whet-tokjson-"));
  await (await loadTokenizer(fixture)).save(dir);
  const j = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")) as Record<string, unknown>;
  edit(j);
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(j));
  return dir;
}

test("a TemplateProcessing the Rust core would panic on is refused with a message, not an abort", async () => {
  const dir = await tokenizerJsonWith((j) => ((j.post_processor as Record<string, unknown>).special_tokens = {}));
  await assert.rejects(loadTokenizer(dir), /"post_processor\.single" uses the special token "\[CLS\]", which "post_processor\.special_tokens" does not define/);
});

test("tokenizer.json fields of the wrong type name the key instead of a JavaScript error", async () => {
  const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
    [(j) => (j.added_tokens = 5), /"added_tokens": expected array, got 5/],
    [(j) => ((j.model as Record<string, unknown>).vocab = [1, 2]), /"model\.vocab": expected object/],
    [(j) => (((j.model as Record<string, Record<string, unknown>>).vocab)["hello"] = -4), /"model\.vocab\.hello"/],
    [(j) => ((j.model as Record<string, unknown>).type = "Magic"), /"model\.type" is "Magic"/],
  ];
  for (const [edit, re] of cases) await assert.rejects(loadTokenizer(await tokenizerJsonWith(edit)), re);
});

test("vocabularies of 200,000 entries load (no spread into Math.max), as vocab.txt and as tokenizer.json", async () => {
  const big = mkdtempSync(join(tmpdir(), "whet-bigvocab-"));
  cpSync(fixture, big, { recursive: true });
  const base = readFileSync(join(fixture, "vocab.txt"), "utf8").trimEnd().split("\n");
  const extra = Array.from({ length: 200_000 - base.length }, (_, i) => `tok${i}`);
  writeFileSync(join(big, "vocab.txt"), [...base, ...extra].join("\n") + "\n");
  const tok = await loadTokenizer(big);
  assert.equal(tok.vocabSize, 200_000);
  const asJson = join(big, "json");
  mkdirSync(asJson);
  await tok.save(asJson);
  assert.equal((await loadTokenizer(asJson)).vocabSize, 200_000);
});
