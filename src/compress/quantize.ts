// Dynamic int8 quantization of an ONNX model's constant-weight matrix products (and embedding
// tables), the scheme of ONNX Runtime's `quantize_dynamic` and Optimum's `model_quantized.onnx`:
// weights are int8, symmetric, one scale per output channel; activations are quantized at run time.
//
// Why on the lowered OnnxModel (the plain-object model lowerGraph returns) rather than at lowering
// time or on decoded bytes: the lowered model already names every weight as an initializer with
// its values, so a pass over nodes finds MatMul/FusedMatMul/Gather on constants without a protobuf
// decoder, and the ops (L2) and lowering (L3) stay free of quantization (they cannot see compress).
//
// Each weight product becomes standard ops only, so any ONNX runtime runs the file:
//   DynamicQuantizeLinear(A) -> A_q (uint8), A_scale, A_zero      (shared by products of one A)
//   MatMulInteger(A_q, W_q [K, N] int8, A_zero) -> int32
//   Cast(float) * Mul(A_scale, W_scale [N])
// ONNX Runtime fuses that chain (and a following bias Add) into its MatMulIntegerToFloat kernel
// (onnxruntime/core/optimizer/matmul_integer_to_float.cc), which takes per-column B scales.
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { encodeModel, type OnnxModel, type OnnxNode } from "../runtime/onnx_proto.js";

/** An int8 initializer: whet's DType set has no int8, so these are encoded as raw initializers. */
export interface Int8Initializer {
  name: string;
  shape: number[];
  data: Int8Array;
}

export interface QuantizeOptions {
  /** Quantize only weights whose initializer name matches (checkpoint names, e.g. /encoder/). */
  include?: RegExp;
  /** Leave weights whose name matches in float32 (e.g. /classifier/). */
  exclude?: RegExp;
  /** Quantize Gather tables (word, position, token-type embeddings) too, per row. Default true. */
  embeddings?: boolean;
  /**
   * 7-bit weights ([-63, 63]). x86 CPUs without VNNI multiply uint8 x int8 with VPMADDUBSW, which
   * saturates int16 pair sums; ORT advises reduce_range there. Costs accuracy; default false.
   */
  reduceRange?: boolean;
}

export interface QuantizedModel {
  /** The rewritten model; its quantized weights are in `int8`, not in `model.initializers`. */
  model: OnnxModel;
  int8: Int8Initializer[];
  /** Names of the weights now stored as int8. */
  quantized: string[];
  /** Constant weights of candidate nodes left in float32, with the reason. */
  skipped: { name: string; reason: string }[];
  /** Bytes the quantized weights took in float32, and take now (int8 values plus float scales). */
  floatBytes: number;
  quantizedBytes: number;
}

/**
 * Symmetric int8 quantization of each row of a row-major [rows, cols] matrix:
 * scale = max|row| / qmax, q = round(w / scale). An all-zero row gets scale 1.
 */
export function quantizeRows(w: Float32Array, rows: number, cols: number, qmax = 127): { q: Int8Array; scale: Float32Array } {
  if (w.length !== rows * cols) throw new WhetError(`quantizeRows: [${rows}, ${cols}] needs ${rows * cols} values, got ${w.length}`);
  const q = new Int8Array(rows * cols), scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    const s = m > 0 ? m / qmax : 1;
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-qmax, Math.min(qmax, Math.round(w[r * cols + c] / s)));
  }
  return { q, scale };
}

function transpose<T extends Float32Array | Int8Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** The weight operand of a product node that can be rewritten, or why it cannot. */
function productWeight(n: OnnxNode): { trans: boolean; alpha: number } | string {
  if (n.opType === "MatMul" && !n.domain) return { trans: false, alpha: 1 };
  if (n.opType !== "FusedMatMul" || n.domain !== "com.microsoft") return "not a product";
  const a = n.attrs ?? {};
  const int = (k: string) => (a[k] && "i" in a[k] ? (a[k] as { i: number }).i : 0);
  if (Object.keys(a).some((k) => !["transA", "transB", "alpha"].includes(k))) return "FusedMatMul with batch transposes";
  if (int("transA")) return "transposed activation";
  const alpha = a.alpha && "f" in a.alpha ? a.alpha.f : 1;
  return { trans: int("transB") === 1, alpha };
}

/**
 * Rewrite `model`'s MatMul/FusedMatMul nodes whose second input is a float32 [K, N] initializer
 * (and, unless `embeddings: false`, Gather nodes on float32 [V, H] tables) to int8 weights.
 * The input model is not modified.
 * @example
 * const { model } = lowerGraph(graph, { logits }, { paramsAsInitializers: true });
 * const q = quantizeDynamicInt8(model, { exclude: /classifier/ });
 * writeFileSync("onnx/model_quantized.onnx", encodeQuantized(q));
 */
export function quantizeDynamicInt8(model: OnnxModel, opts: QuantizeOptions = {}): QuantizedModel {
  const qmax = opts.reduceRange ? 63 : 127;
  const inits = new Map(model.initializers.map((i) => [i.name, i.value]));
  const nodes: OnnxNode[] = [];
  const int8: Int8Initializer[] = [];
  const scales: { name: string; value: NDArray }[] = [];
  const done = new Map<string, { q: string; s: string }>(); // (weight, layout) -> names, shared by users
  const dql = new Map<string, [string, string, string]>(); // activation -> its DynamicQuantizeLinear outputs
  const quantized = new Set<string>(), skipped = new Map<string, string>();
  let floatBytes = 0, quantizedBytes = 0, uid = 0;

  /** Whether the weight is eligible; records why not. */
  const eligible = (name: string): boolean => {
    const v = inits.get(name);
    if (!v) return false; // an activation: quantized at run time, not here
    if (v.dtype !== "float32" || v.shape.length !== 2) return false; // index tables, batched constants
    let why = "";
    if (opts.include && !opts.include.test(name)) why = "not matched by include";
    else if (opts.exclude?.test(name)) why = "matched by exclude";
    if (why) skipped.set(name, why);
    return !why;
  };
  const store = (key: string, name: string, shape: number[], q: Int8Array, s: Float32Array, sShape: number[], scaleBy = 1) => {
    if (scaleBy !== 1) for (let i = 0; i < s.length; i++) s[i] *= scaleBy;
    int8.push({ name: `${key}_quantized`, shape, data: q });
    scales.push({ name: `${key}_scale`, value: { dtype: "float32", shape: sShape, data: s } });
    floatBytes += q.length * 4;
    quantizedBytes += q.length + s.byteLength;
    quantized.add(name);
    const names = { q: `${key}_quantized`, s: `${key}_scale` };
    done.set(key, names);
    return names;
  };

  for (const n of model.nodes) {
    const form = productWeight(n);
    if (typeof form !== "string" && eligible(n.inputs[1])) {
      const w = n.inputs[1], v = inits.get(w)!;
      const [rows, cols] = v.shape;
      // Products want W_q as [K, N] with one scale per output column N.
      const key = `${w}${form.trans ? "" : "_kn"}${form.alpha !== 1 ? `_a${uid++}` : ""}`;
      const names = done.get(key) ?? (() => {
        // [N, K] (transB) quantizes by rows as stored; [K, N] is transposed first.
        const byRow = form.trans ? v.data as Float32Array : transpose(v.data as Float32Array, rows, cols);
        const [N, K] = form.trans ? [rows, cols] : [cols, rows];
        const { q, scale } = quantizeRows(byRow, N, K, qmax);
        return store(key, w, [K, N], transpose(q, N, K), scale, [N], form.alpha);
      })();
      const a = n.inputs[0];
      let aq = dql.get(a);
      if (!aq) {
        aq = [`${a}_quantized`, `${a}_scale`, `${a}_zero_point`];
        nodes.push({ opType: "DynamicQuantizeLinear", inputs: [a], outputs: [...aq], name: `${a}_DynamicQuantizeLinear` });
        dql.set(a, aq);
      }
      const out = n.outputs[0], base = `${n.name}_q`;
      nodes.push(
        { opType: "MatMulInteger", inputs: [aq[0], names.q, aq[2]], outputs: [`${base}_int32`], name: `${base}_MatMulInteger` },
        { opType: "Cast", inputs: [`${base}_int32`], outputs: [`${base}_float`], name: `${base}_Cast`, attrs: { to: { i: 1 } } },
        // Order (A scale, B scale) matters: ORT's fusion reads them positionally.
        { opType: "Mul", inputs: [aq[1], names.s], outputs: [`${base}_scale`], name: `${base}_ScaleMul` },
        { opType: "Mul", inputs: [`${base}_float`, `${base}_scale`], outputs: [out], name: `${base}_Mul` },
      );
      continue;
    }
    const axis = n.attrs?.axis && "i" in n.attrs.axis ? n.attrs.axis.i : 0;
    if (opts.embeddings !== false && n.opType === "Gather" && !n.domain && axis === 0 && eligible(n.inputs[0])) {
      const t = n.inputs[0], v = inits.get(t)!;
      const [V, H] = v.shape;
      const key = `${t}_rows`;
      const names = done.get(key) ?? (() => {
        const { q, scale } = quantizeRows(v.data as Float32Array, V, H, qmax);
        return store(key, t, [V, H], q, scale, [V, 1]);
      })();
      // Gather the int8 rows and their scales, dequantize only the gathered rows.
      const ids = n.inputs[1], out = n.outputs[0], base = `${n.name}_q`;
      nodes.push(
        { opType: "Gather", inputs: [names.q, ids], outputs: [`${base}_int8`], name: `${base}_Gather`, attrs: { axis: { i: 0 } } },
        { opType: "Gather", inputs: [names.s, ids], outputs: [`${base}_rowscale`], name: `${base}_GatherScale`, attrs: { axis: { i: 0 } } },
        { opType: "Cast", inputs: [`${base}_int8`], outputs: [`${base}_float`], name: `${base}_Cast`, attrs: { to: { i: 1 } } },
        { opType: "Mul", inputs: [`${base}_float`, `${base}_rowscale`], outputs: [out], name: `${base}_Mul` },
      );
      continue;
    }
    nodes.push(n);
  }

  // Float copies still read by some other node (a tied embedding's Gather with embeddings off) stay.
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...model.initializers.filter((i) => used.has(i.name)), ...scales];
  for (const name of quantized) skipped.delete(name);
  return {
    model: { ...model, nodes, initializers },
    int8,
    quantized: [...quantized],
    skipped: [...skipped].map(([name, reason]) => ({ name, reason })),
    floatBytes,
    quantizedBytes,
  };
}

const TENSOR_INT8 = 3; // TensorProto.DataType.INT8

/**
 * ModelProto bytes of a quantized model, its int8 weights written as ordinary initializers.
 *
 * @example
 * writeFileSync("onnx/model_quantized.onnx", encodeQuantized(quantizeDynamicInt8(model)));
 */
export function encodeQuantized(q: QuantizedModel): Uint8Array {
  const raw = q.int8.map((t) => ({ name: t.name, dataType: TENSOR_INT8, dims: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
  return encodeModel({ ...q.model, rawInitializers: [...(q.model.rawInitializers ?? []), ...raw] });
}
