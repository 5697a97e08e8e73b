import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeTextAtomic } from "../io/files.js";
import type { TrainerCallback, TrainerState } from "./callbacks.js";

/**
 * Appends every log entry to OUTPUT_DIR/trainer_log.jsonl (started afresh unless the run resumes).
 *
 * @example
 * // A second copy of the log in logs/copy/trainer_log.jsonl:
 * new Trainer({ model, args, train, labels: "class", callbacks: [new JsonlLogCallback("logs/copy")] });
 */
export class JsonlLogCallback implements TrainerCallback {
  constructor(private readonly outputDir: string) {}

  async onTrainBegin(state: TrainerState): Promise<void> {
    if (state.globalStep === 0) await writeFile(this.path, "");
  }

  async onLog(_state: TrainerState, _control: unknown, logs: Record<string, number>): Promise<void> {
    await appendFile(this.path, JSON.stringify(logs) + "\n");
  }

  private get path(): string {
    return join(this.outputDir, "trainer_log.jsonl");
  }
}

/**
 * One readable line per log entry: training loss and learning rate, or the evaluation's metrics.
 *
 * @example
 * // The Trainer has one writing to stderr; another sends the same lines to a logger.
 * const toLogger = new ConsoleLogCallback((line) => logger.info(line));
 * new Trainer({ model, args, train, labels: "class", callbacks: [toLogger] });
 */
export class ConsoleLogCallback implements TrainerCallback {
  constructor(private readonly write: (line: string) => void) {}

  onLog(state: TrainerState, _control: unknown, logs: Record<string, number>): void {
    const evals = Object.entries(logs).filter(([k]) => k.startsWith("eval_"));
    if (evals.length > 0) {
      this.write(`eval at step ${logs.step}: ${evals.map(([k, v]) => `${k.slice(5)} ${round(v, 4)}`).join("  ")}`);
    } else if (logs.loss !== undefined) {
      this.write(`step ${logs.step}/${state.maxSteps}  epoch ${logs.epoch.toFixed(2)}  loss ${logs.loss.toFixed(4)}  ` +
        `lr ${logs.learning_rate.toExponential(2)}`);
    }
  }
}

/**
 * Writes OUTPUT_DIR/run.json as training begins: arguments, versions, what the caller adds (data hashes, command).
 *
 * @example
 * const record = new RunRecordCallback("logs/copy", { experiment: "a" });
 * new Trainer({ model, args, train, labels: "class", callbacks: [record] });
 */
export class RunRecordCallback implements TrainerCallback {
  constructor(private readonly outputDir: string, private readonly record: Record<string, unknown>) {}

  async onTrainBegin(): Promise<void> {
    const run = { ...this.record, started: this.record.started ?? new Date().toISOString() };
    await writeTextAtomic(join(this.outputDir, "run.json"), JSON.stringify(run, null, 1));
  }
}

export function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
