// DistilBERT, following transformers' modeling_distilbert.py (v4.30):
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/models/distilbert/modeling_distilbert.py
import { WhetError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { numLabels, type PretrainedConfig, type ProblemType } from "../io/config.js";
import { Embedding } from "../nn/embedding.js";
import { LayerNorm } from "../nn/layer_norm.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { ModuleList } from "../nn/module_list.js";
import { gelu } from "../ops/activation.js";
import { dropout } from "../ops/dropout.js";
import { add, div, equal, relu, where } from "../ops/elementwise.js";
import { reshape, slice, transpose } from "../ops/layout.js";
import { matmul } from "../ops/matmul.js";
import { softmax } from "../ops/softmax.js";
import { attendBlocks } from "./attention_blocks.js";
import type { EncoderInputs, PromptTokens } from "./bert.js";
import { rowsAt, sequenceClassificationLoss, tokenClassificationLoss, type ModelOutput } from "./heads.js";

/** config.json keys of model_type "distilbert", verbatim. */
export interface DistilBertConfig extends Omit<PretrainedConfig, "model_type"> {
  model_type?: PretrainedConfig["model_type"];
  vocab_size: number;
  max_position_embeddings: number;
  sinusoidal_pos_embds: boolean;
  n_layers: number;
  n_heads: number;
  dim: number;
  hidden_dim: number;
  dropout: number;
  attention_dropout: number;
  activation: string;
  initializer_range: number;
  qa_dropout: number;
  seq_classif_dropout: number;
  pad_token_id?: number;
}

export const DISTILBERT_DEFAULTS: DistilBertConfig = {
  vocab_size: 30522,
  max_position_embeddings: 512,
  sinusoidal_pos_embds: false,
  n_layers: 6,
  n_heads: 12,
  dim: 768,
  hidden_dim: 3072,
  dropout: 0.1,
  attention_dropout: 0.1,
  activation: "gelu",
  initializer_range: 0.02,
  qa_dropout: 0.1,
  seq_classif_dropout: 0.2,
  pad_token_id: 0,
};

export class DistilBertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;

  constructor(readonly c: DistilBertConfig) {
    super();
    const std = c.initializer_range;
    this.word_embeddings = this.add("word_embeddings", new Embedding(c.vocab_size, c.dim, { std, paddingIdx: c.pad_token_id }));
    this.position_embeddings = this.add("position_embeddings", new Embedding(c.max_position_embeddings, c.dim, { std }));
    // Sinusoidal tables are stored in checkpoints but never trained.
    if (c.sinusoidal_pos_embds) this.position_embeddings.weight.requiresGrad = false;
    this.LayerNorm = this.add("LayerNorm", new LayerNorm(c.dim, 1e-12));
  }

  /** `firstPosition`: prompt tuning's virtual tokens take positions 0..n-1, the real ones follow. */
  forward(ids: Tensor, firstPosition = 0): Tensor {
    return this.scope(() => {
      const all = this.position_embeddings.weight.t();
      const table = firstPosition ? slice(all, 0, firstPosition) : all;
      const positions = slice(table, 0, 0, ids.shape[1]); // [T, dim]: positions first..first+T-1
      return dropout(this.LayerNorm.forward(add(this.word_embeddings.forward(ids), positions)), this.c.dropout);
    });
  }

  /** Prompt tuning: [n, dim] input embeddings at positions 0..n-1 -> [1, n, dim]. */
  forwardVirtual(e: Tensor): Tensor {
    return this.scope(() => {
      const n = e.shape[0];
      const positions = slice(this.position_embeddings.weight.t(), 0, 0, n as number); // [n, dim]
      const x = dropout(this.LayerNorm.forward(add(e, positions)), this.c.dropout);
      return reshape(x, [1, n, this.c.dim]);
    });
  }
}

/** masked_fill of the scores where keep is false, with float32's lowest value as transformers does. */
const hide = (keep: Tensor, scores: Tensor) => where(keep, scores, -3.4028234663852886e38);

export class MultiHeadSelfAttention extends Module {
  readonly q_lin: Linear;
  readonly k_lin: Linear;
  readonly v_lin: Linear;
  readonly out_lin: Linear;

  constructor(readonly c: DistilBertConfig) {
    super();
    if (c.dim % c.n_heads !== 0) throw new WhetError(`dim ${c.dim} is not a multiple of n_heads ${c.n_heads}`);
    const std = c.initializer_range;
    this.q_lin = this.add("q_lin", new Linear(c.dim, c.dim, { std }));
    this.k_lin = this.add("k_lin", new Linear(c.dim, c.dim, { std }));
    this.v_lin = this.add("v_lin", new Linear(c.dim, c.dim, { std }));
    this.out_lin = this.add("out_lin", new Linear(c.dim, c.dim, { std }));
  }

  /** [B, T, dim] -> scaled queries, keys, values [B, A, T, dh]. */
  private qkv(x: Tensor): [Tensor, Tensor, Tensor] {
    const [B, T] = x.shape;
    const heads = this.c.n_heads, dh = this.c.dim / heads;
    const split = (t: Tensor) => transpose(reshape(t, [B, T, heads, dh]), [0, 2, 1, 3]); // [B, T, dim] -> [B, A, T, dh]
    const q = div(split(this.q_lin.forward(x)), Math.sqrt(dh)); // DistilBERT scales q before the product
    return [q, split(this.k_lin.forward(x)), split(this.v_lin.forward(x))];
  }

  private merge(ctx: Tensor): Tensor {
    const [B, , T] = ctx.shape;
    // [B, A, T, dh] -> [B, T, A, dh] -> [B, T, dim]
    return this.out_lin.forward(reshape(transpose(ctx, [0, 2, 1, 3]), [B, T, this.c.dim]));
  }

  /** x [B, T, dim], keep [B, 1, 1, T] (true = attend). */
  forward(x: Tensor, keep: Tensor): Tensor {
    return this.scope(() => {
      const [q, k, v] = this.qkv(x);
      const masked = hide(keep, matmul(q, k, false, true)); // [B, A, T, T]
      const weights = dropout(softmax(masked, -1), this.c.attention_dropout);
      return this.merge(matmul(weights, v));
    });
  }

  /**
   * Prompt tuning: the real tokens x [B, T, dim] and the virtual ones virt [1 or B, n, dim] attend
   * over both, as the one sequence [virt; x] would (virtual tokens are never masked).
   */
  forwardPair(x: Tensor, virt: Tensor, keep: Tensor): [Tensor, Tensor] {
    return this.scope(() => {
      const [qx, kx, vx] = this.qkv(x), [qv, kv, vv] = this.qkv(virt);
      const scores = (q: Tensor) => [matmul(q, kv, false, true), hide(keep, matmul(q, kx, false, true))];
      const attend = (q: Tensor) => this.merge(attendBlocks(scores(q), [vv, vx], this.c.attention_dropout));
      return [attend(qx), attend(qv)];
    });
  }
}

export class FFN extends Module {
  readonly lin1: Linear;
  readonly lin2: Linear;

  constructor(readonly c: DistilBertConfig) {
    super();
    if (c.activation !== "gelu") throw new WhetError(`activation "${c.activation}" is not supported yet (supported: gelu)`);
    this.lin1 = this.add("lin1", new Linear(c.dim, c.hidden_dim, { std: c.initializer_range }));
    this.lin2 = this.add("lin2", new Linear(c.hidden_dim, c.dim, { std: c.initializer_range }));
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => dropout(this.lin2.forward(gelu(this.lin1.forward(x))), this.c.dropout));
  }
}

export class TransformerBlock extends Module {
  readonly attention: MultiHeadSelfAttention;
  readonly sa_layer_norm: LayerNorm;
  readonly ffn: FFN;
  readonly output_layer_norm: LayerNorm;

  constructor(c: DistilBertConfig) {
    super();
    this.attention = this.add("attention", new MultiHeadSelfAttention(c));
    this.sa_layer_norm = this.add("sa_layer_norm", new LayerNorm(c.dim, 1e-12));
    this.ffn = this.add("ffn", new FFN(c));
    this.output_layer_norm = this.add("output_layer_norm", new LayerNorm(c.dim, 1e-12));
  }

  forward(x: Tensor, keep: Tensor): Tensor {
    return this.scope(() => this.tail(this.attention.forward(x, keep), x));
  }

  /** Prompt tuning: the real and the virtual tokens' streams through one block. */
  forwardPair(x: Tensor, virt: Tensor, keep: Tensor): [Tensor, Tensor] {
    return this.scope(() => {
      const [ax, av] = this.attention.forwardPair(x, virt, keep);
      return [this.tail(ax, x), this.tail(av, virt)];
    });
  }

  private tail(attended: Tensor, x: Tensor): Tensor {
    const sa = this.sa_layer_norm.forward(add(attended, x));
    return this.output_layer_norm.forward(add(this.ffn.forward(sa), sa));
  }
}

export class Transformer extends Module {
  readonly layer: ModuleList<TransformerBlock>;

  constructor(c: DistilBertConfig) {
    super();
    this.layer = this.add("layer", new ModuleList(Array.from({ length: c.n_layers }, () => new TransformerBlock(c))));
  }

  forward(x: Tensor, keep: Tensor): Tensor {
    return this.scope(() => this.layer.scope(() => this.layer.items.reduce((h, l) => l.forward(h, keep), x)));
  }

  forwardPair(x: Tensor, virt: Tensor, keep: Tensor): [Tensor, Tensor] {
    return this.scope(() => this.layer.scope(() =>
      this.layer.items.reduce(([h, v], l) => l.forwardPair(h, v, keep), [x, virt] as [Tensor, Tensor])));
  }
}

export class DistilBertModel extends Module {
  readonly embeddings: DistilBertEmbeddings;
  readonly transformer: Transformer;
  /** Prompt tuning's virtual tokens (set by an adapter); the output is then the virtual tokens' stream. */
  prompt: PromptTokens | null = null;

  constructor(readonly config: DistilBertConfig) {
    super();
    this.embeddings = this.add("embeddings", new DistilBertEmbeddings(config));
    this.transformer = this.add("transformer", new Transformer(config));
  }

  forward(b: EncoderInputs): Tensor {
    return this.scope(() => {
      const m = b.attention_mask;
      const keep = reshape(equal(m, 1), [m.shape[0], 1, 1, m.shape[1]]); // [B, T] -> [B, 1, 1, T]
      if (!this.prompt) return this.transformer.forward(this.embeddings.forward(b.input_ids), keep);
      // As PEFT runs it: the model sees [virtual; real], the head reads position 0 (the first virtual token).
      const x = this.embeddings.forward(b.input_ids, this.prompt.count);
      const v = this.embeddings.forwardVirtual(this.prompt.embeddings());
      return this.transformer.forwardPair(x, v, keep)[1];
    });
  }
}

export class DistilBertForSequenceClassification extends Module {
  readonly distilbert: DistilBertModel;
  readonly pre_classifier: Linear;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(readonly config: DistilBertConfig) {
    super();
    this.numLabels = numLabels(config as PretrainedConfig);
    this.distilbert = this.add("distilbert", new DistilBertModel(config));
    this.pre_classifier = this.add("pre_classifier", new Linear(config.dim, config.dim, { std: config.initializer_range }));
    this.classifier = this.add("classifier", new Linear(config.dim, this.numLabels, { std: config.initializer_range }));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const h = this.distilbert.forward(b);
      const first = reshape(slice(h, 1, 0, 1), [h.shape[0], h.shape[2]]); // [B, T, dim] -> [B, dim]
      const pooled = dropout(relu(this.pre_classifier.forward(first)), this.config.seq_classif_dropout);
      const logits = this.classifier.forward(pooled);
      const loss = b.labels ? sequenceClassificationLoss(logits, b.labels, this.numLabels, this.config.problem_type as ProblemType | undefined) : undefined;
      return { logits, loss, lastHiddenState: h };
    });
  }
}

export class DistilBertForTokenClassification extends Module {
  readonly distilbert: DistilBertModel;
  readonly classifier: Linear;

  constructor(readonly config: DistilBertConfig) {
    super();
    this.distilbert = this.add("distilbert", new DistilBertModel(config));
    this.classifier = this.add("classifier", new Linear(config.dim, numLabels(config as PretrainedConfig), { std: config.initializer_range }));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const h = this.distilbert.forward(b);
      const logits = this.classifier.forward(dropout(h, this.config.dropout));
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState: h };
    });
  }
}

export class DistilBertForMaskedLM extends Module {
  readonly distilbert: DistilBertModel;
  readonly vocab_transform: Linear;
  readonly vocab_layer_norm: LayerNorm;
  readonly vocab_projector: TiedProjector;

  constructor(readonly config: DistilBertConfig) {
    super();
    this.distilbert = this.add("distilbert", new DistilBertModel(config));
    this.vocab_transform = this.add("vocab_transform", new Linear(config.dim, config.dim, { std: config.initializer_range }));
    this.vocab_layer_norm = this.add("vocab_layer_norm", new LayerNorm(config.dim, 1e-12));
    this.vocab_projector = this.add("vocab_projector", new TiedProjector(this.distilbert.embeddings.word_embeddings));
  }

  forward(b: EncoderInputs): ModelOutput {
    return this.scope(() => {
      const h = this.distilbert.forward(b);
      const logits = this.vocab_projector.forward(this.vocab_layer_norm.forward(gelu(this.vocab_transform.forward(rowsAt(h, b.masked_positions)))));
      return { logits, loss: b.labels ? tokenClassificationLoss(logits, b.labels) : undefined, lastHiddenState: h };
    });
  }
}

/** vocab_projector: the word-embedding matrix (tied, not stored again) and its own bias. */
class TiedProjector extends Module {
  readonly bias;

  constructor(readonly words: Embedding) {
    super();
    this.bias = this.param("bias", [words.num], { kind: "zeros" }, true);
  }

  forward(h: Tensor): Tensor {
    return this.scope(() => add(matmul(h, this.words.weight.t(), false, true), this.bias.t()));
  }
}
