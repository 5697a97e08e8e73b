// MarianMT (the Helsinki-NLP opus-mt translation models), following transformers' modeling_marian.py (v4.30):
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/models/marian/modeling_marian.py
// A post-LayerNorm encoder-decoder with fixed sinusoidal positions and one token embedding
// (model.shared) that serves as encoder input, decoder input and output projection.
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import type { Dim } from "../core/shape.js";
import { currentGraph } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import type { PretrainedConfig } from "../io/config.js";
import { Embedding } from "../nn/embedding.js";
import { LayerNorm } from "../nn/layer_norm.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { ModuleList } from "../nn/module_list.js";
import type { Parameter } from "../nn/parameter.js";
import { gelu } from "../ops/activation.js";
import { dropout } from "../ops/dropout.js";
import { add, cast, mul, relu, sigmoid, sub, tanh } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { concat, reshape, slice, transpose } from "../ops/layout.js";
import { matmul } from "../ops/matmul.js";
import { softmax } from "../ops/softmax.js";
import { tokenClassificationLoss } from "./heads.js";

/** config.json keys of model_type "marian", verbatim (legacy Helsinki keys are ignored, as transformers does). */
export interface MarianConfig {
  model_type?: string;
  vocab_size: number;
  d_model: number;
  encoder_layers: number;
  decoder_layers: number;
  encoder_attention_heads: number;
  decoder_attention_heads: number;
  encoder_ffn_dim: number;
  decoder_ffn_dim: number;
  max_position_embeddings: number;
  activation_function: string;
  scale_embedding: boolean;
  dropout: number;
  attention_dropout: number;
  activation_dropout: number;
  init_std: number;
  pad_token_id: number;
  eos_token_id: number;
  decoder_start_token_id: number;
  decoder_vocab_size?: number;
  share_encoder_decoder_embeddings?: boolean;
  [key: string]: unknown;
}

/** MarianConfig's defaults (opus-mt-en-de's shape). */
export const MARIAN_DEFAULTS: MarianConfig = {
  vocab_size: 58101,
  d_model: 1024,
  encoder_layers: 12,
  decoder_layers: 12,
  encoder_attention_heads: 16,
  decoder_attention_heads: 16,
  encoder_ffn_dim: 4096,
  decoder_ffn_dim: 4096,
  max_position_embeddings: 1024,
  activation_function: "gelu",
  scale_embedding: false,
  dropout: 0.1,
  attention_dropout: 0,
  activation_dropout: 0,
  init_std: 0.02,
  pad_token_id: 58100,
  eos_token_id: 0,
  decoder_start_token_id: 58100,
  share_encoder_decoder_embeddings: true,
};

/** Complete a config.json with MarianConfig's defaults and refuse what whet does not run. */
export function marianConfig(raw: PretrainedConfig | Record<string, unknown>): MarianConfig {
  const c = { ...MARIAN_DEFAULTS, ...(raw as Record<string, unknown>) } as MarianConfig;
  if (c.model_type !== undefined && c.model_type !== "marian") {
    throw new WhetError(
      `model_type "${c.model_type}" is not a Marian translation model (expected "marian", as the Helsinki-NLP opus-mt checkpoints)`,
    );
  }
  if (c.share_encoder_decoder_embeddings === false || (c.decoder_vocab_size ?? c.vocab_size) !== c.vocab_size) {
    throw new WhetError(
      "Marian checkpoints with separate encoder and decoder vocabularies (share_encoder_decoder_embeddings false) are not supported yet",
    );
  }
  if (c.d_model % 2 !== 0)
    throw new WhetError(
      `d_model ${c.d_model} must be even: the sinusoidal positions put sines in one half and cosines in the other`,
    );
  activation(c.activation_function); // fail at load time, not at trace time
  return c;
}

/** The activation named by config.activation_function (transformers' ACT2FN, the members Marian uses). */
function activation(name: string): (x: Tensor) => Tensor {
  switch (name) {
    case "swish":
    case "silu":
      return (x) => mul(x, sigmoid(x));
    case "gelu":
      return gelu;
    case "relu":
      return relu;
    case "tanh":
      return tanh;
    default:
      throw new WhetError(`activation_function "${name}" is not supported (supported: swish, silu, gelu, relu, tanh)`);
  }
}

/**
 * MarianSinusoidalPositionalEmbedding's table: sines in the first half of each row, cosines in the
 * second (not interleaved), computed in float64 and rounded to float32.
 */
export function sinusoidalTable(rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  const half = dim / 2;
  for (let p = 0; p < rows; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / Math.pow(10000, (2 * i) / dim);
      out[p * dim + i] = Math.sin(angle);
      out[p * dim + half + i] = Math.cos(angle);
    }
  }
  return out;
}

const FLOAT32_MIN = -3.4028234663852886e38;

/** attention_mask [B, S] (1 = attend) -> additive [B, 1, 1, S]: 0 or float32's lowest value. */
function paddingMask(mask: Tensor): Tensor {
  const m = reshape(cast(mask, "float32"), [mask.shape[0], 1, 1, mask.shape[1]]);
  return mul(sub(1, m), FLOAT32_MIN);
}

/** A [n, n] additive causal mask: float32's lowest value where the key comes after the query. */
function causalTable(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[i * n + j] = FLOAT32_MIN;
  return out;
}

/** Keys and values of one attention, split into heads: [B, A, S, hd] each. */
export interface KeyValue {
  key: Tensor;
  value: Tensor;
}

export class MarianAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  readonly headDim: number;

  constructor(
    readonly dim: number,
    readonly heads: number,
    std: number,
    private readonly pDrop: number,
  ) {
    super();
    if (dim % heads !== 0) throw new WhetError(`d_model ${dim} is not a multiple of the ${heads} attention heads`);
    this.headDim = dim / heads;
    this.q_proj = this.add("q_proj", new Linear(dim, dim, { std }));
    this.k_proj = this.add("k_proj", new Linear(dim, dim, { std }));
    this.v_proj = this.add("v_proj", new Linear(dim, dim, { std }));
    this.out_proj = this.add("out_proj", new Linear(dim, dim, { std }));
  }

  private split(t: Tensor): Tensor {
    const [B, T] = t.shape;
    return transpose(reshape(t, [B, T, this.heads, this.headDim]), [0, 2, 1, 3]); // [B, T, D] -> [B, A, T, hd]
  }

  /** Keys and values of `states` [B, S, D]: what the cache holds. */
  keyValue(states: Tensor): KeyValue {
    return this.scope(() => ({
      key: this.split(this.k_proj.forward(states)),
      value: this.split(this.v_proj.forward(states)),
    }));
  }

  /** Queries from x [B, T, D] attend over `kv`; `mask` is additive, broadcast to [B, A, T, S]. */
  attend(x: Tensor, kv: KeyValue, mask: Tensor | null): Tensor {
    return this.scope(() => {
      const [B, T] = x.shape;
      const q = this.split(mul(this.q_proj.forward(x), Math.pow(this.headDim, -0.5))); // the bias is scaled too
      const scores = matmul(q, kv.key, false, true); // [B, A, T, S]
      const probs = dropout(softmax(mask ? add(scores, mask) : scores, -1), this.pDrop);
      const ctx = transpose(matmul(probs, kv.value), [0, 2, 1, 3]); // [B, A, T, hd] -> [B, T, A, hd]
      return this.out_proj.forward(reshape(ctx, [B, T, this.dim]));
    });
  }
}

/** fc1, activation, fc2: the feed-forward block of both stacks. */
function feedForward(c: MarianConfig, fc1: Linear, fc2: Linear, x: Tensor): Tensor {
  const h = dropout(activation(c.activation_function)(fc1.forward(x)), c.activation_dropout);
  return dropout(fc2.forward(h), c.dropout);
}

export class MarianEncoderLayer extends Module {
  readonly self_attn: MarianAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;

  constructor(readonly c: MarianConfig) {
    super();
    const std = c.init_std;
    this.self_attn = this.add(
      "self_attn",
      new MarianAttention(c.d_model, c.encoder_attention_heads, std, c.attention_dropout),
    );
    this.self_attn_layer_norm = this.add("self_attn_layer_norm", new LayerNorm(c.d_model, 1e-5));
    this.fc1 = this.add("fc1", new Linear(c.d_model, c.encoder_ffn_dim, { std }));
    this.fc2 = this.add("fc2", new Linear(c.encoder_ffn_dim, c.d_model, { std }));
    this.final_layer_norm = this.add("final_layer_norm", new LayerNorm(c.d_model, 1e-5));
  }

  forward(x: Tensor, mask: Tensor): Tensor {
    return this.scope(() => {
      const a = dropout(this.self_attn.attend(x, this.self_attn.keyValue(x), mask), this.c.dropout);
      const h = this.self_attn_layer_norm.forward(add(x, a));
      return this.final_layer_norm.forward(add(h, feedForward(this.c, this.fc1, this.fc2, h)));
    });
  }
}

/** What one decoder layer reads besides its input: the encoder side and its own past. */
export interface DecoderLayerContext {
  /** Additive mask over the decoder's own keys, or null (a cached step sees every past key). */
  selfMask: Tensor | null;
  /** Cross-attention keys and values of the encoder output, [B, A, S, hd] each. */
  cross: KeyValue;
  /** Additive source padding mask [B, 1, 1, S]. */
  crossMask: Tensor;
  /** Cached keys and values of earlier steps, [B, A, past, hd] each; their concatenation is `kvLength` long. */
  past?: KeyValue;
  kvLength?: Dim;
}

export class MarianDecoderLayer extends Module {
  readonly self_attn: MarianAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly encoder_attn: MarianAttention;
  readonly encoder_attn_layer_norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;

  constructor(readonly c: MarianConfig) {
    super();
    const std = c.init_std;
    this.self_attn = this.add(
      "self_attn",
      new MarianAttention(c.d_model, c.decoder_attention_heads, std, c.attention_dropout),
    );
    this.self_attn_layer_norm = this.add("self_attn_layer_norm", new LayerNorm(c.d_model, 1e-5));
    this.encoder_attn = this.add(
      "encoder_attn",
      new MarianAttention(c.d_model, c.decoder_attention_heads, std, c.attention_dropout),
    );
    this.encoder_attn_layer_norm = this.add("encoder_attn_layer_norm", new LayerNorm(c.d_model, 1e-5));
    this.fc1 = this.add("fc1", new Linear(c.d_model, c.decoder_ffn_dim, { std }));
    this.fc2 = this.add("fc2", new Linear(c.decoder_ffn_dim, c.d_model, { std }));
    this.final_layer_norm = this.add("final_layer_norm", new LayerNorm(c.d_model, 1e-5));
  }

  /** x [B, T, D] -> [B, T, D], and this step's keys and values of the self-attention (past included). */
  forward(x: Tensor, cx: DecoderLayerContext): { hidden: Tensor; present: KeyValue } {
    return this.scope(() => {
      let kv = this.self_attn.keyValue(x);
      if (cx.past) {
        const joined = (p: Tensor, n: Tensor) => concat([p, n], 2, cx.kvLength); // [B, A, past, hd] + [B, A, T, hd]
        kv = { key: joined(cx.past.key, kv.key), value: joined(cx.past.value, kv.value) };
      }
      const a = dropout(this.self_attn.attend(x, kv, cx.selfMask), this.c.dropout);
      let h = this.self_attn_layer_norm.forward(add(x, a));
      const e = dropout(this.encoder_attn.attend(h, cx.cross, cx.crossMask), this.c.dropout);
      h = this.encoder_attn_layer_norm.forward(add(h, e));
      return { hidden: this.final_layer_norm.forward(add(h, feedForward(this.c, this.fc1, this.fc2, h))), present: kv };
    });
  }
}

/** Token embedding × sqrt(d_model) (when scale_embedding) plus the given position rows. */
function embed(c: MarianConfig, shared: Parameter, ids: Tensor, positions: Tensor): Tensor {
  const scale = c.scale_embedding ? Math.sqrt(c.d_model) : 1;
  const tokens = embedding(shared.t(), ids); // [B, T, D]
  return dropout(add(scale === 1 ? tokens : mul(tokens, scale), positions), c.dropout);
}

export class MarianEncoder extends Module {
  readonly layers: ModuleList<MarianEncoderLayer>;

  constructor(
    readonly c: MarianConfig,
    private readonly shared: Parameter,
    private readonly positions: Float32Array,
  ) {
    super();
    this.layers = this.add(
      "layers",
      new ModuleList(Array.from({ length: c.encoder_layers }, () => new MarianEncoderLayer(c))),
    );
  }

  /** input_ids [B, S], attention_mask [B, S] -> [B, S, D]; `hidden` collects the embedding output and each layer's. */
  forward(ids: Tensor, attentionMask: Tensor, hidden?: Tensor[]): Tensor {
    return this.scope(() => {
      const table = currentGraph().constant(
        ndarray("float32", [this.c.max_position_embeddings, this.c.d_model], this.positions),
      );
      let x = embed(this.c, this.shared, ids, slice(table, 0, 0, ids.shape[1])); // positions 0..S-1
      hidden?.push(x);
      const mask = paddingMask(attentionMask);
      this.layers.scope(() => {
        for (const layer of this.layers) {
          x = layer.forward(x, mask);
          hidden?.push(x);
        }
      });
      return x;
    });
  }
}

export class MarianDecoder extends Module {
  readonly layers: ModuleList<MarianDecoderLayer>;

  constructor(
    readonly c: MarianConfig,
    private readonly shared: Parameter,
    private readonly positions: Float32Array,
  ) {
    super();
    this.layers = this.add(
      "layers",
      new ModuleList(Array.from({ length: c.decoder_layers }, () => new MarianDecoderLayer(c))),
    );
  }

  private table(): Tensor {
    return currentGraph().constant(
      ndarray("float32", [this.c.max_position_embeddings, this.c.d_model], this.positions),
    );
  }

  /** Cross-attention keys and values of every layer from the encoder output [B, S, D]. */
  crossKeyValues(encoderOut: Tensor): KeyValue[] {
    return this.scope(() =>
      this.layers.scope(() => this.layers.items.map((l) => l.scope(() => l.encoder_attn.keyValue(encoderOut)))),
    );
  }

  /** Teacher forcing: decoder_input_ids [B, T] at positions 0..T-1 under a causal mask -> [B, T, D]. */
  forward(ids: Tensor, cross: KeyValue[], crossMask: Tensor, hidden?: Tensor[]): Tensor {
    return this.scope(() => {
      const T = ids.shape[1];
      let x = embed(this.c, this.shared, ids, slice(this.table(), 0, 0, T));
      hidden?.push(x);
      const n = this.c.max_position_embeddings;
      const causal = slice(
        slice(currentGraph().constant(ndarray("float32", [n, n], causalTable(n))), 0, 0, T),
        1,
        0,
        T,
      ); // [T, T]
      this.layers.scope(() => {
        this.layers.items.forEach((layer, i) => {
          x = layer.forward(x, { selfMask: causal, cross: cross[i], crossMask }).hidden;
          hidden?.push(x);
        });
      });
      return x;
    });
  }

  /**
   * One cached step: ids [B, 1] at position `position` ([1] int64), each layer's past keys and
   * values [B, A, past, hd] in -> [B, 1, D] and the layers' keys and values [B, A, kv, hd] out.
   */
  step(
    ids: Tensor,
    position: Tensor,
    past: KeyValue[],
    cross: KeyValue[],
    crossMask: Tensor,
  ): { hidden: Tensor; present: KeyValue[] } {
    return this.scope(() => {
      const pos = reshape(embedding(this.table(), position), [1, 1, this.c.d_model]); // [1] -> [1, 1, D]
      let x = embed(this.c, this.shared, ids, pos);
      const present: KeyValue[] = [];
      this.layers.scope(() => {
        this.layers.items.forEach((layer, i) => {
          const out = layer.forward(x, { selfMask: null, cross: cross[i], crossMask, past: past[i], kvLength: "kv" });
          x = out.hidden;
          present.push(out.present);
        });
      });
      return { hidden: x, present };
    });
  }
}

export class MarianModel extends Module {
  readonly shared: Embedding;
  readonly encoder: MarianEncoder;
  readonly decoder: MarianDecoder;

  constructor(readonly c: MarianConfig) {
    super();
    this.shared = this.add(
      "shared",
      new Embedding(c.vocab_size, c.d_model, { std: c.init_std, paddingIdx: c.pad_token_id }),
    );
    const positions = sinusoidalTable(c.max_position_embeddings, c.d_model);
    this.encoder = this.add("encoder", new MarianEncoder(c, this.shared.weight, positions));
    this.decoder = this.add("decoder", new MarianDecoder(c, this.shared.weight, positions));
  }
}

/** The batch of a teacher-forced pass: [B, S] source and [B, T] decoder inputs, labels optional. */
export interface Seq2SeqInputs {
  input_ids: Tensor;
  attention_mask: Tensor;
  decoder_input_ids: Tensor;
  /** [B, T] int64 targets, -100 where nothing is predicted. */
  labels?: Tensor;
}

export interface Seq2SeqOutput {
  logits: Tensor;
  loss?: Tensor;
  encoderLastHiddenState: Tensor;
  lastHiddenState: Tensor;
  encoderHiddenStates: Tensor[];
  decoderHiddenStates: Tensor[];
}

/**
 * MarianMTModel: the encoder-decoder with the tied output projection and final_logits_bias.
 *
 * @example
 * const { model, tokenizer } = await loadMarian("Helsinki-NLP/opus-mt-en-de");
 * const out = await generate(model, await tokenizer.encodeBatch(["Hello"]), { numBeams: 4 });
 */
export class MarianMTModel extends Module {
  readonly model: MarianModel;
  readonly final_logits_bias: Parameter;

  constructor(readonly config: MarianConfig) {
    super();
    this.model = this.add("model", new MarianModel(config));
    this.final_logits_bias = this.param("final_logits_bias", [1, config.vocab_size], { kind: "zeros" }, true);
  }

  /** Decoder states [..., D] -> logits [..., V]: the shared embedding transposed, plus final_logits_bias. */
  lmHead(h: Tensor): Tensor {
    return add(
      matmul(h, this.model.shared.weight.t(), false, true),
      reshape(this.final_logits_bias.t(), [this.config.vocab_size]),
    );
  }

  forward(b: Seq2SeqInputs): Seq2SeqOutput {
    return this.scope(() => {
      const encoderHiddenStates: Tensor[] = [],
        decoderHiddenStates: Tensor[] = [];
      const enc = this.model.encoder.forward(b.input_ids, b.attention_mask, encoderHiddenStates);
      const cross = this.model.decoder.crossKeyValues(enc);
      const dec = this.model.decoder.forward(
        b.decoder_input_ids,
        cross,
        paddingMask(b.attention_mask),
        decoderHiddenStates,
      );
      const logits = this.lmHead(dec); // [B, T, V]
      const loss = b.labels ? tokenClassificationLoss(logits, b.labels) : undefined;
      return {
        logits,
        loss,
        encoderLastHiddenState: enc,
        lastHiddenState: dec,
        encoderHiddenStates,
        decoderHiddenStates,
      };
    });
  }

  /** The generation-time encoder pass: the encoder output and every decoder layer's cross keys and values. */
  encode(ids: Tensor, attentionMask: Tensor): { hidden: Tensor; cross: KeyValue[] } {
    return this.scope(() => {
      const hidden = this.model.encoder.forward(ids, attentionMask);
      return { hidden, cross: this.model.decoder.crossKeyValues(hidden) };
    });
  }

  /** One cached decoder step -> logits [B, V] and the layers' keys and values. */
  decodeStep(
    ids: Tensor,
    position: Tensor,
    past: KeyValue[],
    cross: KeyValue[],
    attentionMask: Tensor,
  ): { logits: Tensor; present: KeyValue[] } {
    return this.scope(() => {
      const { hidden, present } = this.model.decoder.step(ids, position, past, cross, paddingMask(attentionMask));
      const h = reshape(hidden, [ids.shape[0], this.config.d_model]); // [B, 1, D] -> [B, D]
      return { logits: this.lmHead(h), present };
    });
  }
}
