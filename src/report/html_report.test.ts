import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { classifierDetails } from "../train/classification_report.js";
import { buildHtmlReport } from "./html_report.js";
import { worstExamples } from "./html_sections.js";
import { readRunDir } from "./run_dir.js";
import { esc, heatmap, lineChart } from "./svg_charts.js";

function runDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "whet-rep-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const LOG = [
  { step: 1, epoch: 0.5, loss: 0.7, learning_rate: 1e-3, grad_norm: 2 },
  { step: 2, epoch: 1, loss: 0.5, learning_rate: 5e-4, grad_norm: 1.5 },
  { step: 2, epoch: 1, eval_loss: 0.55, eval_accuracy: 0.75, eval_f1: 0.7 },
].map((e) => JSON.stringify(e)).join("\n");

test("a run folder becomes one page: summary, curves, search history, extra sections; text is escaped", () => {
  const dir = runDir({
    "run.json": JSON.stringify({ model: "<b>m</b>", started: new Date(Date.now() - 5000).toISOString(),
      args: { learning_rate: 1e-3 }, command: ["train"] }),
    "trainer_log.jsonl": LOG,
    "study.json": JSON.stringify({ direction: "maximize", metric: "eval_f1", trials: [
      { number: 0, value: 0.6, state: "COMPLETE", params: { learning_rate: 1e-4 } },
      { number: 1, value: 0.7, state: "COMPLETE", params: { learning_rate: 3e-4 } },
      { number: 2, value: null, state: "PRUNED", params: { learning_rate: 1e-2 } }] }),
  });
  try {
    const run = readRunDir(dir);
    assert.ok(run.durationSeconds! >= 4, `duration ${run.durationSeconds}`);
    const html = buildHtmlReport(run, {
      evaluationNote: "no labelled file",
      sections: [{ id: "extra", title: "Extra", render: () => "<p>from elsewhere</p>" }, { id: "none", title: "None",
        render: () => null }],
    });
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes("&lt;b&gt;m&lt;/b&gt;") && !html.includes("<b>m</b>"), "the model name is escaped");
    for (const id of ["summary", "training", "evaluation", "search", "extra"]) assert.match(html,
      new RegExp(`<section id="${id}">`));
    assert.doesNotMatch(html, /id="none"/);
    assert.match(html, /3 trials · maximize eval_f1 · best 0.7/);
    assert.match(html, /Gradient norm/);
    assert.match(html, /no labelled file/);
    assert.doesNotMatch(html, /<script/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run folder errors name the file and line", () => {
  const empty = runDir({});
  const broken = runDir({ "run.json": "{}", "trainer_log.jsonl": '{"step": 1}\n{oops\n' });
  try {
    assert.throws(() => readRunDir(empty),
      /has neither run.json nor trainer_log.jsonl: give the output_dir of a training run/);
    assert.throws(() => readRunDir(broken), /trainer_log.jsonl:2: /);
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(broken, { recursive: true, force: true });
  }
});

test("the evaluation section and the worst examples, most confidently wrong first", () => {
  const probs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]];
  const worst = worstExamples(["a", "b", "c", "d"], [1, 1, 0, 0], probs, ["neg", "pos"], 2);
  assert.deepEqual(worst.map((w) => [w.text, w.predicted, w.probability]), [["a", "neg", 0.1], ["d", "pos", 0.3]]);
  const details = classifierDetails(probs.flat().map(Math.log), [1, 1, 0, 0], ["neg", "pos"]);
  const html = buildHtmlReport({ dir: "x", log: [] }, { evaluation: { file: "f.csv", details, worst } });
  assert.match(html, /Confusion matrix/);
  assert.match(html, /reference pos, predicted neg: 1/);
  // P(pos) of the positives 0.1 and 0.8 against the negatives 0.4 and 0.7: 2 of 4 pairs in order.
  assert.match(html, /ROC-AUC <b>0.5<\/b>/);
});

test("charts: escaped labels, empty data says so, a point per value", () => {
  assert.equal(esc(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  assert.match(lineChart([{ name: "loss", points: [] }], { x: "step", y: "loss" }), /No loss values were logged/);
  const svg = lineChart([{ name: "loss", points: [[1, 0.5], [2, 0.25], [3, NaN]] }], { x: "step", y: "loss" });
  assert.equal(svg.match(/<circle/g)!.length, 2, "NaN is not drawn");
  assert.equal(heatmap([[1, 2], [3, 4]], ["a<", "b"]).match(/<rect/g)!.length, 4);
});
