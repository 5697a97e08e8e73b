import { WhetError } from "../core/errors.js";
import { ndarray, type NDArray } from "../core/ndarray.js";
import type { Dim } from "../core/shape.js";
import type { Graph } from "../graph/graph.js";
import type { Node } from "../graph/node.js";
import type { LowerCtx } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { encodeModel, type OnnxModel, type OnnxNode, type OnnxValueInfo } from "./onnx_proto.js";

export const OPSET = 17;

export interface LowerOptions {
  /** Graph name written into the model. */
  name?: string;
  /** Inputs to declare even when no output needs them (a public model's signature). */
  keepInputs?: readonly Tensor[];
  metadata?: Record<string, string>;
  /**
   * Return static outputs larger than this many bytes in row blocks below it. onnxruntime-node
   * copies every output into a fresh ArrayBuffer; glibc serves blocks over 32 MB with new mmap
   * pages, and faulting them in costs ~4 ms per MB in these VMs, while smaller blocks are reused.
   */
  splitOutputsOver?: number;
  /**
   * Write parameters as initializers holding their current values instead of graph inputs: a
   * self-contained model for export. Refused above PROTOBUF_LIMIT (ONNX's 2 GB protobuf cap).
   */
  paramsAsInitializers?: boolean;
}

/** A ModelProto is one protobuf message, capped at 2 GiB; keep headroom for the graph itself. */
export const PROTOBUF_LIMIT = 1.9e9;

/** An output returned in row blocks: its parts' names in order and the full shape. */
export interface SplitOutput {
  parts: string[];
  shape: number[];
}

export interface Lowered {
  bytes: Uint8Array;
  model: OnnxModel;
  /** Names of the graph inputs the model expects, feed order irrelevant. */
  inputNames: string[];
  outputNames: string[];
  /** Outputs returned in parts (see splitOutputsOver), by output name. */
  splits: Record<string, SplitOutput>;
}

/** The nodes needed for `outputs`, in execution order. */
export function liveNodes(graph: Graph, outputs: readonly Tensor[]): Node[] {
  const live = new Set<number>();
  const stack = [...outputs];
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.source.kind === "node") {
      live.add(t.source.node.id);
      stack.push(...t.source.node.inputs);
    }
  }
  return graph.nodes.filter((n) => live.has(n.id));
}

/**
 * Lower the part of a traced graph that computes `outputs` (named by the keys) to an ONNX model.
 * Params and per-run values become graph inputs (params become initializers with
 * `paramsAsInitializers`), constants initializers; symbolic dims are read at run time from the
 * inputs that carry them, so one model serves every batch and length.
 */
export function lowerGraph(graph: Graph, outputs: Record<string, Tensor>, opts: LowerOptions = {}): Lowered {
  const entries = Object.entries(outputs);
  const nodes = liveNodes(graph, entries.map(([, t]) => t));
  const onnxNodes: OnnxNode[] = [];
  const initializers: { name: string; value: NDArray }[] = [];
  const usedLeaves = new Map<number, Tensor>();
  for (const t of opts.keepInputs ?? []) usedLeaves.set(t.id, t);
  let uid = 0;

  // A requested node output takes the output's name directly, saving an Identity copy.
  const rename = new Map<number, string>();
  const identities: [string, Tensor][] = [];
  for (const [key, t] of entries) {
    if (t.source.kind === "node" && !rename.has(t.id)) rename.set(t.id, key);
    else identities.push([key, t]);
  }
  const nameOf = (t: Tensor): string => {
    if (t.source.kind !== "node") usedLeaves.set(t.id, t);
    return rename.get(t.id) ?? t.name;
  };

  const constCache = new Map<string, string>();
  const symbolSources = collectSymbolSources([...graph.inputs, ...graph.params.values()]);
  const dimCache = new Map<string, string>();
  let currentNode: Node | null = null;

  const ctx: LowerCtx = {
    emit(opType, inputs, attrs, opts = {}) {
      const base = currentNode ? nameOf(currentNode.outputs[0]) : "aux";
      const outs = opts.outputs ? [...opts.outputs] : Array.from({ length: opts.count ?? 1 }, () => `${base}__${uid++}`);
      onnxNodes.push({ opType, inputs: [...inputs], outputs: outs, name: `n${uid++}_${opType}`, domain: opts.domain, attrs });
      return outs;
    },
    constant(value) {
      const small = value.data.length <= 16;
      const key = small ? `${value.dtype}:${value.shape.join("x")}:${Array.from(value.data as ArrayLike<number | bigint>).join(",")}` : "";
      if (small && constCache.has(key)) return constCache.get(key)!;
      const name = `const_${uid++}`;
      initializers.push({ name, value });
      if (small) constCache.set(key, name);
      return name;
    },
    shapeTensor(dims) {
      const key = dims.join(",");
      const have = dimCache.get(`shape:${key}`);
      if (have) return have;
      let name: string;
      if (dims.every((d) => typeof d === "number")) name = ctx.constant(ndarray("int64", [dims.length], dims as number[]));
      else {
        const parts = dims.map((d) => (typeof d === "number" ? ctx.constant(ndarray("int64", [1], [d])) : dimTensor(d)));
        name = parts.length === 1 ? parts[0] : ctx.emit("Concat", parts, { axis: { i: 0 } })[0];
      }
      dimCache.set(`shape:${key}`, name);
      return name;
    },
    outputName(index) {
      return nameOf(currentNode!.outputs[index]);
    },
  };

  function dimTensor(d: Dim): string {
    const key = String(d);
    const have = dimCache.get(key);
    if (have) return have;
    const saved = currentNode;
    currentNode = null;
    let name: string;
    const factors = key.split("*");
    if (factors.length > 1) {
      name = factors.map((f) => (/^\d+$/.test(f) ? ctx.constant(ndarray("int64", [1], [Number(f)])) : dimTensor(f)))
        .reduce((a, b) => ctx.emit("Mul", [a, b])[0]);
    } else {
      const src = symbolSources.get(key);
      if (!src) throw new WhetError(`lowering: no graph input carries dimension "${key}"`);
      name = ctx.emit("Shape", [nameOf(src.tensor)], { start: { i: src.axis }, end: { i: src.axis + 1 } })[0];
    }
    currentNode = saved;
    dimCache.set(key, name);
    return name;
  }

  for (const node of nodes) {
    currentNode = node;
    const ins = node.inputs.map(nameOf);
    node.op.onnx(ctx, ins, node.attrs, node);
  }
  currentNode = null;
  for (const [key, t] of identities) {
    onnxNodes.push({ opType: "Identity", inputs: [nameOf(t)], outputs: [key], name: `out_${key}` });
  }
  const splits: Record<string, SplitOutput> = {};
  const outs: OnnxValueInfo[] = [];
  for (const [key, t] of entries) {
    const limit = opts.splitOutputsOver;
    const shape = t.shape as number[];
    const bytes = shape.every((d) => typeof d === "number") ? shape.reduce((a, b) => a * b, 1) * (t.dtype === "float64" || t.dtype === "int64" ? 8 : t.dtype === "bool" ? 1 : 4) : 0;
    if (!limit || bytes <= limit || shape.length === 0 || shape[0] < 2) {
      outs.push({ name: key, dtype: t.dtype, shape: t.shape });
      continue;
    }
    const k = Math.min(shape[0], Math.ceil(bytes / limit));
    const rows = Array.from({ length: k }, (_, i) => Math.floor((shape[0] * (i + 1)) / k) - Math.floor((shape[0] * i) / k));
    const parts = rows.map((_, i) => `${key}__part${i}`);
    // The producer wrote `key`; rename that value and split it into the parts.
    const whole = (v: string) => (v === key ? `${key}__whole` : v);
    for (const n of onnxNodes) {
      n.outputs = n.outputs.map(whole);
      n.inputs = n.inputs.map(whole);
    }
    onnxNodes.push({ opType: "Split", inputs: [`${key}__whole`, ctx.constant(ndarray("int64", [k], rows))], outputs: parts, name: `split_${key}`, attrs: { axis: { i: 0 } } });
    parts.forEach((name, i) => outs.push({ name, dtype: t.dtype, shape: [rows[i], ...shape.slice(1)] }));
    splits[key] = { parts, shape };
  }

  const inputs: OnnxValueInfo[] = [];
  for (const t of [...graph.inputs, ...graph.params.values()]) {
    if (!usedLeaves.has(t.id)) continue;
    if (opts.paramsAsInitializers && t.source.kind === "param") continue;
    inputs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
  }
  for (const t of usedLeaves.values()) {
    if (t.source.kind === "const") initializers.push({ name: t.name, value: t.source.value });
    else if (opts.paramsAsInitializers && t.source.kind === "param") {
      initializers.push({ name: t.name, value: { dtype: "float32", shape: t.shape as number[], data: t.source.param.data } });
    }
  }
  if (opts.paramsAsInitializers) {
    // Counted from shapes, not buffers: the check must come before anything is encoded.
    const bytes = initializers.reduce((s, i) => s + i.value.shape.reduce((a, b) => a * b, 1) * i.value.data.BYTES_PER_ELEMENT, 0);
    if (bytes > PROTOBUF_LIMIT) {
      throw new WhetError(`lowering "${opts.name ?? "whet"}" with parameters inside: ${(bytes / 1e9).toFixed(2)} GB of weights exceed ` +
        `ONNX's 2 GB protobuf limit (whet allows ${PROTOBUF_LIMIT / 1e9} GB); ONNX external data files are not supported yet`);
    }
  }
  const usesMs = onnxNodes.some((n) => n.domain === "com.microsoft");
  const model: OnnxModel = {
    nodes: onnxNodes,
    inputs,
    outputs: outs,
    initializers,
    opsets: [{ domain: "", version: OPSET }, ...(usesMs ? [{ domain: "com.microsoft", version: 1 }] : [])],
    irVersion: 8,
    producer: "whet",
    graphName: opts.name ?? "whet",
    metadata: opts.metadata,
  };
  return { bytes: encodeModel(model), model, inputNames: inputs.map((i) => i.name), outputNames: outs.map((o) => o.name), splits };
}

function collectSymbolSources(leaves: Tensor[]): Map<string, { tensor: Tensor; axis: number }> {
  const m = new Map<string, { tensor: Tensor; axis: number }>();
  // Prefer the batch inputs (declared first) over dropout masks as the source of a symbol.
  for (const t of leaves) {
    t.shape.forEach((d, axis) => {
      if (typeof d === "string" && !d.includes("*") && !m.has(d)) m.set(d, { tensor: t, axis });
    });
  }
  return m;
}
