// Prompt and prefix tuning checked by construction on every family (no PEFT fixture exists for
// RoBERTa, XLM-R or DistilBERT, and PEFT cannot be installed here):
// - prompt tuning whose virtual embeddings are the word embeddings of real tokens a must give the
//   logits of the plain model on [a; x] (PEFT prepends the prompt to inputs_embeds, extends the
//   attention mask with ones and the token types with zeros; positions count the prompt);
// - prefix tuning whose keys/values are those that real tokens a produce in each layer of the
//   plain model run on [a; x] must give that run's outputs for x (PEFT passes past_key_values of
//   length n and extends the attention mask; positions of x start after n).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NDArray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import type { PretrainedConfig } from "../io/config.js";
import { createModel, FAMILIES, type Task, type TaskModel } from "../models/auto.js";
import { BertModel, extendedAttentionMask } from "../models/bert.js";
import { ForwardRunner } from "../models/forward.js";
import { parsePeftConfig } from "../peft/config.js";
import { CompiledGraph } from "../runtime/session.js";
import { attachAdapter } from "./adapter_model.js";

const LABELS = { id2label: { 0: "neg", 1: "neu", 2: "pos" }, label2id: { neg: 0, neu: 1, pos: 2 } };
const BERT_SIZES = { vocab_size: 60, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 24,
  max_position_embeddings: 48, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, layer_norm_eps: 1e-12 };
const CONFIGS: Record<string, PretrainedConfig> = {
  bert: { model_type: "bert", ...BERT_SIZES, type_vocab_size: 2, pad_token_id: 0, ...LABELS } as PretrainedConfig,
  roberta: { model_type: "roberta", ...BERT_SIZES, type_vocab_size: 1, pad_token_id: 1, ...LABELS } as PretrainedConfig,
  "xlm-roberta": { model_type: "xlm-roberta", ...BERT_SIZES, type_vocab_size: 1, pad_token_id: 1, ...LABELS } as PretrainedConfig,
  distilbert: { model_type: "distilbert", vocab_size: 60, dim: 16, n_layers: 2, n_heads: 4, hidden_dim: 24, max_position_embeddings: 48,
    dropout: 0, attention_dropout: 0, seq_classif_dropout: 0, pad_token_id: 0, ...LABELS } as unknown as PretrainedConfig,
};

/** Weights large enough that different inputs give clearly different outputs. */
function model(type: string, task: Task): TaskModel {
  const m = createModel({ ...CONFIGS[type] }, task, 5);
  let s = 12345;
  for (const p of m.parameters()) {
    for (let i = 0; i < p.data.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      p.data[i] = (s / 2147483648 - 0.5) * 0.8;
    }
  }
  return m;
}

const int64 = (rows: number[][]): NDArray => ({ dtype: "int64", shape: [rows.length, rows[0].length], data: BigInt64Array.from(rows.flat().map(BigInt)) });

function feeds(m: TaskModel, ids: number[][], mask: number[][], types: number[][]): Record<string, NDArray> {
  const f: Record<string, NDArray> = { input_ids: int64(ids), attention_mask: int64(mask) };
  if (FAMILIES[m.config.model_type].tokenTypes) f.token_type_ids = int64(types);
  return f;
}

async function logits(m: TaskModel, f: Record<string, NDArray>, what: "logits" | "last_hidden_state" = "logits"): Promise<{ data: Float32Array; shape: number[] }> {
  const r = await ForwardRunner.compile(m, { tokenTypes: FAMILIES[m.config.model_type].tokenTypes, threads: 1, outputs: [what] });
  const out = (await r.run(f))[what];
  await r.release();
  return { data: out.data as Float32Array, shape: [...out.shape] as number[] };
}

function backbone(m: TaskModel): { prompt: unknown; prefix?: unknown } & Record<string, unknown> {
  return (m as unknown as Record<string, { prompt: unknown }>)[FAMILIES[m.config.model_type].prefix] as never;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const PROMPT = [7, 23, 41];
// Two rows, the second padded; the prompt ids are never padding in any family (pad 0 or 1).
const X = [[2, 15, 9, 33, 4], [2, 51, 19, 0, 0]];
const MASK = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];
const TYPES = [[0, 0, 1, 1, 1], [0, 0, 1, 0, 0]];

for (const type of Object.keys(CONFIGS)) {
  test(`prompt tuning on ${type}: virtual tokens equal to real token embeddings give the model on [prompt; text]`, async () => {
    const m = model(type, "sequence-classification");
    const pad = CONFIGS[type].pad_token_id!;
    const x = X.map((r) => r.map((t, i) => (i >= 3 && t === 0 ? pad : t)));
    const types = FAMILIES[type].tokenTypes && CONFIGS[type].type_vocab_size === 2 ? TYPES : TYPES.map((r) => r.map(() => 0));
    const plain = await logits(m, feeds(m, x.map((r) => [...PROMPT, ...r]), MASK.map((r) => [1, 1, 1, ...r]),
      types.map((r) => [0, 0, 0, ...r])));
    const a = attachAdapter(m, parsePeftConfig({ peft_type: "PROMPT_TUNING", task_type: "SEQ_CLS", num_virtual_tokens: PROMPT.length }, "test"), 3);
    const table = a.tensors.get("prompt_embeddings")!;
    const words = m.namedParameters().find(([n]) => n.endsWith("embeddings.word_embeddings.weight"))![1];
    const H = table.shape[1];
    PROMPT.forEach((id, j) => table.data.set(words.data.subarray(id * H, (id + 1) * H), j * H));
    const prompted = await logits(m, feeds(m, x, MASK, types));
    assert.deepEqual(prompted.shape, [2, 3]);
    assert.ok(maxDiff(prompted.data, plain.data) < 2e-5, `max |Δlogit| ${maxDiff(prompted.data, plain.data)}`);
    // The check can fail: another prompt gives other logits.
    table.data.set(words.data.subarray(30 * H, 31 * H), 0);
    assert.ok(maxDiff((await logits(m, feeds(m, x, MASK, types))).data, plain.data) > 1e-3);
  });
}

/** Each layer's keys and values for the first n tokens of `ids` in the plain model: [L][n·H] each. */
async function realPrefix(m: TaskModel, ids: number[][], mask: number[][], types: number[][], n: number): Promise<{ k: Float32Array; v: Float32Array }[]> {
  const base = backbone(m) as unknown as BertModel;
  const g = new Graph();
  g.training = false;
  const outputs = trace(g, () => {
    const idsT = g.input("input_ids", [1, "seq"], "int64"), maskT = g.input("attention_mask", [1, "seq"], "int64");
    const typesT = FAMILIES[m.config.model_type].tokenTypes ? g.input("token_type_ids", [1, "seq"], "int64") : undefined;
    let h: Tensor = base.embeddings.forward(idsT, typesT);
    const ext = extendedAttentionMask(maskT);
    const o: Record<string, Tensor> = {};
    base.encoder.layer.items.forEach((l, i) => {
      o[`k${i}`] = l.attention.self.key.forward(h);
      o[`v${i}`] = l.attention.self.value.forward(h);
      h = l.forward(h, ext);
    });
    return o;
  });
  const run = await CompiledGraph.compile(g, outputs, { threads: 1 });
  const f = feeds(m, ids, mask, types);
  for (const [name, p] of m.namedParameters()) f[name] = { dtype: "float32", shape: [...p.shape], data: p.data };
  const out = await run.run(f);
  await run.release();
  const H = base.config.hidden_size;
  return base.encoder.layer.items.map((_, i) => ({
    k: (out[`k${i}`].data as Float32Array).slice(0, n * H), v: (out[`v${i}`].data as Float32Array).slice(0, n * H),
  }));
}

for (const type of ["bert", "roberta", "xlm-roberta"]) {
  for (const task of ["token-classification", "sequence-classification"] as const) {
    test(`prefix tuning on ${type} (${task}): a real prefix's keys/values give the model on [prefix; text]`, async () => {
      const m = model(type, task);
      const pad = CONFIGS[type].pad_token_id!;
      const x = [[2, 15, 9, 33, pad, pad]], mask = [[1, 1, 1, 1, 0, 0]];
      const types = CONFIGS[type].type_vocab_size === 2 ? [[0, 1, 1, 1, 0, 0]] : [[0, 0, 0, 0, 0, 0]];
      const n = PROMPT.length, T = x[0].length;
      const cat = { ids: [[...PROMPT, ...x[0]]], mask: [[1, 1, 1, ...mask[0]]], types: [[0, 0, 0, ...types[0]]] };
      const plain = await logits(m, feeds(m, cat.ids, cat.mask, cat.types));
      const plainHidden = await logits(m, feeds(m, cat.ids, cat.mask, cat.types), "last_hidden_state");
      const kv = await realPrefix(m, cat.ids, cat.mask, cat.types, n);
      const s = parsePeftConfig({ peft_type: "PREFIX_TUNING", task_type: task === "token-classification" ? "TOKEN_CLS" : "SEQ_CLS",
        num_virtual_tokens: n }, "test");
      const a = attachAdapter(m, s, 3);
      const table = a.tensors.get("prompt_embeddings")!;
      const H = BERT_SIZES.hidden_size, L = kv.length;
      // PEFT's layout: row j holds [layer0 key | layer0 value | layer1 key | …], each H wide.
      for (let j = 0; j < n; j++) {
        kv.forEach((l, i) => {
          table.data.set(l.k.subarray(j * H, (j + 1) * H), j * 2 * L * H + 2 * i * H);
          table.data.set(l.v.subarray(j * H, (j + 1) * H), j * 2 * L * H + (2 * i + 1) * H);
        });
      }
      const prefixed = await logits(m, feeds(m, x, mask, types));
      const C = 3;
      // The unpadded tokens' hidden states equal the plain run's at the same tokens (after the prefix).
      const hidden = await logits(m, feeds(m, x, mask, types), "last_hidden_state");
      const hGot = hidden.data.slice(0, 4 * H), hWant = plainHidden.data.slice(n * H, (n + 4) * H);
      assert.ok(maxDiff(hGot, hWant) < 2e-5, `max |Δhidden| ${maxDiff(hGot, hWant)}`);
      if (task === "token-classification") {
        assert.deepEqual(prefixed.shape, [1, T, C]);
        // The unpadded tokens' logits equal the plain run's at the same tokens (after the prefix).
        const want = plain.data.slice(n * C, (n + 4) * C), got = prefixed.data.slice(0, 4 * C);
        assert.ok(maxDiff(got, want) < 2e-5, `max |Δlogit| ${maxDiff(got, want)}`);
      }
      // The check can fail: without the prefix the outputs differ.
      const without = backbone(m);
      const saved = without.prefix;
      without.prefix = null;
      const bare = await logits(m, feeds(m, x, mask, types));
      without.prefix = saved;
      assert.ok(maxDiff(bare.data, prefixed.data) > 1e-3, "the prefix must change the outputs");
    });
  }
}

test("prompt tuning for token classification and prefix tuning on DistilBERT are refused as PEFT refuses them", () => {
  const tok = model("bert", "token-classification");
  assert.throws(() => attachAdapter(tok, parsePeftConfig({ peft_type: "PROMPT_TUNING", task_type: "TOKEN_CLS", num_virtual_tokens: 2 }, "t"), 1),
    /PROMPT_TUNING: PEFT runs prompt tuning for sequence classification only/);
  const d = model("distilbert", "sequence-classification");
  assert.throws(() => attachAdapter(d, parsePeftConfig({ peft_type: "PREFIX_TUNING", task_type: "SEQ_CLS", num_virtual_tokens: 2 }, "t"), 1),
    /DistilBERT's attention takes no past keys and values/);
});
