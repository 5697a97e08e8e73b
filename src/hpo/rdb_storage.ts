import { WhetError } from "../core/errors.js";
import { checkCompatible, distributionFromJson, distributionToJson, toExternal,
  type Distribution } from "./distributions.js";
import type { Direction, FrozenTrial, TrialState } from "./frozen_trial.js";
import { pyDumps, pyLoads } from "./py_json.js";
import { ensureSchema, type Stamp } from "./rdb_schema.js";
import type { Row, SqlDriver, SqlExecutor } from "./sql_driver.js";
import { formatDatetime, parseDatetime } from "./sql_time.js";

export class DuplicatedStudyError extends WhetError {}

/** A trial to insert whole (Optuna's template trial: enqueue, retry, add_trial). */
export interface TrialTemplate {
  state: TrialState;
  params?: Record<string, { internal: number; dist: Distribution }>;
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
  intermediateValues?: Map<number, number>;
  values?: number[] | null;
}

/**
 * Studies and trials in Optuna's tables, following optuna/storages/_rdb/storage.py: trial numbers
 * are the count of the study's earlier trial ids, computed under the write lock, so workers never
 * share a number; values and intermediate values keep Optuna's FINITE/INF_POS/INF_NEG/NAN types;
 * a finished trial cannot change; heartbeats use the database's clock.
 */
export class RdbStorage {
  private constructor(readonly db: SqlDriver, readonly stamp: Stamp) {}

  static async open(db: SqlDriver, newStamp?: Stamp): Promise<RdbStorage> {
    return new RdbStorage(db, await ensureSchema(db, newStamp));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async createStudy(name: string, directions: Direction[]): Promise<number> {
    return this.db.transaction(async (tx) => {
      if ((await tx.all("SELECT study_id FROM studies WHERE study_name = ?", [name])).length > 0) {
        throw new DuplicatedStudyError(`a study named "${name}" already exists in ${this.db.where}; ` +
          `choose another name, or load it (--load-if-exists / loadIfExists: true)`);
      }
      const [{ study_id: id }] = (await tx.run("INSERT INTO studies (study_name) VALUES (?) RETURNING study_id",
        [name])).rows;
      for (const [i, d] of directions.entries()) {
        await tx.run("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, ?)",
          [d.toUpperCase(), id, i]);
      }
      return Number(id);
    });
  }

  async findStudy(name: string): Promise<{ studyId: number; directions: Direction[] } | null> {
    const rows = await this.db.all("SELECT study_id FROM studies WHERE study_name = ?", [name]);
    if (rows.length === 0) return null;
    const studyId = Number(rows[0].study_id);
    const dirs = await this.db.all<{ direction: string }>(
      "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective", [studyId]);
    return { studyId, directions: dirs.map((d) => d.direction.toLowerCase() as Direction) };
  }

  async studyNames(): Promise<string[]> {
    return (await this.db.all<{ study_name: string }>("SELECT study_name FROM studies ORDER BY study_id")).map((r) =>
      r.study_name);
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.db.transaction((tx) => upsertAttr(tx, "study_user_attributes", "study_id", studyId, key, value));
  }

  async studyUserAttrs(studyId: number): Promise<Record<string, unknown>> {
    const rows = await this.db.all<{ key: string; value_json: string }>('SELECT "key", value_json FROM ' +
      'study_user_attributes WHERE study_id = ?', [studyId]);
    return Object.fromEntries(rows.map((r) => [r.key, pyLoads(r.value_json)]));
  }

  /** A new trial: RUNNING now, or a whole template (WAITING for enqueue). */
  async createTrial(studyId: number, template?: TrialTemplate): Promise<{ trialId: number; number: number }> {
    return this.db.transaction(async (tx) => {
      if (this.db.dialect === "postgresql") await tx.run("SELECT study_id FROM studies WHERE study_id = ? FOR UPDATE",
        [studyId]);
      const start = template === undefined || template.state !== "WAITING" ? formatDatetime(new Date()) : null;
      const { rows } = await tx.run("INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) " +
        "VALUES (NULL, ?, 'RUNNING', ?, NULL) RETURNING trial_id", [studyId, start]);
      const trialId = Number(rows[0].trial_id);
      if (template !== undefined) await this.fillTemplate(tx, studyId, trialId, template);
      const [{ n }] = await tx.all("SELECT COUNT(trial_id) AS n FROM trials WHERE study_id = ? AND trial_id < ?",
        [studyId, trialId]);
      await tx.run("UPDATE trials SET number = ? WHERE trial_id = ?", [Number(n), trialId]);
      return { trialId, number: Number(n) };
    });
  }

  private async fillTemplate(tx: SqlExecutor, studyId: number, trialId: number, t: TrialTemplate): Promise<void> {
    for (const [name, p] of Object.entries(t.params ?? {})) await this.insertParam(tx, studyId, trialId, name,
      p.internal, p.dist);
    for (const [k, v] of Object.entries(t.userAttrs ?? {})) await upsertAttr(tx, "trial_user_attributes", "trial_id",
      trialId, k, v);
    for (const [k, v] of Object.entries(t.systemAttrs ?? {})) await upsertAttr(tx, "trial_system_attributes",
      "trial_id", trialId, k, v);
    for (const [step, v] of t.intermediateValues ?? []) await setIntermediate(tx, trialId, step, v);
    for (const [i, v] of (t.values ?? []).entries()) await setValue(tx, trialId, i, v);
    const done = t.state === "COMPLETE" || t.state === "PRUNED" || t.state === "FAIL";
    await tx.run("UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ?",
      [t.state, done ? formatDatetime(new Date()) : null, trialId]);
  }

  /** The oldest WAITING trial, claimed for this worker (RUNNING), or null. Claims are atomic. */
  async popWaitingTrial(studyId: number): Promise<number | null> {
    const waiting = await this.db.all("SELECT trial_id FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY " +
      "trial_id", [studyId]);
    for (const { trial_id } of waiting) {
      const r = await this.db.run("UPDATE trials SET state = 'RUNNING', datetime_start = ? WHERE trial_id = ? AND " +
        "state = 'WAITING'",
        [formatDatetime(new Date()), trial_id]);
      if (r.changes === 1) return Number(trial_id);
    }
    return null;
  }

  async setTrialParam(studyId: number, trialId: number, name: string, internal: number,
    dist: Distribution): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.assertUpdatable(tx, trialId);
      await this.insertParam(tx, studyId, trialId, name, internal, dist);
    });
  }

  private async insertParam(tx: SqlExecutor, studyId: number, trialId: number, name: string, internal: number,
    dist: Distribution): Promise<void> {
    const prev = await tx.all<{ distribution_json: string }>("SELECT p.distribution_json FROM trial_params p JOIN " +
      "trials t " +
      "ON p.trial_id = t.trial_id WHERE t.study_id = ? AND p.param_name = ? LIMIT 1", [studyId, name]);
    if (prev.length > 0) checkCompatible(name, distributionFromJson(prev[0].distribution_json), dist);
    await tx.run("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)",
      [trialId, name, internal, distributionToJson(dist)]);
  }

  /**
   * Finish (or start) a trial. Returns false when the trial is not in a state that allows it
   * (RUNNING requested for a trial no longer WAITING), as Optuna's set_trial_state_values does.
   */
  async setTrialState(trialId: number, state: TrialState, values?: number[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const current = await this.assertUpdatable(tx, trialId);
      for (const [i, v] of (values ?? []).entries()) await setValue(tx, trialId, i, v);
      if (state === "RUNNING" && current !== "WAITING") return false;
      const now = formatDatetime(new Date());
      if (state === "RUNNING") await tx.run("UPDATE trials SET state = ?, datetime_start = ? WHERE trial_id = ?",
        [state, now, trialId]);
      else if (state === "WAITING") await tx.run("UPDATE trials SET state = ? WHERE trial_id = ?", [state, trialId]);
      else await tx.run("UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ?", [state, now, trialId]);
      return true;
    });
  }

  async setIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.assertUpdatable(tx, trialId);
      await setIntermediate(tx, trialId, step, value);
    });
  }

  async setTrialAttr(kind: "user" | "system", trialId: number, key: string, value: unknown): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.assertUpdatable(tx, trialId);
      await upsertAttr(tx, `trial_${kind}_attributes`, "trial_id", trialId, key, value);
    });
  }

  private async assertUpdatable(tx: SqlExecutor, trialId: number): Promise<TrialState> {
    const rows = await tx.all<{ state: TrialState; number: number }>("SELECT state, number FROM trials WHERE " +
      "trial_id = ?", [trialId]);
    if (rows.length === 0) throw new WhetError(`trial id ${trialId} does not exist in ${this.db.where}`);
    const { state, number } = rows[0];
    if (state === "COMPLETE" || state === "PRUNED" || state === "FAIL") {
      throw new WhetError(`trial ${number} has already finished (${state}) and cannot be updated`);
    }
    return state;
  }

  /** Every trial of a study (optionally of some states), ordered by number, with all it recorded. */
  async trials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    return this.db.transaction((tx) => readTrials(tx, studyId, states));
  }

  async trial(trialId: number): Promise<FrozenTrial> {
    const rows = await this.db.all("SELECT study_id FROM trials WHERE trial_id = ?", [trialId]);
    if (rows.length === 0) throw new WhetError(`trial id ${trialId} does not exist in ${this.db.where}`);
    const all = await this.trials(Number(rows[0].study_id));
    return all.find((t) => t.trialId === trialId)!;
  }

  /** Optuna's record_heartbeat: the database's own clock (CURRENT_TIMESTAMP / now()). */
  async recordHeartbeat(trialId: number): Promise<void> {
    const now = this.db.dialect === "sqlite" ? "CURRENT_TIMESTAMP" : "now()";
    await this.db.run(`INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, ${now}) ` +
      `ON CONFLICT (trial_id) DO UPDATE SET heartbeat = ${now}`, [trialId]);
  }

  /** RUNNING trials whose last heartbeat is older than the grace period. */
  async staleTrialIds(studyId: number, graceSeconds: number): Promise<number[]> {
    const age = this.db.dialect === "sqlite"
      ? "(julianday(CURRENT_TIMESTAMP) - julianday(h.heartbeat)) * 86400.0"
      : "EXTRACT(EPOCH FROM (now()::timestamp - h.heartbeat))";
    const rows = await this.db.all(`SELECT t.trial_id FROM trials t JOIN trial_heartbeats h ON h.trial_id = ` +
      `t.trial_id ` +
      `WHERE t.study_id = ? AND t.state = 'RUNNING' AND ${age} > ?`, [studyId, graceSeconds]);
    return rows.map((r) => Number(r.trial_id));
  }
}

async function upsertAttr(tx: SqlExecutor, table: string, owner: string, id: number, key: string,
  value: unknown): Promise<void> {
  await tx.run(`INSERT INTO ${table} (${owner}, "key", value_json) VALUES (?, ?, ?) ` +
    `ON CONFLICT (${owner}, "key") DO UPDATE SET value_json = excluded.value_json`, [id, key, pyDumps(value)]);
}

function storedFloat(v: number, withNan: boolean): [number | null, string] {
  if (Number.isNaN(v)) {
    if (!withNan) throw new WhetError("an objective value cannot be NaN");
    return [null, "NAN"];
  }
  if (v === Infinity) return [null, "INF_POS"];
  if (v === -Infinity) return [null, "INF_NEG"];
  return [v, "FINITE"];
}

function loadFloat(v: unknown, type: string): number {
  if (type === "INF_POS") return Infinity;
  if (type === "INF_NEG") return -Infinity;
  if (type === "NAN") return Number.NaN;
  return Number(v);
}

async function setValue(tx: SqlExecutor, trialId: number, objective: number, v: number): Promise<void> {
  const [value, type] = storedFloat(v, false);
  await tx.run("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, ?) " +
    "ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, value_type = excluded.value_type",
  [trialId, objective, value, type]);
}

async function setIntermediate(tx: SqlExecutor, trialId: number, step: number, v: number): Promise<void> {
  const [value, type] = storedFloat(v, true);
  await tx.run("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) " +
    "VALUES (?, ?, ?, ?) " +
    "ON CONFLICT (trial_id, step) DO UPDATE SET intermediate_value = excluded.intermediate_value, " +
    "intermediate_value_type = excluded.intermediate_value_type", [trialId, step, value, type]);
}

async function readTrials(tx: SqlExecutor, studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
  const rows = await tx.all("SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE " +
    "study_id = ? ORDER BY trial_id", [studyId]);
  const byId = new Map<number, FrozenTrial>();
  for (const r of rows) {
    if (states !== undefined && !states.includes(r.state as TrialState)) continue;
    byId.set(Number(r.trial_id), {
      trialId: Number(r.trial_id), number: Number(r.number), state: r.state as TrialState, values: null,
      datetimeStart: parseDatetime(r.datetime_start), datetimeComplete: parseDatetime(r.datetime_complete),
      params: {}, internalParams: {}, distributions: {}, userAttrs: {}, systemAttrs: {}, intermediateValues: new Map(),
    });
  }
  const child = (table: string, cols: string): Promise<Row[]> => tx.all(`SELECT c.trial_id, ${cols} FROM ${table} c ` +
    `JOIN trials t ON t.trial_id = c.trial_id WHERE t.study_id = ?`, [studyId]);
  for (const r of await child("trial_params", "c.param_name, c.param_value, c.distribution_json")) {
    const t = byId.get(Number(r.trial_id));
    if (t === undefined) continue;
    const dist = distributionFromJson(String(r.distribution_json));
    const name = String(r.param_name);
    t.distributions[name] = dist;
    t.internalParams[name] = Number(r.param_value);
    t.params[name] = toExternal(dist, Number(r.param_value));
  }
  for (const r of await child("trial_values", "c.objective, c.value, c.value_type")) {
    const t = byId.get(Number(r.trial_id));
    if (t !== undefined) (t.values ??= [])[Number(r.objective)] = loadFloat(r.value, String(r.value_type));
  }
  for (const r of await child("trial_intermediate_values", "c.step, c.intermediate_value, c.intermediate_value_type")) {
    byId.get(Number(r.trial_id))?.intermediateValues.set(Number(r.step),
      loadFloat(r.intermediate_value, String(r.intermediate_value_type)));
  }
  for (const kind of ["user", "system"] as const) {
    for (const r of await child(`trial_${kind}_attributes`, 'c."key", c.value_json')) {
      const t = byId.get(Number(r.trial_id));
      if (t === undefined) continue;
      (kind === "user" ? t.userAttrs : t.systemAttrs)[String(r.key)] = pyLoads(String(r.value_json));
    }
  }
  for (const t of byId.values()) {
    t.intermediateValues = new Map([...t.intermediateValues].sort((a, b) => a[0] - b[0]));
    if (t.state !== "COMPLETE" && t.values !== null && t.values.length === 0) t.values = null;
  }
  return [...byId.values()].sort((a, b) => a.number - b.number);
}
