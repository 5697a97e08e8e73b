// The evaluation a report shows: the trained model run over a labelled file.
import { classifierDetails } from "../train/classification_report.js";
import type { EvaluationView } from "./html_sections.js";
import { worstExamples } from "./html_sections.js";
import { readLabelledFile, type LabelledFileOptions } from "./labelled_file.js";
import { classifyTexts, type PredictOptions, type TextClassifier } from "./predict_texts.js";
import type { RunDir } from "./run_dir.js";
import type { PretrainedConfig } from "../io/config.js";

/** The file to evaluate on and its columns: flags first, then what run.json recorded. */
export function evaluationSource(run: RunDir,
  flags: LabelledFileOptions & { file?: string }): (LabelledFileOptions & { file: string }) | null {
  const data = (run.run?.data ?? {}) as Record<string, unknown>;
  const file = flags.file ?? (typeof data.validation_file === "string" ? data.validation_file : undefined);
  if (!file) return null;
  // run.json keeps the command line: take the column flags the run was trained with.
  const argv = Array.isArray(run.run?.command) ? (run.run.command as string[]) : [];
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
  };
  return {
    file,
    textColumn: flags.textColumn ?? flag("--text-column"),
    textPairColumn: flags.textPairColumn ?? flag("--text-pair-column"),
    labelColumn: flags.labelColumn ?? flag("--label-column"),
  };
}

/** Predict every row of the file and summarise: details (confusion matrix, per class, calibration), worst rows. */
export async function evaluationView(
  c: TextClassifier & { model: { config: PretrainedConfig } }, source: LabelledFileOptions & { file: string },
    o: PredictOptions,
): Promise<EvaluationView | string> {
  const data = await readLabelledFile(source.file, c.model.config, source);
  if (!data.labels) return `${source.file} has no label column: the evaluation needs labels (--label-column)`;
  const probs = await classifyTexts(c, data.texts, data.pairs, o);
  const logProbs = probs.flatMap((r) => r.map((p) => Math.log(Math.max(p, Number.MIN_VALUE))));
  return {
    file: source.file,
    details: classifierDetails(logProbs, data.labels, data.labelNames),
    worst: worstExamples(data.texts, data.labels, probs, data.labelNames),
  };
}
