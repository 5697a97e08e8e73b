import type { BiasCheckResult } from "./bias_check.js";

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "—" : `${(100 * x).toFixed(1)}%`);
const num = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "—" : x.toFixed(3));

/** The bias check as a few lines a person reads in a terminal (the JSON holds everything). */
export function formatBiasCheck(r: BiasCheckResult): string {
  const out: string[] = [`Bias check over ${r.rows} rows (labels: ${r.labels.join(", ")})`];
  if (r.evaluation) {
    const e = r.evaluation;
    out.push(`accuracy ${pct(e.report.accuracy)}  macro F1 ${num(e.report.macro_avg.f1)}${e.roc_auc !== undefined ? `  ROC-AUC ${num(e.roc_auc)}` : ""}` +
      `  ECE ${num(e.calibration.ece)} (${e.calibration.bins.length} bins)`);
  }
  if (r.groups) {
    out.push(`Per group${r.groups.column ? ` (${r.groups.column})` : ""}: ${r.groups.groups.map((g) => `${g.name} ${g.count}`).join(", ")}`);
    for (const [m, s] of Object.entries(r.groups.metrics)) {
      const ci = s.ci ? ` [${num(s.ci.difference[0])}, ${num(s.ci.difference[1])}]` : "";
      const by = Object.entries(s.by_group).map(([g, v]) => `${g} ${num(v)}`).join("  ");
      out.push(`  ${m.padEnd(20)} overall ${num(s.overall)}  ${by}  difference ${num(s.difference)}${ci}  ratio ${num(s.ratio)}`);
    }
  }
  if (r.counterfactuals.length) out.push("Counterfactuals (flip rate = predictions changed by the perturbation):");
  for (const c of r.counterfactuals) {
    if (c.skipped) {
      out.push(`  ${c.name.padEnd(13)} skipped: ${c.skipped}`);
      continue;
    }
    const dir = c.type === "DIR" ? `  wrong direction ${c.failed}/${c.tested} (${pct(c.fail_rate)})` : "";
    out.push(`  ${c.name.padEnd(13)} ${c.type}  tested ${c.tested}  flipped ${c.flipped} (${pct(c.flip_rate)})` +
      `  mean |Δp| ${num(c.mean_abs_shift)}${c.mean_shift !== undefined ? `  mean Δp(positive) ${num(c.mean_shift)}` : ""}${dir}`);
    for (const x of c.examples.slice(0, 3)) {
      out.push(`      ${JSON.stringify(x.text)} → ${JSON.stringify(x.perturbed)}: ${x.before.label} ${num(x.before.probability)} → ${x.after.label} ${num(x.after.probability)}`);
    }
  }
  out.push(...r.warnings.map((w) => `warning: ${w}`));
  return out.join("\n");
}
