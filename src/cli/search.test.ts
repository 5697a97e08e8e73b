import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const MAIN = new URL("./main.js", import.meta.url).pathname;
const whet = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [MAIN, "search", ...args], { cwd, encoding: "utf8" });

// The objective: reads the parameters from stdin, reports two intermediate values, prints the value last.
const OBJECTIVE = `const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
const v = (p.x - 1) ** 2 + (p.kind === "b" ? 0 : 1) + p.n / 10;
console.log(JSON.stringify({ step: 0, value: v + 1 })); console.log(JSON.stringify({ step: 1, value: v }));
console.log("some log line"); console.log(v);`;

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "whet-search-"));
  writeFileSync(join(dir, "space.yaml"), "x: {type: float, low: -3, high: 3}\nkind: {type: categorical, choices: [a, b]}\nn: {type: int, low: 1, high: 4}\n");
  writeFileSync(join(dir, "objective.cjs"), OBJECTIVE);
  return dir;
}

test("whet search --objective-command runs the command per trial and prints the summary; --summary reads it back", () => {
  const dir = folder();
  const cmd = `"${process.execPath}" objective.cjs`;
  const r = whet(dir, "--space", "space.yaml", "--objective-command", cmd, "--n-trials", "6", "--seed", "3", "--output-dir", "out",
    "--storage", "sqlite:///s.db", "--study-name", "demo");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /study "demo" \(minimize\): 6 trials \(6 COMPLETE\)/);
  assert.match(r.stdout, /best trial: \d+ {2}value /);
  assert.match(r.stdout, /parameter importances/);
  const again = whet(dir, "--summary", "--storage", "sqlite:///s.db", "--study-name", "demo");
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout.split("\n")[1], r.stdout.split("\n")[1], "the same best trial");
  // a second worker joins the study: numbering goes on
  const more = whet(dir, "--space", "space.yaml", "--objective-command", cmd, "--n-trials", "2", "--storage", "sqlite:///s.db", "--study-name", "demo");
  assert.match(more.stdout, /8 trials/);
});

test("usage errors exit with 2 and say what is wrong; a failing command is FAIL with --catch", () => {
  const dir = folder();
  writeFileSync(join(dir, "typo.yaml"), "learning_rat: {type: float, low: 1e-5, high: 1e-3, log: true}\n");
  writeFileSync(join(dir, "range.yaml"), "x: {type: float, low: 2, high: 1}\n");
  writeFileSync(join(dir, "log.yaml"), "x: {type: float, low: 0, high: 1, log: true}\n");
  const typo = whet(dir, "--space", "typo.yaml", "--n-trials", "1");
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /typo\.yaml:1: "learning_rat" is not a TrainingArguments key.*did you mean "learning_rate"\?/);
  const range = whet(dir, "--space", "range.yaml", "--objective-command", "true", "--n-trials", "1");
  assert.equal(range.status, 2);
  assert.match(range.stderr, /low \(2\) must be smaller than high \(1\)/);
  assert.match(whet(dir, "--space", "log.yaml", "--objective-command", "true", "--n-trials", "1").stderr, /larger than 0 for a log/);
  assert.equal(whet(dir, "--space", "space.yaml", "--objective-command", "true", "--n-trials", "1", "--storage", "mysql://h/db").status, 2);
  const fail = whet(dir, "--space", "space.yaml", "--objective-command", "exit 3", "--n-trials", "2", "--catch", "--storage", "sqlite:///f.db");
  assert.equal(fail.status, 0, fail.stderr);
  assert.match(fail.stdout, /2 trials \(2 FAIL\)/);
  assert.match(fail.stderr, /exited with code 3/);
  const dir2 = whet(dir, "--space", "space.yaml", "--objective-command", "true", "--n-trials", "1", "--storage", "sqlite:///f.db",
    "--direction", "maximize");
  assert.equal(dir2.status, 2);
  assert.match(dir2.stderr, /was created to minimize, not to maximize/);
  const noCatch = whet(dir, "--space", "space.yaml", "--objective-command", "exit 3", "--n-trials", "2", "--storage", "sqlite:///g.db");
  assert.equal(noCatch.status, 1);
});
