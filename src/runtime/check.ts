import { isFloat, type DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import { fromFloat64, ndarray, type NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import type { Dim } from "../core/shape.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { sumTo } from "../ops/broadcast.js";
import { add, mul } from "../ops/elementwise.js";
import { evaluate } from "./reference.js";
import { CompiledGraph } from "./session.js";

/**
 * Test helpers every op family uses: finite-difference gradient checks on the float64 reference,
 * and ONNX Runtime (float32) against the reference for forward values and gradients.
 */
export interface CheckInput {
  shape: number[];
  /** Declared shape, e.g. ["b", 3], to exercise symbolic dims; default `shape`. */
  dims?: Dim[];
  dtype?: DType;
  /** "normal" (default), "positive" (in [0.5, 2]), "int:N" (integers in [0, N)), "bool". */
  gen?: string;
  values?: number[];
  /** Differentiate with respect to this input (default: floating inputs). */
  grad?: boolean;
}

export interface CheckCase {
  inputs: CheckInput[];
  build: (...xs: Tensor[]) => Tensor | Tensor[];
  /** Trace a training graph (ops that lower differently for training are checked in that form). */
  training?: boolean;
}

function makeValues(inp: CheckInput, rng: Rng, dtype: DType): NDArray {
  const n = inp.shape.reduce((a, b) => a * b, 1);
  if (inp.values) return ndarray(dtype, inp.shape, inp.values);
  const gen = inp.gen ?? "normal";
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (gen === "normal") v[i] = rng.normal();
    else if (gen === "positive") v[i] = 0.5 + 1.5 * rng.uniform();
    else if (gen === "bool") v[i] = rng.uniform() < 0.5 ? 1 : 0;
    else if (gen.startsWith("int:")) v[i] = rng.int(Number(gen.slice(4)));
    else throw new WhetError(`unknown generator ${gen}`);
  }
  return fromFloat64(dtype, inp.shape, v);
}

interface Built {
  graph: Graph;
  ins: Tensor[];
  outs: Tensor[];
  feeds: Record<string, NDArray>;
  wrt: Tensor[];
}

function build(c: CheckCase, floatType: DType, seed: number): Built {
  const graph = new Graph();
  graph.training = c.training ?? false;
  const rng = new Rng(seed);
  const feeds: Record<string, NDArray> = {};
  const ins = c.inputs.map((inp, i) => {
    const dtype = inp.dtype === undefined || inp.dtype === "float32" || inp.dtype === "float64" ? floatType : inp.dtype;
    const t = graph.input(`x${i}`, inp.dims ?? inp.shape, dtype);
    feeds[t.name] = makeValues(inp, rng, dtype);
    return t;
  });
  const outs = trace(graph, () => {
    const o = c.build(...ins);
    return Array.isArray(o) ? o : [o];
  });
  const wrt = ins.filter((t, i) => isFloat(t.dtype) && c.inputs[i].grad !== false);
  return { graph, ins, outs, feeds, wrt };
}

/** A scalar that depends on every output element through fixed random weights. */
function projection(b: Built, seed: number): Tensor {
  const rng = new Rng(seed, 7);
  const outVals = evaluate(b.graph, b.outs, b.feeds);
  let total: Tensor | null = null;
  b.outs.forEach((o, i) => {
    if (!isFloat(o.dtype)) return;
    const w = b.graph.input(`w${i}`, o.shape, o.dtype);
    const n = outVals[i].data.length;
    b.feeds[w.name] = fromFloat64(o.dtype, outVals[i].shape, Float64Array.from({ length: n }, () => rng.normal()));
    const term = sumTo(mul(o, w), []);
    total = total ? add(total, term) : term;
  });
  if (!total) throw new WhetError("check: the case has no floating-point output");
  return total;
}

export interface GradCheckOptions {
  seed?: number;
  eps?: number;
  /** Allowed |analytic - numeric| / max(1, |numeric|). */
  tol?: number;
}

/** Central finite differences against the autodiff gradient, all in float64. */
export function checkGradients(c: CheckCase, opts: GradCheckOptions = {}): void {
  const seed = opts.seed ?? 1, eps = opts.eps ?? 1e-6, tol = opts.tol ?? 1e-6;
  const b = build(c, "float64", seed);
  const loss = projection(b, seed);
  const grads = trace(b.graph, () => gradients(loss, b.wrt));
  const analytic = evaluate(b.graph, grads.map((g, i) => g ?? b.wrt[i]), b.feeds);
  b.wrt.forEach((t, k) => {
    const base = b.feeds[t.name];
    const data = base.data as Float64Array;
    for (let i = 0; i < data.length; i++) {
      const keep = data[i];
      data[i] = keep + eps;
      const up = evaluate(b.graph, [loss], b.feeds)[0].data[0];
      data[i] = keep - eps;
      const down = evaluate(b.graph, [loss], b.feeds)[0].data[0];
      data[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const got = grads[k] ? analytic[k].data[i] : 0;
      if (!(Math.abs(got - numeric) <= tol * Math.max(1, Math.abs(numeric)))) {
        throw new WhetError(`gradient check: d/d${t.name}[${i}] analytic ${got} vs numeric ${numeric}`);
      }
    }
  });
}

export interface OnnxCheckOptions {
  seed?: number;
  /** Allowed |ort - reference| / max(1, |reference|). */
  tol?: number;
  /** Also lower and compare the gradients (default true where the case has float inputs). */
  grads?: boolean;
}

/** The float32 ONNX Runtime lowering against the float64 reference, forward and backward. */
export async function checkOnnx(c: CheckCase, opts: OnnxCheckOptions = {}): Promise<void> {
  const seed = opts.seed ?? 1, tol = opts.tol ?? 1e-4;
  const b = build(c, "float32", seed);
  const targets: Record<string, Tensor> = {};
  b.outs.forEach((o, i) => (targets[`out${i}`] = o));
  if ((opts.grads ?? true) && b.wrt.length > 0 && b.outs.some((o) => isFloat(o.dtype))) {
    const loss = projection(b, seed);
    const grads = trace(b.graph, () => gradients(loss, b.wrt));
    grads.forEach((g, i) => g && (targets[`grad_${b.wrt[i].name}`] = g));
  }
  const names = Object.keys(targets);
  const ref = evaluate(b.graph, names.map((k) => targets[k]), b.feeds);
  const compiled = await CompiledGraph.compile(b.graph, targets, { threads: 1 });
  try {
    const got = await compiled.run(b.feeds);
    names.forEach((k, i) => {
      const r = ref[i], o = got[k];
      if (o.shape.join(",") !== r.shape.join(",")) throw new WhetError(`onnx check: ${k} has shape [${o.shape}] in ORT, [${r.shape}] in the reference`);
      for (let j = 0; j < r.data.length; j++) {
        const v = Number(o.data[j]);
        if (!(Math.abs(v - r.data[j]) <= tol * Math.max(1, Math.abs(r.data[j])))) {
          throw new WhetError(`onnx check: ${k}[${j}] is ${v} in ORT, ${r.data[j]} in the reference`);
        }
      }
    });
  } finally {
    await compiled.release();
  }
}
