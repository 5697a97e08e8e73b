import { WhetError } from "../core/errors.js";

export type SchedulerType = "linear" | "cosine" | "constant" | "constant_with_warmup" | "polynomial";

export interface ScheduleOptions {
  type: SchedulerType;
  /** Peak learning rate. */
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** polynomial only: final learning rate and power (transformers' defaults 1e-7 and 1.0). */
  lrEnd?: number;
  power?: number;
  /** cosine only: number of waves (transformers' default 0.5: one half-cosine down to zero). */
  numCycles?: number;
}

/**
 * The learning rate for optimizer step `step` (0-based: the value used by the step's update),
 * one pure function of the step, matching transformers' get_scheduler for each type.
 */
export function learningRate(o: ScheduleOptions, step: number): number {
  const { lr, warmupSteps: w, totalSteps: n } = o;
  if (o.type === "constant") return lr;
  if (step < w) return (lr * step) / Math.max(1, w);
  switch (o.type) {
    case "constant_with_warmup":
      return lr;
    case "linear":
      return lr * Math.max(0, (n - step) / Math.max(1, n - w));
    case "cosine": {
      const progress = (step - w) / Math.max(1, n - w);
      return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * (o.numCycles ?? 0.5) * 2 * progress)));
    }
    case "polynomial": {
      const end = o.lrEnd ?? 1e-7, power = o.power ?? 1;
      if (!(lr > end)) throw new WhetError(`polynomial schedule: lr_end (${end}) must be smaller than the learning rate (${lr})`);
      if (step > n) return end;
      const remaining = 1 - (step - w) / (n - w);
      return (lr - end) * Math.pow(remaining, power) + end;
    }
  }
  throw new WhetError(`unknown lr_scheduler_type "${(o as ScheduleOptions).type}"`);
}
