// `whet report`: one self-contained HTML page about a training run. The charts are inline SVG
// (svg_charts.ts): the page has no script and loads nothing, so it opens offline.
import type { RunDir } from "./run_dir.js";
import { biasSection, evaluationSection, num, studySection, table, type EvaluationView } from "./html_sections.js";
import { esc, lineChart, type Series } from "./svg_charts.js";

/**
 * A section another part of whet adds to the report (a search tool, a compression step): given
 * the run, HTML for an `<section>`, or null to leave it out.
 */
export interface ReportSection {
  readonly id: string;
  readonly title: string;
  readonly render: (run: RunDir) => string | null;
}

export interface HtmlReportOptions {
  /** Predictions of the trained model on a labelled file: confusion matrix, per-class scores, calibration,
    worst examples. */
  readonly evaluation?: EvaluationView;
  /** Extra sections, after the built-in ones. */
  readonly sections?: readonly ReportSection[];
  /** Shown as the generation time (default: now). */
  readonly generated?: Date;
  /** Why the evaluation section is missing, shown in its place. */
  readonly evaluationNote?: string;
}

// Nothing may load: no script, no fetch; only the inline style and data: images.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
body{margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:16px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#cfd8dc}nav{padding:6px 28px;background:#eceff1;font-size:13px}
nav a{margin-right:14px;color:#37474f}main{padding:8px 28px 40px;max-width:1180px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 20px 16px;margin:16px 0}
h2{font-size:17px;margin:8px 0}h3{font-size:15px;margin:14px 0 6px}.note{color:#666;font-size:12.5px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left;vertical-align:top}th{background:#f5f5f5}
table.num td{font-variant-numeric:tabular-nums}table.examples td:first-child{max-width:520px}
.ci{color:#888;font-size:11.5px}.row{display:flex;flex-wrap:wrap;gap:18px}
figure{margin:6px 0;flex:1 1 460px;max-width:560px}
figcaption{font-weight:600;font-size:13px;margin-bottom:2px}svg.chart{width:100%;height:auto;background:#fff}
svg .grid{stroke:#eee}svg .axis{stroke:#999}svg .tick{font-size:11px;fill:#555}
svg .legend{font-size:11.5px;fill:#333}svg .axis-title{font-size:12px;fill:#333}svg .cell{font-size:12px}
pre{background:#f5f5f5;padding:8px;overflow:auto;font-size:12px}.scroll{overflow-x:auto}
.warnings li{color:#8a5a00}.kv td:first-child{color:#555;white-space:nowrap}`;

function duration(s: number | undefined): string {
  if (s === undefined) return "—";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.round(s % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${s.toFixed(1)} s`;
}

const cell = (v: unknown) => (typeof v === "object" && v !== null ? `<code>${esc(JSON.stringify(v))}</code>` : num(v,
  6));

function summarySection(r: RunDir): string {
  const run = r.run ?? {}, state = r.state ?? {}, data = (run.data ?? {}) as Record<string, unknown>;
  const trainEntries = r.log.filter((e) => "loss" in e);
  const rows: [string, unknown][] = [
    ["model", run.model], ["family", run.family], ["task", run.task], ["labels",
      Array.isArray(run.labels) ? run.labels.join(", ") : undefined],
    ["training data", data.train_file], ["validation data", data.validation_file], ["started", run.started],
      ["duration", duration(r.durationSeconds)],
    ["optimizer steps", state.global_step ?? trainEntries.at(-1)?.step], ["last logged training loss",
      trainEntries.at(-1)?.loss],
    ["best metric", state.best_metric], ["best checkpoint", state.best_model_checkpoint],
    ["command", Array.isArray(run.command) ? `whet ${run.command.join(" ")}` : undefined], ["whet / Node",
      [run.whet_version, run.node].filter(Boolean).join(" / ")],
  ];
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  const kv = shown.map(([k, v]) => [esc(k), typeof v === "number" ? num(v, 6) : esc(v)]);
  let html = `<section id="summary"><h2>Run summary</h2>${table(["", ""], kv, "kv")}`;
  if (run.args && typeof run.args === "object") {
    const args = Object.entries(run.args).map(([k, v]) => [esc(k), cell(v)]);
    html += `<details><summary>Training arguments</summary>${table(["argument", "value"], args, "kv")}</details>`;
  }
  if (r.dataReport) {
    const rows = Object.entries(r.dataReport).map(([k, v]) => [esc(k), cell(v)]);
    html += `<h3>Data report</h3>${table(["", ""], rows, "kv")}`;
  }
  if (r.evalResults && Object.keys(r.evalResults).length) {
    const rows = Object.entries(r.evalResults).map(([k, v]) => [esc(k), num(v)]);
    html += `<h3>Final evaluation</h3>${table(["metric", "value"], rows, "num")}`;
  }
  return html + "</section>";
}

const series = (log: readonly Record<string, number>[], key: string, name = key): Series =>
  ({ name, points: log.filter((e) => typeof e[key] === "number" && typeof e.step === "number").map((e) => [e.step,
    e[key]] as const) });

function trainingSection(r: RunDir): string {
  const evals = r.log.filter((e) => Object.keys(e).some((k) => k.startsWith("eval_")));
  const metricKeys = [...new Set(evals.flatMap((e) => Object.keys(e)))]
    .filter((k) => k.startsWith("eval_") && k !== "eval_loss" && evals.every((e) => e[k] === undefined || (e[k] >= -1
      && e[k] <= 1)));
  // Too many lines read as noise: the headline metrics first, the rest in the table.
  const headline = metricKeys.filter((k) => /^eval_(accuracy|f1|precision|recall|mcc|f1_macro|r2|pearson)$/.test(k))
    .slice(0, 6);
  const loss = lineChart([series(r.log.filter((e) => "loss" in e), "loss", "training loss"), series(evals,
    "eval_loss", "evaluation loss")], { x: "step", y: "loss" });
  const lr = lineChart([series(r.log, "learning_rate", "learning rate")], { x: "step", y: "learning rate" });
  const figure = (caption: string, chart: string) => `<figure><figcaption>${caption}</figcaption>${chart}</figure>`;
  const gn = r.log.some((e) => "grad_norm" in e)
    ? figure("Gradient norm", lineChart([series(r.log, "grad_norm", "grad norm")], { x: "step", y: "grad norm" })) : "";
  const curves = headline.map((k) => series(evals, k, k.slice(5)));
  const metrics = headline.length
    ? figure("Evaluation metrics", lineChart(curves, { x: "step", y: "value" }))
    : "";
  const evalTable = evals.length ? table(["step", "epoch",
    ...metricKeys.concat("eval_loss").map((k) => esc(k.slice(5)))],
    evals.map((e) => [String(e.step), num(e.epoch, 3), ...metricKeys.concat("eval_loss").map((k) => num(e[k]))]),
      "num") : "";
  const evaluations = evalTable ? `<h3>Evaluations</h3><div class="scroll">${evalTable}</div>` : "";
  return `<section id="training"><h2>Training</h2><div class="row">${figure("Loss", loss)}` +
    `${figure("Learning rate", lr)}${gn}${metrics}</div>${evaluations}</section>`;
}

/**
 * The report page for a run folder.
 *
 * @example
 * writeFileSync("report.html", buildHtmlReport(readRunDir("out")));
 */
export function buildHtmlReport(r: RunDir, o: HtmlReportOptions = {}): string {
  const parts: [string, string, string][] = [["summary", "Summary", summarySection(r)], ["training", "Training",
    trainingSection(r)]];
  if (o.evaluation) parts.push(["evaluation", "Evaluation", evaluationSection(o.evaluation)]);
  else if (o.evaluationNote) parts.push(["evaluation", "Evaluation",
    `<section id="evaluation"><h2>Evaluation</h2><p class="note">${esc(o.evaluationNote)}</p></section>`]);
  if (r.bias) parts.push(["bias", "Bias check", biasSection(r.bias)]);
  if (r.study) parts.push(["search", "Search", studySection(r.study)]);
  for (const s of o.sections ?? []) {
    const html = s.render(r);
    if (html !== null) parts.push([s.id, s.title,
      `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${html}</section>`]);
  }
  const title = `whet run report · ${String(r.run?.model ?? r.dir)}`;
  const generated = (o.generated ?? new Date()).toISOString();
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<header><h1>${esc(title)}</h1><p>${esc(r.dir)} · generated ${esc(generated)}</p></header>` +
    `<nav>${parts.map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`).join("")}</nav>` +
    `<main>${parts.map((p) => p[2]).join("\n")}</main></body></html>\n`;
}
