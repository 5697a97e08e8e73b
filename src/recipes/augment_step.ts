/**
 * The fine-tuning recipe's augmentation step: a run config's `augment:` block becomes the hook
 * that rewrites the training split between reading and encoding — after the validation split is
 * held out, so evaluation rows are never augmented and never leak into training. What it did
 * (rows before and after) goes into the data report and run.json.
 *
 * @example
 * const step = await augmentationStep({ method: "eda", num_aug: 4 });
 * await finetune(spec, { beforeEncode: step.hook }); // step.summaries afterwards
 */
import { augmentTextRows, augmentTokenRows, type AugmentSummary } from "../data/augment/augment_rows.js";
import { formatAugmentSummary, parseAugmentSpec } from "../data/augment/augment_spec.js";
import type { BeforeEncode } from "../data/prepare.js";
import { BackTranslator } from "../models/back_translate.js";

export interface AugmentationStep {
  hook: BeforeEncode;
  /** Filled when the hook has run: one entry per method. */
  summaries: AugmentSummary[];
  /** The data report's lines for the summaries. */
  reportLines(): string[];
  /** Frees the translation models of back-translation, if any. */
  release(): Promise<void>;
}

/** Checks the block now (a typo stops the run before any data is read); models load on first use. */
export function augmentationStep(block: Readonly<Record<string, unknown>>): AugmentationStep {
  const flag = (k: string) => `augment.${k}`;
  const spec = parseAugmentSpec({ ...block }, flag);
  const summaries: AugmentSummary[] = [];
  let bt: BackTranslator | null = null;
  const backTranslate = async (texts: string[]) => {
    bt ??= await BackTranslator.load({
      backTranslate: spec.back_translate, pivotModels: spec.pivot_models, numBeams: spec.num_beams, flag,
    });
    return (await bt.paraphrase(texts)).map((t) => [t]);
  };
  const hook: BeforeEncode = async (train, { seed }) => {
    const ctx = { seed, flag, backTranslate };
    if (train.task === "token-classification") {
      const out = await augmentTokenRows(train.rows, spec, ctx);
      summaries.push(out.summary);
      return { task: train.task, rows: out.rows };
    }
    const out = await augmentTextRows(train.rows, spec, ctx);
    summaries.push(out.summary);
    return { task: train.task, rows: out.rows };
  };
  return {
    hook, summaries,
    reportLines: () => summaries.map(formatAugmentSummary),
    release: async () => { await bt?.release(); },
  };
}
