import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { clampThreads } from "../runtime/session.js";
import { fromPretrained } from "./pretrained.js";

const fixture = fileURLToPath(new URL("../../fixtures/hf/bert-seq/", import.meta.url));

/** A copy of the fixture with config.json changed by `edit`. */
function modelWith(edit: (c: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "whet-fit-"));
  cpSync(fixture, dir, { recursive: true });
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  edit(c);
  writeFileSync(join(dir, "config.json"), JSON.stringify(c));
  return dir;
}

test("a config that contradicts the checkpoint's shapes fails before the model is allocated", async () => {
  const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
    [(c) => (c.hidden_size = 12288), /hidden_size 12288 give "embeddings\.word_embeddings\.weight" the shape \[\d+, 12288\], the checkpoint has \[\d+, 32\]/],
    [(c) => (c.vocab_size = 900_000), /vocab_size 900000/],
    [(c) => (c.num_hidden_layers = 1), /num_hidden_layers is 1 but the checkpoint holds 2 layers/],
    [(c) => (c.num_hidden_layers = 100), /num_hidden_layers is 100 but the checkpoint holds 2 layers/],
    [(c) => (c.intermediate_size = 60_000), /intermediate_size 60000/],
  ];
  for (const [edit, re] of cases) {
    const dir = modelWith(edit);
    const rss = process.memoryUsage().rss;
    await assert.rejects(fromPretrained(dir), re);
    assert.ok(process.memoryUsage().rss - rss < 200e6, "no large allocation before the check");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("inference refuses a model whose classifier is missing instead of drawing a random one", async () => {
  const dir = modelWith((c) => (c.id2label = { 0: "a", 1: "b", 2: "c", 3: "d", 4: "e" }));
  delete (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>).label2id;
  await assert.rejects(fromPretrained(dir, { task: "sequence-classification", requireAllWeights: true }), /no usable classifier\.weight.*random predictions/);
  const training = await fromPretrained(dir, { task: "sequence-classification" });
  assert.ok(training.report.initialized.includes("classifier.weight"), "training still draws a fresh head and says so");
});

test("only regular files are read from a model folder: a link to /dev/zero or a FIFO is refused at once", async () => {
  const zero = modelWith(() => {});
  rmSync(join(zero, "model.safetensors"));
  symlinkSync("/dev/zero", join(zero, "model.safetensors"));
  await assert.rejects(fromPretrained(zero), /model\.safetensors: it is a character device; expected a regular file/);
  const fifo = modelWith(() => {});
  rmSync(join(fifo, "config.json"));
  if (spawnSync("mkfifo", [join(fifo, "config.json")]).status !== 0) return; // no mkfifo here
  await assert.rejects(fromPretrained(fifo), /config\.json: it is a FIFO/);
});

test("threads beyond the machine's cores are clamped with one note", () => {
  const notes: string[] = [];
  assert.equal(clampThreads(1_000_000, (m) => notes.push(m)) <= 1_000, true);
  assert.match(notes[0] ?? "", /threads 1000000 is more than this machine's \d+ cores: using \d+/);
  assert.equal(clampThreads(1), 1);
  assert.equal(clampThreads(undefined), 0);
});
