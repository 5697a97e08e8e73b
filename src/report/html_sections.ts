// The report's evaluation, bias and search sections as HTML fragments.
import type { ClassifierDetails } from "../train/classification_report.js";
import type { BiasCheckResult } from "./bias_check.js";
import type { StudyHistory } from "./run_dir.js";
import { esc, groupedBars, heatmap, lineChart, reliabilityDiagram } from "./svg_charts.js";

export const num = (v: unknown,
  digits = 4) => (typeof v === "number" ? (Number.isFinite(v) ? String(Number(v.toFixed(digits))) : "—") : v === null
    || v === undefined ? "—" : esc(v));

/** A table from rows of cells (already HTML). */
export function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ""): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

export interface WorstExample {
  readonly text: string;
  readonly label: string;
  readonly predicted: string;
  /** The probability the model gave the reference label. */
  readonly probability: number;
}

/** The n rows whose reference label got the lowest probability (the most confidently wrong first). */
export function worstExamples(texts: readonly string[], labels: readonly number[],
  probs: readonly (readonly number[])[], names: readonly string[], n = 15): WorstExample[] {
  return labels.map((y, i) => ({ i, p: probs[i][y] })).sort((a, b) => a.p - b.p).slice(0, n).map(({ i, p }) => {
    let best = 0;
    probs[i].forEach((v, j) => v > probs[i][best] && (best = j));
    return { text: texts[i], label: names[labels[i]], predicted: names[best], probability: p };
  });
}

/** What the report shows about the model's predictions on a labelled file. */
export interface EvaluationView {
  readonly file: string;
  readonly details: ClassifierDetails;
  readonly worst: readonly WorstExample[];
}

export function evaluationSection(e: EvaluationView): string {
  const d = e.details, r = d.report;
  const rows = r.classes.reduce((s, c) => s + c.support, 0);
  const auc = d.roc_auc !== undefined ? ` · ROC-AUC <b>${num(d.roc_auc)}</b>` : "";
  const summary = `<p>${esc(e.file)}: ${rows} rows · accuracy <b>${num(r.accuracy)}</b> · ` +
    `macro F1 <b>${num(r.macro_avg.f1)}</b>` +
    `${auc} · ECE <b>${num(d.calibration.ece)}</b> (${d.calibration.bins.length} bins)</p>`;
  const perClass = table(["class", "precision", "recall", "F1", "support"], [
    ...r.classes.map((c) => [esc(c.label), num(c.precision), num(c.recall), num(c.f1), String(c.support)]),
    ["<i>macro avg</i>", num(r.macro_avg.precision), num(r.macro_avg.recall), num(r.macro_avg.f1),
      String(r.macro_avg.support)],
    ["<i>weighted avg</i>", num(r.weighted_avg.precision), num(r.weighted_avg.recall), num(r.weighted_avg.f1),
      String(r.weighted_avg.support)],
  ], "num");
  const bars = groupedBars(r.classes.map((c) => c.label), {
    precision: r.classes.map((c) => c.precision), recall: r.classes.map((c) => c.recall),
      f1: r.classes.map((c) => c.f1),
  });
  const worst = table(["text", "reference", "predicted", "P(reference)"],
    e.worst.map((w) => [esc(w.text), esc(w.label), esc(w.predicted), num(w.probability, 3)]), "examples");
  return `<section id="evaluation"><h2>Evaluation</h2>${summary}<div class="row">` +
    `<figure><figcaption>Confusion matrix</figcaption>${heatmap(d.confusion_matrix, d.labels)}</figure>` +
    `<figure><figcaption>Per-class precision, recall, F1</figcaption>${bars}</figure></div>${perClass}` +
    `<div class="row"><figure><figcaption>Reliability diagram · ECE ${num(d.calibration.ece)}</figcaption>` +
    `${reliabilityDiagram(d.calibration.bins, d.calibration.ece)}<p class="note">Bars: accuracy per confidence bin; ` +
    `red lines: mean confidence; dashed: perfect calibration.</p></figure></div>` +
    `<h3>Worst-classified examples</h3><p class="note">Lowest probability given to the reference label first.</p>` +
    `${worst}</section>`;
}

const interval = (ci: readonly [number,
  number] | undefined) => (ci ? ` <span class="ci">[${num(ci[0], 3)}, ${num(ci[1], 3)}]</span>` : "");

export function biasSection(b: BiasCheckResult & { group_column?: string }): string {
  let html = `<section id="bias"><h2>Bias check</h2><p>${b.rows} rows · labels ${b.labels.map(esc).join(", ")}</p>`;
  if (b.evaluation) {
    const auc = b.evaluation.roc_auc !== undefined ? ` · ROC-AUC ${num(b.evaluation.roc_auc)}` : "";
    html += `<p>Calibration on this file: ECE <b>${num(b.evaluation.calibration.ece)}</b>${auc}</p>`;
  }
  if (b.groups) {
    const g = b.groups, names = g.groups.map((x) => x.name);
    html += `<h3>Per-group metrics${b.group_column ? ` (${esc(b.group_column)})` : ""}</h3>` +
      `<p class="note">Groups: ${g.groups.map((x) => `${esc(x.name)} (${x.count})`).join(", ")}. ` +
      `Brackets: ${Math.round((g.bootstrap.ci_quantiles[1] - g.bootstrap.ci_quantiles[0]) * 100)}% ` +
      `bootstrap intervals (${g.bootstrap.n_boot} replicates, seed ${g.bootstrap.seed}).</p>`;
    html += `<div class="scroll">` + table(["metric", "overall", ...names.map(esc), "min", "max", "difference",
      "ratio"], Object.entries(g.metrics).map(([m, s]) => [
      esc(m), num(s.overall) + interval(s.ci?.overall), ...names.map((n) => num(s.by_group[n])
        + interval(s.ci?.by_group[n])),
      num(s.group_min), num(s.group_max), num(s.difference) + interval(s.ci?.difference), num(s.ratio)
        + interval(s.ci?.ratio),
    ]), "num") + "</div>";
    const shown = Object.keys(g.metrics).filter((m) => ["accuracy", "f1", "selection_rate"].includes(m));
    const byGroup = (m: string) => names.map((n) => g.metrics[m].by_group[n]);
    const bars = groupedBars(names, Object.fromEntries(shown.map((m) => [m, byGroup(m)])));
    html += `<div class="row"><figure><figcaption>By group</figcaption>${bars}</figure></div>`;
  }
  if (b.counterfactuals.length) {
    html += `<h3>Counterfactuals</h3><p class="note">INV: the prediction should not change. ` +
      `DIR (negation): a sentence predicted positive should not gain P(positive).</p>`;
    html += table(["perturbation", "test", "tested", "flipped", "flip rate", "mean |Δp|", "mean Δp(positive)",
      "failed"], b.counterfactuals.map((c) => [
      esc(c.name), c.type, c.skipped ? `skipped: ${esc(c.skipped)}` : String(c.tested), String(c.flipped),
        num(c.flip_rate, 3),
      num(c.mean_abs_shift, 3), num(c.mean_shift, 3),
        c.failed === undefined ? "" : `${c.failed} (${num(c.fail_rate, 3)})`,
    ]), "num");
    const rows = b.counterfactuals.flatMap((c) => c.examples.slice(0, 5).map((x) => [esc(c.name), esc(x.text),
      esc(x.perturbed),
      `${esc(x.before.label)} ${num(x.before.probability, 3)}`,
        `${esc(x.after.label)} ${num(x.after.probability, 3)}`]));
    const head = ["perturbation", "text", "perturbed", "before", "after"];
    if (rows.length) html += `<h3>Changed predictions</h3>${table(head, rows, "examples")}`;
  }
  if (b.warnings.length) html += `<ul class="warnings">${b.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>`;
  return html + "</section>";
}

export function studySection(s: StudyHistory): string {
  const done = s.trials.filter((t) => typeof t.value === "number" && Number.isFinite(t.value));
  const better = (a: number, b: number) => (s.direction === "minimize" ? a < b : a > b);
  let best: number | null = null;
  const bestSoFar = done.map((t) => {
    if (best === null || better(t.value!, best)) best = t.value!;
    return [t.number, best] as const;
  });
  const chart = lineChart([
    { name: "trial value", points: done.map((t) => [t.number, t.value!] as const) },
    { name: "best so far", points: bestSoFar },
  ], { x: "trial", y: s.metric ?? "objective" });
  const keys = [...new Set(s.trials.flatMap((t) => Object.keys(t.params ?? {})))];
  const rows = s.trials.map((t) => [String(t.number), esc(t.state ?? ""), num(t.value ?? null),
    ...keys.map((k) => num(t.params?.[k]))]);
  const what = `${s.direction ? ` · ${s.direction}` : ""}${s.metric ? ` ${esc(s.metric)}` : ""}` +
    `${best !== null ? ` · best ${num(best)}` : ""}`;
  return `<section id="search"><h2>Hyperparameter search</h2><p>${s.trials.length} trials${what}</p>` +
    `<div class="row"><figure><figcaption>Search history</figcaption>${chart}</figure></div>` +
    `${table(["trial", "state", "value", ...keys.map(esc)], rows, "num")}</section>`;
}
