import { NonFiniteError, WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { Graph } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { bindSymbols, MaskArena } from "../runtime/masks.js";
import { joinBlocks, type OutputBlocks } from "../runtime/session.js";
import type { AdamWHyper } from "./adamw.js";
import { hostAdamWScalars } from "./adamw_host.js";
import { scratchArena } from "./adamw_wasm.js";
import { FlatLayout } from "./flat_layout.js";
import { finishNorm, sumRowsById, type RowBuffer, type RowGradient } from "./sparse_rows.js";
import { compileProgram, slotsOf } from "./step_program.js";
import type { InputDecl, ParamGroup, ProgramSpec, StepProgram } from "./step_program.js";

export type { InputDecl, ParamGroup };

export interface TrainStepOptions {
  inputs: InputDecl[];
  /** Traces the forward pass and returns the scalar loss (and optional extra outputs). */
  forward: (inputs: Record<string, Tensor>) => { loss: Tensor; outputs?: Record<string, Tensor> };
  /** Every parameter of the model; frozen ones (requiresGrad false) get no gradient. */
  params: ParamSpec[];
  /** Which group each trainable parameter belongs to; default: Trainer's decay / no-decay split. */
  groupOf?: (p: ParamSpec) => number;
  groups?: ParamGroup[];
  weightDecay?: number;
  adam?: Partial<AdamWHyper>;
  /** Global-norm clipping; null or 0 turns it off. */
  maxGradNorm?: number | null;
  seed?: number;
  threads?: number;
  /** Trace the training form of dropout (default true); false gives a deterministic step. */
  dropout?: boolean;
  /**
   * Compile for gradient accumulation: `accumulate` adds scale·∇loss of a micro-batch into
   * buffers and `apply` takes the optimizer step on their sum. Otherwise one fused `step`.
   */
  accumulation?: boolean;
  /**
   * Embedding tables with at least this many values (default 2²⁰) return their gradient as the
   * batch's rows, summed per id on the host, instead of a dense table: the same update, without
   * building and copying a [V, H] array of mostly zeros each step. Not in accumulation mode.
   */
  sparseRowsFrom?: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  outputs: Record<string, NDArray>;
}

/**
 * The training step — forward, backward, global-norm clipping and AdamW — traced once per set of
 * trainable parameters and compiled into ONNX Runtime sessions. Trainable parameters, moments and
 * gradient accumulators live in a few flat Float32Arrays per slot (FlatLayout); each parameter's
 * `data` and each entry of `m`, `v` and `acc` is a view into them. Each run feeds them without a
 * copy; the graph returns the gradients and their norm, and once the loss is known to be finite
 * AdamW updates the buffers in place on the host (adamw_host.ts's formula, run by the WebAssembly
 * SIMD kernel of adamw_wasm.ts), bit for bit the graph form. Changing which parameters are
 * trainable (gradual unfreezing) recompiles the step — compiled programs are kept per trainable
 * set — and keeps every moment.
 */
export class TrainStep {
  /** Optimizer steps taken (the global step count of the run). */
  t = 0;
  /** Forward passes taken: with the seed, it keys the dropout masks, so a resumed run repeats. */
  micro = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  /**
   * AdamW steps each parameter has taken (torch keeps one per parameter): a parameter unfrozen
   * late starts its bias correction from 1.
   */
  readonly paramSteps = new Map<string, number>();
  /** Accumulated gradients (accumulation mode only). */
  readonly acc = new Map<string, Float32Array>();
  private pendingMicro = 0;
  private readonly rowBuffers = new Map<string, RowBuffer>();
  private readonly masks = new MaskArena();
  private readonly programs = new Map<string, StepProgram>();
  private layout!: FlatLayout;

  private constructor(
    private program: StepProgram,
    private readonly spec: ProgramSpec,
    private readonly params: ParamSpec[],
    readonly groups: ParamGroup[],
    readonly hyper: AdamWHyper,
    readonly seed: number,
  ) {
    this.programs.set(this.programKey(program.trainable), program);
    this.allocate(program.trainable);
  }

  static async compile(o: TrainStepOptions): Promise<TrainStep> {
    const hyper: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...o.adam };
    const wd = o.weightDecay ?? 0;
    const groups = o.groups ?? [{ weightDecay: wd }, { weightDecay: 0 }];
    const groupOf = o.groupOf ?? ((p: ParamSpec) => (p.noDecay ? 1 : 0));
    o.params.forEach((p) => {
      if (!groups[groupOf(p)]) {
        throw new WhetError(`training step: parameter ${p.name} is in group ${groupOf(p)}, but only ${groups.length} groups exist`);
      }
    });
    const spec: ProgramSpec = {
      inputs: o.inputs, forward: o.forward, groups, groupOf, threads: o.threads,
      maxNorm: o.maxGradNorm === undefined ? 1.0 : o.maxGradNorm,
      dropout: o.dropout ?? true,
      accumulation: !!o.accumulation,
      sparseRowsFrom: o.sparseRowsFrom ?? 2 ** 20,
    };
    const trainable = o.params.filter((p) => p.requiresGrad);
    const program = await compileProgram(spec, trainable, slotsOf(trainable, groupOf, () => 0));
    return new TrainStep(program, spec, o.params, groups, hyper, o.seed ?? 42);
  }

  /** The training graph of the current trainable set (the fused step, or the accumulation graph). */
  get graph(): Graph {
    return this.program.graph;
  }

  /** The embedding tables whose gradient the current program returns as rows (sparseRowsFrom). */
  get rowGradientTables(): string[] {
    return [...this.program.sparse];
  }

  /** The parameters the current program trains. */
  get trainable(): ParamSpec[] {
    return this.program.trainable;
  }

  /**
   * Follow the parameters' `requiresGrad` flags: when the trainable set changed, switch to its
   * compiled program (compiling it the first time). Moments and step counts of every parameter
   * are kept; a newly trainable one starts with zero moments and step count 0. Returns whether
   * the set changed.
   */
  async updateTrainable(): Promise<boolean> {
    const trainable = this.params.filter((p) => p.requiresGrad);
    const key = this.programKey(trainable);
    if (key === this.programKey(this.program.trainable)) return false;
    if (this.pendingMicro > 0) {
      throw new WhetError("training step: the trainable parameters changed between accumulate() and applyStep()");
    }
    let program = this.programs.get(key);
    if (!program) {
      const slots = slotsOf(trainable, this.spec.groupOf, (p) => this.paramSteps.get(p.name) ?? 0);
      program = await compileProgram(this.spec, trainable, slots);
      this.programs.set(key, program);
    }
    this.program = program;
    this.allocate(trainable);
    return true;
  }

  /** Programs are keyed by the trainable set and by how it splits into step-count slots. */
  private programKey(trainable: readonly ParamSpec[]): string {
    return slotsOf(trainable, this.spec.groupOf, (p) => this.paramSteps.get(p.name) ?? 0)
      .map((s) => s.members.map((p) => p.name).join(",")).join("|");
  }

  /** Lay the program's trainable parameters and their state out flat (copying what exists). */
  private allocate(trainable: readonly ParamSpec[]): void {
    for (const p of trainable) if (!this.paramSteps.has(p.name)) this.paramSteps.set(p.name, 0);
    this.layout = new FlatLayout(this.program.slots, { m: this.m, v: this.v, acc: this.acc }, this.spec.accumulation);
  }

  /**
   * One optimizer step on `batch` at learning rate `lr`. A NaN or infinite loss throws before any
   * buffer changes, so the state stays that of the last good step.
   */
  async step(batch: Record<string, NDArray>, lr: number): Promise<StepResult> {
    if (this.program.apply) throw new WhetError("training step: compiled for accumulation; call accumulate() then applyStep()");
    const t = this.t + 1;
    const out = await this.program.main.runBlocks(this.forwardFeeds(batch));
    const loss = this.checkLoss(out, t);
    const rows = this.rowGradients(out);
    const { norm, coef } = rows.size
      ? finishNorm(scalarOf(out.grad_sq), [...rows.values()].map((r) => r.squaredSum), this.spec.maxNorm)
      : { norm: scalarOf(out.grad_norm), coef: clipCoefOf(out) };
    // The update is written over the fed buffers, after the loss is known to be finite.
    this.update(lr, coef, (p) => out[`grad.${p.name}`].blocks as Float32Array[], rows);
    this.stepped(t);
    this.micro++;
    return { loss, gradNorm: norm, outputs: this.extras(out) };
  }

  /** The row gradients of the tables the program returns that way, summed per id. */
  private rowGradients(out: Record<string, OutputBlocks>): Map<string, RowGradient> {
    const rows = new Map<string, RowGradient>();
    for (const p of this.trainable) {
      if (!this.program.sparse.has(p.name)) continue;
      const r = joinBlocks(out[`grad_rows.${p.name}`]);
      const ids = joinBlocks(out[`grad_ids.${p.name}`]).data as BigInt64Array;
      const [tableRows, width] = p.shape as number[];
      let reuse = this.rowBuffers.get(p.name);
      if (!reuse) this.rowBuffers.set(p.name, (reuse = { data: new Float32Array(0) }));
      rows.set(p.name, sumRowsById(r.data as Float32Array, ids, width, tableRows, p.name, reuse));
    }
    return rows;
  }

  /**
   * Add scale·∇loss of one micro-batch to the gradient buffers; `scale` is the micro-batch's
   * share of the examples (or counted tokens) of the whole optimizer step.
   */
  async accumulate(batch: Record<string, NDArray>, scale: number): Promise<{ loss: number; outputs: Record<string, NDArray> }> {
    if (!this.program.apply) throw new WhetError("training step: not compiled for accumulation (accumulation: true)");
    const feeds = this.forwardFeeds(batch);
    feeds.loss_scale = { dtype: "float32", shape: [], data: Float32Array.of(scale) };
    const into: Record<string, NDArray> = {};
    for (const p of this.trainable) {
      const a = this.acc.get(p.name)!;
      feeds[`acc.${p.name}`] = f32(p.shape, a);
      into[`new_acc.${p.name}`] = f32(p.shape, a);
    }
    const out = await this.program.main.run(feeds, into, (o) => this.checkLoss(o, this.t + 1));
    const loss = Number(out.loss.data[0]);
    this.micro++;
    this.pendingMicro++;
    return { loss, outputs: this.extras(out) };
  }

  /** The optimizer step on the accumulated gradients; clears them. */
  async applyStep(lr: number): Promise<{ gradNorm: number }> {
    const apply = this.program.apply;
    if (!apply) throw new WhetError("training step: not compiled for accumulation (accumulation: true)");
    if (this.pendingMicro === 0) throw new WhetError("training step: applyStep() without any accumulate() since the last step");
    const t = this.t + 1;
    this.layout.adopt();
    const feeds: Record<string, NDArray> = {};
    for (const p of this.trainable) feeds[`grad.${p.name}`] = f32(p.shape, this.acc.get(p.name)!);
    const out = await apply.run(feeds);
    const norm = Number(out.grad_norm.data[0]);
    if (!Number.isFinite(norm)) throw new NonFiniteError(`training step ${t}: the gradient norm is ${norm}; parameters were left as they were after step ${t - 1}`);
    const coef = out.clip_coef ? Number(out.clip_coef.data[0]) : null;
    this.update(lr, coef, (p) => [this.acc.get(p.name)!]);
    for (const s of this.layout.slots) s.acc!.fill(0);
    this.stepped(t);
    this.pendingMicro = 0;
    return { gradNorm: norm };
  }

  private forwardFeeds(batch: Record<string, NDArray>): Record<string, NDArray> {
    this.layout.adopt();
    const env = bindSymbols(this.graph, batch);
    const feeds: Record<string, NDArray> = { ...batch, ...this.masks.feeds(this.graph, env, this.seed, this.micro) };
    for (const t of this.graph.params.values()) {
      if (t.source.kind === "param") feeds[t.name] = f32(t.shape as number[], t.source.param.data);
    }
    return feeds;
  }

  /** Step t went through: every trainable parameter took one more AdamW step. */
  private stepped(t: number): void {
    this.t = t;
    for (const p of this.trainable) this.paramSteps.set(p.name, (this.paramSteps.get(p.name) ?? 0) + 1);
  }

  /**
   * AdamW in place over each slot's flat buffers, with the slot's group settings and step count;
   * `gradOf` gives a parameter's gradient as the blocks it came back in, in order.
   */
  private update(lr: number, clipCoef: number | null, gradOf: (p: ParamSpec) => Float32Array[], rows = new Map<string, RowGradient>()): void {
    const arena = this.layout.arena ?? scratchArena();
    this.layout.slots.forEach((slot, k) => {
      const gr = this.groups[this.program.slots[k].group];
      const t = (this.paramSteps.get(slot.members[0].name) ?? 0) + 1;
      const s = hostAdamWScalars(this.hyper, lr * (gr.lrScale ?? 1), gr.weightDecay, t, clipCoef);
      let off = 0;
      for (const p of slot.members) {
        const r = rows.get(p.name);
        if (r) {
          const end = off + p.data.length;
          arena.updateRows(slot.params.subarray(off, end), slot.m.subarray(off, end), slot.v.subarray(off, end), r.ids, r.rows, r.width, s);
          off = end;
          continue;
        }
        for (const g of gradOf(p)) {
          const end = off + g.length;
          arena.update(slot.params.subarray(off, end), slot.m.subarray(off, end), slot.v.subarray(off, end), g, s);
          off = end;
        }
      }
    });
  }

  private checkLoss(out: Record<string, NDArray | OutputBlocks>, t: number): number {
    const o = out.loss;
    const loss = Number("blocks" in o ? o.blocks[0][0] : o.data[0]);
    if (!Number.isFinite(loss)) throw new NonFiniteError(`training step ${t}: the loss is ${loss}; parameters were left as they were after step ${t - 1}`);
    return loss;
  }

  private extras(out: Record<string, NDArray | OutputBlocks>): Record<string, NDArray> {
    const outputs: Record<string, NDArray> = {};
    for (const k of this.program.extraOutputs) {
      const o = out[`out.${k}`];
      outputs[k] = "blocks" in o ? joinBlocks(o) : o;
    }
    return outputs;
  }

  async release(): Promise<void> {
    for (const p of this.programs.values()) {
      await p.main.release();
      await p.apply?.release();
    }
    this.programs.clear();
  }
}

function f32(shape: readonly (number | string)[], data: Float32Array): NDArray {
  return { dtype: "float32", shape: shape as number[], data };
}

function scalarOf(o: OutputBlocks): number {
  return Number(o.blocks[0][0]);
}

function clipCoefOf(out: Record<string, OutputBlocks>): number | null {
  return out.clip_coef ? scalarOf(out.clip_coef) : null;
}
