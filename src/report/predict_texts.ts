// Class probabilities of raw texts from a loaded sequence classifier, through the same compiled
// eval-mode forward the Trainer evaluates with.
import type { TaskModel } from "../models/auto.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { Example } from "../data/collate.js";
import { softmaxRows } from "../train/calibration.js";
import { Evaluator } from "../train/evaluator.js";
import type { PredictProbabilities } from "./bias_check.js";

export interface TextClassifier {
  readonly model: TaskModel;
  readonly tokenizer: Tokenizer;
}

export interface PredictOptions {
  readonly maxLength: number;
  readonly batchSize?: number;
  readonly threads?: number;
}

/** Tokenize (truncating to maxLength) and run texts through the model; the second text of a pair may follow. */
export async function classifyTexts(
  c: TextClassifier, texts: readonly string[], pairs: readonly (string | undefined)[] | undefined, o: PredictOptions,
): Promise<number[][]> {
  const examples: Example[] = [];
  for (let i = 0; i < texts.length; i++) {
    const e = await c.tokenizer.encode(texts[i], pairs?.[i] ?? null, { maxLength: o.maxLength,
      truncation: "longest_first" });
    // The label is a placeholder: only the logits are read.
    examples.push({ input_ids: e.ids, token_type_ids: e.typeIds, label: 0 });
  }
  const ev = await Evaluator.create({
    model: c.model, examples, labels: "class", padId: c.tokenizer.padTokenId ?? 0, batchSize: o.batchSize ?? 64,
      threads: o.threads,
  });
  try {
    const { prediction } = await ev.predict();
    return prediction.logits.flatMap((row) => softmaxRows(row, prediction.numLabels));
  } finally {
    await ev.release();
  }
}

/** A `PredictProbabilities` over single texts, or over texts paired row by row with `pairs`. */
export function textPredictor(c: TextClassifier, o: PredictOptions,
  pairs?: readonly (string | undefined)[]): PredictProbabilities {
  return (texts) => classifyTexts(c, texts, pairs && texts.length === pairs.length ? pairs : undefined, o);
}
