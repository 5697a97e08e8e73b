// The bias check: per-group metrics (fairlearn's MetricFrame), counterfactual invariance and the
// directional negation test (CheckList), and calibration, as one JSON-ready result.
import { WhetError } from "../core/errors.js";
import { topLabel } from "../train/calibration.js";
import { classifierDetails, type ClassifierDetails } from "../train/classification_report.js";
import { metricFrame, standardGroupMetrics, type MetricFrameResult } from "../train/metric_frame.js";
import { contractions, negate, stripPunctuation, swapTerms, typos, type Perturb } from "./counterfactuals.js";
import { builtinLexicon, type Lexicon } from "./lexicon.js";

/** Class probabilities of each text, rows in input order. */
export type PredictProbabilities = (texts: readonly string[]) => Promise<number[][]>;

export const DEFAULT_COUNTERFACTUALS = ["gender", "names", "typos", "punctuation", "contractions", "negation"] as const;

export interface BiasCheckInput {
  readonly texts: readonly string[];
  /** Class names in id order (config.json's id2label). */
  readonly labelNames: readonly string[];
  /** Reference class ids, when the file is labelled: per-group metrics and calibration need them. */
  readonly labels?: readonly number[];
  /** Group value of each row (`--group-column`). */
  readonly groups?: readonly string[];
  readonly predict: PredictProbabilities;
}

export interface BiasCheckOptions {
  /** Perturbations to run (default: all of DEFAULT_COUNTERFACTUALS); lexicon categories are allowed too. */
  readonly counterfactuals?: readonly string[];
  /** Term pairs (default: the shipped English and Chinese lists). */
  readonly lexicon?: Lexicon;
  readonly nBoot?: number;
  readonly seed?: number;
  /** Flipping examples kept per perturbation (default 10). */
  readonly maxExamples?: number;
  readonly minGroupSize?: number;
  /** Class id that means "positive" for the negation test (default: recognised from the label names). */
  readonly positiveLabel?: number;
}

export interface ChangedExample {
  readonly row: number;
  readonly text: string;
  readonly perturbed: string;
  readonly before: { readonly label: string; readonly probability: number };
  readonly after: { readonly label: string; readonly probability: number };
}

export interface CounterfactualResult {
  readonly name: string;
  /** INV: the prediction should not change; DIR: negation should not raise P(positive) (flip_rate: turned negative). */
  readonly type: "INV" | "DIR";
  /** Rows the perturbation changed (the others are not tested). */
  readonly tested: number;
  readonly flipped: number;
  readonly flip_rate: number;
  /** Mean |Δ probability| of the originally predicted class. */
  readonly mean_abs_shift: number;
  /** Two classes: mean signed Δ P(class 1, or the positive class). */
  readonly mean_shift?: number;
  /** DIR only: rows predicted positive whose P(positive) rose by more than 0.1 when negated (CheckList's tolerance). */
  readonly failed?: number;
  readonly fail_rate?: number;
  readonly skipped?: string;
  /** The flipping (INV) or failing (DIR) rows, largest shift first. */
  readonly examples: readonly ChangedExample[];
}

export interface BiasCheckResult {
  readonly rows: number;
  readonly labels: readonly string[];
  readonly counterfactuals: readonly CounterfactualResult[];
  readonly groups?: MetricFrameResult & { readonly column?: string };
  /** Labelled data only: confusion matrix, per-class report, ROC-AUC (two classes), calibration. */
  readonly evaluation?: ClassifierDetails;
  readonly warnings: readonly string[];
}

const POSITIVE = /^(1|pos|positive|good|yes|true|正面|积极|好评)$/i;
const NEGATIVE = /^(0|neg|negative|bad|no|false|负面|消极|差评)$/i;

/** The positive class of a two-class sentiment-like task, from its label names; undefined if unclear. */
export function positiveClass(names: readonly string[]): number | undefined {
  if (names.length !== 2) return undefined;
  if (POSITIVE.test(names[1]) && NEGATIVE.test(names[0])) return 1;
  if (POSITIVE.test(names[0]) && NEGATIVE.test(names[1])) return 0;
  return undefined;
}

function perturbation(name: string, lexicon: Lexicon, seed: number): Perturb {
  if (name === "typos") return typos(seed);
  if (name === "punctuation") return stripPunctuation;
  if (name === "contractions") return contractions;
  if (name === "negation") return negate;
  const pairs = lexicon.get(name);
  if (!pairs) {
    const known = [...new Set([...DEFAULT_COUNTERFACTUALS, ...lexicon.keys()])];
    throw new WhetError(`--counterfactuals: unknown perturbation "${name}"; available: ${known.join(", ")}`);
  }
  return swapTerms(pairs);
}

/**
 * Run the bias check. Predictions on the original texts are made once; each perturbation predicts
 * only the rows it changed.
 *
 * @example
 * const r = await biasCheck({ texts, labelNames: ["negative", "positive"], labels, predict },
   { counterfactuals: ["gender"] });
 * r.counterfactuals[0].flip_rate; // share of gender-swapped texts whose predicted class changed
 */
export async function biasCheck(input: BiasCheckInput, opts: BiasCheckOptions = {}): Promise<BiasCheckResult> {
  const { texts, labelNames } = input;
  if (texts.length === 0) throw new WhetError("bias check: the file has no rows");
  const seed = opts.seed ?? 0, lexicon = opts.lexicon ?? builtinLexicon();
  const names = opts.counterfactuals ?? DEFAULT_COUNTERFACTUALS;
  const perturbs = names.map((n) => [n, perturbation(n, lexicon, seed)] as const);
  const probs = await input.predict(texts);
  const { pred } = topLabel(probs);
  const positive = opts.positiveLabel ?? positiveClass(labelNames) ?? (labelNames.length === 2 ? 1 : undefined);
  const warnings: string[] = [];
  const counterfactuals: CounterfactualResult[] = [];
  for (const [name, perturb] of perturbs) {
    const rows: number[] = [], changed: string[] = [];
    texts.forEach((t, i) => {
      const p = perturb(t, i);
      if (p !== null) {
        rows.push(i);
        changed.push(p);
      }
    });
    const after = rows.length ? await input.predict(changed) : [];
    const ctx = { texts, labelNames, probs, pred, positive, maxExamples: opts.maxExamples ?? 10 };
    counterfactuals.push(name === "negation" ? directional(ctx, rows, changed, after, opts.positiveLabel !== undefined
      || positiveClass(labelNames) !== undefined)
      : invariance(name, ctx, rows, changed, after));
  }
  const result: BiasCheckResult = { rows: texts.length, labels: labelNames, counterfactuals, warnings };
  if (!input.labels) return result;
  if (input.labels.length !== texts.length) throw new WhetError(`bias check: ${texts.length} texts but ${input.labels.length} labels`);
  const logProbs = probs.flatMap((r) => r.map((p) => Math.log(Math.max(p, Number.MIN_VALUE))));
  const evaluation = classifierDetails(logProbs, input.labels, labelNames);
  if (!input.groups) return { ...result, evaluation };
  const groups = metricFrame(standardGroupMetrics("class", labelNames.length), input.labels, pred, input.groups,
    { nBoot: opts.nBoot, seed, minGroupSize: opts.minGroupSize });
  for (const g of groups.small_groups) {
    const n = groups.groups.find((x) => x.name === g)!.count;
    warnings.push(`group "${g}" has only ${n} row${n === 1 ? "" : "s"}: its metrics are reported but say little`);
  }
  return { ...result, evaluation, groups };
}

interface Context {
  texts: readonly string[];
  labelNames: readonly string[];
  probs: number[][];
  pred: number[];
  positive: number | undefined;
  maxExamples: number;
}

function example(ctx: Context, row: number, perturbed: string, after: number[], shown: number): ChangedExample {
  const newPred = topLabel([after]).pred[0];
  return {
    row, text: ctx.texts[row], perturbed,
    before: { label: ctx.labelNames[ctx.pred[row]], probability: ctx.probs[row][shown] },
    after: { label: ctx.labelNames[newPred], probability: after[shown] },
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

function invariance(name: string, ctx: Context, rows: number[], changed: string[],
  after: number[][]): CounterfactualResult {
  const newPred = topLabel(after).pred;
  const shifts = rows.map((r, k) => after[k][ctx.pred[r]] - ctx.probs[r][ctx.pred[r]]);
  const flips = rows.map((r, k) => k).filter((k) => newPred[k] !== ctx.pred[rows[k]]);
  const examples = flips.sort((x, y) => Math.abs(shifts[y]) - Math.abs(shifts[x])).slice(0, ctx.maxExamples)
    .map((k) => example(ctx, rows[k], changed[k], after[k], ctx.pred[rows[k]]));
  const pos = ctx.positive;
  return {
    name, type: "INV", tested: rows.length, flipped: flips.length,
      flip_rate: rows.length ? flips.length / rows.length : NaN,
    mean_abs_shift: mean(shifts.map(Math.abs)),
    ...(ctx.labelNames.length === 2 && pos !== undefined ? { mean_shift: mean(rows.map((r,
      k) => after[k][pos] - ctx.probs[r][pos])) } : {}),
    examples,
  };
}

/**
 * CheckList's negation DIR test on real data: negating a sentence predicted positive should not
 * raise P(positive); it fails where P(positive) rises by more than 0.1 (CheckList's tolerance).
 * Sentences predicted negative are not tested: negating them has no agreed direction.
 */
function directional(ctx: Context, rows: number[], changed: string[], after: number[][],
  known: boolean): CounterfactualResult {
  const pos = ctx.positive;
  if (!known || pos === undefined) {
    const skipped = ctx.labelNames.length !== 2
      ? `negation needs a two-class sentiment task; this model has ${ctx.labelNames.length} classes`
      : `the labels (${ctx.labelNames.join(", ")}) do not say which class is positive: pass --positive-label`;
    return { name: "negation", type: "DIR", tested: 0, flipped: 0, flip_rate: NaN, mean_abs_shift: NaN, skipped,
      examples: [] };
  }
  const keep = rows.map((r, k) => k).filter((k) => ctx.pred[rows[k]] === pos);
  const rise = keep.map((k) => after[k][pos] - ctx.probs[rows[k]][pos]);
  const failing = keep.map((k, j) => [k, rise[j]] as const).filter(([, d]) => d > 0.1).sort((x, y) => y[1] - x[1]);
  const flipped = keep.filter((k) => topLabel([after[k]]).pred[0] !== pos).length;
  return {
    name: "negation", type: "DIR", tested: keep.length, flipped, flip_rate: keep.length ? flipped / keep.length : NaN,
    mean_abs_shift: mean(rise.map(Math.abs)), mean_shift: mean(rise),
    failed: failing.length, fail_rate: keep.length ? failing.length / keep.length : NaN,
    examples: failing.slice(0, ctx.maxExamples).map(([k]) => example(ctx, rows[k], changed[k], after[k], pos)),
  };
}
