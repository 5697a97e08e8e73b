import { WhetError } from "../core/errors.js";
import type { Choice } from "./distributions.js";
import { FINISHED_STATES, type Direction, type FrozenTrial, type StudySnapshot,
  type TrialState } from "./frozen_trial.js";
import { MedianPruner, type Pruner } from "./pruners.js";
import type { RdbStorage } from "./rdb_storage.js";
import type { Sampler } from "./sampler.js";
import type { StudyCore } from "./study_core.js";
import { TpeSampler } from "./tpe_sampler.js";
import { Trial, TrialPruned } from "./trial.js";

export interface HeartbeatOptions {
  /** seconds between heartbeats of a running trial (Optuna's heartbeat_interval) */
  heartbeatInterval?: number;
  /** seconds without a heartbeat before a RUNNING trial becomes FAIL; default 2 × interval */
  gracePeriod?: number;
  /** re-enqueue a stale trial's parameters this many times at most (Optuna's RetryFailedTrialCallback) */
  maxRetry?: number;
}

/**
 * A study in Optuna's storage: ask/tell, or optimize with an objective.
 * Created with {@link createStudy} or {@link loadStudy} (study_api.ts).
 */
export class Study implements StudyCore {
  private stopped = false;

  constructor(readonly storage: RdbStorage, readonly studyId: number, readonly studyName: string,
    readonly directions: Direction[], readonly sampler: Sampler = new TpeSampler(),
    readonly pruner: Pruner = new MedianPruner(), readonly heartbeat: HeartbeatOptions = {}) {}

  get direction(): Direction {
    if (this.directions.length > 1) throw new WhetError("this study has several objectives: use directions");
    return this.directions[0];
  }

  async snapshot(): Promise<StudySnapshot> {
    return { studyName: this.studyName, directions: this.directions, trials: await this.storage.trials(this.studyId) };
  }

  /** All trials (or those in some states), ordered by number. */
  trials(states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    return this.storage.trials(this.studyId, states);
  }

  /** Start a trial: an enqueued (WAITING) one first, else a new one. */
  async ask(): Promise<Trial> {
    if (this.heartbeat.heartbeatInterval !== undefined) await this.failStaleTrials();
    const waiting = await this.storage.popWaitingTrial(this.studyId);
    const trialId = waiting ?? (await this.storage.createTrial(this.studyId)).trialId;
    const snapshot = await this.snapshot();
    const frozen = snapshot.trials.find((t) => t.trialId === trialId)!;
    for (const [k, v] of Object.entries(this.sampler.beforeTrial?.(snapshot, frozen) ?? {})) {
      await this.storage.setTrialAttr("system", trialId, k, v);
    }
    const space = this.sampler.inferRelativeSearchSpace(snapshot, frozen);
    const relative = this.sampler.sampleRelative(snapshot, frozen, space);
    return new Trial(this, frozen, snapshot, relative);
  }

  /**
   * Finish a trial. COMPLETE needs one finite-or-infinite value per objective (a NaN or a missing
   * value turns it into FAIL, as in Optuna); PRUNED keeps the last reported value as its value.
   */
  async tell(trial: Trial | number, values?: number | number[],
    state: "COMPLETE" | "PRUNED" | "FAIL" = "COMPLETE"): Promise<FrozenTrial> {
    const id = typeof trial === "number" ? await this.trialIdOf(trial) : trial.trialId;
    let vals = values === undefined ? undefined : Array.isArray(values) ? values : [values];
    let final: TrialState = state;
    if (state === "COMPLETE") {
      const problem = checkValues(vals, this.directions.length);
      if (problem !== null) {
        process.emitWarning(`trial ${typeof trial === "number" ? trial : trial.number} failed: ${problem}`);
        final = "FAIL";
        vals = undefined;
      }
    } else if (state === "PRUNED") {
      const t = await this.storage.trial(id);
      const steps = [...t.intermediateValues.keys()];
      const last = steps.length > 0 ? t.intermediateValues.get(Math.max(...steps))! : Number.NaN;
      vals = Number.isNaN(last) ? undefined : [last];
    } else {
      vals = undefined;
    }
    await this.storage.setTrialState(id, final, vals);
    const frozen = await this.storage.trial(id);
    if (this.sampler.afterTrial?.(await this.snapshot())) this.stop();
    return frozen;
  }

  private async trialIdOf(number: number): Promise<number> {
    const t = (await this.trials()).find((x) => x.number === number);
    if (t === undefined) throw new WhetError(`study "${this.studyName}" has no trial number ${number}`);
    return t.trialId;
  }

  /** Queue parameters for a coming trial (Optuna's enqueue_trial: a WAITING trial with fixed_params). */
  async enqueueTrial(params: Record<string, Choice>, userAttrs: Record<string, unknown> = {}): Promise<void> {
    await this.storage.createTrial(this.studyId, { state: "WAITING", systemAttrs: { fixed_params: params },
      userAttrs });
  }

  /** Ask optimize() to end after the running trial. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  resume(): void {
    this.stopped = false;
  }

  /** The best COMPLETE trial (one objective). */
  async bestTrial(): Promise<FrozenTrial> {
    const done = (await this.trials(["COMPLETE"])).filter((t) => t.values !== null);
    if (done.length === 0) throw new WhetError(`study "${this.studyName}" has no completed trial yet`);
    const sign = this.direction === "maximize" ? -1 : 1;
    return done.reduce((best, t) => (sign * t.values![0] < sign * best.values![0] ? t : best));
  }

  /**
   * Optuna's fail_stale_trials: RUNNING trials without a heartbeat for the grace period become
   * FAIL; with maxRetry, their parameters are enqueued again (system attrs failed_trial, retry_history).
   */
  async failStaleTrials(): Promise<number[]> {
    const interval = this.heartbeat.heartbeatInterval;
    if (interval === undefined) return [];
    const failed: number[] = [];
    for (const id of await this.storage.staleTrialIds(this.studyId, this.heartbeat.gracePeriod ?? 2 * interval)) {
      if (await this.storage.setTrialState(id, "FAIL").catch(() => false)) failed.push(id);
    }
    if (this.heartbeat.maxRetry === undefined) return failed;
    for (const id of failed) await this.retry(await this.storage.trial(id), this.heartbeat.maxRetry);
    return failed;
  }

  private async retry(t: FrozenTrial, maxRetry: number): Promise<void> {
    const history = [...((t.systemAttrs.retry_history as number[] | undefined) ?? []), t.number];
    if (maxRetry < history.length) return;
    const systemAttrs = { failed_trial: t.number, ...t.systemAttrs, retry_history: history };
    const params = Object.fromEntries(Object.keys(t.params).map((n) =>
      [n, { internal: t.internalParams[n], dist: t.distributions[n] }]));
    await this.storage.createTrial(this.studyId, { state: "WAITING", params, userAttrs: t.userAttrs, systemAttrs });
  }

  /**
   * Run the objective on `nTrials` new trials (or until `timeout` seconds have passed, or stop()).
   * A thrown TrialPruned ends a trial as PRUNED; any other error marks it FAIL (its message in the
   * system attribute `fail_reason`) and ends the search unless `catch` accepts it.
   *
   * @example
   * const study = await createStudy({ storage: "sqlite:///demo.db", studyName: "quadratic" });
   * await study.optimize(async (trial) => (await trial.suggestFloat("x", -10, 10)) ** 2, { nTrials: 30 });
   * console.log((await study.bestTrial()).params);
   */
  async optimize(objective: Objective, opts: OptimizeOptions = {}): Promise<void> {
    const deadline = opts.timeout === undefined ? Infinity : Date.now() + opts.timeout * 1000;
    this.stopped = false;
    for (let i = 0; (opts.nTrials === undefined || i < opts.nTrials) && Date.now() < deadline && !this.stopped; i++) {
      const trial = await this.ask();
      const frozen = await this.runTrial(trial, objective, opts.catch ?? false);
      for (const cb of opts.callbacks ?? []) await cb(this, frozen);
    }
  }

  private async runTrial(trial: Trial, objective: Objective, catchErrors: CatchOption): Promise<FrozenTrial> {
    const beat = this.startHeartbeat(trial.trialId);
    let frozen: FrozenTrial;
    try {
      const value = await objective(trial);
      beat.stop();
      frozen = await this.tell(trial, value as number | number[]);
    } catch (e) {
      beat.stop();
      if (e instanceof TrialPruned) return this.tell(trial, undefined, "PRUNED");
      const reason = e instanceof Error ? e.message : String(e);
      await trial.setSystemAttr("fail_reason", reason).catch(() => undefined);
      frozen = await this.tell(trial, undefined, "FAIL");
      const caught = catchErrors === true || (Array.isArray(catchErrors) && catchErrors.some((c) => e instanceof c));
      if (!caught) throw e;
      process.stderr.write(`trial ${trial.number} failed: ${reason}\n`);
    }
    return frozen;
  }

  private startHeartbeat(trialId: number): { stop: () => void } {
    const interval = this.heartbeat.heartbeatInterval;
    if (interval === undefined) return { stop: () => undefined };
    const beat = (): void => void this.storage.recordHeartbeat(trialId).catch(() => undefined);
    beat();
    const timer = setInterval(beat, interval * 1000);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** Finished trials as table rows: number, state, value(s), params, durations. */
  async trialsTable(): Promise<TrialRow[]> {
    return (await this.trials()).map((t) => ({
      number: t.number, state: t.state, values: t.values, params: t.params, userAttrs: t.userAttrs,
      durationSeconds: t.datetimeStart && t.datetimeComplete ?
        (t.datetimeComplete.getTime() - t.datetimeStart.getTime()) / 1000 : null,
    }));
  }
}

export type Objective = (trial: Trial) => number | number[] | Promise<number | number[]>;
export type CatchOption = boolean | (new (...args: any[]) => Error)[];

export interface OptimizeOptions {
  /** trials to run in this call (Optuna's n_trials: per process, not for the whole study) */
  nTrials?: number;
  /** seconds after which no new trial starts */
  timeout?: number;
  /** errors that mark a trial FAIL and let the search go on: true for all, or a list of classes */
  catch?: CatchOption;
  callbacks?: ((study: Study, trial: FrozenTrial) => void | Promise<void>)[];
}

export interface TrialRow {
  number: number;
  state: TrialState;
  values: number[] | null;
  params: Record<string, Choice>;
  userAttrs: Record<string, unknown>;
  durationSeconds: number | null;
}

function checkValues(values: number[] | undefined, n: number): string | null {
  if (values === undefined) return "the objective returned no value";
  if (values.length !== n) return `the study has ${n} objective(s) but ${values.length} value(s) were given`;
  for (const v of values) if (typeof v !== "number" || Number.isNaN(v))
    return `the objective value ${v} is not a number`;
  return null;
}

export const finished = (t: FrozenTrial): boolean => FINISHED_STATES.includes(t.state);
