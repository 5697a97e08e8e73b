// Prefix tuning as PEFT 0.20's PrefixEncoder + PeftModelForSequenceClassification: n virtual keys
// and values per layer, attended by every real token; the hidden states keep their length.
// https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/prefix_tuning/model.py
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import { Linear } from "../nn/linear.js";
import { hashName, Module } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { tanh } from "../ops/elementwise.js";
import { reshape, slice, transpose } from "../ops/layout.js";
import { effectiveModulesToSave, freezeBase, type AdaptableModel, type AppliedAdapter } from "./apply.js";
import type { PromptSettings } from "./config.js";

/** The base model's sizes the prefix must fit. */
export interface PrefixDims {
  layers: number;
  heads: number;
  hidden: number;
}

/** What a model's attention reads: layer i's [heads, n, headDim] keys and values. */
export interface PrefixSource {
  count: number;
  layer(i: number): { key: Tensor; value: Tensor };
}

/** prefix_projection: embedding [n, token_dim] → Linear → tanh → Linear to every layer's keys and values. */
class PrefixProjection extends Module {
  readonly embedding: Parameter;
  readonly first: Linear;
  readonly second: Linear;

  constructor(n: number, dims: PrefixDims, encoderHidden: number) {
    super();
    this.embedding = this.param("embedding", [n, dims.hidden], { kind: "normal", std: 1 });
    this.first = this.add("transform_0", new Linear(dims.hidden, encoderHidden));
    this.second = this.add("transform_2", new Linear(encoderHidden, dims.layers * 2 * dims.hidden));
  }

  forward(): Tensor {
    return this.second.forward(tanh(this.first.forward(this.embedding.t())));
  }

  /** The projected table on the host (float64 sums, float32 result), for the adapter file. */
  table(): Float32Array {
    const lin = (x: Float64Array, rows: number, l: Linear, act: (v: number) => number) => {
      const [out, inF] = l.weight.shape, w = l.weight.data, b = l.bias!.data;
      const y = new Float64Array(rows * out);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < out; o++) {
          let s = b[o];
          for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
          y[r * out + o] = act(s);
        }
      }
      return y;
    };
    const n = this.embedding.shape[0];
    const h = lin(Float64Array.from(this.embedding.data), n, this.first, Math.tanh);
    return Float32Array.from(lin(h, n, this.second, (v) => v));
  }
}

function checkDims(s: PromptSettings, d: PrefixDims): void {
  const want: [keyof PromptSettings, number][] = [["num_layers", d.layers], ["num_attention_heads", d.heads], ["token_dim", d.hidden]];
  for (const [k, v] of want) {
    if (s[k] !== null && s[k] !== v) throw new WhetError(`prefix tuning: the adapter's ${k} is ${s[k]} but the base model has ${v} (was it made for another base model?)`);
  }
}

// torch's nn.Linear defaults, as PEFT leaves them: U(-1/√in, 1/√in) for weights and biases.
function linearDefaults(l: Linear, seed: number): void {
  for (const p of [l.weight, l.bias!]) {
    const rng = new Rng(seed, hashName(p.name));
    const bound = 1 / Math.sqrt(l.inFeatures);
    for (let i = 0; i < p.data.length; i++) p.data[i] = (2 * rng.uniform() - 1) * bound;
  }
}

function normal(p: Parameter, seed: number): void {
  const rng = new Rng(seed, hashName(p.name));
  for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal();
}

/**
 * Apply prefix tuning: freeze the base, add the prompt table (or, with prefix_projection, its
 * MLP) and return the adapter with the PrefixSource the model's attention reads.
 */
export function applyPrefix(model: AdaptableModel, s: PromptSettings, d: PrefixDims, seed: number, project = s.prefix_projection): { adapter: AppliedAdapter; source: PrefixSource } {
  checkDims(s, d);
  const mts = effectiveModulesToSave(s);
  const saved = freezeBase(model, s, mts);
  const n = s.num_virtual_tokens, headDim = d.hidden / d.heads;
  const tensors = new Map<string, Parameter>();
  let table: () => Tensor;
  let derived: AppliedAdapter["derived"];
  if (project) {
    const proj = new PrefixProjection(n, d, s.encoder_hidden_size ?? d.hidden);
    model.attach("prefix_encoder", proj, "");
    normal(proj.embedding, seed);
    linearDefaults(proj.first, seed);
    linearDefaults(proj.second, seed);
    table = () => proj.forward();
    // PEFT saves the projected table, which loads without the MLP.
    derived = new Map([["prompt_embeddings", { shape: [n, d.layers * 2 * d.hidden], compute: () => proj.table() }]]);
  } else {
    const p = new Parameter("prompt_embeddings", [n, d.layers * 2 * d.hidden], { kind: "normal", std: 1 }, false);
    model.attach("prompt_embeddings", p, "");
    normal(p, seed);
    tensors.set("prompt_embeddings", p);
    table = () => p.t();
  }
  for (const [k, p] of saved) tensors.set(k, p);
  const source: PrefixSource = {
    count: n,
    layer: (i) => {
      const e = reshape(table(), [n, d.layers * 2, d.heads, headDim]); // [n, L·2·H] -> [n, 2L, A, hd]
      const kv = (slot: number) => transpose(reshape(slice(e, 1, slot, slot + 1), [n, d.heads, headDim]), [1, 0, 2]); // -> [A, n, hd]
      return { key: kv(2 * i), value: kv(2 * i + 1) };
    },
  };
  return { adapter: { settings: s, modulesToSave: mts, tensors, wrapped: [], notes: [], derived }, source };
}
