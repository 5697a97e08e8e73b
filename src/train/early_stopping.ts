import type { TrainerCallback, TrainerControl, TrainerState } from "./callbacks.js";

export interface EarlyStoppingOptions {
  /** Evaluations without improvement after which training stops. */
  patience: number;
  /** How much better than the best a value must be to count as an improvement. */
  threshold?: number;
  /** The metric watched, unprefixed (`accuracy`, `loss`); as metric_for_best_model. */
  metric: string;
  greaterIsBetter: boolean;
  /** Where the stopping message goes. */
  log?: (line: string) => void;
}

/**
 * transformers' EarlyStoppingCallback: stops when `metric` has not improved by more than
 * `threshold` for `patience` evaluations in a row. The count is rebuilt from the log history at
 * the start of a run, so a resumed run stops where an uninterrupted one would.
 *
 * @example
 * const stop = new EarlyStoppingCallback({ patience: 3, metric: "f1", greaterIsBetter: true });
 * const trainer = new Trainer({ ...options, callbacks: [stop] });
 */
export class EarlyStoppingCallback implements TrainerCallback {
  private best: number | null = null;
  private waited = 0;

  constructor(private readonly o: EarlyStoppingOptions) {}

  onTrainBegin(state: TrainerState): void {
    this.best = null;
    this.waited = 0;
    for (const entry of state.logHistory) {
      const v = entry[`eval_${this.o.metric}`];
      if (v !== undefined) this.observe(v);
    }
  }

  onEvaluate(_state: TrainerState, control: TrainerControl, metrics: Record<string, number>): void {
    const v = metrics[this.o.metric];
    if (v === undefined) return;
    this.observe(v);
    if (this.waited >= this.o.patience) {
      control.shouldTrainingStop = true;
      this.o.log?.(`early stopping: ${this.o.metric} did not improve for ${this.o.patience} evaluations`);
    }
  }

  private observe(v: number): void {
    const t = this.o.threshold ?? 0;
    const better = this.best === null || (this.o.greaterIsBetter ? v > this.best + t : v < this.best - t);
    if (better) {
      this.best = v;
      this.waited = 0;
    } else this.waited++;
  }
}
