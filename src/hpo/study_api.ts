import { WhetError } from "../core/errors.js";
import type { Direction } from "./frozen_trial.js";
import type { Pruner } from "./pruners.js";
import type { RdbStorage } from "./rdb_storage.js";
import type { Stamp } from "./rdb_schema.js";
import type { Sampler } from "./sampler.js";
import { openStorage } from "./storage_url.js";
import { Study, type HeartbeatOptions } from "./study.js";

export interface StudyOptions extends HeartbeatOptions {
  /**
   * a storage URL (sqlite:///study.db, postgresql://…) or an opened storage; default: an in-memory
   * SQLite database
   */
  storage?: string | RdbStorage;
  studyName?: string;
  sampler?: Sampler;
  pruner?: Pruner;
  /** revision for a new database file: v3.2.0.a (default, Optuna 3.2–4.x) or v3.0.0.d (Optuna 3.0/3.1) */
  newDatabaseStamp?: Stamp;
}

export interface CreateStudyOptions extends StudyOptions {
  direction?: Direction;
  directions?: Direction[];
  loadIfExists?: boolean;
}

async function storageOf(opts: StudyOptions): Promise<RdbStorage> {
  if (opts.storage !== undefined && typeof opts.storage !== "string") return opts.storage;
  return openStorage(opts.storage ?? "sqlite://", { newStamp: opts.newDatabaseStamp });
}

function checkDirections(dirs: Direction[]): Direction[] {
  for (const d of dirs) if (d !== "minimize" && d !== "maximize")
    throw new WhetError(`direction must be "minimize" or "maximize", got "${d}"`);
  if (dirs.length === 0) throw new WhetError("a study needs at least one direction");
  return dirs;
}

/**
 * Optuna's create_study: a new study in the storage, or with `loadIfExists` the existing one
 * (whose directions must match).
 *
 * @example
 * import { createStudy } from "whetml";
 * const study = await createStudy({ storage: "sqlite:///search.db", studyName: "demo", direction: "maximize",
 * loadIfExists: true });
 * await study.optimize(async (t) => -((await t.suggestFloat("x", -5, 5)) - 2) ** 2, { nTrials: 20 });
 */
export async function createStudy(opts: CreateStudyOptions = {}): Promise<Study> {
  if (opts.direction !== undefined && opts.directions !== undefined)
    throw new WhetError("give direction or directions, not both");
  const directions = checkDirections(opts.directions ?? [opts.direction ?? "minimize"]);
  const storage = await storageOf(opts);
  const name = opts.studyName ?? `no-name-${crypto.randomUUID()}`;
  const existing = await storage.findStudy(name);
  if (existing !== null && opts.loadIfExists) {
    if (existing.directions.join() !== directions.join()) {
      throw new WhetError(`study "${name}" in ${storage.db.where} was created to ${existing.directions.join(", ")}, ` +
        `not to ${directions.join(", ")}: use the same direction, or another study name`);
    }
    return new Study(storage, existing.studyId, name, directions, opts.sampler, opts.pruner, opts);
  }
  const id = await storage.createStudy(name, directions);
  return new Study(storage, id, name, directions, opts.sampler, opts.pruner, opts);
}

/** Optuna's load_study: an existing study by name. */
export async function loadStudy(opts: StudyOptions & { studyName: string }): Promise<Study> {
  const storage = await storageOf(opts);
  const found = await storage.findStudy(opts.studyName);
  if (found === null) {
    const names = await storage.studyNames();
    throw new WhetError(`no study named "${opts.studyName}" in ${storage.db.where}` +
      (names.length > 0 ? `; it has: ${names.join(", ")}` : "; it has no studies"));
  }
  return new Study(storage, found.studyId, opts.studyName, found.directions, opts.sampler, opts.pruner, opts);
}
