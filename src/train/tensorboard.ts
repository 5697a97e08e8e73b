import { hostname } from "node:os";
import { join } from "node:path";
import type { TrainerCallback, TrainerState } from "./callbacks.js";
import { EventFileWriter } from "./tfevents.js";

/**
 * transformers' names for logged values in TensorBoard: `eval_accuracy` → `eval/accuracy`,
 * `test_x` → `test/x`, anything else (loss, learning_rate, grad_norm, epoch) → `train/<name>`.
 */
export function tensorboardTags(logs: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(logs)) {
    if (typeof v !== "number" || k === "step") continue;
    const m = /^(eval|test)_(.+)$/.exec(k);
    out[m ? `${m[1]}/${m[2]}` : `train/${k}`] = v;
  }
  return out;
}

/** transformers' default logging_dir: `<output_dir>/runs/<Mon DD_HH-MM-SS>_<host>`. */
export function defaultLoggingDir(outputDir: string, now = new Date()): string {
  const month = now.toLocaleString("en-US", { month: "short" });
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${month}${two(now.getDate())}_${two(now.getHours())}-${two(now.getMinutes())}-${two(now.getSeconds())}`;
  return join(outputDir, "runs", `${stamp}_${hostname()}`);
}

/**
 * A Trainer callback that writes what the Trainer logs (train/loss, train/learning_rate,
 * train/grad_norm, train/epoch, eval/*) as TensorBoard scalars at the global step, as
 * `report_to: tensorboard` does in transformers. Opens its event file when training begins.
 *
 * @example
 * new Trainer({ ...options, callbacks: [new TensorBoardCallback("out/runs/first")] });
 */
export class TensorBoardCallback implements TrainerCallback {
  private writer: EventFileWriter | null = null;

  constructor(readonly logDir: string) {}

  /** The event file being written (null before training begins). */
  get path(): string | null {
    return this.writer?.path ?? null;
  }

  onTrainBegin(): void {
    this.writer ??= new EventFileWriter(this.logDir);
  }

  onLog(state: Pick<TrainerState, "globalStep">, _control: unknown, logs: Record<string, number>): void {
    this.onTrainBegin();
    this.writer!.addScalars(state.globalStep, tensorboardTags(logs));
  }

  onTrainEnd(): void {
    this.writer?.close();
    this.writer = null;
  }
}
