/**
 * Training progress: one redrawn line on a terminal (step, loss, learning rate, ETA), nothing on
 * other streams (log lines carry the same facts there). Colour and redraws only on a TTY.
 */
export class ProgressLine {
  private readonly start = Date.now();
  private startStep = 0;
  private shown = false;

  constructor(private readonly total: number, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get active(): boolean {
    return Boolean(this.stream.isTTY) && !process.env.CI;
  }

  /** Mark the step counting starts from (a resumed run's first step). */
  resumeAt(step: number): void {
    this.startStep = step;
  }

  update(step: number, loss: number, lr: number): void {
    if (!this.active) return;
    const done = step - this.startStep;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - step) : NaN;
    const width = 24;
    const filled = Math.round((width * step) / Math.max(1, this.total));
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const text = `${bar} ${step}/${this.total}  loss ${loss.toFixed(4)}  lr ${lr.toExponential(2)}  ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}`;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  /** Clear the line before a normal log line is written, so the two do not interleave. */
  clear(): void {
    if (this.shown && this.active) this.stream.write("\r\x1b[2K");
  }

  finish(): void {
    if (this.shown && this.active) this.stream.write("\n");
    this.shown = false;
  }
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

/**
 * The progress line as a Trainer callback. Log lines written through `print` clear it first, so
 * the two never interleave on a terminal.
 *
 * @example
 * // Given `log`, the Trainer draws no progress line of its own: add one.
 * const progress = new ProgressCallback();
 * new Trainer({ model, args, train, labels: "class", log: (l) => progress.print(`[a] ${l}`), callbacks: [progress] });
 */
export class ProgressCallback {
  private line: ProgressLine | null = null;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  onTrainBegin(state: { globalStep: number; maxSteps: number }): void {
    this.line = new ProgressLine(state.maxSteps, this.stream);
    this.line.resumeAt(state.globalStep);
  }

  onStepEnd(state: { globalStep: number; lastLoss: number; learningRate: number }): void {
    this.line?.update(state.globalStep, state.lastLoss, state.learningRate);
  }

  onTrainEnd(): void {
    this.line?.finish();
  }

  /** Write a log line below the progress line. */
  print(line: string): void {
    this.line?.clear();
    this.stream.write(line + "\n");
  }
}
