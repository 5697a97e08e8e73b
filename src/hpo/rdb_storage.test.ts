import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { floatDistribution, intDistribution } from "./distributions.js";
import { PostgresDriver } from "./postgres_driver.js";
import { RdbStorage } from "./rdb_storage.js";
import { SqliteDriver } from "./sqlite_driver.js";
import { openStorage } from "./storage_url.js";
import { POSTGRES_URL, skipUnless } from "../testing/test_services.js";

const FIXTURE = new URL("../../fixtures/hpo/optuna31_sqlite_schema.json", import.meta.url);

function schemaOf(path: string): string[][] {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY " +
    "name").all() as { type: string; name: string; sql: string | null }[];
  db.close();
  return rows.map((r) => [r.type, r.name, r.sql as string]);
}

test("a v3.0.0.d database is Optuna 3.1's schema exactly; v3.2.0.a adds ix_trials_study_id", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-rdb-"));
  const optuna = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { sqlite_master: string[][] }).sqlite_master;
  const old = await openStorage(`sqlite:///${join(dir, "old.db")}`, { newStamp: "v3.0.0.d" });
  await old.close();
  assert.deepEqual(schemaOf(join(dir, "old.db")), optuna);
  const head = await openStorage(`sqlite:///${join(dir, "new.db")}`);
  assert.equal(head.stamp, "v3.2.0.a");
  await head.close();
  const index = schemaOf(join(dir, "new.db")).find((r) => r[1] === "ix_trials_study_id");
  assert.deepEqual(index, ["index", "ix_trials_study_id", "CREATE INDEX ix_trials_study_id ON trials (study_id)"]);
  const again = await openStorage(`sqlite:///${join(dir, "old.db")}`);
  assert.equal(again.stamp, "v3.0.0.d", "an existing database keeps its stamp");
  await again.close();
});

async function exercise(storage: RdbStorage): Promise<void> {
  const name = `s-${Date.now()}-${Math.random()}`;
  const id = await storage.createStudy(name, ["maximize"]);
  await assert.rejects(storage.createStudy(name, ["maximize"]), /already exists/);
  assert.deepEqual(await storage.findStudy(name), { studyId: id, directions: ["maximize"] });
  const a = await storage.createTrial(id), b = await storage.createTrial(id);
  assert.deepEqual([a.number, b.number], [0, 1]);
  await storage.setTrialParam(id, a.trialId, "lr", 0.01, floatDistribution(1e-4, 1, { log: true }));
  await assert.rejects(storage.setTrialParam(id, b.trialId, "lr", 3, intDistribution(1, 5)), /was float/);
  await storage.setIntermediateValue(a.trialId, 0, 0.5);
  await storage.setIntermediateValue(a.trialId, 1, NaN);
  await storage.setTrialAttr("user", a.trialId, "run_dir", "out/trial-0");
  assert.equal(await storage.setTrialState(a.trialId, "COMPLETE", [Infinity]), true);
  await assert.rejects(storage.setIntermediateValue(a.trialId, 2, 1), /already finished \(COMPLETE\)/);
  const w = await storage.createTrial(id, { state: "WAITING", systemAttrs: { fixed_params: { lr: 0.1 } } });
  assert.equal(w.number, 2);
  assert.equal(await storage.popWaitingTrial(id), w.trialId);
  assert.equal(await storage.popWaitingTrial(id), null, "a WAITING trial is claimed once");
  const [t0] = await storage.trials(id, ["COMPLETE"]);
  assert.deepEqual(t0.values, [Infinity]);
  assert.deepEqual([...t0.intermediateValues.keys()], [0, 1]);
  assert.ok(Number.isNaN(t0.intermediateValues.get(1)));
  assert.deepEqual(t0.params, { lr: 0.01 });
  assert.deepEqual(t0.userAttrs, { run_dir: "out/trial-0" });
  await storage.recordHeartbeat(b.trialId);
  assert.deepEqual(await storage.staleTrialIds(id, 3600), []);
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(await storage.staleTrialIds(id, 0.5), [b.trialId]);
}

test("SQLite: numbers, params, values, intermediate values, attrs, WAITING, heartbeats", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-rdb-"));
  const storage = await RdbStorage.open(new SqliteDriver(join(dir, "s.db")));
  await exercise(storage);
  await storage.close();
});

test("PostgreSQL: the same", async (t) => {
  let driver: PostgresDriver | null = null;
  const why = await PostgresDriver.connect(POSTGRES_URL).then((d) => { driver = d; return null; },
    (e: Error) => `PostgreSQL is not reachable at ${POSTGRES_URL} (${e.message})`);
  const { skip } = skipUnless(why);
  if (skip) return t.skip(skip);
  const storage = await RdbStorage.open(driver!);
  await exercise(storage);
  await storage.close();
});

test("an unknown scheme or an unreachable server says which URL and what works", async () => {
  await assert.rejects(openStorage("mysql://x/y"), /scheme "mysql" is not supported; use sqlite:\/\/\/path/);
  await assert.rejects(openStorage("postgresql://nobody:pw@127.0.0.1:1/none"),
    /cannot reach the PostgreSQL database postgresql:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/);
});
