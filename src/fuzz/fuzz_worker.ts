// The fuzzing loop, in a worker so that the main thread can stop a case that hangs.
import { rmSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { Rng } from "../core/rng.js";
import { mutate, mutateJson } from "./mutate.js";
import { fuzzTargets, isClean, scratchDir } from "./targets.js";

export interface WorkerJob {
  seed: number;
  iterations: number;
  targets: string[];
  /** Resume here after a hang: target index and case number. */
  from: { target: number; i: number };
  /** A module whose fuzzTargets replaces the parsers' (the harness's self-test). */
  targetsModule?: string;
}

export type WorkerMessage =
  | { type: "start"; target: number; name: string; i: number }
  | { type: "done"; target: number; clean: boolean; ms: number }
  | { type: "crash"; target: number; name: string; i: number; error: string }
  | { type: "finished" };

const job = workerData as WorkerJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const scratch = scratchDir();
/** The case being run: an error thrown outside its promise (a timer, a rejection nobody awaits) is charged to it. */
let running: { target: number; name: string; i: number } | null = null;
const uncaught = (e: unknown) => {
  const error = `uncaught ${(e as Error)?.name}: ${(e as Error)?.message ?? String(e)}`.slice(0, 300);
  post({ type: "crash", target: running?.target ?? -1, name: running?.name ?? "(between cases)", i: running?.i ?? -1, error });
};
process.on("uncaughtException", uncaught);
process.on("unhandledRejection", uncaught);
try {
  const make: typeof fuzzTargets = job.targetsModule ? (await import(job.targetsModule)).fuzzTargets : fuzzTargets;
  const all = (await make(scratch)).filter((t) => job.targets.length === 0 || job.targets.includes(t.name));
  for (let t = job.from.target; t < all.length; t++) {
    const target = all[t];
    for (let i = t === job.from.target ? job.from.i : 0; i < job.iterations; i++) {
      // One stream per (seed, target, case): a reported case is replayed exactly by its numbers.
      const rng = new Rng(job.seed, t, i);
      const seed = target.seeds[rng.int(target.seeds.length)];
      // Half the cases of a JSON target change values inside the document, half its bytes.
      const input = (rng.int(2) === 0 ? mutateJson(seed, rng) : undefined) ?? mutate(seed, rng);
      post({ type: "start", target: t, name: target.name, i });
      running = { target: t, name: target.name, i };
      const t0 = performance.now();
      let clean = true;
      try {
        await target.run(input);
      } catch (e) {
        clean = false;
        if (!isClean(e)) post({ type: "crash", target: t, name: target.name, i, error: `${(e as Error)?.name}: ${(e as Error)?.message ?? String(e)}`.slice(0, 300) });
      }
      // Let timers the case left behind fire while it is still the current case.
      await new Promise((r) => setTimeout(r, 0));
      running = null;
      post({ type: "done", target: t, clean: !clean, ms: performance.now() - t0 });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
post({ type: "finished" });
