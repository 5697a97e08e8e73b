import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { readJsonLines } from "../data/json_lines.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readConfig, id2label } from "../io/config.js";
import { isAdapterFolder, readAdapterConfig } from "../peft/adapter_files.js";
import type { AppliedAdapter } from "../peft/apply.js";
import { adapterLabelOverrides, loadAdapter } from "../train/adapter_model.js";
import { resolveModel } from "../io/hub.js";
import { familyOf, taskFromConfig, type Task, type TaskModel } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import type { Row } from "../recipes/model_inputs.js";

export { checkFinite, checkInputRows, padRows, type Row } from "../recipes/model_inputs.js";

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
