import type { Direction, FrozenTrial } from "./frozen_trial.js";
import { IMPORTANCE_METHOD, parameterImportances } from "./importance.js";

/** The text `whet search` prints at the end (and with --summary): best trial, a table of trials, importances. */
export function formatSummary(studyName: string, directions: Direction[], trials: readonly FrozenTrial[]): string {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const t of trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  lines.push(`study "${studyName}" (${directions.join(", ")}): ${trials.length} trials` +
    (trials.length ? ` (${[...counts].map(([s, n]) => `${n} ${s}`).join(", ")})` : ""));
  const best = bestOf(trials, directions);
  if (best !== null) lines.push(`best trial: ${best.number}  value ${fmt(best.values![0])}  params ` +
    `${JSON.stringify(best.params)}`);
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const header = ["trial", "state", "value", ...names];
  const rows = trials.map((t) => [String(t.number), t.state, t.values ? t.values.map(fmt).join(",") : "",
    ...names.map((n) => (n in t.params ? fmtParam(t.params[n]) : ""))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  lines.push("", line(header), ...rows.map(line));
  if (directions.length === 1) {
    const imp = parameterImportances(trials);
    if (imp.length > 0) {
      lines.push("", `parameter importances, ${IMPORTANCE_METHOD}:`);
      for (const [n, v] of imp) lines.push(`  ${n.padEnd(Math.max(...imp.map(([k]) => k.length)))}  ${v.toFixed(3)}  ` +
        `${"#".repeat(Math.round(v * 40))}`);
    }
  }
  return lines.join("\n");
}

export function bestOf(trials: readonly FrozenTrial[], directions: Direction[]): FrozenTrial | null {
  const done = trials.filter((t) => t.state === "COMPLETE" && t.values !== null);
  if (done.length === 0 || directions.length !== 1) return null;
  const sign = directions[0] === "maximize" ? -1 : 1;
  return done.reduce((b, t) => (sign * t.values![0] < sign * b.values![0] ? t : b));
}

const fmt = (v: number): string => {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(4) : v.toPrecision(6);
};
const fmtParam = (v: unknown): string => (typeof v === "number" ? fmt(v) : String(v));
