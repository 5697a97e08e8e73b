import { WhetError } from "../core/errors.js";
import type { Parameter } from "../nn/parameter.js";
import type { TaskModel } from "./auto.js";

/** A checkpoint's tensors, whatever the file format. */
export interface WeightSource {
  keys(): Iterable<string>;
  shape(key: string): readonly number[];
  float32(key: string): Float32Array;
}

export interface LoadReport {
  /** Head parameters the checkpoint lacks or holds with another shape: freshly initialised. */
  initialized: string[];
  /** Checkpoint keys no parameter takes (buffers such as position_ids, another task's head). */
  unused: string[];
}

export interface LoadOptions {
  /**
   * Keep the freshly drawn task head even where the checkpoint has one of the right shape: its
   * classes mean something else (the model's labels and the data's disagree).
   */
  freshHead?: boolean;
}

// Older checkpoints (the original BERT release) name LayerNorm parameters gamma and beta.
const LEGACY = [[/\.gamma$/, ".weight"], [/\.beta$/, ".bias"]] as const;

/**
 * Copy a checkpoint into a model, as transformers' from_pretrained does: keys may carry the base
 * model's prefix ("bert.") or not (a base-model checkpoint); the encoder must be complete and
 * shaped right (errors name the key and both shapes); a head that is missing or shaped for
 * another label count is initialised fresh and reported.
 */
export function loadWeights(model: TaskModel, prefix: string, src: WeightSource, source: string, options: LoadOptions = {}): LoadReport {
  const available = new Map<string, string>(); // normalised name -> checkpoint key
  for (const key of src.keys()) {
    let k = key;
    for (const [re, to] of LEGACY) k = k.replace(re, to);
    available.set(k, key);
  }
  const hasPrefix = [...available.keys()].some((k) => k.startsWith(`${prefix}.`));
  const lookup = (name: string): string | undefined => {
    if (available.has(name)) return available.get(name);
    if (!hasPrefix && name.startsWith(`${prefix}.`)) return available.get(name.slice(prefix.length + 1));
    return undefined;
  };
  const used = new Set<string>();
  const initialized: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    // The pooler counts as head: masked-LM checkpoints have none, and transformers draws it fresh.
    const isHead = !name.startsWith(`${prefix}.`) || name.startsWith(`${prefix}.pooler.`);
    const key = lookup(name);
    if (options.freshHead && !name.startsWith(`${prefix}.`)) {
      initialized.push(name);
      if (key !== undefined) used.add(key);
      continue;
    }
    if (key === undefined) {
      if (isHead) {
        initialized.push(name);
        continue;
      }
      throw new WhetError(`loading ${source}: the checkpoint has no "${name}" (expected shape [${p.shape.join(", ")}])`);
    }
    const shape = src.shape(key);
    if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
      if (isHead) {
        initialized.push(name);
        used.add(key);
        continue;
      }
      throw new WhetError(`loading ${source}: cannot load "${key}": expected [${p.shape.join(", ")}], got [${shape.join(", ")}]`);
    }
    copyInto(p, src.float32(key), key, source);
    used.add(key);
  }
  const unused = [...src.keys()].filter((k) => !used.has(k));
  return { initialized, unused };
}

function copyInto(p: Parameter, data: Float32Array, key: string, source: string): void {
  // NaN or Inf in a weight makes every output NaN: an error now, not `null` logits later.
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  if (bad) throw new WhetError(`loading ${source}: "${key}" holds ${bad} NaN or infinite values of ${data.length}; the checkpoint is damaged`);
  // A fresh array: parameter buffers are swapped by training steps and must not alias the file.
  p.data = Float32Array.from(data);
}
