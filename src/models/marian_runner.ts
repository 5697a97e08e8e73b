// MarianMT compiled for generation: an encoder graph run once per batch, and a decoder-step graph
// that takes the past keys and values of every layer as inputs and returns them extended by one
// position. The host keeps the cache between steps and reorders it when beams change places.
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { Graph, currentGraph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { ndarray } from "../core/ndarray.js";
import { add, exp, log, sub } from "../ops/elementwise.js";
import { max, sum } from "../ops/reduce.js";
import { CompiledGraph } from "../runtime/session.js";
import type { KeyValue, MarianMTModel } from "./marian.js";

const int64 = (shape: number[], values: number[]): NDArray => ({
  dtype: "int64",
  shape,
  data: BigInt64Array.from(values, (v) => BigInt(v)),
});

/** The names of layer i's cache tensors in the step graph. */
const cacheNames = (kind: "past" | "present" | "cross", i: number) =>
  [`${kind}_key_${i}`, `${kind}_value_${i}`] as const;

function paramFeeds(model: MarianMTModel): Record<string, NDArray> {
  const feeds: Record<string, NDArray> = {};
  for (const [name, p] of model.namedParameters())
    feeds[name] = { dtype: "float32", shape: [...p.shape], data: p.data };
  return feeds;
}

/**
 * log Σ exp of each row of logits [B, V] with one token left out: beam search's log_softmax
 * normaliser (Marian sets the pad logit to -inf first), vectorised by ONNX Runtime.
 */
function logSumExpWithout(logits: Tensor, vocab: number, skip: number): Tensor {
  const maskValues = new Float32Array(vocab);
  maskValues[skip] = -Infinity;
  const masked = add(logits, currentGraph().constant(ndarray("float32", [vocab], maskValues)));
  const m = max(masked, [1], true); // [B, 1]
  return add(log(sum(exp(sub(masked, m)), [1], true)), m); // [B, 1]
}

/** The teacher-forced forward as a graph: logits, loss (when labels are fed) and every hidden state. */
export function traceSeq2Seq(
  model: MarianMTModel,
  withLabels: boolean,
): { graph: Graph; outputs: Record<string, Tensor> } {
  const g = new Graph();
  g.training = false;
  return trace(g, () => {
    const out = model.forward({
      input_ids: g.input("input_ids", ["batch", "src"], "int64"),
      attention_mask: g.input("attention_mask", ["batch", "src"], "int64"),
      decoder_input_ids: g.input("decoder_input_ids", ["batch", "tgt"], "int64"),
      labels: withLabels ? g.input("labels", ["batch", "tgt"], "int64") : undefined,
    });
    const outputs: Record<string, Tensor> = {
      logits: out.logits,
      encoder_last_hidden_state: out.encoderLastHiddenState,
    };
    if (out.loss) outputs.loss = out.loss;
    out.encoderHiddenStates.forEach((h, i) => (outputs[`encoder_hidden_state_${i}`] = h));
    out.decoderHiddenStates.forEach((h, i) => (outputs[`decoder_hidden_state_${i}`] = h));
    return { graph: g, outputs };
  });
}

/**
 * A MarianMTModel compiled into ONNX Runtime sessions for generation.
 *
 * @example
 * const runner = await MarianRunner.compile(model);
 * const state = await runner.begin(batch.inputIds, batch.attentionMask, 4); // 4 beams per row
 * const logits = await state.step(new Array(state.rows).fill(startId)); // [rows · vocab]
 */
export class MarianRunner {
  private constructor(
    readonly model: MarianMTModel,
    private readonly encoder: CompiledGraph,
    private readonly decoder: CompiledGraph,
  ) {}

  static async compile(model: MarianMTModel, opts: { threads?: number } = {}): Promise<MarianRunner> {
    const layers = model.config.decoder_layers;
    const heads = model.config.decoder_attention_heads;
    const hd = model.config.d_model / heads;
    const enc = new Graph();
    const encOut = trace(enc, () => {
      const { hidden, cross } = model.encode(
        enc.input("input_ids", ["batch", "src"], "int64"),
        enc.input("attention_mask", ["batch", "src"], "int64"),
      );
      const out: Record<string, Tensor> = { encoder_last_hidden_state: hidden };
      cross.forEach((kv, i) => ([out[cacheNames("cross", i)[0]], out[cacheNames("cross", i)[1]]] = [kv.key, kv.value]));
      return out;
    });
    const dec = new Graph();
    const decOut = trace(dec, () => {
      const ids = dec.input("input_ids", ["batch", 1], "int64");
      const position = dec.input("position", [1], "int64");
      const mask = dec.input("attention_mask", ["batch", "src"], "int64");
      const cacheInput = (kind: "past" | "cross", i: number, len: string): KeyValue => {
        const [k, v] = cacheNames(kind, i);
        return {
          key: dec.input(k, ["batch", heads, len, hd], "float32"),
          value: dec.input(v, ["batch", heads, len, hd], "float32"),
        };
      };
      const past = Array.from({ length: layers }, (_, i) => cacheInput("past", i, "past"));
      const cross = Array.from({ length: layers }, (_, i) => cacheInput("cross", i, "src"));
      const { logits, present } = model.decodeStep(ids, position, past, cross, mask);
      const lse = logSumExpWithout(logits, model.config.vocab_size, model.config.pad_token_id);
      const out: Record<string, Tensor> = { logits, logsumexp_without_pad: lse };
      present.forEach(
        (kv, i) => ([out[cacheNames("present", i)[0]], out[cacheNames("present", i)[1]]] = [kv.key, kv.value]),
      );
      return out;
    });
    const [e, d] = await Promise.all([
      CompiledGraph.compile(enc, encOut, { threads: opts.threads, name: "marian-encoder" }),
      CompiledGraph.compile(dec, decOut, { threads: opts.threads, name: "marian-decoder-step" }),
    ]);
    return new MarianRunner(model, e, d);
  }

  /**
   * Encode a right-padded batch once and start decoding `expand` rows per input row (the beams),
   * as transformers' _expand_inputs_for_generation repeats each row.
   */
  async begin(inputIds: number[][], attentionMask: number[][], expand = 1): Promise<DecoderState> {
    const B = inputIds.length;
    const S = inputIds[0]?.length ?? 0;
    if (B === 0 || S === 0) throw new WhetError("generate: the batch is empty");
    if (S > this.model.config.max_position_embeddings) {
      throw new WhetError(
        `generate: inputs of ${S} tokens exceed the model's max_position_embeddings ${this.model.config.max_position_embeddings}`,
      );
    }
    const rows = Array.from({ length: B * expand }, (_, r) => Math.floor(r / expand));
    const mask = int64([B, S], attentionMask.flat());
    const out = await this.encoder.run({
      ...paramFeeds(this.model),
      input_ids: int64([B, S], inputIds.flat()),
      attention_mask: mask,
    });
    const cross: Record<string, NDArray> = {};
    for (let i = 0; i < this.model.config.decoder_layers; i++) {
      for (const name of cacheNames("cross", i)) cross[name] = gatherRows(out[name], rows);
    }
    return new DecoderState(
      this,
      int64(
        [rows.length, S],
        rows.flatMap((r) => attentionMask[r]),
      ),
      cross,
    );
  }

  /** One decoder step for every row: the tokens just chosen, at `position`, over the cache. */
  async runStep(feeds: Record<string, NDArray>): Promise<Record<string, NDArray>> {
    return this.decoder.run({ ...paramFeeds(this.model), ...feeds });
  }

  get layers(): number {
    return this.model.config.decoder_layers;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

/** Rows `rows` of a [N, ...] float tensor, in that order. */
function gatherRows(t: NDArray, rows: readonly number[]): NDArray {
  const inner = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const out = new Float32Array(rows.length * inner);
  rows.forEach((r, i) => out.set(src.subarray(r * inner, (r + 1) * inner), i * inner));
  return { dtype: t.dtype, shape: [rows.length, ...t.shape.slice(1)], data: out };
}

/** The decoding state of one batch: the encoder side and the key/value cache so far. */
export class DecoderState {
  private past: Record<string, NDArray>;
  private position = 0;
  /** The last step's log Σ exp over each row's logits, the pad token left out. */
  logSumExp: Float32Array = new Float32Array(0);

  constructor(
    private readonly runner: MarianRunner,
    private readonly mask: NDArray,
    private readonly cross: Record<string, NDArray>,
  ) {
    const [rows] = mask.shape;
    const { decoder_attention_heads: heads, d_model } = runner.model.config;
    this.past = {};
    for (let i = 0; i < runner.layers; i++) {
      for (const name of cacheNames("past", i))
        this.past[name] = { dtype: "float32", shape: [rows, heads, 0, d_model / heads], data: new Float32Array(0) };
    }
  }

  get rows(): number {
    return this.mask.shape[0];
  }

  /** Feed one token per row; returns the next-token logits, [rows · vocab] row-major. */
  async step(tokens: readonly number[]): Promise<Float32Array> {
    if (tokens.length !== this.rows) throw new WhetError(`decoder step: ${tokens.length} tokens for ${this.rows} rows`);
    const out = await this.runner.runStep({
      input_ids: int64([this.rows, 1], [...tokens]),
      position: int64([1], [this.position]),
      attention_mask: this.mask,
      ...this.past,
      ...this.cross,
    });
    for (let i = 0; i < this.runner.layers; i++) {
      const [pk, pv] = cacheNames("past", i),
        [nk, nv] = cacheNames("present", i);
      this.past[pk] = out[nk];
      this.past[pv] = out[nv];
    }
    this.position++;
    this.logSumExp = out.logsumexp_without_pad.data as Float32Array;
    return out.logits.data as Float32Array;
  }

  /** Row r of the cache becomes old row rows[r] (beam search's _reorder_cache). */
  reorder(rows: readonly number[]): void {
    if (rows.every((r, i) => r === i)) return;
    for (const name of Object.keys(this.past)) this.past[name] = gatherRows(this.past[name], rows);
  }
}
