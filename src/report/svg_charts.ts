// Charts as inline SVG strings: no library, no script, nothing fetched, so the report opens
// anywhere (offline, in a mail attachment, under a strict Content-Security-Policy). Each point
// carries a <title> for the browser's native tooltip.

/** Escape text for HTML and SVG. */
export function esc(s: unknown): string {
  const map: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(s).replace(/[&<>"']/g, (c) => map[c]);
}

/** One SVG element; numbers in attributes are rounded to 0.1 px. */
function el(tag: string, attrs: Record<string, string | number>, content?: string): string {
  const a = Object.entries(attrs).map(([k,
    v]) => ` ${k}="${typeof v === "number" ? Number(v.toFixed(1)) : v}"`).join("");
  return content === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${content}</${tag}>`;
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
  "#eeca3b"];
const colour = (i: number) => PALETTE[i % PALETTE.length];
const W = 520, H = 260, M = { top: 16, right: 16, bottom: 40, left: 56 };

/** Tick values: about `n` round numbers covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) =>
  (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(1) : String(Number(v.toPrecision(4))));

/** Horizontal grid lines with their labels on the left, at the ticks of [lo, hi]. */
function yGrid(lo: number, hi: number, sy: (y: number) => number): string {
  return ticks(lo, hi).map((t) => el("line", { class: "grid", x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t) }) +
    el("text", { class: "tick", x: M.left - 6, y: sy(t) + 4, "text-anchor": "end" }, fmt(t))).join("");
}

function xLabels(lo: number, hi: number, sx: (x: number) => number): string {
  return ticks(lo, hi).map((t) => el("text", { class: "tick", x: sx(t), y: H - M.bottom + 16,
    "text-anchor": "middle" }, fmt(t))).join("");
}

/** A legend entry: a colour square and a name, four to a row. */
function legend(i: number, name: string, width = 120): string {
  const x = M.left + 8 + (i % 4) * width, y = M.top - 12 + Math.floor(i / 4) * 14;
  return el("rect", { x, y, width: 10, height: 10, fill: colour(i) }) + el("text", { class: "legend", x: x + 14, y: y
    + 9 }, esc(name));
}

function frame(xLabel: string, yLabel: string, body: string, aria: string): string {
  const xTitle = el("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" },
    esc(xLabel));
  const yMid = (M.top + H - M.bottom) / 2;
  const yTitle = el("text", { transform: `translate(14 ${yMid}) rotate(-90)`, "text-anchor": "middle",
    class: "axis-title" }, esc(yLabel));
  const attrs = { xmlns: "http://www.w3.org/2000/svg", class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": esc(aria) };
  return el("svg", attrs, xTitle + yTitle + body);
}

/**
 * Lines over a numeric x axis (steps), one colour per series, with a legend.
 *
 * @example
 * lineChart([{ name: "loss", points: [[10, 0.7], [20, 0.5]] }], { x: "step", y: "loss" });
 */
export function lineChart(series: readonly Series[], axes: { x: string; y: string; yRange?: [number,
  number] }): string {
  const finite = (s: Series) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const pts = series.flatMap(finite);
  if (pts.length === 0) return `<p class="empty">No ${esc(axes.y)} values were logged.</p>`;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = axes.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  let body = yGrid(y0, y1, sy) + xLabels(x0, x1, sx);
  body += el("line", { class: "axis", x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom });
  series.forEach((s, i) => {
    const p = finite(s), c = colour(i);
    if (p.length > 1) {
      const points = p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      body += el("polyline", { fill: "none", stroke: c, "stroke-width": 2, points });
    }
    const r = p.length > 60 ? 1.5 : 3;
    body += p.map(([x, y]) => el("circle", { cx: sx(x), cy: sy(y), r, fill: c },
      `<title>${esc(s.name)} at ${fmt(x)}: ${fmt(y)}</title>`)).join("");
    body += legend(i, s.name);
  });
  return frame(axes.x, axes.y, body, `${axes.y} by ${axes.x}`);
}

/** A confusion matrix as a heat map: rows are references, columns predictions; counts in the cells. */
export function heatmap(matrix: readonly (readonly number[])[], labels: readonly string[]): string {
  const k = labels.length, cell = Math.max(18, Math.min(90, Math.floor(360 / Math.max(k, 1))));
  const left = 110, top = 20, size = cell * k, max = Math.max(1, ...matrix.flat());
  let body = "";
  matrix.forEach((row, i) => row.forEach((v, j) => {
    const a = v / max, x = left + j * cell, y = top + i * cell;
    const tip = `<title>reference ${esc(labels[i])}, predicted ${esc(labels[j])}: ${v}</title>`;
    const fill = i === j ? "#2f6f9f" : "#d1495b";
    body += el("rect", { x, y, width: cell, height: cell, fill, "fill-opacity": (0.08 + 0.92 * a).toFixed(3),
      stroke: "#fff" }, tip);
    const ink = a > 0.55 ? "#fff" : "#222";
    if (k <= 20) body += el("text", { class: "cell", x: x + cell / 2, y: y + cell / 2 + 4, "text-anchor": "middle",
      fill: ink }, String(v));
  }));
  labels.forEach((l, i) => {
    const short = esc(l.length > 14 ? l.slice(0, 13) + "…" : l), mid = i * cell + cell / 2;
    body += el("text", { class: "tick", x: left - 6, y: top + mid + 4, "text-anchor": "end" }, short);
    body += el("text", { class: "tick", transform: `translate(${left + mid} ${top + size + 8}) rotate(35)` }, short);
  });
  const w = left + size + 20, h = top + size + 90;
  const titles = el("text", { class: "axis-title", x: left + size / 2, y: 12, "text-anchor": "middle" }, "predicted") +
    el("text", { class: "axis-title", transform: `translate(12 ${top + size / 2}) rotate(-90)`,
      "text-anchor": "middle" }, "reference");
  const attrs = { xmlns: "http://www.w3.org/2000/svg", class: "chart", viewBox: `0 0 ${w} ${h}`,
    style: `max-width:${w}px`, role: "img" };
  return el("svg", { ...attrs, "aria-label": "confusion matrix" }, titles + body);
}

/** Grouped vertical bars: one group per category, one bar per measure, values in [0, 1]. */
export function groupedBars(categories: readonly string[], measures: Record<string, readonly number[]>,
  yLabel = "score"): string {
  const names = Object.keys(measures), groupW = (W - M.left - M.right) / Math.max(1, categories.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, names.length));
  const sy = (y: number) => H - M.bottom - y * (H - M.top - M.bottom);
  let body = yGrid(0, 1, sy);
  categories.forEach((c, g) => {
    names.forEach((n, b) => {
      const v = measures[n][g], y = Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
      const tip = `<title>${esc(c)} ${esc(n)}: ${Number.isFinite(v) ? fmt(v) : "undefined"}</title>`;
      const x = M.left + g * groupW + groupW * 0.1 + b * barW;
      body += el("rect", { x, y: sy(y), width: barW - 1, height: sy(0) - sy(y), fill: colour(b) }, tip);
    });
    if (categories.length <= 24) {
      const short = esc(c.length > 12 ? c.slice(0, 11) + "…" : c);
      body += el("text", { class: "tick", x: M.left + g * groupW + groupW / 2, y: H - M.bottom + 14,
        "text-anchor": "middle" }, short);
    }
  });
  body += names.map((n, i) => legend(i, n, 100)).join("");
  body += el("line", { class: "axis", x1: M.left, x2: W - M.right, y1: sy(0), y2: sy(0) });
  return frame("", yLabel, body, `${yLabel} by ${names.join(", ")}`);
}

export interface BinView {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly accuracy: number | null;
  readonly confidence: number | null;
}

/** Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration. */
export function reliabilityDiagram(bins: readonly BinView[], ece: number): string {
  const sx = (x: number) => M.left + x * (W - M.left - M.right),
    sy = (y: number) => H - M.bottom - y * (H - M.top - M.bottom);
  let body = yGrid(0, 1, sy) + xLabels(0, 1, sx);
  for (const b of bins) {
    if (b.accuracy === null || b.confidence === null) continue;
    const x = sx(b.lower) + 1, w = sx(b.upper) - sx(b.lower) - 2;
    const tip = `<title>confidence ${fmt(b.lower)}–${fmt(b.upper)}: ${b.count} predictions, ` +
      `accuracy ${fmt(b.accuracy)}, mean confidence ${fmt(b.confidence)}</title>`;
    body += el("rect", { x, y: sy(b.accuracy), width: w, height: sy(0) - sy(b.accuracy), fill: "#4c78a8" }, tip);
    body += el("line", { x1: x, x2: x + w, y1: sy(b.confidence), y2: sy(b.confidence), stroke: "#e45756",
      "stroke-width": 2 });
  }
  body += el("line", { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), stroke: "#888", "stroke-dasharray": "4 3" });
  return frame("confidence", "accuracy", body, `reliability diagram, ECE ${fmt(ece)}`);
}
