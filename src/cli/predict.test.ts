// `whet predict` as a user runs it: input formats (JSONL, CSV, TSV, text lines), token
// classification output with transformers' aggregation strategies, and streaming (bounded memory,
// rows/s) over a 10,000-row file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { classifyTexts } from "../report/predict_texts.js";
import { loadForInference } from "./common.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const seqModel = join(fx, "trajectories", "bert-seq", "init");

function whet(args: string[], cwd: string, node: string[] = []) {
  const r = spawnSync(process.execPath, [...node, main, ...args], { cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-predict-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const readJsonl = (path: string) => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));

const TEXTS = [
  "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007",
  "Apache License Version 2.0, January 2004",
  'Mozilla Public License "MPL" Version 2.0',
  "GNU Free Documentation License, \"GFDL\" 1.3",
  "Permission is granted to copy",
];

test("predict: CSV, TSV (bare quotes), text lines and JSONL give the same predictions in the same order", async () => {
  await inTmp(async (dir) => {
    writeFileSync(join(dir, "in.jsonl"), TEXTS.map((t) => JSON.stringify({ text: t })).join("\n") + "\n");
    const csvField = (t: string) => (/[",]/.test(t) ? `"${t.replace(/"/g, "\"\"")}"` : t);
    const csvRows = TEXTS.map((t, i) => `${i},${csvField(t)}`);
    writeFileSync(join(dir, "in.csv"), "id,review\r\n" + csvRows.join("\r\n") + "\r\n");
    writeFileSync(join(dir, "in.tsv"), "sentence\tlabel\n" + TEXTS.map((t) => `${t}\t0`).join("\n") + "\n");
    writeFileSync(join(dir, "nohead.tsv"), TEXTS.map((t) => `x\t${t}`).join("\n"));
    writeFileSync(join(dir, "in.txt"), TEXTS.join("\n") + "\n\n\n");
    writeFileSync(join(dir, "keyed.jsonl"), TEXTS.map((t) => JSON.stringify({ sentence: t, id: 1 })).join("\n"));
    const base = ["predict", "--model", seqModel, "--threads", "1", "--batch-size", "2"];
    const runs: [string, string[]][] = [
      ["in.jsonl", []], ["in.csv", ["--text-column", "review"]], ["in.tsv", ["--text-column", "sentence"]],
      ["nohead.tsv", ["--no-header", "--text-column", "1"]], ["in.txt", []],
      ["keyed.jsonl", ["--text-column", "sentence"]],
    ];
    const outputs = runs.map(([file, extra]) => {
      const r = whet([...base, "--input", file, "--output", `${file}.out`, ...extra], dir);
      assert.equal(r.code, 0, `${file}: ${r.err}`);
      assert.match(r.err, /predicted 5 rows in [\d.]+ s \(\d+ rows\/s\)/);
      return readJsonl(join(dir, `${file}.out`));
    });
    assert.equal(outputs[0].length, TEXTS.length);
    outputs.forEach((o, k) => assert.deepEqual(o, outputs[0], `${runs[k][0]} predicts as the JSONL does`));
    // A pair column: the same as JSONL's text_pair.
    writeFileSync(join(dir, "pairs.jsonl"), JSON.stringify({ text: TEXTS[0], text_pair: TEXTS[1] }) + "\n");
    writeFileSync(join(dir, "pairs.csv"), `a,b\n${csvField(TEXTS[0])},${csvField(TEXTS[1])}\n`);
    const pj = whet([...base, "--input", "pairs.jsonl", "--output", "-", "--logits"], dir);
    const columns = ["--text-column", "a", "--text-pair-column", "b"];
    const pc = whet([...base, "--input", "pairs.csv", "--output", "-", "--logits", ...columns], dir);
    assert.equal(pc.code, 0, pc.err);
    assert.deepEqual(JSON.parse(pc.out), JSON.parse(pj.out));
  });
});

test("predict: mistakes in the input are one clear line each, and leave no output behind", async () => {
  await inTmp(async (dir) => {
    const base = ["predict", "--model", seqModel, "--threads", "1"];
    writeFileSync(join(dir, "in.xml"), "<texts/>\n");
    const ext = whet([...base, "--input", "in.xml", "--output", "o.jsonl"], dir);
    assert.equal(ext.code, 1);
    assert.match(ext.err, /Cannot tell the format of "in\.xml" from its extension "\.xml"/);
    assert.match(ext.err, /pass --format jsonl, csv, tsv, txt or conll/);
    const asText = whet([...base, "--input", "in.xml", "--output", "o.jsonl", "--format", "txt"], dir);
    assert.equal(asText.code, 0, asText.err);
    const badFormat = whet([...base, "--input", "in.xml", "--output", "o.jsonl", "--format", "xml"], dir);
    assert.equal(badFormat.code, 2, "a wrong choice is a usage error");
    writeFileSync(join(dir, "in.csv"), "review,stars\ngood,5\n");
    const col = whet([...base, "--input", "in.csv", "--output", "c.jsonl"], dir);
    assert.match(col.err, /no column "text" \(columns found: "review", "stars"\); choose it with --text-column/);
    writeFileSync(join(dir, "ragged.csv"), "text,stars\n" + "fine,1\n".repeat(50) + "a,b,c\n");
    const rag = whet([...base, "--input", "ragged.csv", "--output", "r.jsonl", "--batch-size", "4"], dir);
    assert.match(rag.err, /ragged\.csv:52: expected 2 fields, found 3/);
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ text: TEXTS[i % TEXTS.length] }));
    lines[49] = '{"txt": "typo"}';
    writeFileSync(join(dir, "late.jsonl"), lines.join("\n"));
    const late = whet([...base, "--input", "late.jsonl", "--output", "late.out", "--batch-size", "4"], dir);
    assert.match(late.err, /late\.jsonl:50: expected \{"text": \.\.\.\}, \{"tokens": \[\.\.\.\]\} or \{"input_ids": /);
    assert.match(late.err, /got keys txt; choose the text key with --text-column/);
    assert.ok(!existsSync(join(dir, "late.out")), "no half-written output");
    assert.ok(!readdirSync(dir).some((f) => f.endsWith(".tmp")), "no temporary file left");
    writeFileSync(join(dir, "bad.txt"), Buffer.from([0x68, 0x69, 0x0a, 0xff, 0x0a]));
    assert.match(whet([...base, "--input", "bad.txt", "--output", "b.jsonl"], dir).err, /bad\.txt:2: not valid UTF-8/);
    const mlm = whet(["predict", "--model", join(fx, "hf", "bert-mlm"), "--input", "in.xml", "--format", "txt",
      "--output", "m.jsonl"], dir);
    assert.match(mlm.err, /predict needs a sequence or token classifier; this model is a masked-lm model/);
    const same = whet([...base, "--input", "in.csv", "--output", "in.csv"], dir);
    assert.notEqual(same.code, 0);
    assert.match(same.err, /--output/);
  });
});

/** Peak RSS (kB) of a whet run, written to stderr by a preloaded hook. */
function peakRss(err: string): number {
  const m = /peak_rss_kb (\d+)/.exec(err);
  assert.ok(m, `no RSS line in:\n${err}`);
  return Number(m[1]);
}

test("predict: 10,000 rows stream in bounded memory, report rows/s, match the non-streamed predictions", async () => {
  await inTmp(async (dir) => {
    const hook = join(dir, "rss.cjs");
    const report = '`peak_rss_kb ${process.resourceUsage().maxRSS}\\n`';
    writeFileSync(hook, `process.on("exit", () => require("fs").writeSync(2, ${report}));\n`);
    // ~2 KB a row: holding the whole file (or its output) would add tens of MB.
    const filler = "Permission is hereby granted, free of charge, to any person obtaining a copy of it. ".repeat(22);
    const texts = Array.from({ length: 10_000 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i} ${filler}`);
    const quoted = (t: string) => `"${t.replace(/"/g, "\"\"")}"`;
    writeFileSync(join(dir, "big.csv"), "text\n" + texts.map(quoted).join("\n") + "\n");
    writeFileSync(join(dir, "small.csv"), "text\n" + texts.slice(0, 1000).map(quoted).join("\n") + "\n");
    const args = (f: string) => ["predict", "--model", seqModel, "--input", f, "--output", `${f}.jsonl`,
      "--max-length", "32", "--batch-size", "64", "--threads", "1"];
    const small = whet(args("small.csv"), dir, ["--require", hook]);
    assert.equal(small.code, 0, small.err);
    const big = whet(args("big.csv"), dir, ["--require", hook]);
    assert.equal(big.code, 0, big.err);
    const rate = /predicted 10000 rows in ([\d.]+) s \((\d+) rows\/s\)/.exec(big.err);
    assert.ok(rate, big.err);
    const [rssSmall, rssBig] = [peakRss(small.err), peakRss(big.err)];
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`predict 10k rows: ${rate[2]} rows/s; peak RSS ${mb(rssBig)} MB (1k rows: ${mb(rssSmall)} MB)`);
    // Reading the whole file instead grows it by ~100 MB; GC timing on a busy machine adds up to ~35 MB.
    assert.ok(rssBig - rssSmall < 60 * 1024, `peak RSS grew ${mb(rssBig - rssSmall)} MB from 1k to 10k rows`);

    // The same texts through the evaluator, all at once: same labels in the same order, same scores.
    const out = readJsonl(join(dir, "big.csv.jsonl"));
    assert.equal(out.length, texts.length);
    const m = await loadForInference(seqModel);
    const probs = await classifyTexts(m, texts, undefined, { maxLength: 32, batchSize: 256, threads: 1 });
    out.forEach((r, i) => {
      const k = probs[i].indexOf(Math.max(...probs[i]));
      assert.equal(r.label, m.labels[k], `row ${i + 1}`);
      assert.ok(Math.abs(r.score - probs[i][k]) < 1e-5, `row ${i + 1}: ${r.score} vs ${probs[i][k]}`);
    });
  });
});

test("predict: NER entities with character offsets and one tag per word, for each aggregation strategy", async () => {
  await inTmp(async (dir) => {
    const sent = "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n\n" +
      "BRUSSELS\tB-LOC\n1996-08-22\tO\n\n";
    writeFileSync(join(dir, "train.conll"), sent.repeat(8));
    writeFileSync(join(dir, "dev.conll"), sent);
    const t = whet(["train", "--task", "token-classification", "--model", join(fx, "hf", "bert-tok"),
      "--train-file", "train.conll", "--validation-file", "dev.conll", "--output-dir", "ner", "--learning-rate", "5e-3",
      "--num-train-epochs", "3", "--per-device-train-batch-size", "4", "--threads", "1", "--save-strategy", "no"], dir);
    assert.equal(t.code, 0, t.err);
    // The training sentences, as text (with extra spaces) and pre-tokenized.
    const texts = ["EU rejects  German call", "Peter Blackburn", "BRUSSELS 1996-08-22"];
    const words = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["BRUSSELS", "1996-08-22"]];
    writeFileSync(join(dir, "in.jsonl"), [...texts.map((x) => ({ text: x })), ...words.map((w) => ({ tokens: w }))]
      .map((r) => JSON.stringify(r)).join("\n"));
    const predict = ["predict", "--model", "ner", "--input", "in.jsonl", "--output", "-"];
    const gold = [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["B-LOC", "O"]];
    // Words of a text are transformers' (a piece without ## starts one): the date splits at its dashes.
    const textWords = [words[0], words[1], ["BRUSSELS", "1996", "-", "08", "-", "22"]];
    for (const s of ["none", "simple", "first", "average", "max"]) {
      const r = whet([...predict, "--aggregation-strategy", s], dir);
      assert.equal(r.code, 0, r.err);
      const out = r.out.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(out.length, 6);
      out.forEach((o, i) => {
        const pre = i >= 3;
        const sentence = pre ? words[i - 3].join(" ") : texts[i];
        assert.equal(o.tags.length, (pre ? words[i - 3] : textWords[i]).length, `${s} row ${i}: one tag per word`);
        if (!pre) assert.deepEqual(o.words, textWords[i], `${s} row ${i}: the words of the text`);
        let end = 0;
        for (const e of o.entities) {
          assert.ok(e.start >= end && e.end > e.start, `${s} row ${i}: entities in order, not overlapping`);
          end = e.end;
          // WordPiece pieces of an uncased model: the word is the lowercased span (## dropped) once grouped.
          const span = sentence.slice(e.start, e.end).toLowerCase();
          if (s === "none") assert.equal(e.word.replace(/^##/, "").toLowerCase(), span);
          // (a pre-tokenized word such as 1996-08-22 decodes with spaces between its pieces)
          else if (s !== "simple") assert.equal(e.word.replace(/ /g, ""), span.replace(/ /g, ""));
          assert.ok(s === "none" ? !("entity_group" in e) && e.entity !== "O" : e.entity_group !== "O");
        }
      });
      if (s === "first") {
        // The model learnt these sentences: word tags and entities are the gold ones.
        out.forEach((o, i) => assert.deepEqual(o.tags.slice(0, gold[i % 3].length), gold[i % 3], `row ${i}`));
        type Group = { entity_group: string; word: string; start: number; end: number };
        const ents = (i: number) => out[i].entities.map((e: Group) =>
          [e.entity_group, e.word, e.start, e.end]);
        assert.deepEqual(ents(0), [["ORG", "eu", 0, 2], ["MISC", "german", 12, 18]]);
        assert.deepEqual(ents(1), [["PER", "peter blackburn", 0, 15]]);
        assert.deepEqual(ents(4), [["PER", "peter blackburn", 0, 15]]);
        assert.deepEqual(ents(5), [["LOC", "brussels", 0, 8]]);
      }
    }
    // CoNLL input: its sentences predict as the same words given as {"tokens"} lines.
    writeFileSync(join(dir, "words.jsonl"), words.map((w) => JSON.stringify({ tokens: w })).join("\n"));
    const viaConll = whet(["predict", "--model", "ner", "--input", "dev.conll", "--output", "-"], dir);
    const viaJsonl = whet(["predict", "--model", "ner", "--input", "words.jsonl", "--output", "-"], dir);
    assert.equal(viaConll.code, 0, viaConll.err);
    assert.equal(viaConll.out, viaJsonl.out);
    assert.equal(viaConll.out.trim().split("\n").length, 3);
    const bad = whet([...predict, "--aggregation-strategy", "mean"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--aggregation-strategy.*Allowed choices are none, simple, first, average, max/);
  });
});
