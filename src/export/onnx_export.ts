// ONNX export: the model's traced forward graph, lowered with its parameters inside, in the
// signature Optimum gives transformers.js and ONNX Runtime users (int64 input_ids /
// attention_mask / token_type_ids with dynamic "batch_size" and "sequence_length" axes, output
// "logits"), then checked against whet's own forward as `optimum-cli export onnx` checks against
// PyTorch. Export takes a traced graph, not a model: models are a peer level (L5) of export.
import * as ort from "onnxruntime-node";
import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import type { Graph } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { lowerGraph, OPSET } from "../runtime/lower.js";
import { encodeModel, type OnnxModel, type OnnxNode } from "../runtime/onnx_proto.js";
import { clampThreads, CompiledGraph, ortLogSeverity } from "../runtime/session.js";

/** What `traceForward(model, …)` returns: the eval-mode graph, its batch inputs and outputs. */
export interface TracedForward {
  graph: Graph;
  inputs: readonly Tensor[];
  outputs: Record<string, Tensor>;
}

/** whet's symbolic dims -> the names Optimum's exporter gives the dynamic axes. */
export const OPTIMUM_DIM_NAMES: Readonly<Record<string, string>> = { batch: "batch_size", seq: "sequence_length" };

/** Opsets the export can declare: 17 (LayerNormalization) up to what ONNX Runtime 1.30 checks here. */
export const EXPORT_OPSETS = { min: OPSET, max: 21 } as const;

export interface OnnxExportOptions {
  /** Default opset 17 (whet's lowering); 18–21 rewrite the ops whose signature changed. */
  opset?: number;
  /** Symbolic dim renames; default OPTIMUM_DIM_NAMES. */
  dimNames?: Readonly<Record<string, string>>;
  /** Graph name in the file (torch.onnx, hence Optimum, writes "main_graph"). */
  graphName?: string;
  metadata?: Record<string, string>;
}

export interface OnnxExport {
  model: OnnxModel;
  bytes: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/**
 * Lower a traced forward to a self-contained ONNX model: parameters become initializers with
 * their current values (refused above ONNX's 2 GB protobuf limit), batch inputs stay inputs.
 * @example
 * const traced = traceForward(model, { tokenTypes: true, outputs: ["logits"] });
 * const { bytes } = exportOnnx(traced);
 * writeFileSync("out/onnx/model.onnx", bytes);
 */
export function exportOnnx(traced: TracedForward, opts: OnnxExportOptions = {}): OnnxExport {
  const opset = opts.opset ?? OPSET;
  if (!Number.isInteger(opset) || opset < EXPORT_OPSETS.min || opset > EXPORT_OPSETS.max) {
    throw new WhetError(`ONNX export: opset ${opset} is not supported; use ${EXPORT_OPSETS.min} to ${EXPORT_OPSETS.max} ` +
      `(LayerNormalization needs 17; later opsets are not checked against ONNX Runtime 1.30 yet)`);
  }
  const lowered = lowerGraph(traced.graph, traced.outputs, {
    name: opts.graphName ?? "main_graph",
    keepInputs: traced.inputs,
    metadata: opts.metadata,
    paramsAsInitializers: true,
  });
  const names = opts.dimNames ?? OPTIMUM_DIM_NAMES;
  const rename = (v: OnnxModel["inputs"][number]) => ({ ...v, shape: v.shape.map((d) => (typeof d === "string" ? names[d] ?? d : d)) });
  const base: OnnxModel = { ...lowered.model, initializers: [...lowered.model.initializers] };
  const model: OnnxModel = {
    ...base,
    inputs: lowered.model.inputs.map(rename),
    outputs: lowered.model.outputs.map(rename),
    nodes: opset >= 18 ? upgradeTo18(base) : base.nodes,
    opsets: base.opsets.map((o) => (o.domain === "" ? { ...o, version: opset } : o)),
  };
  return { model, bytes: encodeModel(model), inputNames: model.inputs.map((i) => i.name), outputNames: model.outputs.map((o) => o.name) };
}

// Opset 18 moved `axes` of these reductions from an attribute to an input (ReduceSum moved in 13).
const AXES_TO_INPUT = new Set(["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
  "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]);

/** The nodes of an opset-17 model rewritten for opset 18+; adds the axes constants to `model`. */
function upgradeTo18(model: OnnxModel): OnnxNode[] {
  return model.nodes.map((n) => {
    const axes = n.attrs?.axes;
    if (n.domain || !AXES_TO_INPUT.has(n.opType) || !axes || !("ints" in axes)) return n;
    const name = `${n.name}_axes`;
    model.initializers.push({ name, value: { dtype: "int64", shape: [axes.ints.length], data: BigInt64Array.from(axes.ints, BigInt) } });
    const { axes: _drop, ...attrs } = n.attrs!;
    return { ...n, inputs: [...n.inputs, name], attrs };
  });
}

export interface DummyInputOptions {
  batch?: number;
  seq?: number;
  /** Ids are drawn from [0, vocabSize). */
  vocabSize: number;
  /** token_type_ids take values below this (1 for RoBERTa-style models); default 2. */
  typeVocabSize?: number;
  seed?: number;
}

/**
 * Random int64 inputs for the names a model takes, as Optimum's dummy input generators make them;
 * every row but the first ends in padding (mask 0), so masking is part of the check.
 */
export function dummyInputs(names: readonly string[], o: DummyInputOptions): Record<string, NDArray> {
  const B = o.batch ?? 2, T = o.seq ?? 16;
  const rng = new Rng(o.seed ?? 0, B, T);
  const feeds: Record<string, NDArray> = {};
  const make = (f: (b: number, t: number) => number): NDArray => {
    const data = new BigInt64Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] = BigInt(f(b, t));
    return { dtype: "int64", shape: [B, T], data };
  };
  const len = (b: number) => (b === 0 ? T : Math.max(1, T - 1 - ((b * 3) % Math.max(1, T - 1))));
  for (const name of names) {
    if (name === "input_ids") feeds[name] = make(() => rng.int(o.vocabSize));
    else if (name === "attention_mask") feeds[name] = make((b, t) => (t < len(b) ? 1 : 0));
    else if (name === "token_type_ids") feeds[name] = make((_, t) => ((o.typeVocabSize ?? 2) > 1 && t >= T / 2 ? 1 : 0));
    else throw new WhetError(`dummy inputs: no generator for input "${name}" (expected input_ids, attention_mask, token_type_ids)`);
  }
  return feeds;
}

const FROM_ORT: Record<string, DType> = { float32: "float32", float64: "float64", int64: "int64", bool: "bool" };

/** Run ONNX model bytes in ONNX Runtime (as a user of the file would) on the inputs it declares. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, NDArray>, threads = 0): Promise<Record<string, NDArray>> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", intraOpNumThreads: clampThreads(threads), interOpNumThreads: 1, logSeverityLevel: ortLogSeverity() });
  } catch (e) {
    throw new WhetError(`ONNX Runtime could not load the exported model: ${(e as Error).message}`);
  }
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const f = feeds[name];
      if (!f) throw new WhetError(`running the exported model: no value for its input "${name}"`);
      ortFeeds[name] = new ort.Tensor(f.dtype as "int64", f.data as BigInt64Array, [...f.shape]);
    }
    const res = await session.run(ortFeeds);
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, { dtype: FROM_ORT[t.type] ?? "float32", shape: [...t.dims], data: t.data as Float32Array }]));
  } finally {
    await session.release();
  }
}

/** whet's own forward on the same graph: parameters fed from their buffers, as training runs it. */
export async function runTraced(traced: TracedForward, feeds: Record<string, NDArray>, threads = 0): Promise<Record<string, NDArray>> {
  const compiled = await CompiledGraph.compile(traced.graph, traced.outputs, { threads, name: "export-check" });
  try {
    const all: Record<string, NDArray> = { ...feeds };
    for (const [name, t] of traced.graph.params) {
      if (t.source.kind === "param") all[name] = { dtype: "float32", shape: t.shape as number[], data: t.source.param.data };
    }
    return await compiled.run(all);
  } finally {
    await compiled.release();
  }
}

export interface Comparison {
  maxAbsDiff: number;
  /** Share of rows (last axis = classes) whose argmax agrees. */
  argmaxAgreement: number;
  /**
   * Cosine similarity of the row-centred logits (softmax ignores a row's shift), all rows taken as
   * one vector: a near-flat row (logits almost tied) cannot swing it the way a per-row mean would.
   */
  cosine: number;
}

export function compareLogits(expected: NDArray, actual: NDArray): Comparison {
  if (expected.shape.join() !== actual.shape.join()) {
    throw new WhetError(`comparing outputs: shapes differ, expected [${expected.shape.join(", ")}], got [${actual.shape.join(", ")}]`);
  }
  const e = expected.data as Float32Array, a = actual.data as Float32Array;
  const C = expected.shape[expected.shape.length - 1] || 1, rows = e.length / C;
  let maxAbsDiff = 0, agree = 0, dot = 0, ne = 0, na = 0;
  for (let r = 0; r < rows; r++) {
    let me = 0, ma = 0, ie = 0, ia = 0;
    for (let c = 0; c < C; c++) {
      const x = e[r * C + c], y = a[r * C + c];
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x - y)); // a NaN stays NaN and fails every check
      me += x / C; ma += y / C;
      if (x > e[r * C + ie]) ie = c;
      if (y > a[r * C + ia]) ia = c;
    }
    if (ie === ia) agree++;
    for (let c = 0; c < C; c++) {
      const x = e[r * C + c] - me, y = a[r * C + c] - ma;
      dot += x * y; ne += x * x; na += y * y;
    }
  }
  const cosine = ne === 0 && na === 0 ? 1 : dot / Math.sqrt(ne * na || 1);
  return { maxAbsDiff, argmaxAgreement: rows ? agree / rows : 1, cosine };
}

export interface ValidateOptions {
  /** "fp32": every output within `atol` (Optimum's 1e-4 for BERT-like models). "int8": see below. */
  kind?: "fp32" | "int8";
  atol?: number;
  /** int8 passes when the centred cosine of the logits (see Comparison) is at least this (default 0.99). */
  minCosine?: number;
  threads?: number;
}

/**
 * Run the exported bytes in ONNX Runtime and whet's forward on the same inputs and compare the
 * outputs; throws a WhetError that quotes the numbers when the check fails. int8 files cannot meet
 * a float tolerance, so they pass on the centred cosine (default ≥ 0.99), with the max abs diff
 * and argmax agreement reported.
 *
 * @example
 * const traced = traceForward(model, { tokenTypes: true, outputs: ["logits"] });
 * const { bytes } = exportOnnx(traced);
 * const checks = await validateExport(bytes, traced, [(await tokenizer.encodeBatch(["a text", "another"])).tensors()]);
 */
export async function validateExport(bytes: Uint8Array, traced: TracedForward, feedSets: readonly Record<string, NDArray>[],
  o: ValidateOptions = {}): Promise<Record<string, Comparison>> {
  const kind = o.kind ?? "fp32", atol = o.atol ?? 1e-4, minCos = o.minCosine ?? 0.99;
  const worst: Record<string, Comparison> = {};
  for (const feeds of feedSets) {
    const [got, want] = [await runOnnx(bytes, feeds, o.threads), await runTraced(traced, feeds, o.threads)];
    for (const name of Object.keys(traced.outputs)) {
      if (!got[name]) throw new WhetError(`validating the export: the ONNX model has no output "${name}"`);
      const c = compareLogits(want[name], got[name]);
      const w = worst[name];
      worst[name] = w ? { maxAbsDiff: Math.max(w.maxAbsDiff, c.maxAbsDiff), argmaxAgreement: Math.min(w.argmaxAgreement, c.argmaxAgreement), cosine: Math.min(w.cosine, c.cosine) } : c;
      const shape = `[${feeds.input_ids?.shape.join(", ") ?? "?"}]`;
      if (kind === "fp32" && !(c.maxAbsDiff <= atol)) {
        throw new WhetError(`export check failed: "${name}" differs from whet's forward by ${c.maxAbsDiff.toExponential(2)} ` +
          `(tolerance ${atol}) on inputs ${shape}`);
      }
      if (kind === "int8" && !(c.cosine >= minCos)) {
        throw new WhetError(`int8 check failed: "${name}" cosine ${c.cosine.toFixed(4)} < ${minCos} against whet's float forward ` +
          `(max abs diff ${c.maxAbsDiff.toExponential(2)}, argmax agreement ${(100 * c.argmaxAgreement).toFixed(1)}%) on inputs ${shape}`);
      }
    }
  }
  return worst;
}
