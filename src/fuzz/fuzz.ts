// Seeded mutation fuzzing of every parser (targets.ts): `npm run fuzz -- --iterations N`
// [--seed S] [--deadline-ms D] [--max-rss-mb M] [--target name]. A case fails the run when it
// throws anything but a WhetError (a crash), runs past the per-case deadline (a hang: the worker
// is stopped and the run goes on with the next case), an error the worker cannot catch (a throw
// from a stray timer: recorded as a crash of the case, the run goes on), or the process's RSS
// passes the bound (the run stops there).
import { Worker } from "node:worker_threads";
import type { WorkerJob, WorkerMessage } from "./fuzz_worker.js";

export interface FuzzOptions {
  iterations: number;
  seed?: number;
  deadlineMs?: number;
  maxRssMb?: number;
  /** Target names; default all. */
  targets?: string[];
  /**
   * A module (file URL) whose `fuzzTargets(scratch)` replaces the parsers: the harness's own test
   * feeds it targets that crash, hang and eat memory, to prove each is caught.
   */
  targetsModule?: string;
  log?: (line: string) => void;
}

export interface FuzzReport {
  /** Per target: cases run, cases refused cleanly, slowest case in ms. */
  targets: Record<string, { cases: number; refused: number; slowestMs: number }>;
  crashes: { target: string; case: number; error: string }[];
  hangs: { target: string; case: number }[];
  maxRssMb: number;
  rssExceeded: boolean;
  seconds: number;
}

/** Whether a report fails the run: any crash, any hang, or the RSS bound passed. */
export function fuzzFailed(r: FuzzReport): boolean {
  return r.crashes.length > 0 || r.hangs.length > 0 || r.rssExceeded;
}

/**
 * Runs the fuzzer and returns what it found; `report.crashes`, `hangs` and `rssExceeded` empty
 * or false means the parsers held.
 *
 * @example
 * const r = await runFuzz({ iterations: 200, seed: 1 });
 * if (fuzzFailed(r)) process.exitCode = 1;
 */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const deadline = o.deadlineMs ?? 5000, maxRss = (o.maxRssMb ?? 1500) * 1e6, t0 = performance.now();
  const report: FuzzReport = { targets: {}, crashes: [], hangs: [], maxRssMb: 0, rssExceeded: false, seconds: 0 };
  let from = { target: 0, i: 0 };
  for (;;) {
    const job: WorkerJob = { seed: o.seed ?? 1, iterations: o.iterations, targets: o.targets ?? [], from, targetsModule: o.targetsModule };
    const outcome = await runWorker(job, deadline, maxRss, report, o.log);
    if (outcome.kind === "finished" || outcome.kind === "rss") break;
    // A hang or an uncaught error: the case is recorded, the worker is gone, the run continues after it.
    if (outcome.kind === "hang") report.hangs.push({ target: outcome.name, case: outcome.i });
    else report.crashes.push({ target: outcome.name, case: outcome.i, error: outcome.error });
    from = { target: outcome.target, i: outcome.i + 1 };
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

type Outcome = { kind: "finished" } | { kind: "rss" } | { kind: "hang"; target: number; name: string; i: number }
  | { kind: "uncaught"; target: number; name: string; i: number; error: string };

function runWorker(job: WorkerJob, deadline: number, maxRss: number, report: FuzzReport, log?: (l: string) => void): Promise<Outcome> {
  const worker = new Worker(new URL("./fuzz_worker.js", import.meta.url), { workerData: job });
  let current: { target: number; name: string; i: number; since: number } | null = null;
  return new Promise<Outcome>((resolve, reject) => {
    const finish = (o: Outcome) => {
      clearInterval(watch);
      void worker.terminate().then(() => resolve(o));
    };
    const watch = setInterval(() => {
      const rss = process.memoryUsage().rss;
      report.maxRssMb = Math.max(report.maxRssMb, Math.round(rss / 1e6));
      if (rss > maxRss) {
        report.rssExceeded = true;
        log?.(`RSS ${Math.round(rss / 1e6)} MB passed the bound while fuzzing ${current?.name} case ${current?.i}`);
        finish({ kind: "rss" });
      } else if (current && performance.now() - current.since > deadline) {
        log?.(`hang: ${current.name} case ${current.i} ran past ${deadline} ms`);
        finish({ kind: "hang", target: current.target, name: current.name, i: current.i });
      }
    }, 50);
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "start") current = { target: m.target, name: m.name, i: m.i, since: performance.now() };
      else if (m.type === "done" && current) {
        const s = (report.targets[current.name] ??= { cases: 0, refused: 0, slowestMs: 0 });
        s.cases++;
        if (m.clean) s.refused++;
        s.slowestMs = Math.max(s.slowestMs, Math.round(m.ms));
        current = null;
      } else if (m.type === "crash") {
        report.crashes.push({ target: m.name, case: m.i, error: m.error });
        log?.(`crash: ${m.name} case ${m.i}: ${m.error}`);
      } else if (m.type === "finished") finish({ kind: "finished" });
    });
    worker.on("error", (e) => {
      // Thrown outside the case's own promise (a timer, an unhandled rejection): the worker died.
      clearInterval(watch);
      if (!current) return reject(e);
      const error = `uncaught ${e?.name}: ${e?.message ?? String(e)}`.slice(0, 300);
      log?.(`crash: ${current.name} case ${current.i}: ${error}`);
      resolve({ kind: "uncaught", target: current.target, name: current.name, i: current.i, error });
    });
  });
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  const num = (name: string, d: number) => {
    const v = flag(args, name);
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number, got ${v}`);
    return n;
  };
  const targets = args.flatMap((a, i) => (a === "--target" ? [args[i + 1]] : []));
  const r = await runFuzz({
    iterations: num("--iterations", 200), seed: num("--seed", 1), deadlineMs: num("--deadline-ms", 5000), maxRssMb: num("--max-rss-mb", 1500),
    targets, log: (l) => process.stderr.write(`${l}\n`),
  });
  for (const [name, s] of Object.entries(r.targets)) console.log(`${name.padEnd(16)} ${String(s.cases).padStart(7)} cases  ${String(s.refused).padStart(7)} rejected (WhetError)  slowest ${s.slowestMs} ms`);
  console.log(`crashes ${r.crashes.length}, hangs ${r.hangs.length}, max RSS ${r.maxRssMb} MB${r.rssExceeded ? " (over the bound)" : ""}, ${r.seconds.toFixed(1)} s`);
  if (fuzzFailed(r)) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main(process.argv.slice(2));
