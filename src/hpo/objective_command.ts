import { spawn } from "node:child_process";
import { WhetError } from "../core/errors.js";
import type { SearchSpace } from "./space_file.js";
import { TrialPruned, type Trial } from "./trial.js";

/**
 * An objective that runs a shell command per trial (Optuna's CLI ask and tell in one step): the
 * trial's parameters go to its stdin as one JSON object, the objective comes from the last
 * non-empty line of its stdout (a number, or a JSON list of numbers for several objectives).
 * A stdout line `{"step": 3, "value": 0.81}` reports an intermediate value; when the pruner says
 * so the command is stopped (SIGTERM) and the trial ends PRUNED. The environment carries
 * WHET_TRIAL_NUMBER, WHET_STUDY_NAME and, with an output folder, WHET_TRIAL_DIR.
 */
export function commandObjective(command: string, space: SearchSpace,
  opts: { studyName: string; trialDir?: (n: number) => string }) {
  return async (trial: Trial): Promise<number | number[]> => {
    const params: Record<string, unknown> = {};
    for (const [name, dist] of Object.entries(space)) params[name] = await trial.suggest(name, dist);
    const env: NodeJS.ProcessEnv = { ...process.env, WHET_TRIAL_NUMBER: String(trial.number),
      WHET_STUDY_NAME: opts.studyName };
    if (opts.trialDir) env.WHET_TRIAL_DIR = opts.trialDir(trial.number);
    const out = await runCommand(command, JSON.stringify(params), env, trial);
    if (out.pruned) throw new TrialPruned(`trial ${trial.number} pruned at step ${out.pruned}`);
    return parseObjective(out.lastLine, command, out.stderrTail);
  };
}

interface CommandOutcome {
  lastLine: string;
  stderrTail: string;
  pruned: number | null;
}

function runCommand(command: string, input: string, env: NodeJS.ProcessEnv, trial: Trial): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, env, stdio: ["pipe", "pipe", "pipe"] });
    let pending = "", lastLine = "", stderr = "";
    let pruned: number | null = null;
    let chain: Promise<void> = Promise.resolve();
    const onLine = (line: string): void => {
      const report = intermediateReport(line);
      if (report === null) {
        if (line.trim() !== "") lastLine = line.trim();
        return;
      }
      chain = chain.then(async () => {
        if (pruned !== null) return;
        await trial.report(report.value, report.step);
        if (await trial.shouldPrune()) {
          pruned = report.step;
          child.kill("SIGTERM");
        }
      });
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on("error", (e) => reject(new WhetError(`--objective-command "${command}" could not start: ${e.message}`)));
    child.on("close", (code, signal) => {
      onLine(pending);
      chain.then(() => {
        if (pruned !== null) return resolve({ lastLine, stderrTail: stderr, pruned });
        if (code !== 0) {
          const tail = stderr.trim().split("\n").slice(-3).join(" | ");
          return reject(new WhetError(`--objective-command exited with ` +
            `${signal ?? `code ${code}`}${tail ? `: ${tail}` : ""}`));
        }
        resolve({ lastLine, stderrTail: stderr, pruned: null });
      }, reject);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

function intermediateReport(line: string): { step: number; value: number } | null {
  const t = line.trim();
  if (!t.startsWith("{")) return null;
  try {
    const j = JSON.parse(t) as { step?: unknown; value?: unknown };
    if (Number.isInteger(j.step) && typeof j.value === "number" && Object.keys(j).length === 2)
      return { step: j.step as number, value: j.value };
  } catch {
    // not a report: an ordinary line
  }
  return null;
}

function parseObjective(line: string, command: string, stderr: string): number | number[] {
  const fail = (why: string): never => {
    throw new WhetError(`--objective-command "${command}": ` +
      `${why}${stderr.trim() ? ` (stderr: ${stderr.trim().split("\n").pop()})` : ""}`);
  };
  if (line === "") return fail("printed nothing; its last line of output must be the objective value");
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    v = Number(line);
  }
  if (typeof v === "number" && !Number.isNaN(v)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number")) return v as number[];
  return fail(`its last line "${line.slice(0, 80)}" is not a number (or a JSON list of numbers)`);
}
