import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { readJsonLines } from "../data/json_lines.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readConfig, id2label, type PretrainedConfig } from "../io/config.js";
import { isAdapterFolder, readAdapterConfig } from "../peft/adapter_files.js";
import type { AppliedAdapter } from "../peft/apply.js";
import { adapterLabelOverrides, loadAdapter } from "../train/adapter_model.js";
import { resolveModel } from "../io/hub.js";
import { familyOf, maxSequenceLength, taskFromConfig, type Task, type TaskModel } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { maxOf } from "../core/iter.js";

export interface Loaded {
  dir: string;
  model: TaskModel;
  tokenizer: Tokenizer;
  task: Task;
  tokenTypes: boolean;
  labels: string[];
  /** The adapter loaded with --adapter. */
  adapter?: AppliedAdapter;
}

/**
 * A Hub id or folder, ready for inference: model with its weights, tokenizer, label names. With
 * `adapter` (a PEFT folder, --adapter), the adapter is loaded onto the model; a --model folder
 * that holds only an adapter stands for its base_model_name_or_path plus itself.
 */
export async function loadForInference(idOrPath: string, adapter?: string): Promise<Loaded> {
  if (!adapter && isAdapterFolder(idOrPath) && !hasWeights(idOrPath)) {
    const base = readAdapterConfig(idOrPath).base_model_name_or_path;
    if (!base) throw new WhetError(`--model ${idOrPath} holds an adapter without base_model_name_or_path: give the base as --model and this folder as --adapter`);
    return loadForInference(base, idOrPath);
  }
  const dir = await resolveModel(idOrPath);
  const config = readConfig(dir);
  const overrides = adapter ? await adapterLabelOverrides(adapter, config) : {};
  Object.assign(config, overrides);
  const task = taskFromConfig(config) ?? "sequence-classification";
  // Without an adapter every weight must come from the checkpoint (a fresh head predicts at random);
  // an adapter brings its own head (modules_to_save) and loadAdapter checks it.
  const { model } = await fromPretrained(dir, { task, configOverrides: overrides, requireAllWeights: !adapter });
  const applied = adapter ? await loadAdapter(model, adapter) : undefined;
  // The adapter's folder carries the tokenizer a run saved; else the base model's.
  const tokenizer = await loadTokenizer(adapter && existsSync(join(adapter, "tokenizer.json")) ? adapter : dir);
  return { dir, model, tokenizer, task, tokenTypes: familyOf(config).tokenTypes, labels: id2label(config), adapter: applied };
}

function hasWeights(dir: string): boolean {
  return ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"].some((f) => existsSync(join(dir, f)));
}

export interface Row {
  input_ids: number[];
  attention_mask: number[];
  token_type_ids: number[];
}

/** Inputs given as text (tokenized here) or as ids (used as they are), one row each. */
export async function rowsFromJsonl(path: string, tok: Tokenizer, maxLength?: number, limit?: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { value: v, line } of await readJsonLines(path)) {
    if (Array.isArray(v.input_ids)) {
      const ids = v.input_ids as unknown[];
      if (!ids.every((x) => Number.isInteger(x))) throw new WhetError(`${path}:${line}: input_ids must be integers`);
      const n = ids.length;
      const mask = (v.attention_mask as number[] | undefined) ?? new Array(n).fill(1);
      const types = (v.token_type_ids as number[] | undefined) ?? new Array(n).fill(0);
      if (mask.length !== n || types.length !== n) throw new WhetError(`${path}:${line}: attention_mask and token_type_ids must have ${n} entries like input_ids`);
      rows.push({ input_ids: ids as number[], attention_mask: mask, token_type_ids: types });
    } else if (typeof v.text === "string") {
      const pair = typeof v.text_pair === "string" ? v.text_pair : null;
      const e = await tok.encode(v.text, pair, { maxLength: maxLength ?? Math.min(tok.modelMaxLength, limit ?? 512), truncation: true });
      rows.push({ input_ids: e.ids, attention_mask: e.attentionMask, token_type_ids: e.typeIds });
    } else {
      throw new WhetError(`${path}:${line}: expected {"text": ...} or {"input_ids": [...]}, got keys ${Object.keys(v).join(", ") || "(none)"}`);
    }
  }
  return rows;
}

/**
 * Inputs given as ids are checked against the model before ONNX Runtime sees them: an id
 * outside the embedding table would read another row (-1 wraps to the last) or fail deep in a
 * kernel; a mask outside {0, 1} and too-long rows likewise.
 */
export function checkInputRows(rows: readonly Row[], config: PretrainedConfig, path: string): void {
  const vocab = Number(config.vocab_size ?? 30522), types = Number(config.type_vocab_size ?? 2), positions = maxSequenceLength(config);
  rows.forEach((r, i) => {
    const where = `${path}: input ${i + 1}`;
    const id = r.input_ids.find((v) => !(Number.isInteger(v) && v >= 0 && v < vocab));
    if (id !== undefined) throw new WhetError(`${where}: input id ${id} is outside the vocabulary (0..${vocab - 1}, vocab_size in config.json)`);
    const m = r.attention_mask.find((v) => v !== 0 && v !== 1);
    if (m !== undefined) throw new WhetError(`${where}: attention_mask value ${JSON.stringify(m)}: expected 0 or 1`);
    const t = r.token_type_ids.find((v) => !(Number.isInteger(v) && v >= 0 && v < types));
    if (t !== undefined) throw new WhetError(`${where}: token type id ${JSON.stringify(t)} is outside 0..${types - 1} (type_vocab_size)`);
    if (r.input_ids.length > positions) throw new WhetError(`${where}: ${r.input_ids.length} tokens, more than the model's ${positions} positions`);
  });
}

/** Throws when a model output holds NaN or Inf: a wrong result is an error, not output. */
export function checkFinite(a: NDArray, what: string): void {
  const d = a.data as Float32Array;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new WhetError(`the model produced a non-finite ${what} (${d[i]}) at flat index ${i}: check the weights and layer_norm_eps in config.json`);
    }
  }
}

/** Pad rows to the longest: int64 [batch, seq] feeds. */
export function padRows(rows: readonly Row[], padId: number, tokenTypes: boolean): Record<string, NDArray> {
  const B = rows.length, T = maxOf(rows.map((r) => r.input_ids.length), 1);
  const ids = new BigInt64Array(B * T).fill(BigInt(padId)), mask = new BigInt64Array(B * T), types = new BigInt64Array(B * T);
  rows.forEach((r, b) => r.input_ids.forEach((v, t) => {
    ids[b * T + t] = BigInt(v);
    mask[b * T + t] = BigInt(r.attention_mask[t]);
    types[b * T + t] = BigInt(r.token_type_ids[t]);
  }));
  const feeds: Record<string, NDArray> = { input_ids: { dtype: "int64", shape: [B, T], data: ids }, attention_mask: { dtype: "int64", shape: [B, T], data: mask } };
  if (tokenTypes) feeds.token_type_ids = { dtype: "int64", shape: [B, T], data: types };
  return feeds;
}

/** An NDArray as nested arrays of numbers (for JSON output). */
export function nested(a: NDArray): unknown {
  const data = Array.from(a.data as ArrayLike<number | bigint>, Number);
  const build = (axis: number, offset: number): unknown => {
    if (axis === a.shape.length) return data[offset];
    const stride = a.shape.slice(axis + 1).reduce((x, y) => x * y, 1);
    return Array.from({ length: a.shape[axis] }, (_, i) => build(axis + 1, offset + i * stride));
  };
  return build(0, 0);
}
