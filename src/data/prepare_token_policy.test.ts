import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { prepareData } from "./prepare.js";

const bert = fileURLToPath(new URL("../../fixtures/hf/bert-tok/", import.meta.url));

test("token data: a bad CoNLL line skips its sentence into the report; --strict (strict) stops at it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "whet-conll-policy-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const trainFile = join(dir, "train.conll");
  await writeFile(trainFile, "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\nlonely\n\nBonn\tB-LOC\n\nParis\tB-LOC\n");
  const tokenizer = await loadTokenizer(bert);
  const o = { tokenizer, maxLength: 32, seed: 1, holdOut: false };
  const data = await prepareData({ task: "token-classification", trainFile }, o);
  assert.equal(data.train.length, 3);
  const report = data.report as { skipped: { count: number; byReason: Record<string, number> } };
  assert.deepEqual(report.skipped.byReason, { "wrong number of columns": 1 });
  assert.match(data.reportText, /Skipped: 1 sentences \(wrong number of columns 1;/);
  await assert.rejects(prepareData({ task: "token-classification", trainFile, strict: true }, o),
    (e: unknown) => e instanceof WhetError && /train\.conll:5: expected "token<TAB>tag"/.test(e.message));
});
