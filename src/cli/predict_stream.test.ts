// whet predict streams its input: batch by batch, output written under a temporary name first.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const model = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TEXTS = ["GNU GENERAL PUBLIC LICENSE", "Mozilla Public License Version 2.0", "Apache License", "Permission is granted"];

test("predict: many rows in small batches give one line per row, the rows/s figure, the same labels as one batch", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-predict-"));
  try {
    const rows = Array.from({ length: 301 }, (_, i) => ({ text: `${TEXTS[i % TEXTS.length]} ${i}` }));
    writeFileSync(join(dir, "in.jsonl"), rows.map((r) => JSON.stringify(r)).join("\r\n") + "\n\n");
    const small = whet(["predict", "--model", model, "--input", "in.jsonl", "--output", "a.jsonl", "--batch-size", "7", "--threads", "1"], dir);
    assert.equal(small.code, 0, small.err);
    assert.match(small.err, /predicted 301 rows in [\d.]+ s \(\d+ rows\/s\)/);
    const big = whet(["predict", "--model", model, "--input", "in.jsonl", "--output", "b.jsonl", "--batch-size", "301", "--threads", "1"], dir);
    assert.equal(big.code, 0, big.err);
    const read = (f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const [a, b] = [read("a.jsonl"), read("b.jsonl")];
    assert.equal(a.length, 301);
    a.forEach((r, i) => {
      assert.equal(r.label, b[i].label, `row ${i + 1}`);
      assert.ok(Math.abs(r.score - b[i].score) < 1e-4, `row ${i + 1}: ${r.score} vs ${b[i].score}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("predict: a bad row late in the file names its line and leaves no output file behind", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-predict-"));
  try {
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ text: TEXTS[i % TEXTS.length] }));
    lines[49] = '{"txt": "typo"}';
    writeFileSync(join(dir, "in.jsonl"), lines.join("\n"));
    const r = whet(["predict", "--model", model, "--input", "in.jsonl", "--output", "out.jsonl", "--batch-size", "4"], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /in\.jsonl:50: expected \{"text": \.\.\.\} or \{"input_ids": \[\.\.\.\]\}, got keys txt/);
    assert.ok(!existsSync(join(dir, "out.jsonl")), "no half-written output");
    assert.deepEqual(readdirSync(dir), ["in.jsonl"], "no temporary file left");
    const z = whet(["predict", "--model", model, "--input", "in.jsonl", "--output", "out.jsonl", "--batch-size", "0"], dir);
    assert.match(z.err, /--batch-size must be a positive integer, got 0/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
