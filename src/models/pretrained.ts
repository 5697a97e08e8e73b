import { WhetError } from "../core/errors.js";
import { readConfig, type PretrainedConfig } from "../io/config.js";
import { resolveModel, type ResolveModelOptions } from "../io/hub.js";
import { toFloat32 } from "../io/raw_tensor.js";
import { readModelWeights } from "../io/sharded.js";
import { createModel, familyOf, type Task, type TaskModel } from "./auto.js";
import { loadWeights, type LoadOptions, type LoadReport } from "./load_weights.js";
import { checkWeightsFitConfig } from "./weights_fit.js";

/**
 * Load a model folder's weights (model.safetensors, a sharded index, or pytorch_model.bin read
 * without executing pickle code) into `model`.
 *
 * @example
 * const model = createModel(readConfig(dir), "sequence-classification");
 * const report = await loadPretrainedWeights(model, dir); // report.initialized: what was drawn afresh
 */
export async function loadPretrainedWeights(
  model: TaskModel, dir: string, options: LoadOptions = {}, read?: ReadWeights,
): Promise<LoadReport> {
  const { tensors, file } = read ?? (await readModelWeights(dir));
  const prefix = familyOf(model.config).prefix;
  return loadWeights(model, prefix, {
    keys: () => tensors.keys(),
    shape: (k) => tensors.get(k)!.shape,
    float32: (k) => toFloat32(tensors.get(k)!),
  }, file, options);
}

type ReadWeights = Awaited<ReturnType<typeof readModelWeights>>;

export interface FromPretrainedOptions extends ResolveModelOptions {
  task?: Task;
  /** Label names for a new classification head (changes num_labels, id2label, label2id). */
  labels?: readonly string[];
  /** Config keys to change before the model is built (dropout overrides, problem_type…). */
  configOverrides?: Record<string, unknown>;
  /** Seed for freshly initialised heads. */
  seed?: number;
  /** Draw the task head afresh even where the checkpoint's has the right shape (labels that mean something else). */
  freshHead?: boolean;
  /**
   * Inference: every parameter must come from the checkpoint; a missing or mis-shaped head is
   * an error instead of a freshly drawn one.
   */
  requireAllWeights?: boolean;
}

export interface Pretrained {
  model: TaskModel;
  dir: string;
  config: PretrainedConfig;
  report: LoadReport;
}

/**
 * A Hub id (`org/name[@revision]`) or a local folder, built and loaded as transformers'
 * AutoModelFor….from_pretrained does: a head for a different label count is drawn fresh (from
 * `seed`) and reported in `report.initialized`.
 *
 * @example
 * const { model, report } = await fromPretrained("prajjwal1/bert-mini", { task: "sequence-classification", labels: ["neg", "pos"] });
 */
export async function fromPretrained(idOrPath: string, o: FromPretrainedOptions = {}): Promise<Pretrained> {
  const dir = await resolveModel(idOrPath, o);
  const config = readConfig(dir);
  Object.assign(config, o.configOverrides);
  if (o.labels) {
    if (o.labels.length === 0) throw new WhetError("fromPretrained: labels must not be empty");
    config.id2label = Object.fromEntries(o.labels.map((l, i) => [String(i), l]));
    config.label2id = Object.fromEntries(o.labels.map((l, i) => [l, i]));
    delete config.num_labels;
  }
  // The checkpoint's shapes are compared with the config before the model is allocated.
  const weights = await readModelWeights(dir);
  checkWeightsFitConfig(config, weights.tensors, weights.file);
  const model = createModel(config, o.task, o.seed ?? 42);
  const report = await loadPretrainedWeights(model, dir, { freshHead: o.freshHead }, weights);
  if (o.requireAllWeights && report.initialized.length) {
    throw new WhetError(
      `loading ${weights.file} for inference: the checkpoint has no usable ${report.initialized.join(", ")} ` +
        `(missing, or shaped for another number of labels); a freshly drawn head would give random predictions. Fine-tune the model first (whet train)`,
    );
  }
  return { model, dir, config, report };
}
