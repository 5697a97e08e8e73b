import { Rng } from "../core/rng.js";
import { WhetError } from "../core/errors.js";
import { toInternal, type Choice, type Distribution } from "./distributions.js";
import type { FrozenTrial, StudySnapshot } from "./frozen_trial.js";
import { freshSeed, type Sampler } from "./sampler.js";

/**
 * Optuna's GridSampler: every combination of the listed values once, in random order. A trial's
 * grid point is recorded as the system attributes `search_space` and `grid_id` (Optuna's names), so
 * workers sharing a study, Python ones included, take points not yet taken; once all are taken
 * the study stops.
 */
export class GridSampler implements Sampler {
  readonly name = "GridSampler";
  readonly seed: number;
  private readonly names: string[];
  private readonly grid: Choice[][];
  private readonly space: Record<string, Choice[]>;

  constructor(space: Record<string, readonly Choice[]>, opts: { seed?: number } = {}) {
    this.seed = opts.seed ?? freshSeed();
    this.names = Object.keys(space).sort();
    this.space = Object.fromEntries(this.names.map((n) => [n, [...space[n]]]));
    for (const n of this.names) {
      if (this.space[n].length === 0) throw new WhetError(`grid sampler: parameter "${n}" has no values`);
    }
    this.grid = product(this.names.map((n) => this.space[n]));
  }

  get size(): number {
    return this.grid.length;
  }

  beforeTrial(study: StudySnapshot, trial: FrozenTrial): Record<string, unknown> {
    if ("grid_id" in trial.systemAttrs || "fixed_params" in trial.systemAttrs) return {};
    let free = this.unvisited(study);
    // all taken (other workers raced us): revisit, as Optuna does
    if (free.length === 0) free = this.grid.map((_, i) => i);
    const gridId = free[new Rng(this.seed, trial.number).int(free.length)];
    trial.systemAttrs.search_space = this.space;
    trial.systemAttrs.grid_id = gridId;
    return { search_space: this.space, grid_id: gridId };
  }

  inferRelativeSearchSpace(): Record<string, Distribution> {
    return {};
  }

  sampleRelative(): Record<string, number> {
    return {};
  }

  sampleIndependent(_study: StudySnapshot, trial: FrozenTrial, name: string, dist: Distribution): number {
    const i = this.names.indexOf(name);
    const gridId = trial.systemAttrs.grid_id;
    if (i < 0)
      throw new WhetError(`grid sampler: parameter "${name}" is not in the grid (it has ${this.names.join(", ")})`);
    if (typeof gridId !== "number") throw new WhetError(`grid sampler: trial ${trial.number} has no grid point`);
    return toInternal(dist, this.grid[gridId][i]);
  }

  afterTrial(study: StudySnapshot): boolean {
    return this.unvisited(study).length === 0;
  }

  private unvisited(study: StudySnapshot): number[] {
    const taken = new Set<number>();
    for (const t of study.trials) {
      const id = t.systemAttrs.grid_id;
      if (typeof id === "number" && t.state !== "WAITING" &&
        sameSpace(t.systemAttrs.search_space, this.space)) taken.add(id);
    }
    return this.grid.map((_, i) => i).filter((i) => !taken.has(i));
  }
}

function sameSpace(a: unknown, b: Record<string, Choice[]>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function product(lists: Choice[][]): Choice[][] {
  let out: Choice[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((v) => [...prefix, v]));
  return out;
}
