// predictFile as a library call: a model and tokenizer in, the rest (task, labels, token types)
// from config.json; output to a file (atomically) or to any writable stream.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { predictFile } from "./predict.js";

const model = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init/", import.meta.url));

test("predictFile: a file or a stream gets one line per input, labels from config.json", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-predictfile-"));
  try {
    const loaded = await fromPretrained(model);
    const tokenizer = await loadTokenizer(loaded.dir);
    writeFileSync(join(dir, "in.txt"), "GNU GENERAL PUBLIC LICENSE\n\nApache License\n");
    const input = join(dir, "in.txt"), m = { model: loaded.model, tokenizer };
    const r = await predictFile(m, { input, threads: 1 }, join(dir, "out.jsonl"));
    assert.equal(r.rows, 3, "the blank line in the middle is an input too");
    const lines = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    for (const l of lines) assert.ok(["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"].includes(l.label), l.label);

    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on("data", (c: Buffer) => chunks.push(c));
    await predictFile(m, { input, threads: 1, batchSize: 1 }, sink);
    // Batch size 1 = batch size 32, up to float32 noise from the padding.
    const streamed = Buffer.concat(chunks).toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(streamed.map((l) => l.label), lines.map((l) => l.label));
    streamed.forEach((l, i) => assert.ok(Math.abs(l.score - lines[i].score) < 1e-6, `${l.score} vs ${lines[i].score}`));
    await assert.rejects(predictFile(m, { input, batchSize: 0 }, sink), /--batch-size must be a whole number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("predictFile: a 4 MB row is cut to a checked prefix before tokenizing, with the same result", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-predicthuge-"));
  try {
    const loaded = await fromPretrained(model);
    const tokenizer = await loadTokenizer(loaded.dir);
    const m = { model: loaded.model, tokenizer };
    // Record what reaches the tokenizer: the whole row must never be tokenized.
    let longest = 0;
    const encode = tokenizer.encode.bind(tokenizer);
    tokenizer.encode = (text, ...rest) => {
      longest = Math.max(longest, text.length);
      return encode(text, ...rest);
    };
    const huge = "Permission is hereby granted, free of charge, to any person obtaining a copy. ".repeat(52_000);
    // Both rows hold far more than max_length tokens: the model sees the same first 32 ids.
    writeFileSync(join(dir, "in.jsonl"), [huge, huge.slice(0, 20_000)].map((text) => JSON.stringify({ text })).join("\n"));
    const t0 = Date.now();
    await predictFile(m, { input: join(dir, "in.jsonl"), threads: 1, maxLength: 32 }, join(dir, "out.jsonl"));
    const [a, b] = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(a.label, b.label);
    assert.ok(Math.abs(a.score - b.score) < 1e-6, `${a.score} vs ${b.score}`);
    assert.ok(longest < 20_000, `a ${longest}-character text was tokenized`);
    console.log(`predict: a ${(huge.length / 1e6).toFixed(1)} M-character row in ${Date.now() - t0} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
