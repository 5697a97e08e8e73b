// A byte-progress display with no dependency: a redrawn bar on a terminal, a line at the start and
// end of each item otherwise (CI logs and files must not fill with carriage returns).

/** One update about one item (a file being downloaded, a checkpoint being written). */
export interface ProgressEvent {
  /** What is moving, as shown to the user: `org/name: model.safetensors`. */
  label: string;
  /** Bytes done so far, including bytes resumed from an earlier attempt. */
  received: number;
  /** Total bytes when known. */
  total?: number;
  /** True on the last event for this label. */
  done: boolean;
}

/** The stream a reporter writes to; `process.stderr` by default. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Human bytes: 1536 → "1.5 kB" (decimal units, as the Hub's web pages show sizes). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Returns an event handler that draws progress on `stream`.
 *
 * @example
 * const report = progressReporter();
 * report({ label: "model.safetensors", received: 5e6, total: 1e7, done: false });
 */
export function progressReporter(stream: ProgressStream = process.stderr): (e: ProgressEvent) => void {
  const started = new Map<string, { t0: number; from: number; drawn: number }>();
  return (e) => {
    const now = Date.now();
    let s = started.get(e.label);
    if (!s) {
      s = { t0: now, from: e.received, drawn: 0 };
      started.set(e.label, s);
      if (!stream.isTTY) {
        const size = e.total === undefined ? "" : ` (${formatBytes(e.total)})`;
        const resumed = e.received > 0 && !e.done ? `, resuming at ${formatBytes(e.received)}` : "";
        stream.write(`${e.label}: downloading${size}${resumed}\n`);
      }
    }
    const seconds = Math.max((now - s.t0) / 1000, 1e-3);
    const rate = (e.received - s.from) / seconds;
    if (e.done) {
      started.delete(e.label);
      const line = `${e.label}: ${formatBytes(e.received)} in ${seconds.toFixed(1)} s (${formatBytes(rate)}/s)`;
      stream.write(stream.isTTY ? `\r${pad(line, stream)}\n` : `${line}\n`);
      return;
    }
    // Redraw at most ten times a second: terminals are slow and chunks arrive every few ms.
    if (!stream.isTTY || now - s.drawn < 100) return;
    s.drawn = now;
    stream.write(`\r${pad(bar(e, rate), stream)}`);
  };
}

function bar(e: ProgressEvent, rate: number): string {
  const speed = `${formatBytes(rate)}/s`;
  if (e.total === undefined || e.total === 0) return `${e.label} ${formatBytes(e.received)} ${speed}`;
  const frac = Math.min(e.received / e.total, 1);
  const width = 24;
  const full = Math.round(frac * width);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${e.label} [${"#".repeat(full)}${"-".repeat(width - full)}] ${pct} ${formatBytes(e.received)}/${formatBytes(e.total)} ${speed}`;
}

/** Pads to the terminal width so a shorter line fully covers the previous one, and cuts a longer one. */
function pad(line: string, stream: ProgressStream): string {
  const cols = (stream.columns ?? 80) - 1;
  return line.length > cols ? line.slice(0, cols) : line.padEnd(cols);
}
