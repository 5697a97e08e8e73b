/**
 * Gradual unfreezing (ULMFiT): the head trains alone first, then one more encoder layer joins
 * from the top at each stage, the lowest layer together with the embeddings. A stage is an epoch,
 * or `everySteps` optimizer steps.
 *
 * @example
 * const plan = new UnfreezingPlan(model, { everySteps: undefined });
 * plan.apply(plan.stageAt({ epoch: 1, globalStep: 32 })); // head + the top layer trainable
 * trainer.addCallback(new GradualUnfreezingCallback(plan, () => trainer.refreshTrainable()));
 */
import { UsageError } from "../core/errors.js";
import type { ParamSpec } from "../graph/param.js";
import type { TaskModel } from "../models/auto.js";
import type { TrainerCallback, TrainerState } from "./callbacks.js";
import { depthOf, modelLayout, type ModelLayout } from "./param_groups.js";

export interface UnfreezingOptions {
  /** Unfreeze one more layer every N optimizer steps instead of every epoch. */
  everySteps?: number;
  /** Parameters that never train (the freeze option, or flags set by the caller). */
  frozen?: ReadonlySet<string>;
}

export class UnfreezingPlan {
  readonly layout: ModelLayout;
  private readonly params: ParamSpec[];
  private readonly frozen: ReadonlySet<string>;
  private readonly depth: Map<string, number>;

  constructor(model: TaskModel, private readonly o: UnfreezingOptions = {}) {
    this.layout = modelLayout(model);
    this.params = model.parameters();
    this.frozen = o.frozen ?? new Set();
    this.depth = new Map(this.params.map((p) => [p.name, depthOf(p.name, this.layout)]));
    if (!this.params.some((p) => this.depth.get(p.name) === 0 && !this.frozen.has(p.name))) {
      throw new UsageError("gradual_unfreezing (--gradual-unfreezing) starts with the head alone, " +
        "but every head parameter is frozen (see freeze / --freeze)");
    }
  }

  /** The last stage: every layer and the embeddings trainable. */
  get lastStage(): number {
    return this.layout.numLayers;
  }

  /** The stage in force for the step about to run (epoch: 0-based index; globalStep: steps done). */
  stageAt(at: { epoch: number; globalStep: number }): number {
    const s = this.o.everySteps ? Math.floor(at.globalStep / this.o.everySteps) : at.epoch;
    return Math.min(s, this.lastStage);
  }

  /** Whether a parameter trains at a stage: the head and the top s layers; the last stage adds the embeddings. */
  trainsAt(name: string, stage: number): boolean {
    if (this.frozen.has(name)) return false;
    const d = this.depth.get(name)!;
    return d <= stage || (stage === this.lastStage && d === this.lastStage + 1);
  }

  /** Set every parameter's requiresGrad for the stage; returns the names that train. */
  apply(stage: number): string[] {
    const on: string[] = [];
    for (const p of this.params) {
      p.requiresGrad = this.trainsAt(p.name, stage);
      if (p.requiresGrad) on.push(p.name);
    }
    return on;
  }

  /** "head + layers 11-10" for logs. */
  describe(stage: number): string {
    const L = this.lastStage;
    if (stage === 0) return "head only";
    if (stage >= L) return "everything";
    return `head + layer${stage > 1 ? "s" : ""} ${L - 1}${stage > 1 ? `-${L - stage}` : ""}`;
  }
}

/**
 * Applies the plan's stage before each step and has the Trainer follow the new trainable set
 * (`refresh`: Trainer.refreshTrainable). The stage is a pure function of the position in the
 * run, so a resumed run lands on the same stage as an uninterrupted one.
 */
export class GradualUnfreezingCallback implements TrainerCallback {
  private stage = -1;

  constructor(
    private readonly plan: UnfreezingPlan,
    private readonly refresh: () => Promise<boolean>,
    private readonly log?: (line: string) => void,
  ) {}

  async onStepBegin(state: TrainerState): Promise<void> {
    // state.epoch is epoch + done/steps-in-epoch: its floor is the epoch being run.
    const stage = this.plan.stageAt({ epoch: Math.floor(state.epoch), globalStep: state.globalStep });
    if (stage === this.stage) return;
    this.stage = stage;
    this.plan.apply(stage);
    const changed = await this.refresh();
    if (changed) this.log?.(`gradual unfreezing at step ${state.globalStep}: ${this.plan.describe(stage)} trainable`);
  }
}
