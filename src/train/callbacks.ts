/**
 * Trainer callbacks, in the spirit of transformers' TrainerCallback: code that watches a run
 * (logs, progress, reports, search pruning) or steers it through `control` (stop, evaluate now,
 * save now) without touching the training loop. Every hook is optional and may be async; the
 * Trainer awaits each in registration order.
 *
 * @example
 * import { Trainer, type TrainerCallback } from "whetml";
 * const stopAtLossBelow = (limit: number): TrainerCallback => ({
 *   onLog(state, control, logs) {
 *     if (logs.loss !== undefined && logs.loss < limit) control.shouldTrainingStop = true;
 *   },
 * });
 * const trainer = new Trainer({ model, args, train, labels: "class", padId: 0, callbacks: [stopAtLossBelow(0.05)] });
 */

/** What a callback may read about the run (a fresh view at every hook; edits are not read back). */
export interface TrainerState {
  /** Optimizer steps taken so far. */
  globalStep: number;
  /** Fractional epoch: 1.5 is half-way through the second epoch. */
  epoch: number;
  /** The optimizer steps the run will take (from max_steps or num_train_epochs). */
  maxSteps: number;
  /** Whole epochs the run will start. */
  numTrainEpochs: number;
  /** Every entry logged so far (training and evaluation), as trainer_log.jsonl holds them. */
  logHistory: Record<string, number>[];
  /** The best value of metric_for_best_model so far, null before the first evaluation. */
  bestMetric: number | null;
  /** The checkpoint folder holding the best model so far (only saved evaluations count). */
  bestModelCheckpoint: string | null;
  /** The last optimizer step's training loss (NaN before the first step). */
  lastLoss: number;
  /** The learning rate the next step will use. */
  learningRate: number;
}

/** Requests a callback may set; the Trainer acts on them after the hook and resets the per-step ones. */
export interface TrainerControl {
  /** Stop after this step (the run ends normally: best model reloaded, final save). */
  shouldTrainingStop: boolean;
  /** Evaluate after this step even if eval_strategy would not. */
  shouldEvaluate: boolean;
  /** Save a checkpoint after this step even if save_strategy would not. */
  shouldSave: boolean;
  /** Log the training loss after this step even if logging_steps would not. */
  shouldLog: boolean;
}

/** Hooks around a training run; all optional, all may return a promise. */
export interface TrainerCallback {
  onTrainBegin?(state: TrainerState, control: TrainerControl): void | Promise<void>;
  onEpochBegin?(state: TrainerState, control: TrainerControl): void | Promise<void>;
  onEpochEnd?(state: TrainerState, control: TrainerControl): void | Promise<void>;
  onStepBegin?(state: TrainerState, control: TrainerControl): void | Promise<void>;
  onStepEnd?(state: TrainerState, control: TrainerControl): void | Promise<void>;
  /** After each evaluation, with the metrics unprefixed (`accuracy`, `loss`). */
  onEvaluate?(state: TrainerState, control: TrainerControl, metrics: Record<string, number>): void | Promise<void>;
  /** After a checkpoint folder is complete on disk. */
  onSave?(state: TrainerState, control: TrainerControl, checkpointDir: string): void | Promise<void>;
  /** After an entry joins logHistory: training entries carry `loss`, evaluation entries `eval_*` keys. */
  onLog?(state: TrainerState, control: TrainerControl, logs: Record<string, number>): void | Promise<void>;
  onTrainEnd?(state: TrainerState, control: TrainerControl): void | Promise<void>;
}

type Hook = keyof TrainerCallback;
type ExtraArgs<H extends Hook> =
  NonNullable<TrainerCallback[H]> extends (s: TrainerState, c: TrainerControl, ...rest: infer R) => unknown ? R : never;

export function newControl(): TrainerControl {
  return { shouldTrainingStop: false, shouldEvaluate: false, shouldSave: false, shouldLog: false };
}

/** Calls one hook on every callback in order, each with the state as it is at that moment. */
export class CallbackList {
  readonly control: TrainerControl = newControl();
  private readonly list: TrainerCallback[];

  constructor(callbacks: readonly TrainerCallback[], private readonly state: () => TrainerState) {
    this.list = [...callbacks];
  }

  add(cb: TrainerCallback): void {
    this.list.push(cb);
  }

  /** Removes a callback by identity; returns whether it was registered. */
  remove(cb: TrainerCallback): boolean {
    const i = this.list.indexOf(cb);
    if (i >= 0) this.list.splice(i, 1);
    return i >= 0;
  }

  get callbacks(): readonly TrainerCallback[] {
    return this.list;
  }

  async call<H extends Hook>(hook: H, ...args: ExtraArgs<H>): Promise<void> {
    for (const cb of this.list) {
      type Fn = (s: TrainerState, c: TrainerControl, ...rest: ExtraArgs<H>) => void | Promise<void>;
      const fn = cb[hook] as Fn | undefined;
      if (fn) await fn.call(cb, this.state(), this.control, ...args);
    }
  }
}
