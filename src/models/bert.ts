// BERT, following transformers' modeling_bert.py (v4.30):
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/models/bert/modeling_bert.py
import { WhetError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { Embedding } from "../nn/embedding.js";
import { LayerNorm } from "../nn/layer_norm.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { ModuleList } from "../nn/module_list.js";
import { gelu } from "../ops/activation.js";
import { dropout } from "../ops/dropout.js";
import { add, cast, div, mul, sub, tanh } from "../ops/elementwise.js";
import { reshape, slice, transpose } from "../ops/layout.js";
import { matmul } from "../ops/matmul.js";
import { softmax } from "../ops/softmax.js";
import type { PretrainedConfig, ProblemType } from "../io/config.js";
import { numLabels } from "../io/config.js";
import { attendBlocks } from "./attention_blocks.js";
import { LMPredictionHead, rowsAt, sequenceClassificationLoss, tokenClassificationLoss, type ModelOutput } from "./heads.js";

/** config.json keys of model_type "bert", verbatim. */
export interface BertConfig extends Omit<PretrainedConfig, "model_type"> {
  model_type?: PretrainedConfig["model_type"];
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act?: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id?: number;
  classifier_dropout?: number | null;
  num_labels?: number;
  problem_type?: ProblemType;
}

export const BERT_DEFAULTS: BertConfig = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  classifier_dropout: null,
};

/** The batch a BERT-family model reads: [B, T] int64 tensors, labels optional. */
export interface EncoderInputs {
  input_ids: Tensor;
  attention_mask: Tensor;
  token_type_ids?: Tensor;
  /** Masked-LM heads: flat positions b·T + t whose logits are wanted; `labels` is then [n] too. */
  masked_positions?: Tensor;
  labels?: Tensor;
}

export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;

  constructor(readonly c: BertConfig) {
    super();
    const std = c.initializer_range;
    this.word_embeddings = this.add("word_embeddings", new Embedding(c.vocab_size, c.hidden_size, { std, paddingIdx: c.pad_token_id }));
    this.position_embeddings = this.add("position_embeddings", new Embedding(c.max_position_embeddings, c.hidden_size, { std }));
    this.token_type_embeddings = this.add("token_type_embeddings", new Embedding(c.type_vocab_size, c.hidden_size, { std }));
    this.LayerNorm = this.add("LayerNorm", new LayerNorm(c.hidden_size, c.layer_norm_eps));
  }

  /** `pastLength`: keys and values already cached before these tokens (prefix tuning): positions start there. */
  forward(ids: Tensor, tokenTypeIds?: Tensor, pastLength = 0, contiguous = false): Tensor {
    void contiguous; // BERT's positions always count every token
    return this.scope(() => {
      const T = ids.shape[1];
      const words = this.word_embeddings.forward(ids); // [B, T, H]
      // Absent token types are all 0: row 0 broadcast, as the registered zero buffer gives.
      const types = tokenTypeIds ? this.token_type_embeddings.forward(tokenTypeIds) : slice(this.token_type_embeddings.weight.t(), 0, 0, 1); // [B, T, H] or [1, H]
      const table = pastLength ? slice(this.position_embeddings.weight.t(), 0, pastLength) : this.position_embeddings.weight.t();
      const positions = slice(table, 0, 0, T); // [T, H]: position ids past..past+T-1
      const x = add(add(words, types), positions);
      return dropout(this.LayerNorm.forward(x), this.c.hidden_dropout_prob);
    });
  }

  forwardVirtual(e: Tensor): Tensor {
    return this.scope(() => virtualEmbeddings(this, e, 0, this.c));
  }
}

/** [n, H] prompt embeddings + positions from `firstPosition` + token type 0, normalised -> [1, n, H]. */
export function virtualEmbeddings(
  m: { position_embeddings: Embedding; token_type_embeddings: Embedding; LayerNorm: LayerNorm }, e: Tensor, firstPosition: number, c: BertConfig,
): Tensor {
  const n = e.shape[0];
  const positions = slice(m.position_embeddings.weight.t(), 0, firstPosition, firstPosition + (n as number)); // [n, H]
  const x = add(add(e, slice(m.token_type_embeddings.weight.t(), 0, 0, 1)), positions);
  return reshape(dropout(m.LayerNorm.forward(x), c.hidden_dropout_prob), [1, n, c.hidden_size]);
}

export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly heads: number;
  readonly headDim: number;

  constructor(readonly c: BertConfig) {
    super();
    if (c.hidden_size % c.num_attention_heads !== 0) {
      throw new WhetError(`hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
    }
    this.heads = c.num_attention_heads;
    this.headDim = c.hidden_size / c.num_attention_heads;
    const std = c.initializer_range;
    this.query = this.add("query", new Linear(c.hidden_size, c.hidden_size, { std }));
    this.key = this.add("key", new Linear(c.hidden_size, c.hidden_size, { std }));
    this.value = this.add("value", new Linear(c.hidden_size, c.hidden_size, { std }));
  }

  /** [B, T, H] -> queries, keys, values [B, A, T, hd]. */
  private qkv(x: Tensor): [Tensor, Tensor, Tensor] {
    const [B, T] = x.shape;
    const split = (t: Tensor) => transpose(reshape(t, [B, T, this.heads, this.headDim]), [0, 2, 1, 3]); // [B, T, H] -> [B, A, T, hd]
    return [split(this.query.forward(x)), split(this.key.forward(x)), split(this.value.forward(x))];
  }

  private merge(ctx: Tensor): Tensor {
    const [B, , T] = ctx.shape;
    return reshape(transpose(ctx, [0, 2, 1, 3]), [B, T, this.c.hidden_size]); // [B, A, T, hd] -> [B, T, A, hd] -> [B, T, H]
  }

  /** x [B, T, H], additive mask [B, 1, 1, T], optional prefix keys/values -> context [B, T, H]. */
  forward(x: Tensor, mask: Tensor, prefix?: PrefixKV): Tensor {
    return this.scope(() => {
      const [q, k, v] = this.qkv(x);
      if (prefix) {
        const n = prefix.key.shape[1];
        const pk = reshape(prefix.key, [1, this.heads, n, this.headDim]), pv = reshape(prefix.value, [1, this.heads, n, this.headDim]);
        return this.merge(this.attendOver(q, [{ key: pk, value: pv }, { key: k, value: v, mask }]));
      }
      const scores = add(div(matmul(q, k, false, true), Math.sqrt(this.headDim)), mask); // [B, A, T, T]
      const probs = dropout(softmax(scores, -1), this.c.attention_probs_dropout_prob);
      return this.merge(matmul(probs, v));
    });
  }

  /**
   * Prompt tuning: the virtual tokens' stream v [1 or B, n, H] and the real tokens' x [B, T, H]
   * attend over both, as one sequence [v; x] would (the virtual tokens are never masked).
   */
  forwardPair(x: Tensor, virt: Tensor, mask: Tensor): [Tensor, Tensor] {
    return this.scope(() => {
      const [qx, kx, vx] = this.qkv(x), [qv, kv, vv] = this.qkv(virt);
      const blocks = [{ key: kv, value: vv }, { key: kx, value: vx, mask }];
      return [this.merge(this.attendOver(qx, blocks)), this.merge(this.attendOver(qv, blocks))];
    });
  }

  /**
   * Attention over key blocks without concatenating along the (symbolic) key axis: one softmax
   * written over the blocks with a shared maximum. A block without a mask is always attended.
   */
  private attendOver(q: Tensor, blocks: { key: Tensor; value: Tensor; mask?: Tensor }[]): Tensor {
    const scores = blocks.map((b) => {
      const s = div(matmul(q, b.key, false, true), Math.sqrt(this.headDim)); // [B, A, T, n_b]
      return b.mask ? add(s, b.mask) : s;
    });
    return attendBlocks(scores, blocks.map((b) => b.value), this.c.attention_probs_dropout_prob); // [B, A, T, hd]
  }
}

/** Prefix tuning's keys and values for one layer: [heads, n, headDim] each, attended before the layer's own. */
export interface PrefixKV {
  key: Tensor;
  value: Tensor;
}

/** Virtual key/value tokens an adapter puts before every layer's own (PEFT's prefix tuning fills this in). */
export interface PrefixTokens {
  count: number;
  layer(i: number): PrefixKV;
}

/** An adapter on a block's tail: gets the sublayer's output, the residual and the block's LayerNorm. */
export interface ResidualHook {
  forward(h: Tensor, residual: Tensor, norm: (t: Tensor) => Tensor): Tensor;
}

/** Dense, dropout, residual, LayerNorm: the tail of the attention and feed-forward blocks. */
export class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  /** Set by a bottleneck adapter: it takes over residual and normalisation (see ResidualHook). */
  hook: ResidualHook | null = null;

  constructor(readonly c: BertConfig, inSize: number) {
    super();
    this.dense = this.add("dense", new Linear(inSize, c.hidden_size, { std: c.initializer_range }));
    this.LayerNorm = this.add("LayerNorm", new LayerNorm(c.hidden_size, c.layer_norm_eps));
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.scope(() => {
      const out = dropout(this.dense.forward(h), this.c.hidden_dropout_prob);
      return this.hook ? this.hook.forward(out, residual, (t) => this.LayerNorm.forward(t)) : this.LayerNorm.forward(add(out, residual));
    });
  }
}

export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;

  constructor(c: BertConfig) {
    super();
    this.self = this.add("self", new BertSelfAttention(c));
    this.output = this.add("output", new BertResidualOutput(c, c.hidden_size));
  }

  forward(x: Tensor, mask: Tensor, prefix?: PrefixKV): Tensor {
    return this.scope(() => this.output.forward(this.self.forward(x, mask, prefix), x));
  }

  forwardPair(x: Tensor, virt: Tensor, mask: Tensor): [Tensor, Tensor] {
    return this.scope(() => {
      const [sx, sv] = this.self.forwardPair(x, virt, mask);
      return [this.output.forward(sx, x), this.output.forward(sv, virt)];
    });
  }
}

export class BertIntermediate extends Module {
  readonly dense: Linear;

  constructor(readonly c: BertConfig) {
    super();
    if ((c.hidden_act ?? "gelu") !== "gelu") throw new WhetError(`hidden_act "${c.hidden_act}" is not supported yet (supported: gelu)`);
    this.dense = this.add("dense", new Linear(c.hidden_size, c.intermediate_size, { std: c.initializer_range }));
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => gelu(this.dense.forward(x)));
  }
}

export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;

  constructor(c: BertConfig) {
    super();
    this.attention = this.add("attention", new BertAttention(c));
    this.intermediate = this.add("intermediate", new BertIntermediate(c));
    this.output = this.add("output", new BertResidualOutput(c, c.intermediate_size));
  }

  forward(x: Tensor, mask: Tensor, prefix?: PrefixKV): Tensor {
    return this.scope(() => {
      const a = this.attention.forward(x, mask, prefix);
      return this.output.forward(this.intermediate.forward(a), a);
    });
  }

  /** Prompt tuning: the real and the virtual tokens' streams through one layer. */
  forwardPair(x: Tensor, virt: Tensor, mask: Tensor): [Tensor, Tensor] {
    return this.scope(() => {
      const [ax, av] = this.attention.forwardPair(x, virt, mask);
      return [this.output.forward(this.intermediate.forward(ax), ax), this.output.forward(this.intermediate.forward(av), av)];
    });
  }
}

export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;

  constructor(c: BertConfig) {
    super();
    this.layer = this.add("layer", new ModuleList(Array.from({ length: c.num_hidden_layers }, () => new BertLayer(c))));
  }

  forward(x: Tensor, mask: Tensor, prefix?: PrefixTokens | null): Tensor {
    return this.scope(() => this.layer.scope(() => this.layer.items.reduce((h, l, i) => l.forward(h, mask, prefix?.layer(i)), x)));
  }

  forwardPair(x: Tensor, virt: Tensor, mask: Tensor): [Tensor, Tensor] {
    return this.scope(() => this.layer.scope(() => this.layer.items.reduce(([h, v], l) => l.forwardPair(h, v, mask), [x, virt] as [Tensor, Tensor])));
  }
}

export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(c: BertConfig) {
    super();
    this.dense = this.add("dense", new Linear(c.hidden_size, c.hidden_size, { std: c.initializer_range }));
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => {
      const first = reshape(slice(x, 1, 0, 1), [x.shape[0], x.shape[2]]); // [B, T, H] -> [B, H]: the [CLS] token
      return tanh(this.dense.forward(first));
    });
  }
}

/** attention_mask [B, T] (1 = attend) -> additive [B, 1, 1, T]: 0 or float32's lowest value. */
export function extendedAttentionMask(mask: Tensor): Tensor {
  const m = reshape(cast(mask, "float32"), [mask.shape[0], 1, 1, mask.shape[1]]);
  return mul(sub(1, m), -3.4028234663852886e38);
}

/** What BertModel needs of its embeddings (RoBERTa swaps in its own). */
export interface EmbeddingsLike extends Module {
  /** `contiguous`: positions count every token, padding included (inputs_embeds' positions in RoBERTa). */
  forward(ids: Tensor, tokenTypeIds?: Tensor, pastLength?: number, contiguous?: boolean): Tensor;
  /** Prompt tuning: [n, H] input embeddings at positions 0..n-1 with token type 0 -> [1, n, H]. */
  forwardVirtual(e: Tensor): Tensor;
}

/** Prompt tuning's virtual tokens: input embeddings put before every row's own (PEFT fills this in). */
export interface PromptTokens {
  count: number;
  embeddings(): Tensor;
}

export class BertModel extends Module {
  readonly embeddings: EmbeddingsLike;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;
  /** Prefix tuning's virtual keys and values (set by an adapter; see PrefixTokens). */
  prefix: PrefixTokens | null = null;
  /** Prompt tuning's virtual tokens (set by an adapter); the outputs are then those of the virtual tokens. */
  prompt: PromptTokens | null = null;

  constructor(readonly config: BertConfig, opts: { pooler?: boolean; embeddings?: EmbeddingsLike } = {}) {
    super();
    this.embeddings = this.add("embeddings", opts.embeddings ?? new BertEmbeddings(config));
    this.encoder = this.add("encoder", new BertEncoder(config));
    this.pooler = opts.pooler === false ? null : this.add("pooler", new BertPooler(config));
  }

  forward(b: EncoderInputs): { lastHiddenState: Tensor; pooled: Tensor | null } {
    return this.scope(() => {
      if (this.prompt) return this.forwardPrompt(b, this.prompt);
      const x = this.embeddings.forward(b.input_ids, b.token_type_ids, this.prefix?.count ?? 0);
      const h = this.encoder.forward(x, extendedAttentionMask(b.attention_mask), this.prefix);
      return { lastHiddenState: h, pooled: this.pooler ? this.pooler.forward(h) : null };
    });
  }

  private forwardPrompt(b: EncoderInputs, prompt: PromptTokens): { lastHiddenState: Tensor; pooled: Tensor | null } {
    return promptForward(this, b, prompt);
  }
}

// (BertModel continues) Prompt tuning as PEFT runs it: the model sees [virtual; real] tokens, the
// heads read position 0, which is the first virtual token, so the virtual stream is returned.
function promptForward(m: BertModel, b: EncoderInputs, prompt: PromptTokens): { lastHiddenState: Tensor; pooled: Tensor | null } {
  const x = m.embeddings.forward(b.input_ids, b.token_type_ids, prompt.count, true);
  const v = m.embeddings.forwardVirtual(prompt.embeddings());
  const [, hv] = m.encoder.forwardPair(x, v, extendedAttentionMask(b.attention_mask));
  return { lastHiddenState: hv, pooled: m.pooler ? m.pooler.forward(hv) : null };
}

export class BertForSequenceClassification extends Module {
  readonly bert: BertModel;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(readonly config: BertConfig) {
    super();
    this.numLabels = numLabels(config as PretrainedConfig);
    this.bert = this.add("bert", new BertModel(config));
    this.classifier = this.add("classifier", new Linear(config.hidden_size, this.numLabels, { std: config.initializer_range }));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState, pooled } = this.bert.forward(b);
      const p = this.config.classifier_dropout ?? this.config.hidden_dropout_prob;
      const logits = this.classifier.forward(dropout(pooled!, p));
      const loss = b.labels ? sequenceClassificationLoss(logits, b.labels, this.numLabels, this.config.problem_type as ProblemType | undefined) : undefined;
      return { logits, loss, lastHiddenState };
    });
  }
}

export class BertForTokenClassification extends Module {
  readonly bert: BertModel;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(readonly config: BertConfig) {
    super();
    this.numLabels = numLabels(config as PretrainedConfig);
    this.bert = this.add("bert", new BertModel(config, { pooler: false }));
    this.classifier = this.add("classifier", new Linear(config.hidden_size, this.numLabels, { std: config.initializer_range }));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState } = this.bert.forward(b);
      const p = this.config.classifier_dropout ?? this.config.hidden_dropout_prob;
      const logits = this.classifier.forward(dropout(lastHiddenState, p)); // [B, T, labels]
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState };
    });
  }
}

/** BertOnlyMLMHead: checkpoint names under cls.predictions, decoder tied to the word embeddings. */
class BertOnlyMLMHead extends Module {
  readonly predictions: LMPredictionHead;

  constructor(c: BertConfig, wordEmbeddings: Embedding) {
    super();
    this.predictions = this.add("predictions", new LMPredictionHead(c.hidden_size, c.layer_norm_eps, c.initializer_range, wordEmbeddings, "bert"));
  }
}

export class BertForMaskedLM extends Module {
  readonly bert: BertModel;
  readonly cls: BertOnlyMLMHead;

  constructor(readonly config: BertConfig) {
    super();
    this.bert = this.add("bert", new BertModel(config, { pooler: false }));
    this.cls = this.add("cls", new BertOnlyMLMHead(config, (this.bert.embeddings as BertEmbeddings).word_embeddings));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const { lastHiddenState } = this.bert.forward(b);
      const logits = this.cls.scope(() => this.cls.predictions.forward(rowsAt(lastHiddenState, b.masked_positions))); // [B, T, vocab] or [n, vocab]
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState };
    });
  }
}
