// The one place that maps config.json's model_type to everything whet knows about it.
import { WhetError } from "../core/errors.js";
import type { PretrainedConfig } from "../io/config.js";
import type { Module } from "../nn/module.js";
import {
  BERT_DEFAULTS, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, type BertConfig,
} from "./bert.js";
import {
  DISTILBERT_DEFAULTS, DistilBertForMaskedLM, DistilBertForSequenceClassification, DistilBertForTokenClassification,
  type DistilBertConfig,
} from "./distilbert.js";
import { partsByName, type ModelFamily, type SizeKey, type Task, type TaskModel } from "./family.js";
import {
  ROBERTA_DEFAULTS, RobertaForMaskedLM, RobertaForSequenceClassification, RobertaForTokenClassification,
  XLM_ROBERTA_DEFAULTS,
} from "./roberta.js";

const BERT_DROPOUT = {
  hidden: "hidden_dropout_prob", attention: "attention_probs_dropout_prob", classifier: "classifier_dropout",
};
const BERT_SIZES: Record<SizeKey, string> = {
  hidden_size: "hidden_size", num_hidden_layers: "num_hidden_layers", num_attention_heads: "num_attention_heads",
  intermediate_size: "intermediate_size", max_position_embeddings: "max_position_embeddings",
};
const DISTILBERT_SIZES: Record<SizeKey, string> = {
  hidden_size: "dim", num_hidden_layers: "n_layers", num_attention_heads: "n_heads", intermediate_size: "hidden_dim",
  max_position_embeddings: "max_position_embeddings",
};

function architectures(name: string): Record<Task, string> {
  return {
    "sequence-classification": `${name}ForSequenceClassification`,
    "token-classification": `${name}ForTokenClassification`,
    "masked-lm": `${name}ForMaskedLM`,
  };
}

function builder<C>(defaults: C, classes: Record<Task, new (c: C) => Module>): ModelFamily["build"] {
  return (config, task) => new classes[task]({ ...defaults, ...config } as C) as unknown as TaskModel;
}

const asRecord = (defaults: object) => defaults as Readonly<Record<string, unknown>>;

const BERT_CLASSES = {
  "sequence-classification": BertForSequenceClassification,
  "token-classification": BertForTokenClassification,
  "masked-lm": BertForMaskedLM,
};
const ROBERTA_CLASSES = {
  "sequence-classification": RobertaForSequenceClassification,
  "token-classification": RobertaForTokenClassification,
  "masked-lm": RobertaForMaskedLM,
};
const DISTILBERT_CLASSES = {
  "sequence-classification": DistilBertForSequenceClassification,
  "token-classification": DistilBertForTokenClassification,
  "masked-lm": DistilBertForMaskedLM,
};

/** RoBERTa-style families: positions start after padding_idx, so pad_token_id + 1 are never used. */
const robertaOffset = (c: PretrainedConfig) => Number(c.pad_token_id ?? 1) + 1;

function robertaFamily(
  modelType: string, name: string, defaults: BertConfig, tokenizer: ModelFamily["tokenizer"],
): ModelFamily {
  return {
    modelType, prefix: "roberta", tokenTypes: true, architectures: architectures(name),
    dropoutKeys: BERT_DROPOUT, sizeKeys: BERT_SIZES, defaults: asRecord(defaults), tokenizer,
    positionIdsBuffer: true, positionOffset: robertaOffset,
    loraTargets: ["query", "value"], headModules: ["classifier"], partOf: partsByName("roberta", "encoder.layer"),
    build: builder<BertConfig>(defaults, ROBERTA_CLASSES),
  };
}

/**
 * model_type → family.
 *
 * @example
 * Object.keys(FAMILIES); // the model_types whet builds: "bert", "roberta", "xlm-roberta", "distilbert"…
 */
export const FAMILIES: Readonly<Record<string, ModelFamily>> = {
  bert: {
    modelType: "bert", prefix: "bert", tokenTypes: true, architectures: architectures("Bert"),
    dropoutKeys: BERT_DROPOUT, sizeKeys: BERT_SIZES, defaults: asRecord(BERT_DEFAULTS), tokenizer: "wordpiece",
    positionIdsBuffer: true, positionOffset: () => 0,
    loraTargets: ["query", "value"], headModules: ["classifier"], partOf: partsByName("bert", "encoder.layer"),
    build: builder<BertConfig>(BERT_DEFAULTS, BERT_CLASSES),
  },
  roberta: robertaFamily("roberta", "Roberta", ROBERTA_DEFAULTS, "byte-level-bpe"),
  "xlm-roberta": robertaFamily("xlm-roberta", "XLMRoberta", XLM_ROBERTA_DEFAULTS, "sentencepiece"),
  distilbert: {
    modelType: "distilbert", prefix: "distilbert", tokenTypes: false, architectures: architectures("DistilBert"),
    dropoutKeys: { hidden: "dropout", attention: "attention_dropout", classifier: "seq_classif_dropout" },
    sizeKeys: DISTILBERT_SIZES, defaults: asRecord(DISTILBERT_DEFAULTS), tokenizer: "wordpiece",
    positionIdsBuffer: false, positionOffset: () => 0,
    // PEFT has no default for DistilBERT (its projections are q_lin, k_lin, v_lin, out_lin): name them.
    loraTargets: null, headModules: ["pre_classifier", "classifier"],
    partOf: partsByName("distilbert", "transformer.layer"),
    build: builder<DistilBertConfig>(DISTILBERT_DEFAULTS, DISTILBERT_CLASSES),
  },
};

/**
 * The family of a config (or a model_type), with a clear error for one whet cannot build.
 *
 * @example
 * familyOf("roberta").tokenTypes; // false: RoBERTa takes no token_type_ids
 */
export function familyOf(config: PretrainedConfig | string): ModelFamily {
  const type = typeof config === "string" ? config : config.model_type;
  const fam = Object.hasOwn(FAMILIES, type) ? FAMILIES[type] : undefined;
  if (!fam) {
    throw new WhetError(`model_type "${type}" is not supported (supported: ${Object.keys(FAMILIES).join(", ")})`);
  }
  return fam;
}
