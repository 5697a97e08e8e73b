import * as ort from "onnxruntime-node";
import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { NDArray, TypedData } from "../core/ndarray.js";
import type { Graph } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { lowerGraph, type LowerOptions, type SplitOutput } from "./lower.js";

export interface SessionOptions extends LowerOptions {
  /** Intra-op threads; default: ONNX Runtime's choice (all cores). */
  threads?: number;
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: "float32", float64: "float64", int64: "int64", bool: "bool" };
const FROM_ORT: Record<string, DType> = { float32: "float32", float64: "float64", int64: "int64", bool: "bool" };

function allocLike(a: TypedData, n: number): TypedData {
  return new (a.constructor as new (n: number) => TypedData)(n);
}

/**
 * A graph compiled into one ONNX Runtime session. Create once, run every step: ORT reuses the
 * session's kernels and memory plan across runs and sizes.
 */
export class CompiledGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    readonly bytes: Uint8Array,
    private readonly splits: Record<string, SplitOutput>,
  ) {}

  static async compile(graph: Graph, outputs: Record<string, Tensor>, opts: SessionOptions = {}): Promise<CompiledGraph> {
    const lowered = lowerGraph(graph, outputs, opts);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(lowered.bytes, {
        graphOptimizationLevel: "all",
        intraOpNumThreads: opts.threads ?? 0,
        interOpNumThreads: 1,
        executionMode: "sequential",
        enableCpuMemArena: true,
        enableMemPattern: true,
        // WHET_ORT_PROFILE=prefix writes ONNX Runtime's per-node timing JSON (chrome://tracing format).
        ...(process.env.WHET_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.WHET_ORT_PROFILE } : {}),
      });
    } catch (e) {
      throw new WhetError(`compiling graph "${opts.name ?? "whet"}" in ONNX Runtime failed: ${(e as Error).message}`);
    }
    return new CompiledGraph(session, lowered.inputNames, lowered.outputNames, lowered.bytes, lowered.splits);
  }

  /**
   * Run with host arrays (no copy on the way in); returns the outputs by name. Outputs named in
   * `into` are written into those arrays (same dtype and size) instead of freshly allocated ones,
   * so a training loop can double-buffer its parameters rather than allocate them every step.
   */
  async run(feeds: Record<string, NDArray>, into: Record<string, NDArray> = {}): Promise<Record<string, NDArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const f = feeds[name];
      if (!f) throw new WhetError(`running the compiled graph: no value fed for input "${name}"`);
      ortFeeds[name] = new ort.Tensor(ORT_TYPE[f.dtype], f.data as never, f.shape as number[]);
    }
    // onnxruntime-node returns a copy even of preallocated outputs, so outputs are fetched plainly
    // and copied into `into` here: one warm memcpy, no fresh pages.
    const res = await this.session.run(ortFeeds);
    const out: Record<string, NDArray> = {};
    const parted = new Set(Object.values(this.splits).flatMap((s) => s.parts));
    for (const name of this.outputNames) {
      if (parted.has(name)) continue;
      const t = res[name];
      const data = t.data as TypedData;
      const target = into[name];
      if (target && target.data.length === data.length) {
        (target.data as Float32Array).set(data as Float32Array);
        out[name] = { dtype: FROM_ORT[t.type], shape: [...t.dims], data: target.data };
      } else out[name] = { dtype: FROM_ORT[t.type], shape: [...t.dims], data };
    }
    for (const [name, s] of Object.entries(this.splits)) {
      const first = res[s.parts[0]];
      const n = s.shape.reduce((a, b) => a * b, 1);
      const target = into[name];
      const data = target && target.data.length === n ? target.data : allocLike(first.data as TypedData, n);
      let off = 0;
      for (const p of s.parts) {
        const d = res[p].data as Float32Array;
        (data as Float32Array).set(d, off);
        off += d.length;
      }
      out[name] = { dtype: FROM_ORT[first.type], shape: [...s.shape], data };
    }
    return out;
  }

  async release(): Promise<void> {
    if (process.env.WHET_ORT_PROFILE) this.session.endProfiling();
    await this.session.release();
  }
}
