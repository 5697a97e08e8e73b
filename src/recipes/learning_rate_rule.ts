/**
 * A learning rate by model size. BERT's 2e-5 suits models of hidden size 768; small models need
 * larger steps (Turc et al. 2019 searched up to 3e-4 for BERT-tiny and -mini; the demo's own
 * hidden-128 model stays at chance with 5e-5 and learns with 1e-3). The rule, by hidden size:
 * ≤ 128 → 1e-3, ≤ 256 → 1e-4, larger → the default. It picks the learning rate only where the
 * user set none and trains the whole model (adapters have their own habits), and it says so;
 * a learning rate set well below the size's value gets one line of advice instead.
 *
 * @example
 * const note = applyLearningRateRule(spec, 128); // spec.args.learning_rate is now 1e-3
 */
import type { RunSpec } from "./run_spec.js";

/** Upper bounds of hidden size and the learning rate for models up to that size. */
export const LEARNING_RATE_BY_SIZE: readonly { maxHidden: number; learningRate: number }[] = [
  { maxHidden: 128, learningRate: 1e-3 },
  { maxHidden: 256, learningRate: 1e-4 },
];

/** The learning rate for a model of this hidden size, or undefined where the default (2e-5) fits. */
export function learningRateForSize(hidden: number): number | undefined {
  return LEARNING_RATE_BY_SIZE.find((r) => hidden <= r.maxHidden)?.learningRate;
}

const fmt = (x: number) => (x < 1e-3 ? x.toExponential() : String(x));

/** Applies the rule to `spec.args` (in place); returns the one line to print, if any. */
export function applyLearningRateRule(spec: RunSpec, hidden: number): string | undefined {
  const rec = learningRateForSize(hidden);
  if (rec === undefined || spec.peft || spec.adapter) return undefined;
  const given = !spec.argsGiven || spec.argsGiven.includes("learning_rate");
  const lr = spec.args.learning_rate;
  if (!given) {
    spec.args.learning_rate = rec;
    return `learning_rate ${fmt(rec)}: a small model (hidden size ${hidden}) learns little at BERT's 2e-5; ` +
      "--learning-rate sets another";
  }
  if (lr < rec / 4) {
    return `advice: --learning-rate ${fmt(lr)} is likely too small for a model of hidden size ${hidden}; ` +
      `around ${fmt(rec)} usually works (whet's default for it)`;
  }
  return undefined;
}
