// Prompt tuning as PEFT 0.20's PromptEmbedding: n trainable input embeddings put before every
// row's tokens. https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/prompt_tuning/model.py
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import { hashName } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { effectiveModulesToSave, freezeBase, type AdaptableModel, type AppliedAdapter } from "./apply.js";
import type { PromptSettings } from "./config.js";

/** What the model's embeddings read: the [n, H] virtual token embeddings. */
export interface PromptSource {
  count: number;
  embeddings(): Tensor;
}

export interface PromptInit {
  hidden: number;
  /** TEXT init: the init text's token ids (special tokens included, as PEFT tokenizes it). */
  textIds?: readonly number[];
  /** TEXT init: the word embedding table [vocab, hidden]. */
  wordEmbeddings?: Float32Array;
}

/** PEFT's TEXT init: the text's ids cut or repeated to n, their word embeddings copied. */
function textInit(p: Parameter, n: number, o: PromptInit): void {
  const ids = o.textIds ?? [];
  if (ids.length === 0 || !o.wordEmbeddings) throw new WhetError("prompt tuning: TEXT init needs the tokenized prompt_tuning_init_text");
  for (let i = 0; i < n; i++) {
    const id = ids[i % ids.length];
    p.data.set(o.wordEmbeddings.subarray(id * o.hidden, (id + 1) * o.hidden), i * o.hidden);
  }
}

/** Apply prompt tuning: freeze the base, add `prompt_embeddings` [n, hidden] (N(0, 1), or TEXT init). */
export function applyPrompt(model: AdaptableModel, s: PromptSettings, init: PromptInit, seed: number): { adapter: AppliedAdapter; source: PromptSource } {
  if (s.token_dim !== null && s.token_dim !== init.hidden) {
    throw new WhetError(`prompt tuning: the adapter's token_dim is ${s.token_dim} but the base model's hidden size is ${init.hidden} (was it made for another base model?)`);
  }
  const mts = effectiveModulesToSave(s);
  const saved = freezeBase(model, s, mts);
  const n = s.num_virtual_tokens;
  const p = new Parameter("prompt_embeddings", [n, init.hidden], { kind: "normal", std: 1 }, false);
  model.attach("prompt_embeddings", p, "");
  if (s.prompt_tuning_init === "TEXT") textInit(p, n, init);
  else {
    const rng = new Rng(seed, hashName(p.name));
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal();
  }
  const tensors = new Map<string, Parameter>([["prompt_embeddings", p], ...saved]);
  return { adapter: { settings: s, modulesToSave: mts, tensors, wrapped: [], notes: [] }, source: { count: n, embeddings: () => p.t() } };
}
