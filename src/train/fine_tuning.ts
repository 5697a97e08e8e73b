/**
 * A run's fine-tuning strategy — frozen modules, layer-wise learning rates, free-form groups and
 * gradual unfreezing — as the Trainer uses it: optimizer groups before the step is compiled,
 * the stages of gradual unfreezing (applied by GradualUnfreezingCallback), and a summary for the run record.
 *
 * @example
 * const ft = new FineTuning(model, args, { epochs: 3 }); // applies freeze, and stage 0 of gradual unfreezing
 * const step = await TrainStep.compile({ ...stepOptions, groups: ft.groups, groupOf: ft.groupOf });
 * ft.record().groups; // [{ name: "head", lr: 2e-5, weight_decay: 0.01, tensors: 2, parameters: 591360, … }, …]
 */
import { UsageError } from "../core/errors.js";
import type { ParamSpec } from "../graph/param.js";
import type { TaskModel } from "../models/auto.js";
import type { TrainingArguments } from "./arguments.js";
import { planParamGroups, type NamedParamGroup } from "./param_groups.js";
import { UnfreezingPlan } from "./unfreezing.js";

/** The options of TrainingArguments that shape the optimizer groups and the trainable set. */
export type StrategyArguments = Pick<TrainingArguments, "learning_rate" | "weight_decay" | "freeze"
  | "layerwise_lr_decay" | "gradual_unfreezing" | "unfreeze_every_steps" | "param_groups">;

/** One group as run.json lists it: its tensors and values, and how many of them train from the first step. */
export interface GroupRecord {
  name: string;
  lr: number;
  weight_decay: number;
  tensors: number;
  parameters: number;
  trainable_at_start: number;
}

/** run.json's `fine_tuning`: the groups, the counts at the start, and gradual unfreezing's stages. */
export interface FineTuningRecord {
  groups: GroupRecord[];
  trainable_parameters: number;
  total_parameters: number;
  frozen: string[];
  unfreezing?: { stage: number; trainable: string; trainable_parameters: number }[];
}

export class FineTuning {
  readonly groups: NamedParamGroup[];
  readonly groupOf: (p: ParamSpec) => number;
  readonly unfreezing: UnfreezingPlan | null;
  private readonly params: ParamSpec[];
  /** Never trained in this run: by `freeze`, or frozen by the caller before training. */
  private readonly frozen: ReadonlySet<string>;

  /**
   * Freezes what `freeze` names (and what the caller froze already) at once; `epochs` is the
   * number of epochs the run will take, which epoch-wise unfreezing needs to be at least 2.
   */
  constructor(model: TaskModel, a: StrategyArguments, o: { epochs: number; log?: (line: string) => void }) {
    const plan = planParamGroups(model, {
      learningRate: a.learning_rate, weightDecay: a.weight_decay, freeze: a.freeze,
      layerwiseLrDecay: a.layerwise_lr_decay, paramGroups: a.param_groups,
    });
    this.params = model.parameters();
    for (const p of this.params) if (plan.frozen.has(p.name)) p.requiresGrad = false;
    // A parameter the caller froze before training stays frozen, as torch leaves requires_grad alone.
    const frozen = new Set(this.params.filter((p) => !p.requiresGrad).map((p) => p.name));
    this.frozen = frozen;
    if (frozen.size === this.params.length) {
      throw new UsageError("training: every parameter of the model is frozen: nothing would train");
    }
    this.groups = plan.groups;
    this.groupOf = plan.groupOf;
    const everySteps = a.unfreeze_every_steps;
    this.unfreezing = a.gradual_unfreezing ? new UnfreezingPlan(model, { everySteps, frozen }) : null;
    if (this.unfreezing && !a.unfreeze_every_steps && o.epochs < 2) {
      throw new UsageError("gradual_unfreezing (--gradual-unfreezing) unfreezes one layer per epoch, " +
        `but this run takes ${o.epochs} epoch: give 2 or more, or unfreeze_every_steps`);
    }
    if (this.unfreezing && !a.unfreeze_every_steps && o.epochs <= this.unfreezing.lastStage) {
      const reach = this.unfreezing.describe(o.epochs - 1);
      o.log?.(`gradual unfreezing: ${o.epochs} epochs reach ${reach}; the embeddings and lower layers stay frozen`);
    }
    if (this.unfreezing) this.unfreezing.apply(0);
  }

  /** Trainable and total parameter counts right now. */
  counts(): { trainable: number; total: number } {
    const size = (ps: ParamSpec[]) => ps.reduce((s, p) => s + p.data.length, 0);
    return { trainable: size(this.params.filter((p) => p.requiresGrad)), total: size(this.params) };
  }

  /** The optimizer groups for run.json: names, peak lr, weight decay, trainable tensors and values. */
  record(): FineTuningRecord {
    const byName = new Map(this.params.map((p) => [p.name, p]));
    const size = (ps: ParamSpec[]) => ps.reduce((s, p) => s + p.data.length, 0);
    const groups = this.groups.map((g) => {
      const members = g.params.map((n) => byName.get(n)!);
      const live = members.filter((p) => p.requiresGrad);
      return {
        name: g.name, lr: g.lr, weight_decay: g.weightDecay, tensors: members.length, parameters: size(members),
        trainable_at_start: size(live),
      };
    });
    const { trainable, total } = this.counts();
    const plan = this.unfreezing;
    const unfreezing = plan && Array.from({ length: plan.lastStage + 1 }, (_, stage) => ({
      stage, trainable: plan.describe(stage),
      trainable_parameters: size(this.params.filter((p) => plan.trainsAt(p.name, stage))),
    }));
    const frozen = this.params.filter((p) => this.frozen.has(p.name)).map((p) => p.name);
    const counts = { trainable_parameters: trainable, total_parameters: total };
    return { groups, ...counts, frozen, ...(unfreezing ? { unfreezing } : {}) };
  }
}

/**
 * Trainable and total parameter counts at the start of a run with these options, without
 * touching the model's flags (for the data report, printed before training starts).
 */
export function startingCounts(model: TaskModel, a: StrategyArguments): { trainable: number; total: number } {
  const plan = planParamGroups(model, {
    learningRate: a.learning_rate, weightDecay: a.weight_decay, freeze: a.freeze, paramGroups: a.param_groups,
  });
  const unfreezing = a.gradual_unfreezing ? new UnfreezingPlan(model, { frozen: plan.frozen }) : null;
  const params = model.parameters();
  const trains = (p: ParamSpec) =>
    p.requiresGrad && !plan.frozen.has(p.name) && (!unfreezing || unfreezing.trainsAt(p.name, 0));
  const size = (ps: ParamSpec[]) => ps.reduce((s, p) => s + p.data.length, 0);
  return { trainable: size(params.filter(trains)), total: size(params) };
}

/** "4,386 of 4,386,436 parameters trainable (0.1%)". */
export function formatTrainable(c: { trainable: number; total: number }): string {
  const pct = (100 * c.trainable) / c.total;
  const share = pct >= 10 ? pct.toFixed(0) : pct.toFixed(1);
  const n = (x: number) => x.toLocaleString("en-US");
  return `Parameters: ${n(c.trainable)} of ${n(c.total)} trainable (${share}%)`;
}
