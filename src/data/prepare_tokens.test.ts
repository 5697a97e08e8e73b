import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "../tokenizers/index.js";
import { prepareData } from "./prepare.js";

const bert = fileURLToPath(new URL("../../fixtures/hf/bert-tok/", import.meta.url));

async function reportOf(conll: string) {
  const dir = mkdtempSync(join(tmpdir(), "whet-ner-report-"));
  writeFileSync(join(dir, "train.conll"), conll);
  const tokenizer = await loadTokenizer(bert);
  return prepareData({ task: "token-classification", trainFile: join(dir, "train.conll") },
    { tokenizer, maxLength: 64, seed: 1, holdOut: false });
}

test("NER data report: the O share, the loss of predicting the tag frequencies, advice when O dominates", async () => {
  // 9 O and 1 B-PER: entropy -(0.9 ln 0.9 + 0.1 ln 0.1) = 0.325 nats; O-dominated, so the advice follows.
  const lines = ["You O", "may O", "copy O", "it O", "", "Joan B-PER", "grants O", "the O", "licence O", "to O",
    "you O"];
  const d = await reportOf(lines.join("\n") + "\n");
  const report = d.report as { o_share: number; prior_loss: number };
  assert.equal(report.o_share, 0.9);
  assert.ok(Math.abs(report.prior_loss - -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1))) < 1e-12);
  assert.match(d.reportText, /O: 90\.0% of the words; predicting the tag frequencies alone gives loss 0\.325: /);
  assert.match(d.reportText, /tags every word O \(entity F1 0\.0\).*--learning-rate/);
  // Half the words are entities (WikiANN-like): the numbers, no warning.
  const balanced = await reportOf("Joan B-PER\nSmith I-PER\ngrants O\nit O\n");
  assert.match(balanced.reportText, /O: 50\.0% of the words; predicting the tag frequencies alone gives loss 1\.040$/m);
  assert.doesNotMatch(balanced.reportText, /tags every word O/);
});
