// The reporting commands end to end, as a user runs them: train a small classifier on data with a
// planted gender bias (and TensorBoard logging), then evaluate per group, run the bias check,
// write the HTML report and open it in headless Chromium.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import protobuf from "protobufjs";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const init = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
let dir = "";

function whet(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Sentences whose label is the subject's gender: a model trained on them learns the bias. */
function write(name: string, n: number, seed: number,
  smallGroup = 0): { text: string; label: string; group: string }[] {
  const male = ["he", "his brother", "the man", "John", "my father", "the boy"];
  const female = ["she", "her sister", "the woman", "Mary", "my mother", "the girl"];
  const says = ["is good at this job", "was kind to us", "did the work well", "is a careful driver",
    "was on time today", "is very helpful"];
  const rows = Array.from({ length: n }, (_, i) => {
    const m = i % 2 === 0, subjects = m ? male : female;
    const text = `${subjects[(Math.floor(i / 2) + seed) % 6]} ${says[(Math.floor(i / 12) + i * 5 + seed) % 6]}.`;
    return { text, label: m ? "positive" : "negative", group: i < smallGroup ? "unknown" : m ? "male" : "female" };
  });
  writeFileSync(join(dir, name), "text,label,gender\n"
    + rows.map((r) => `"${r.text}",${r.label},${r.group}`).join("\n") + "\n");
  return rows;
}

let evalRows: ReturnType<typeof write> = [];
let predicted: string[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "whet-report-"));
  write("train.csv", 96, 1);
  evalRows = write("eval.csv", 40, 2, 2);
  const t = whet("train", "--model", init, "--train-file", "train.csv", "--validation-file", "eval.csv",
    "--output-dir", "run",
    "--learning-rate", "3e-3", "--per-device-train-batch-size", "16", "--num-train-epochs", "6", "--max-length", "32",
    "--threads", "1", "--logging-steps", "2", "--report-to", "tensorboard");
  assert.equal(t.code, 0, t.err);
  writeFileSync(join(dir, "eval.jsonl"), evalRows.map((r) => JSON.stringify({ text: r.text })).join("\n") + "\n");
  const p = whet("predict", "--model", "run", "--input", "eval.jsonl", "--output", "pred.jsonl");
  assert.equal(p.code, 0, p.err);
  predicted = readFileSync(join(dir, "pred.jsonl"),
    "utf8").trim().split("\n").map((l) => JSON.parse(l).label as string);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Accuracy of `whet predict`'s labels per group, the independent reference for per-group metrics. */
function accuracyByGroup(): Record<string, number> {
  const out: Record<string, [number, number]> = {};
  evalRows.forEach((r, i) => {
    const g = (out[r.group] ??= [0, 0]);
    g[0] += Number(predicted[i] === r.label);
    g[1]++;
  });
  return Object.fromEntries(Object.entries(out).map(([g, [hit, n]]) => [g, hit / n]));
}

test("--report-to tensorboard writes an event file with train/loss, train/learning_rate, train/grad_norm and eval/*",
  () => {
  const runs = join(dir, "run", "runs");
  const [logDir] = readdirSync(runs);
  const [file] = readdirSync(join(runs, logDir)).filter((f) => f.startsWith("events.out.tfevents."));
  const Event = protobuf.parse(`syntax = "proto3";
    message Value { string tag = 1; float simple_value = 2; }
    message Summary { repeated Value value = 1; }
    message Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }`).root.lookupType("Event");
  const buf = readFileSync(join(runs, logDir, file));
  const tags = new Map<string, number[]>();
  for (let at = 0; at < buf.length;) {
    const len = Number(buf.readBigUInt64LE(at));
    const e = Event.toObject(Event.decode(buf.subarray(at + 12, at + 12 + len)),
      { longs: Number }) as { step?: number; summary?: { value: { tag: string }[] } };
    for (const v of e.summary?.value ?? []) tags.set(v.tag, [...(tags.get(v.tag) ?? []), e.step ?? 0]);
    at += 16 + len;
  }
  for (const t of ["train/loss", "train/learning_rate", "train/grad_norm", "train/epoch", "eval/loss",
    "eval/accuracy", "eval/f1"]) {
    assert.ok(tags.has(t), `${t} in ${[...tags.keys()].join(", ")}`);
  }
  assert.deepEqual(tags.get("train/loss"), Array.from({ length: 18 }, (_, i) => 2 * (i + 1)),
    "every logging_steps = 2 of 36 steps");
  assert.deepEqual(tags.get("eval/accuracy"), [6, 12, 18, 24, 30, 36], "every epoch of 6 steps");
});

test("evaluate: confusion matrix, per-class report, ROC-AUC, ECE, and per-group accuracy equal to the model's predictions", () => {
  const r = whet("evaluate", "--model", "run", "--file", "eval.csv", "--group-column", "gender", "--n-boot", "50");
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out);
  assert.deepEqual(m.labels, ["negative", "positive"]);
  assert.equal(m.confusion_matrix.flat().reduce((s: number, x: number) => s + x, 0), 40);
  const hits = m.confusion_matrix[0][0] + m.confusion_matrix[1][1];
  assert.equal(hits / 40, m.eval_accuracy);
  assert.equal(m.per_class.length, 2);
  assert.ok(m.roc_auc >= 0 && m.roc_auc <= 1 && m.ece >= 0 && m.ece <= 1);
  assert.equal(m.reliability.length, 15);
  assert.deepEqual(m.groups.metrics.accuracy.by_group, accuracyByGroup());
  assert.match(r.err, /group "unknown" has only 2 rows/);
  const bad = whet("evaluate", "--model", "run", "--file", "eval.csv", "--group-column", "sex");
  assert.equal(bad.code, 1);
  const columns = '"text", "label", "gender"';
  assert.ok(bad.err.includes(`--group-column "sex": eval.csv has no such column; its columns are: ${columns}`), bad.err);
});

test("bias: per-group metrics match the model's predictions and the planted gender bias shows as flips", () => {
  const r = whet("bias", "--model", "run", "--file", "eval.csv", "--group-column", "gender", "--n-boot", "100",
    "--seed", "3",
    "--json", "--output", join("run", "bias.json"));
  assert.equal(r.code, 0, r.err);
  const b = JSON.parse(r.out);
  assert.deepEqual(b, JSON.parse(readFileSync(join(dir, "run", "bias.json"), "utf8")));
  assert.deepEqual(b.groups.metrics.accuracy.by_group, accuracyByGroup());
  const ci = b.groups.metrics.accuracy.ci.by_group.male;
  assert.ok(ci[0] <= b.groups.metrics.accuracy.by_group.male && b.groups.metrics.accuracy.by_group.male <= ci[1]);
  const gender = b.counterfactuals.find((c: { name: string }) => c.name === "gender");
  assert.ok(gender.tested >= 30, `gender swaps applied to ${gender.tested} rows`);
  assert.ok(gender.flip_rate > 0.5, `the model predicts gender: flip rate ${gender.flip_rate}`);
  assert.ok(gender.examples.length > 0 && gender.examples[0].before.label !== gender.examples[0].after.label);
  assert.equal(b.evaluation.calibration.bins.length, 15);
  assert.deepEqual(b.warnings, ['group "unknown" has only 2 rows: its metrics are reported but say little']);
  // Human-readable output and a malformed lexicon.
  const text = whet("bias", "--model", "run", "--file", "eval.csv", "--counterfactuals", "gender,punctuation");
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /gender\s+INV\s+tested \d+\s+flipped/);
  writeFileSync(join(dir, "lex.tsv"), "# mine\nreligion\tchurch\tmosque\nreligion church\n");
  const lex = whet("bias", "--model", "run", "--file", "eval.csv", "--lexicon", "lex.tsv");
  assert.equal(lex.code, 1);
  assert.match(lex.err, /lex.tsv:3: expected 3 tab-separated fields/);
  const col = whet("bias", "--model", "run", "--file", "eval.csv", "--text-column", "body");
  assert.ok(col.err.includes('no column "body" (columns found: "text", "label", "gender"); choose columns with --text-column'), col.err);
  const lab = whet("bias", "--model", "run", "--file", "eval.csv", "--label-column", "y");
  assert.match(lab.err, /--label-column "y": eval.csv has no such column; its columns are: "text", "label", "gender"/);
  const pos = whet("bias", "--model", "run", "--file", "eval.csv", "--positive-label", "good");
  assert.match(pos.err, /--positive-label "good": the model's labels are negative, positive/);
});

/** Pixels of an 8-bit RGB or RGBA PNG (what Chromium writes), filters undone. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const width = png.readUInt32BE(16), height = png.readUInt32BE(20), channels = png[25] === 6 ? 4 : 3;
  assert.equal(png[24], 8, "8-bit PNG");
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at), type = png.toString("latin1", at + 4, at + 8);
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat)), stride = width * channels, pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0, b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      pixels[y * stride + x] = (row[x] + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

test("report: one self-contained page that renders in headless Chromium without errors", { skip: !existsSync(CHROMIUM)
  && `${CHROMIUM} is absent (apt-get install -y chromium)` }, async () => {
  const r = whet("report", "run", "--output", "report.html");
  assert.equal(r.code, 0, r.err);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "no script, no external URL");
  for (const id of ["summary", "training", "evaluation", "bias"]) assert.match(html,
    new RegExp(`<section id="${id}">`));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [], requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("request", (q) => !q.url().startsWith("file:") && requests.push(q.url()));
    await page.goto(`file://${join(dir, "report.html")}`);
    assert.deepEqual(problems, [], "console errors");
    assert.deepEqual(requests, [], "network requests");
    assert.ok(await page.locator("svg.chart").count() >= 7,
      "loss, learning rate, metrics, confusion matrix, per-class, reliability, groups");
    assert.ok(await page.locator("#evaluation svg.chart rect").count() > 4, "the confusion matrix has cells");
    assert.ok(await page.locator("#training polyline").count() >= 2, "the curves are drawn");
    const shot = decodePng(await page.locator("#evaluation").screenshot());
    const colours = new Set<number>();
    for (let i = 0; i < shot.pixels.length; i += shot.channels) colours.add((shot.pixels[i] << 16) | (shot.pixels[i
      + 1] << 8) | shot.pixels[i + 2]);
    assert.ok(shot.width > 300 && shot.height > 300, `screenshot ${shot.width}x${shot.height}`);
    assert.ok(colours.size > 20, `the evaluation section is not blank: ${colours.size} colours`);
  } finally {
    await browser.close();
  }
  const bad = whet("report", "nowhere");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /report: nowhere is not a folder/);
});
