import * as ort from "onnxruntime-node";
import { availableParallelism } from "node:os";
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

/** An output as returned by ONNX Runtime: one array, or the row blocks of a split output in order. */
export interface OutputBlocks {
  dtype: DType;
  shape: number[];
  blocks: TypedData[];
}

/** The blocks joined into one array (no copy when there is one block). */
export function joinBlocks(o: OutputBlocks): NDArray {
  if (o.blocks.length === 1) return { dtype: o.dtype, shape: o.shape, data: o.blocks[0] };
  const data = allocLike(o.blocks[0], o.blocks.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of o.blocks) {
    (data as Float32Array).set(b as Float32Array, off);
    off += b.length;
  }
  return { dtype: o.dtype, shape: o.shape, data };
}

let threadsNoted = false;

/**
 * More threads than cores only costs memory (each has a stack and an arena): clamp, and say so
 * once. 0 lets ONNX Runtime choose (all cores).
 */
export function clampThreads(threads: number | undefined, note: (m: string) => void = (m) => void process.stderr.write(`whet: ${m}\n`)): number {
  if (threads === undefined) return 0;
  if (!Number.isInteger(threads) || threads < 0) throw new WhetError(`threads must be a whole number of at least 1, got ${threads}`);
  const cores = availableParallelism();
  if (threads <= cores) return threads;
  if (!threadsNoted) note(`threads ${threads} is more than this machine's ${cores} cores: using ${cores}`);
  threadsNoted = true;
  return cores;
}

/**
 * ONNX Runtime's own log lines carry colour codes that cannot be turned off: with NO_COLOR only
 * fatal ones are printed (errors reach whet as exceptions and are reported plainly), otherwise
 * errors. WHET_ORT_LOG_LEVEL (0 verbose … 4 fatal) overrides.
 */
export function ortLogSeverity(env: Record<string, string | undefined> = process.env): 0 | 1 | 2 | 3 | 4 {
  const explicit = Number(env.WHET_ORT_LOG_LEVEL);
  if (env.WHET_ORT_LOG_LEVEL && [0, 1, 2, 3, 4].includes(explicit)) return explicit as 0 | 1 | 2 | 3 | 4;
  return env.NO_COLOR !== undefined && env.NO_COLOR !== "" ? 4 : 3;
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
        intraOpNumThreads: clampThreads(opts.threads),
        logSeverityLevel: ortLogSeverity(),
        interOpNumThreads: 1,
        executionMode: "sequential",
        enableCpuMemArena: true,
        // ORT's memory pattern plans one block per input shape seen and keeps each: with dynamic
        // batch and sequence sizes it only adds memory (BERT-mini 32×128 step: peak RSS 1,324 →
        // 888 MB without it, BERT-base-sized 8×128: 4,211 → 3,500 MB, the same speed).
        enableMemPattern: false,
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
   * `into` are copied into those arrays (same size) once the run has finished — they may be the
   * very arrays fed as inputs, which lets a training step update its buffers in place — but only
   * after `check` has seen the other outputs and not thrown: a failed check leaves `into` as it was.
   */
  async run(feeds: Record<string, NDArray>, into: Record<string, NDArray> = {}, check?: (out: Record<string, NDArray>) => void): Promise<Record<string, NDArray>> {
    // onnxruntime-node copies every output into a fresh ArrayBuffer (preallocated ones too), so
    // outputs are fetched plainly and copied into `into` here: one warm memcpy, no fresh pages.
    const res = await this.session.run(this.ortFeeds(feeds));
    const out: Record<string, NDArray> = {};
    const parted = new Set(Object.values(this.splits).flatMap((s) => s.parts));
    const pending: [NDArray, () => TypedData][] = [];
    for (const name of this.outputNames) {
      if (parted.has(name)) continue;
      const t = res[name];
      const target = into[name];
      const data = t.data as TypedData;
      if (target && target.data.length === data.length) pending.push([target, () => data]);
      else out[name] = { dtype: FROM_ORT[t.type], shape: [...t.dims], data };
    }
    for (const [name, s] of Object.entries(this.splits)) {
      const first = res[s.parts[0]];
      const n = s.shape.reduce((a, b) => a * b, 1);
      const target = into[name] && into[name].data.length === n ? into[name] : null;
      const assemble = (dest: TypedData): TypedData => {
        let off = 0;
        for (const p of s.parts) {
          const d = res[p].data as Float32Array;
          (dest as Float32Array).set(d, off);
          off += d.length;
        }
        return dest;
      };
      if (target) pending.push([target, () => assemble(target.data)]);
      else out[name] = { dtype: FROM_ORT[first.type], shape: [...s.shape], data: assemble(allocLike(first.data as TypedData, n)) };
    }
    check?.(out);
    for (const [target, source] of pending) {
      const data = source();
      if (data !== target.data) (target.data as Float32Array).set(data as Float32Array);
    }
    for (const name of Object.keys(into)) if (this.outputNames.includes(name) || this.splits[name]) out[name] = into[name];
    return out;
  }

  /**
   * Run and return every output as the blocks it came back in (one block, or the parts of an
   * output split by `splitOutputsOver`), without joining them: a caller that walks the values
   * once (the host optimizer over the gradients) saves the copy and the fresh allocation.
   */
  async runBlocks(feeds: Record<string, NDArray>): Promise<Record<string, OutputBlocks>> {
    const res = await this.session.run(this.ortFeeds(feeds));
    const out: Record<string, OutputBlocks> = {};
    const parted = new Set(Object.values(this.splits).flatMap((s) => s.parts));
    for (const name of this.outputNames) {
      if (parted.has(name)) continue;
      const t = res[name];
      out[name] = { dtype: FROM_ORT[t.type], shape: [...t.dims], blocks: [t.data as TypedData] };
    }
    for (const [name, s] of Object.entries(this.splits)) {
      const first = res[s.parts[0]];
      out[name] = { dtype: FROM_ORT[first.type], shape: [...s.shape], blocks: s.parts.map((p) => res[p].data as TypedData) };
    }
    return out;
  }

  private ortFeeds(feeds: Record<string, NDArray>): Record<string, ort.Tensor> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const f = feeds[name];
      if (!f) throw new WhetError(`running the compiled graph: no value fed for input "${name}"`);
      ortFeeds[name] = new ort.Tensor(ORT_TYPE[f.dtype], f.data as never, f.shape as number[]);
    }
    return ortFeeds;
  }

  async release(): Promise<void> {
    if (process.env.WHET_ORT_PROFILE) this.session.endProfiling();
    await this.session.release();
  }
}
