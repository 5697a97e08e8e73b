import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { PostgresDriver } from "./postgres_driver.js";
import { POSTGRES_URL, skipUnless } from "../testing/test_services.js";
import { createStudy, loadStudy } from "./study_api.js";

// A worker: joins the study with heartbeats every second, a 2 s grace period and one retry;
// each trial sleeps for the given time, and writes a marker file while it runs so the test can kill it mid-trial.
const WORKER = `
import { writeFileSync } from "node:fs";
const { loadStudy } = await import(process.argv[2]);
const { RandomSampler } = await import(process.argv[3]);
const [url, name, marker, n, ms] = process.argv.slice(4);
const study = await loadStudy({ storage: url, studyName: name, sampler: new RandomSampler({ seed: process.pid }),
  heartbeatInterval: 1, gracePeriod: 2, maxRetry: 1 });
await study.optimize(async (t) => {
  const x = await t.suggestFloat("x", 0, 1);
  writeFileSync(marker, String(t.number));
  await new Promise((r) => setTimeout(r, Number(ms)));
  return x;
}, { nTrials: Number(n) });
await study.storage.close();
`;

async function threeWorkers(url: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "whet-workers-"));
  const name = `workers-${Date.now()}`;
  const created = await createStudy({ storage: url, studyName: name });
  await created.storage.close();
  const script = join(dir, "worker.mjs");
  writeFileSync(script, WORKER);
  const mod = (f: string): string => pathToFileURL(new URL(f, import.meta.url).pathname).href;
  const start = (i: number, n: number, ms: number): ChildProcess => spawn(process.execPath,
    [script, mod("./study_api.js"), mod("./random_sampler.js"), url, name,
      join(dir, `marker-${i}`), String(n), String(ms)],
    { stdio: "inherit" });
  const victim = start(0, 100, 60_000);
  // the survivors keep asking for trials well past the victim's grace period
  const survivors = [start(1, 20, 300), start(2, 20, 300)];
  // kill worker 0 in the middle of its (minute-long) first trial
  while (!existsSync(join(dir, "marker-0"))) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  victim.kill("SIGKILL");
  await Promise.all(survivors.map((c) => new Promise((r) => c.on("exit", r))));
  const study = await loadStudy({ storage: url, studyName: name });
  const trials = await study.trials();
  await study.storage.close();
  const numbers = trials.map((t) => t.number);
  assert.deepEqual(numbers, [...Array(numbers.length).keys()], "every trial number once");
  const failed = trials.filter((t) => t.state === "FAIL");
  assert.equal(failed.length, 1, `one FAIL: ${trials.map((t) => `${t.number}:${t.state}`).join(" ")}`);
  const retry = trials.find((t) => t.systemAttrs.failed_trial === failed[0].number);
  assert.ok(retry !== undefined, "the killed trial was enqueued again");
  assert.equal(retry.state, "COMPLETE");
  assert.deepEqual(retry.params, failed[0].params);
  assert.deepEqual(retry.systemAttrs.retry_history, [failed[0].number]);
  assert.equal(trials.filter((t) => t.state === "RUNNING" || t.state === "WAITING").length, 0);
}

test("SQLite: 3 workers on one study, one killed mid-trial: unique numbers, FAIL after the grace period, retried",
  async () => {
  await threeWorkers(`sqlite:///${join(mkdtempSync(join(tmpdir(), "whet-w-")), "w.db")}`);
});

test("PostgreSQL: the same", async (t) => {
  const why = await PostgresDriver.connect(POSTGRES_URL).then((d) => d.close().then(() => null),
    (e: Error) => `PostgreSQL is not reachable at ${POSTGRES_URL} (${e.message})`);
  const { skip } = skipUnless(why);
  if (skip) return t.skip(skip);
  await threeWorkers(POSTGRES_URL);
});
