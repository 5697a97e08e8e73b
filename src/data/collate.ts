import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { InputDecl } from "../optim/train_step.js";
import { maxOf } from "../core/iter.js";

import type { Example, LabelKind } from "./examples.js";

export type { Example, LabelKind } from "./examples.js";

export interface CollateOptions {
  padId: number;
  tokenTypes: boolean;
  labels: LabelKind | null;
  /** multi_label: the number of labels (the width of the multi-hot vector). */
  numLabels?: number;
}

/**
 * The graph inputs that `collate` feeds, by name, symbolic shape and dtype: the training step and
 * the evaluator declare exactly these.
 */
export function batchInputs(o: { tokenTypes: boolean; labels: LabelKind; numLabels: number }): InputDecl[] {
  const d: InputDecl[] = [
    { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" },
    { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" },
  ];
  if (o.tokenTypes) d.push({ name: "token_type_ids", shape: ["batch", "seq"], dtype: "int64" });
  switch (o.labels) {
    case "class":
      d.push({ name: "labels", shape: ["batch"], dtype: "int64" });
      break;
    case "regression":
      d.push({ name: "labels", shape: ["batch"], dtype: "float32" });
      break;
    case "multi_label":
      d.push({ name: "labels", shape: ["batch", o.numLabels], dtype: "float32" });
      break;
    case "token":
      d.push({ name: "labels", shape: ["batch", "seq"], dtype: "int64" });
      break;
    case "masked_token":
      d.push({ name: "masked_positions", shape: ["masked"], dtype: "int64" }, { name: "labels", shape: ["masked"], dtype: "int64" });
      break;
  }
  return d;
}

/** A padded batch and what the loss averages over (examples, or counted tokens). */
export interface Batch {
  feeds: Record<string, NDArray>;
  rows: number;
  count: number;
}

/**
 * Dynamic padding: every example is padded to the longest in its batch, so one compiled graph
 * sees [batch, seq] with seq varying per batch. Token labels pad with -100, which the loss skips.
 *
 * @example
 * const padId = tokenizer.padTokenId ?? 0;
 * const batch = collate(examples.slice(0, 32), { padId, tokenTypes: true, labels: "class" });
 * batch.feeds.input_ids.shape; // [32, the longest example]
 */
export function collate(examples: readonly Example[], o: CollateOptions): Batch {
  if (examples.length === 0) throw new WhetError("collate: empty batch");
  const B = examples.length;
  const T = maxOf(examples.map((e) => e.input_ids.length));
  const ids = new BigInt64Array(B * T).fill(BigInt(o.padId));
  const mask = new BigInt64Array(B * T);
  const types = o.tokenTypes ? new BigInt64Array(B * T) : null;
  examples.forEach((e, b) => {
    e.input_ids.forEach((v, t) => {
      ids[b * T + t] = BigInt(v);
      mask[b * T + t] = 1n;
    });
    if (types && e.token_type_ids) e.token_type_ids.forEach((v, t) => (types[b * T + t] = BigInt(v)));
  });
  const feeds: Record<string, NDArray> = {
    input_ids: { dtype: "int64", shape: [B, T], data: ids },
    attention_mask: { dtype: "int64", shape: [B, T], data: mask },
  };
  if (types) feeds.token_type_ids = { dtype: "int64", shape: [B, T], data: types };
  if (examples[0].teacher) {
    const C = examples[0].teacher.length;
    const data = new Float32Array(B * C);
    examples.forEach((e, b) => {
      if (!e.teacher || e.teacher.length !== C) throw new WhetError(`collate: example ${b} of the batch has no teacher logits of length ${C}`);
      data.set(e.teacher, b * C);
    });
    feeds.teacher_logits = { dtype: "float32", shape: [B, C], data };
  }
  let count = B;
  if (o.labels) {
    const missing = examples.findIndex((e) => e.label === undefined);
    if (missing >= 0) throw new WhetError(`collate: example ${missing} of the batch has no label`);
    switch (o.labels) {
      case "class":
        feeds.labels = { dtype: "int64", shape: [B], data: BigInt64Array.from(examples.map((e) => BigInt(e.label as number))) };
        break;
      case "regression":
        feeds.labels = { dtype: "float32", shape: [B], data: Float32Array.from(examples.map((e) => e.label as number)) };
        break;
      case "multi_label": {
        const C = o.numLabels ?? (examples[0].label as number[]).length;
        const data = new Float32Array(B * C);
        examples.forEach((e, b) => (e.label as number[]).forEach((v, c) => (data[b * C + c] = v)));
        feeds.labels = { dtype: "float32", shape: [B, C], data };
        break;
      }
      case "token": {
        const data = new BigInt64Array(B * T).fill(-100n);
        count = 0;
        examples.forEach((e, b) => (e.label as number[]).forEach((v, t) => {
          if (t >= T) return;
          data[b * T + t] = BigInt(v);
          if (v !== -100) count++;
        }));
        feeds.labels = { dtype: "int64", shape: [B, T], data };
        break;
      }
      case "masked_token": {
        const positions: bigint[] = [], ids: bigint[] = [];
        examples.forEach((e, b) => (e.label as number[]).forEach((v, t) => {
          if (t >= T || v === -100) return;
          positions.push(BigInt(b * T + t));
          ids.push(BigInt(v));
        }));
        count = ids.length;
        feeds.masked_positions = { dtype: "int64", shape: [count], data: BigInt64Array.from(positions) };
        feeds.labels = { dtype: "int64", shape: [count], data: BigInt64Array.from(ids) };
        break;
      }
    }
  }
  return { feeds, rows: B, count };
}
