import type { Direction } from "./frozen_trial.js";
import type { Pruner } from "./pruners.js";
import type { RdbStorage } from "./rdb_storage.js";
import type { Sampler } from "./sampler.js";

/** What a Trial needs of its study. */
export interface StudyCore {
  readonly studyName: string;
  readonly studyId: number;
  readonly directions: Direction[];
  readonly storage: RdbStorage;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
}
