import { WhetError } from "../core/errors.js";
import type { PretrainedConfig } from "../io/config.js";
import type { Module } from "../nn/module.js";
import { BERT_DEFAULTS, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, type BertConfig, type EncoderInputs } from "./bert.js";
import { DISTILBERT_DEFAULTS, DistilBertForMaskedLM, DistilBertForSequenceClassification, DistilBertForTokenClassification, type DistilBertConfig } from "./distilbert.js";
import type { ModelOutput } from "./heads.js";
import { ROBERTA_DEFAULTS, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaForTokenClassification, XLM_ROBERTA_DEFAULTS } from "./roberta.js";

export type Task = "sequence-classification" | "token-classification" | "masked-lm";
export const TASKS: readonly Task[] = ["sequence-classification", "token-classification", "masked-lm"];

/** A task model of any family: the Trainer and the commands only see this. */
export interface TaskModel extends Module {
  readonly config: PretrainedConfig;
  forward(b: EncoderInputs): ModelOutput;
}

export interface ModelFamily {
  /** The base model's attribute name: the checkpoint prefix of the encoder's weights. */
  prefix: string;
  /** Whether the encoder reads token_type_ids. */
  tokenTypes: boolean;
  /** transformers' class name per task, written into config.json's "architectures". */
  architectures: Record<Task, string>;
  /** This family's config keys for the hidden, attention and classifier dropout probabilities. */
  dropoutKeys: { hidden: string; attention: string; classifier: string };
  build(config: PretrainedConfig, task: Task): TaskModel;
}

const BERT_DROPOUT = { hidden: "hidden_dropout_prob", attention: "attention_probs_dropout_prob", classifier: "classifier_dropout" };

function family<C>(prefix: string, name: string, defaults: C, tokenTypes: boolean, classes: Record<Task, new (c: C) => Module>, dropoutKeys = BERT_DROPOUT): ModelFamily {
  return {
    prefix,
    tokenTypes,
    dropoutKeys,
    architectures: {
      "sequence-classification": `${name}ForSequenceClassification`,
      "token-classification": `${name}ForTokenClassification`,
      "masked-lm": `${name}ForMaskedLM`,
    },
    build: (config, task) => new classes[task]({ ...defaults, ...config } as C) as unknown as TaskModel,
  };
}

/** The one place that maps model_type to classes. */
export const FAMILIES: Record<PretrainedConfig["model_type"], ModelFamily> = {
  bert: family<BertConfig>("bert", "Bert", BERT_DEFAULTS, true, {
    "sequence-classification": BertForSequenceClassification,
    "token-classification": BertForTokenClassification,
    "masked-lm": BertForMaskedLM,
  }),
  roberta: family<BertConfig>("roberta", "Roberta", ROBERTA_DEFAULTS, true, {
    "sequence-classification": RobertaForSequenceClassification,
    "token-classification": RobertaForTokenClassification,
    "masked-lm": RobertaForMaskedLM,
  }),
  "xlm-roberta": family<BertConfig>("roberta", "XLMRoberta", XLM_ROBERTA_DEFAULTS, true, {
    "sequence-classification": RobertaForSequenceClassification,
    "token-classification": RobertaForTokenClassification,
    "masked-lm": RobertaForMaskedLM,
  }),
  distilbert: family<DistilBertConfig>("distilbert", "DistilBert", DISTILBERT_DEFAULTS, false, {
    "sequence-classification": DistilBertForSequenceClassification,
    "token-classification": DistilBertForTokenClassification,
    "masked-lm": DistilBertForMaskedLM,
  }, { hidden: "dropout", attention: "attention_dropout", classifier: "seq_classif_dropout" }),
};

/** Map whet's dropout overrides onto the family's own config keys (DistilBERT names them differently). */
export function dropoutOverrides(modelType: PretrainedConfig["model_type"], o: { hidden?: number; attention?: number; classifier?: number }): Record<string, number> {
  const keys = FAMILIES[modelType].dropoutKeys;
  const out: Record<string, number> = {};
  if (o.hidden !== undefined) out[keys.hidden] = o.hidden;
  if (o.attention !== undefined) out[keys.attention] = o.attention;
  if (o.classifier !== undefined) out[keys.classifier] = o.classifier;
  return out;
}

/**
 * The longest input the model's position embeddings allow: max_position_embeddings, less
 * RoBERTa's padding offset (positions start at pad_token_id + 1).
 */
export function maxSequenceLength(config: PretrainedConfig): number {
  const n = Number(config.max_position_embeddings ?? 512);
  return config.model_type === "roberta" || config.model_type === "xlm-roberta" ? n - Number(config.pad_token_id ?? 1) - 1 : n;
}

/** The task a config was saved for, from its architectures entry. */
export function taskFromConfig(config: PretrainedConfig): Task | null {
  const arch = config.architectures?.[0] ?? "";
  if (arch.endsWith("ForSequenceClassification")) return "sequence-classification";
  if (arch.endsWith("ForTokenClassification")) return "token-classification";
  if (arch.endsWith("ForMaskedLM")) return "masked-lm";
  return null;
}

/** Build the task model for a config (weights drawn from `seed` until loaded). */
export function createModel(config: PretrainedConfig, task?: Task, seed = 42): TaskModel {
  const fam = FAMILIES[config.model_type];
  if (!fam) throw new WhetError(`model_type "${config.model_type}" is not supported (supported: ${Object.keys(FAMILIES).join(", ")})`);
  const t = task ?? taskFromConfig(config);
  if (!t) {
    throw new WhetError(`cannot tell the task from architectures ${JSON.stringify(config.architectures ?? [])}: choose one of ${TASKS.join(", ")}`);
  }
  const model = fam.build(config, t);
  model.initWeights(seed);
  return model;
}
