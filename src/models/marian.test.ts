// MarianMT against fixtures/marian (copied from ../shared/fixtures/marian; its README states every
// convention): transformers 4.30's teacher-forced outputs of a tiny random checkpoint.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { NDArray } from "../core/ndarray.js";
import { CompiledGraph } from "../runtime/session.js";
import { MarianMTModel, sinusoidalTable } from "./marian.js";
import { loadMarian, loadMarianWeights } from "./marian_load.js";
import { traceSeq2Seq } from "./marian_runner.js";

const MARIAN_DIR = fileURLToPath(new URL("../../fixtures/marian/", import.meta.url));
const expected = JSON.parse(readFileSync(`${MARIAN_DIR}expected.json`, "utf8"));
const tf = expected.teacher_forced;

const int64 = (rows: number[][]): NDArray => ({
  dtype: "int64",
  shape: [rows.length, rows[0].length],
  data: BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
});

/** Every element within `rel` of the reference, relative to max(1, |reference|). */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  assert.ok(worst <= rel, `${what}: worst relative difference ${worst} > ${rel}`);
}

function summary(data: ArrayLike<number>): { sum: number; abs_sum: number; sq_sum: number } {
  let sum = 0,
    abs = 0,
    sq = 0;
  for (let i = 0; i < data.length; i++) {
    sum += data[i];
    abs += Math.abs(data[i]);
    sq += data[i] * data[i];
  }
  return { sum, abs_sum: abs, sq_sum: sq };
}

test("marian: the sinusoidal table matches transformers' rows 0, 1 and 7 (sines first, then cosines)", () => {
  const t = sinusoidalTable(64, 32);
  for (const r of [0, 1, 7])
    assertClose(t.subarray(r * 32, (r + 1) * 32), expected.positions_table[`row_${r}`], 0, `row ${r}`);
});

test("marian: every weight loads as saved (shared embedding tied, positions computed)", async () => {
  const { model, unused } = await loadMarian(MARIAN_DIR);
  assert.deepEqual(unused, []);
  for (const [name, p] of model.namedParameters()) {
    const want =
      expected.params_initial[name] ?? (name === "final_logits_bias" ? expected.final_logits_bias : undefined);
    assert.ok(want, `no reference for ${name}`);
    assert.deepEqual([...p.shape], want.shape, name);
    assertClose([summary(p.data).sum], [want.sum], 1e-9, `${name} sum`);
    assertClose(p.data.subarray(0, want.first.length), want.first, 0, `${name} first values`);
  }
});

test("marian: teacher-forced logits, loss and hidden states match transformers 4.30", async () => {
  const { model } = await loadMarian(MARIAN_DIR);
  const { graph, outputs } = traceSeq2Seq(model, true);
  const compiled = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const feeds: Record<string, NDArray> = {
    input_ids: int64(expected.inputs.input_ids),
    attention_mask: int64(expected.inputs.attention_mask),
    decoder_input_ids: int64(expected.decoder_input_ids),
    labels: int64(expected.labels),
  };
  for (const [n, p] of model.namedParameters()) feeds[n] = { dtype: "float32", shape: [...p.shape], data: p.data };
  const out = await compiled.run(feeds);
  await compiled.release();
  const logits = out.logits.data as Float32Array;
  const [B, T, V] = tf.logits_summary.shape;
  assert.deepEqual(out.logits.shape, [B, T, V]);
  const first2 = (expected.teacher_forced.logits_first2_positions as number[][][]).map((_, b) =>
    Array.from(logits.subarray(b * T * V, b * T * V + 2 * V)),
  );
  assertClose(first2.flat(), tf.logits_first2_positions.flat(2), 1e-5, "logits[:, 0:2]");
  assertClose(
    [summary(logits).sum, summary(logits).abs_sum],
    [tf.logits_summary.sum, tf.logits_summary.abs_sum],
    1e-5,
    "logits sums",
  );
  assertClose([out.loss.data[0] as number], [tf.loss], 1e-6, "loss");
  const argmax = Array.from({ length: B * T }, (_, r) => {
    const row = logits.subarray(r * V, (r + 1) * V);
    return row.indexOf(Math.max(...row));
  });
  assert.deepEqual(argmax, tf.argmax.flat());
  assertClose(
    out.encoder_last_hidden_state.data as Float32Array,
    tf.encoder_last_hidden_state.flat(2),
    1e-5,
    "encoder_last_hidden_state",
  );
  const decoderLast = out[`decoder_hidden_state_${tf.decoder_hidden_states_summary.length - 1}`].data as Float32Array;
  assertClose(decoderLast, tf.decoder_last_hidden_state.flat(2), 1e-5, "decoder_last_hidden_state");
  tf.encoder_hidden_states_summary.forEach((s: { sum: number; abs_sum: number }, i: number) => {
    const h = summary(out[`encoder_hidden_state_${i}`].data as Float32Array);
    assertClose([h.sum / s.abs_sum, h.abs_sum / s.abs_sum], [s.sum / s.abs_sum, 1], 1e-5, `encoder hidden state ${i}`);
  });
  tf.decoder_hidden_states_summary.forEach((s: { sum: number; abs_sum: number }, i: number) => {
    const h = summary(out[`decoder_hidden_state_${i}`].data as Float32Array);
    assertClose([h.sum / s.abs_sum, h.abs_sum / s.abs_sum], [s.sum / s.abs_sum, 1], 1e-5, `decoder hidden state ${i}`);
  });
});

test("marian: pytorch_model.bin with the embedding stored four times and the position tables loads the same", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-marian-bin-"));
  for (const f of readdirSync(MARIAN_DIR)) if (f !== "model.safetensors") copyFileSync(join(MARIAN_DIR, f), join(dir, f));
  copyFileSync(fileURLToPath(new URL("../../fixtures/marian_bin/pytorch_model.bin", import.meta.url)), join(dir, "pytorch_model.bin"));
  const [bin, st] = await Promise.all([loadMarian(dir), loadMarian(MARIAN_DIR)]);
  assert.deepEqual(bin.unused.sort(), [
    "lm_head.weight", "model.decoder.embed_positions.weight", "model.decoder.embed_tokens.weight",
    "model.encoder.embed_positions.weight", "model.encoder.embed_tokens.weight",
  ]);
  const want = new Map(st.model.namedParameters());
  for (const [name, p] of bin.model.namedParameters()) assert.deepEqual(p.data, want.get(name)!.data, name);
});

test("marian: a checkpoint missing a weight or shaped otherwise is refused by name", async () => {
  const { model } = await loadMarian(MARIAN_DIR);
  const fresh = new MarianMTModel(model.config);
  const tensors = new Map([["model.shared.weight", { dtype: "F32" as const, shape: [495, 16], bytes: new Uint8Array(495 * 16 * 4) }]]);
  assert.throws(() => loadMarianWeights(fresh, tensors, "x.safetensors"), /cannot load "model.shared.weight": expected \[495, 32\], got \[495, 16\]/);
  assert.throws(() => loadMarianWeights(fresh, new Map(), "x.safetensors"), /the checkpoint has no "model.shared.weight"/);
});
