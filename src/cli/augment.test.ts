// whet augment as a user runs it: a fresh folder, string labels, and a few mistakes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const FIX = fileURLToPath(new URL("../../fixtures/augment/", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, "augment", ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function inTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "whet-augment-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TRAIN = "sentence,label\n\"The movie was great, really great!\",positive\n" +
  "A dull and boring film.,negative\nthe weather is nice today,positive\n";

test("whet augment --method eda: originals kept, labels, provenance, same output for a seed", () => inTmp((dir) => {
  writeFileSync(join(dir, "train.csv"), TRAIN);
  const args = ["--input", "train.csv", "--output", "aug.csv", "--method", "eda", "--text-column", "sentence",
    "--seed", "5"];
  const r = whet(args, dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^eda: 3 rows -> \d+ \(\d+ added, \d+ duplicates dropped\); wrote aug\.csv/);
  const text = readFileSync(join(dir, "aug.csv"), "utf8");
  const lines = text.trim().split("\n");
  assert.equal(lines[0], "sentence,label,provenance");
  assert.deepEqual(lines.slice(1, 4), ["\"The movie was great, really great!\",positive,original",
    "A dull and boring film.,negative,original", "the weather is nice today,positive,original"]);
  assert.ok(lines.length > 4);
  for (const l of lines.slice(4)) assert.match(l, /,(positive,eda:[02]|negative,eda:1)$/);
  assert.equal(whet(args, dir).code, 0);
  assert.equal(readFileSync(join(dir, "aug.csv"), "utf8"), text, "deterministic for a seed");
  // The output trains as it is: whet's reader takes it back.
  assert.equal(readdirSync(dir).filter((f) => f.endsWith(".tmp")).length, 0);
}));

test("whet augment: code-switch to JSON Lines, templates without an input, token classification", () => inTmp((dir) => {
  writeFileSync(join(dir, "train.csv"), TRAIN.replace("sentence", "text"));
  const cs = whet(["--input", "train.csv", "--output", "cs.jsonl", "--method", "code-switch",
    "--dictionary", join(FIX, "en-de.txt"),
    "--dictionary", `fr=${join(FIX, "en-fr.txt")}`, "--cross", "1"], dir);
  assert.equal(cs.code, 0, cs.err);
  const rows = readFileSync(join(dir, "cs.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(rows.length > 3 && rows.slice(3).every((x) => /^code-switch:[0-2]$/.test(x.provenance)));
  const t = whet(["--output", "intents.csv", "--method", "template", "--templates", join(FIX, "intents.yaml")], dir);
  assert.equal(t.code, 0, t.err);
  assert.match(readFileSync(join(dir, "intents.csv"), "utf8"),
    /^text,label,provenance\nBook a flight to Paris today,book_flight,template:0\n/);
  writeFileSync(join(dir, "ner.conll"), "John\tB-PER\nwatched\tO\na\tO\nwonderful\tO\nmovie\tO\n\n");
  const ner = whet(["--input", "ner.conll", "--output", "ner.jsonl", "--task", "token-classification", "--method",
    "eda"], dir);
  assert.equal(ner.code, 0, ner.err);
  const sents = readFileSync(join(dir, "ner.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(sents.length > 1 && sents.every((s) => s.tokens.length === 5 && s.ner_tags.join() === "B-PER,O,O,O,O"));
  const bad = whet(["--input", "ner.conll", "--output", "ner.jsonl", "--task", "token-classification", "--method",
    "eda", "--p-rd", "0.2"], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /only synonym replacement is supported \(remove --p-rd or set them to 0\)/);
}));

test("whet augment: mistakes are usage errors (exit 2) or clear errors, and nothing is written", () => inTmp((dir) => {
  writeFileSync(join(dir, "train.csv"), TRAIN.replace("sentence", "text"));
  const out = ["--input", "train.csv", "--output", "aug.csv"];
  const unknown = whet([...out, "--method", "mixup"], dir);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err,
    /argument 'mixup' is invalid\. Allowed choices are eda, template, back-translation, code-switch/);
  const other = whet([...out, "--method", "eda", "--cross", "0.5"], dir);
  assert.equal(other.code, 2);
  assert.match(other.err, /--cross is an option of code-switch, not of method "eda"/);
  assert.equal(whet([...out, "--method", "eda", "--frobnicate"], dir).code, 2);
  assert.equal(whet([...out, "--method", "eda", "--num-aug", "many"], dir).code, 2);
  writeFileSync(join(dir, "bad-dict.txt"), "movie Film\nbook\n");
  const dict = whet([...out, "--method", "code-switch", "--dictionary", "bad-dict.txt"], dir);
  assert.equal(dict.code, 1);
  assert.match(dict.err, /bad-dict\.txt:2: expected "source target"/);
  writeFileSync(join(dir, "t.yaml"), "templates:\n  - {text: 'fly to {cty}', label: book}\n");
  const tpl = whet([...out, "--method", "template", "--templates", "t.yaml"], dir);
  assert.equal(tpl.code, 1);
  assert.match(tpl.err, /t\.yaml:2: template 1 \("fly to \{cty\}"\) uses slot "cty", which is not defined/);
  const same = whet(["--input", "train.csv", "--output", "train.csv", "--method", "eda"], dir);
  assert.match(same.err, /--output names the input file/);
  const both = whet([...out, "--method", "back-translation", "--back-translate", "en-de", "--pivot-models", "a,b"],
    dir);
  assert.equal(both.code, 2);
  assert.match(both.err, /needs exactly one of --back-translate \(e\.g\. en-de\) and --pivot-models/);
  const notMarian = whet([...out, "--method", "back-translation", "--pivot-models", `${FIX},${FIX}`], dir);
  assert.equal(notMarian.code, 1);
  assert.match(notMarian.err, /has no config\.json/);
  assert.ok(!existsSync(join(dir, "aug.csv")));
  assert.deepEqual(readdirSync(dir).sort(), ["bad-dict.txt", "t.yaml", "train.csv"]);
}));

test("whet augment --method back-translation: a round trip through two Marian models run by whet's engine", () =>
  inTmp((dir) => {
    writeFileSync(join(dir, "train.csv"), "text,label\nThe house is small.,a\nSection 7 applies.,b\n");
    const marian = fileURLToPath(new URL("../../fixtures/marian", import.meta.url));
    const r = whet(["--input", "train.csv", "--output", "bt.jsonl", "--method", "back-translation",
      "--pivot-models", `${marian},${marian}`, "--num-beams", "2"], dir);
    assert.equal(r.code, 0, r.err);
    const rows = readFileSync(join(dir, "bt.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    // The fixture's weights are random: its "paraphrases" are gibberish, but they are the model's outputs.
    assert.deepEqual(rows.slice(0, 2).map((x) => x.provenance), ["original", "original"]);
    const added = rows.slice(2);
    assert.ok(added.length > 0 && added.every((x) => /^back-translation:[01]$/.test(x.provenance) && x.text !== ""));
    assert.deepEqual(added.map((x) => x.label), added.map((x) => (x.provenance.endsWith("0") ? "a" : "b")));
  }));
