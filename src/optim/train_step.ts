import { NonFiniteError, WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { Graph } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { bindSymbols, maskFeeds } from "../runtime/masks.js";
import { adamwScalarValues, groupScalarValues, type AdamWHyper } from "./adamw.js";
import { FlatLayout } from "./flat_layout.js";
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
 * copy, and the updated values are copied back over them once the step is known good. Changing which parameters are trainable (gradual unfreezing) recompiles
 * the step — compiled programs are kept per trainable set — and keeps every moment.
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
  private readonly maskBuffers = new Map<number, Float32Array | Float64Array>();
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
    };
    const trainable = o.params.filter((p) => p.requiresGrad);
    const program = await compileProgram(spec, trainable, slotsOf(trainable, groupOf, () => 0));
    return new TrainStep(program, spec, o.params, groups, hyper, o.seed ?? 42);
  }

  /** The training graph of the current trainable set (the fused step, or the accumulation graph). */
  get graph(): Graph {
    return this.program.graph;
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
    const feeds = { ...this.forwardFeeds(batch), ...this.optimizerFeeds(lr) };
    // The updated values are written over the fed buffers, after the loss is known to be finite.
    const out = await this.program.main.run(feeds, this.optimizerInto(), (o) => this.checkLoss(o, t));
    const loss = Number(out.loss.data[0]);
    this.stepped(t);
    this.micro++;
    return { loss, gradNorm: Number(out.grad_norm.data[0]), outputs: this.extras(out) };
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
    this.layout.slots.forEach((s, k) => {
      feeds[`acc.${k}`] = f32([s.size], s.acc!);
      into[`new_acc.${k}`] = f32([s.size], s.acc!);
    });
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
    const feeds = this.optimizerFeeds(lr);
    this.layout.slots.forEach((s, k) => void (feeds[`grad.${k}`] = f32([s.size], s.acc!)));
    const out = await apply.run(feeds, this.optimizerInto(), (o) => {
      const n = Number(o.grad_norm.data[0]);
      if (!Number.isFinite(n)) throw new NonFiniteError(`training step ${t}: the gradient norm is ${n}; parameters were left as they were after step ${t - 1}`);
    });
    const norm = Number(out.grad_norm.data[0]);
    for (const s of this.layout.slots) s.acc!.fill(0);
    this.stepped(t);
    this.pendingMicro = 0;
    return { gradNorm: norm };
  }

  private forwardFeeds(batch: Record<string, NDArray>): Record<string, NDArray> {
    this.layout.adopt();
    const env = bindSymbols(this.graph, batch);
    const feeds: Record<string, NDArray> = { ...batch, ...maskFeeds(this.graph, env, this.seed, this.micro, this.maskBuffers) };
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

  private optimizerFeeds(lr: number): Record<string, NDArray> {
    const feeds: Record<string, NDArray> = {};
    const scalar = (v: number): NDArray => ({ dtype: "float32", shape: [], data: Float32Array.of(v) });
    for (const [k, v] of Object.entries(adamwScalarValues(this.hyper))) feeds[`adamw.${k}`] = scalar(v);
    this.program.slots.forEach((slot, k) => {
      const gr = this.groups[slot.group];
      const t = (this.paramSteps.get(slot.members[0].name) ?? 0) + 1;
      const values = groupScalarValues(this.hyper, lr * (gr.lrScale ?? 1), gr.weightDecay, t);
      for (const [n, v] of Object.entries(values)) feeds[`adamw.slot${k}.${n}`] = scalar(v);
    });
    this.layout.slots.forEach((s, k) => {
      feeds[`flat.p.${k}`] = f32([s.size], s.params);
      feeds[`m.${k}`] = f32([s.size], s.m);
      feeds[`v.${k}`] = f32([s.size], s.v);
    });
    return feeds;
  }

  /** The optimizer's outputs land in the buffers they were computed from. */
  private optimizerInto(): Record<string, NDArray> {
    const into: Record<string, NDArray> = {};
    this.layout.slots.forEach((s, k) => {
      into[`new_p.${k}`] = f32([s.size], s.params);
      into[`new_m.${k}`] = f32([s.size], s.m);
      into[`new_v.${k}`] = f32([s.size], s.v);
    });
    return into;
  }

  private checkLoss(out: Record<string, NDArray>, t: number): void {
    const loss = Number(out.loss.data[0]);
    if (!Number.isFinite(loss)) throw new NonFiniteError(`training step ${t}: the loss is ${loss}; parameters were left as they were after step ${t - 1}`);
  }

  private extras(out: Record<string, NDArray>): Record<string, NDArray> {
    const outputs: Record<string, NDArray> = {};
    for (const k of this.program.extraOutputs) outputs[k] = out[`out.${k}`];
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
