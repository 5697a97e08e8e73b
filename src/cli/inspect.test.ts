import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatInspect, inspectData, type TextReport, type TokenReport } from "./inspect.js";
import { style } from "./style.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const model = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "whet-inspect-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);

/** Asynchronous, so a test's runs overlap: each start loads ONNX Runtime and the tokenizers. */
function whet(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: dir });
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

writeFileSync(at("reviews.csv"), [
  "review,stars", "great value,pos", "great value,neg", "broken on arrival,neg", "works fine,pos", "works fine,pos",
  `"${"very long text ".repeat(20).trim()}",pos`, ",pos",
].join("\n") + "\n");
writeFileSync(at("unlabelled.jsonl"), '{"text": "a"}\n{"text": "b"}\n');
writeFileSync(at("ner.conll"), [
  "-DOCSTART-\tO", "", "EU\tB-ORG", "rejects\tO", "German\tB-MISC", "call\tO", "", "Peter\tB-PER", "Blackburn\tI-PER", "",
  "in\tO", "New\tI-LOC", "York\tI-LOC", "",
].join("\n"));
writeFileSync(at("ner.jsonl"), '{"tokens": ["hi", "Bob"], "ner_tags": ["O", "B-PER"]}\n');
const columns = { textColumn: "review", labelColumn: "stars" };

test("inspect: a table's report; token lengths only with a model's tokenizer", async () => {
  const r = await inspectData(at("reviews.csv"), columns) as TextReport;
  assert.equal(r.task, "text-classification");
  assert.equal(r.rows, 6);
  assert.deepEqual(r.skipped?.byReason, { "empty text": 1 });
  assert.deepEqual(r.labels?.counts, [{ label: "pos", rows: 4 }, { label: "neg", rows: 2 }]);
  assert.equal(r.duplicates.rows, 2);
  assert.equal(r.conflicts.texts, 1);
  assert.equal(r.lengths, null);

  const L = (await inspectData(at("reviews.csv"), { ...columns, model, maxLength: 20 })).lengths!;
  assert.equal(L.maxLength, 20);
  assert.equal(L.min, 7, '"works fine": [CLS] works f ##in ##e [SEP] in the fixture\'s tiny vocabulary');
  assert.equal(L.truncated, 1, "the long review only");

  const text = formatInspect(at("reviews.csv"), r, style({ isTTY: true }, {}));
  assert.ok(text.includes("\u001b[1mConflicting labels:\u001b[22m 1 texts"), "finding names in bold on a terminal");
  assert.match(text, /pass --model/);

  const u = await inspectData(at("unlabelled.jsonl")) as TextReport;
  assert.equal(u.labelColumn, null, "no label column: read as unlabelled");
  assert.equal(u.labels, null);
  await assert.rejects(inspectData(at("unlabelled.jsonl"), { labelColumn: "label" }), /no column "label"/, "unless one was asked for");
});

test("inspect: CoNLL tags, entities, the IOB2 check and subword lengths; NER JSON Lines", async () => {
  const c = await inspectData(at("ner.conll"), { model }) as TokenReport;
  assert.equal(c.task, "token-classification");
  assert.equal(c.sentences, 3);
  assert.equal(c.tokens, 9);
  assert.deepEqual(c.tags[0], { tag: "O", count: 3 });
  assert.deepEqual(c.entities, [{ type: "LOC", count: 1 }, { type: "MISC", count: 1 }, { type: "ORG", count: 1 }, { type: "PER", count: 1 }]);
  assert.equal(c.iob2.violations, 1);
  assert.deepEqual(c.iob2.examples[0], { line: 12, position: 1, tag: "I-LOC", previous: "O" });
  assert.equal(c.words?.max, 4);
  assert.ok(c.lengths!.min >= 4, "subword tokens with [CLS] and [SEP]");
  const text = formatInspect("ner.conll", c, style({ isTTY: false }, {}));
  assert.match(text, /IOB2: 1 I- tags do not continue an entity/);
  assert.match(text, /line 12: I-LOC after O/);
  assert.ok(!text.includes("\u001b["), "no colour off a terminal");

  const j = await inspectData(at("ner.jsonl")) as TokenReport;
  assert.equal(j.format, "jsonl");
  assert.deepEqual(j.tags, [{ tag: "B-PER", count: 1 }, { tag: "O", count: 1 }]);
});

test("inspect: the command prints one JSON object; exit 1 on a bad file, 2 on a usage error", async () => {
  const [json, missing, badMax] = await Promise.all([
    whet(["inspect", "ner.conll", "--json"]), whet(["inspect", "nope.csv"]), whet(["inspect", "x.csv", "--max-length", "0"]),
  ]);
  assert.equal(json.code, 0, json.err);
  assert.equal(JSON.parse(json.out).iob2.violations, 1);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.csv/);
  assert.equal(badMax.code, 2);
  assert.match(badMax.err, /--max-length.*positive integer/);
});
