// RoBERTa and XLM-RoBERTa, following transformers' modeling_roberta.py (v4.30):
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/models/roberta/modeling_roberta.py
// XLM-R (modeling_xlm_roberta.py) is the same network with the same "roberta." checkpoint prefix.
import type { Tensor } from "../graph/tensor.js";
import { numLabels, type PretrainedConfig, type ProblemType } from "../io/config.js";
import { Embedding } from "../nn/embedding.js";
import { LayerNorm } from "../nn/layer_norm.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { cumsum } from "../ops/cumsum.js";
import { dropout } from "../ops/dropout.js";
import { add, cast, mul, not, equal, sub, tanh } from "../ops/elementwise.js";
import { reshape, slice } from "../ops/layout.js";
import { BERT_DEFAULTS, BertModel, virtualEmbeddings, type BertConfig, type EncoderInputs } from "./bert.js";
import { LMPredictionHead, rowsAt, sequenceClassificationLoss, tokenClassificationLoss, type ModelOutput } from "./heads.js";

export const ROBERTA_DEFAULTS: BertConfig = {
  ...BERT_DEFAULTS,
  vocab_size: 50265,
  max_position_embeddings: 514,
  type_vocab_size: 1,
  layer_norm_eps: 1e-5,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
};

export const XLM_ROBERTA_DEFAULTS: BertConfig = { ...ROBERTA_DEFAULTS, vocab_size: 250002 };

/**
 * BERT's embeddings with RoBERTa's positions: non-padding tokens count up from pad_token_id + 1,
 * padding tokens sit at pad_token_id (create_position_ids_from_input_ids).
 */
export class RobertaEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly padId: number;

  constructor(readonly c: BertConfig) {
    super();
    const std = c.initializer_range;
    this.padId = c.pad_token_id ?? 1;
    this.word_embeddings = this.add("word_embeddings", new Embedding(c.vocab_size, c.hidden_size, { std, paddingIdx: this.padId }));
    this.position_embeddings = this.add("position_embeddings", new Embedding(c.max_position_embeddings, c.hidden_size, { std, paddingIdx: this.padId }));
    this.token_type_embeddings = this.add("token_type_embeddings", new Embedding(c.type_vocab_size, c.hidden_size, { std }));
    this.LayerNorm = this.add("LayerNorm", new LayerNorm(c.hidden_size, c.layer_norm_eps));
  }

  /** `pastLength` (prefix tuning): real tokens count up from pad_token_id + 1 + pastLength. */
  forward(ids: Tensor, tokenTypeIds?: Tensor, pastLength = 0, contiguous = false): Tensor {
    return this.scope(() => {
      const notPad = cast(not(equal(ids, this.padId)), "int64"); // [B, T]
      const counted = pastLength ? add(cumsum(notPad, 1), pastLength) : cumsum(notPad, 1);
      // inputs_embeds (prompt tuning): pad+1+past+t for every token, padding included.
      const positions = contiguous ? add(sub(cumsum(add(mul(notPad, 0), 1), 1), 1), this.padId + 1 + pastLength)
        : add(mul(counted, notPad), this.padId);
      const words = this.word_embeddings.forward(ids);
      const types = tokenTypeIds ? this.token_type_embeddings.forward(tokenTypeIds) : slice(this.token_type_embeddings.weight.t(), 0, 0, 1);
      const x = add(add(words, types), this.position_embeddings.forward(positions));
      return dropout(this.LayerNorm.forward(x), this.c.hidden_dropout_prob);
    });
  }

  forwardVirtual(e: Tensor): Tensor {
    return this.scope(() => virtualEmbeddings(this, e, this.padId + 1, this.c));
  }
}

export function robertaModel(c: BertConfig, pooler: boolean): BertModel {
  return new BertModel(c, { pooler, embeddings: new RobertaEmbeddings(c) });
}

/** RobertaClassificationHead: dense + tanh on the <s> token, then out_proj. */
export class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly out_proj: Linear;

  constructor(readonly c: BertConfig, labels: number) {
    super();
    this.dense = this.add("dense", new Linear(c.hidden_size, c.hidden_size, { std: c.initializer_range }));
    this.out_proj = this.add("out_proj", new Linear(c.hidden_size, labels, { std: c.initializer_range }));
  }

  forward(h: Tensor): Tensor {
    return this.scope(() => {
      const p = this.c.classifier_dropout ?? this.c.hidden_dropout_prob;
      const first = reshape(slice(h, 1, 0, 1), [h.shape[0], h.shape[2]]); // [B, T, H] -> [B, H]
      const x = tanh(this.dense.forward(dropout(first, p)));
      return this.out_proj.forward(dropout(x, p));
    });
  }
}

export class RobertaForSequenceClassification extends Module {
  readonly roberta: BertModel;
  readonly classifier: RobertaClassificationHead;
  readonly numLabels: number;

  constructor(readonly config: BertConfig) {
    super();
    this.numLabels = numLabels(config as PretrainedConfig);
    this.roberta = this.add("roberta", robertaModel(config, false));
    this.classifier = this.add("classifier", new RobertaClassificationHead(config, this.numLabels));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState } = this.roberta.forward(b);
      const logits = this.classifier.forward(lastHiddenState);
      const loss = b.labels ? sequenceClassificationLoss(logits, b.labels, this.numLabels, this.config.problem_type as ProblemType | undefined) : undefined;
      return { logits, loss, lastHiddenState };
    });
  }
}

export class RobertaForTokenClassification extends Module {
  readonly roberta: BertModel;
  readonly classifier: Linear;

  constructor(readonly config: BertConfig) {
    super();
    this.roberta = this.add("roberta", robertaModel(config, false));
    this.classifier = this.add("classifier", new Linear(config.hidden_size, numLabels(config as PretrainedConfig), { std: config.initializer_range }));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState } = this.roberta.forward(b);
      const p = this.config.classifier_dropout ?? this.config.hidden_dropout_prob;
      const logits = this.classifier.forward(dropout(lastHiddenState, p));
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState };
    });
  }
}

export class RobertaForMaskedLM extends Module {
  readonly roberta: BertModel;
  readonly lm_head: LMPredictionHead;

  constructor(readonly config: BertConfig) {
    super();
    this.roberta = this.add("roberta", robertaModel(config, false));
    const words = (this.roberta.embeddings as RobertaEmbeddings).word_embeddings;
    this.lm_head = this.add("lm_head", new LMPredictionHead(config.hidden_size, config.layer_norm_eps, config.initializer_range, words, "roberta"));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState } = this.roberta.forward(b);
      const logits = this.lm_head.forward(rowsAt(lastHiddenState, b.masked_positions));
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState };
    });
  }
}
