// What the user owns is never written over: the model folder, a folder of their own files, the
// input of predict / forward, and an old run when its replacement fails.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TRAIN = ["--train-file", join(traj, "train.csv"), "--learning-rate", "2e-3", "--per-device-train-batch-size", "32", "--max-length", "16",
  "--threads", "1", "--num-train-epochs", "1", "--eval-strategy", "no", "--save-strategy", "no"];

test("cli: train refuses the model's own folder, folders inside it, a user's folder and /; nothing is written", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-own-"));
  try {
    cpSync(join(traj, "init"), join(dir, "model"), { recursive: true });
    const before = readFileSync(join(dir, "model", "model.safetensors"));
    for (const [out, re] of [["model", /--output-dir model is an input of this run/], ["model/run", /lies inside the input folder/], ["/", /refusing to write into \/ itself/]] as const) {
      const r = whet(["train", "--model", "model", ...TRAIN, "--output-dir", out, "--overwrite-output-dir"], dir);
      assert.notEqual(r.code, 0, out);
      assert.match(r.err, re);
    }
    assert.deepEqual(readFileSync(join(dir, "model", "model.safetensors")), before);
    assert.ok(!existsSync(join(dir, "model", "run")) && !existsSync(join(dir, "model", "data_report.json")));

    mkdirSync(join(dir, "mine"));
    writeFileSync(join(dir, "mine", "notes.txt"), "keep me");
    const r = whet(["train", "--model", "model", ...TRAIN, "--output-dir", "mine"], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--output-dir mine: the folder is not empty and is not an earlier whet output \(notes\.txt\); pass --overwrite-output-dir/);
    assert.deepEqual(readdirSync(join(dir, "mine")), ["notes.txt"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli: --overwrite-output-dir replaces the old run only when the new one succeeds", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-own-"));
  try {
    const first = whet(["train", "--model", join(traj, "init"), ...TRAIN, "--output-dir", "run"], dir);
    assert.equal(first.code, 0, first.err);
    const old = readFileSync(join(dir, "run", "model.safetensors"));
    // A finished run is refused without the flag, and its data report is not touched.
    const report = readFileSync(join(dir, "run", "data_report.json"));
    const again = whet(["train", "--model", join(traj, "init"), ...TRAIN, "--output-dir", "run", "--seed", "7"], dir);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /holds a finished run/);
    assert.deepEqual(readFileSync(join(dir, "run", "data_report.json")), report);
    // A replacement that fails once training has started leaves the old run whole.
    const failed = whet(["train", "--model", join(traj, "init"), ...TRAIN, "--output-dir", "run", "--overwrite-output-dir",
      "--eval-strategy", "epoch", "--validation-file", join(traj, "eval.csv"), "--metric-for-best-model", "nonsense"], dir);
    assert.notEqual(failed.code, 0);
    assert.match(failed.err, /left as it was/);
    assert.deepEqual(readFileSync(join(dir, "run", "model.safetensors")), old);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".")), []);
    // One that succeeds replaces it as a whole, and its records name the real folder.
    const ok = whet(["train", "--model", join(traj, "init"), ...TRAIN, "--output-dir", "run", "--overwrite-output-dir", "--seed", "7"], dir);
    assert.equal(ok.code, 0, ok.err);
    assert.notDeepEqual(readFileSync(join(dir, "run", "model.safetensors")), old);
    assert.equal(JSON.parse(readFileSync(join(dir, "run", "run.json"), "utf8")).args.output_dir, "run");
    assert.equal(JSON.parse(ok.out.trim().split("\n").at(-1)!).output_dir, "run");

    writeFileSync(join(dir, "in.jsonl"), '{"text": "GNU GENERAL PUBLIC LICENSE"}\n');
    for (const cmd of ["predict", "forward"]) {
      const p = whet([cmd, "--model", "run", "--input", "in.jsonl", "--output", "in.jsonl"], dir);
      assert.notEqual(p.code, 0);
      assert.match(p.err, /--output in\.jsonl is an input of this run/);
      const q = whet([cmd, "--model", "run", "--input", "in.jsonl", "--output", "run/config.json"], dir);
      assert.match(q.err, /lies inside the input folder/);
    }
    assert.equal(readFileSync(join(dir, "in.jsonl"), "utf8"), '{"text": "GNU GENERAL PUBLIC LICENSE"}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs whet in `cwd` and sends `signals` (one after another) once the progress reaches step 3. */
async function whetSignalled(args: string[], cwd: string, signals: NodeJS.Signals[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [main, ...args], { cwd });
  let err = "", sent = false;
  const code: number | null = await new Promise((done) => {
    child.stderr.on("data", (d: Buffer) => {
      err += d;
      if (sent || !/step [3-9]\//.test(err)) return;
      sent = true;
      for (const s of signals) child.kill(s);
    });
    child.on("exit", (c) => done(c));
  });
  return { code, err };
}

const LONG = [...TRAIN.filter((_, i) => i < TRAIN.indexOf("--per-device-train-batch-size")), "--per-device-train-batch-size", "4",
  "--max-length", "16", "--threads", "1", "--num-train-epochs", "3", "--eval-strategy", "no", "--save-strategy", "no", "--logging-steps", "1"];

test("cli: an unfinished run is continued or replaced only when asked, and the message names the checkpoint", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-own-"));
  try {
    const cut = await whetSignalled(["train", "--model", join(traj, "init"), ...LONG, "--output-dir", "run"], dir, ["SIGTERM"]);
    assert.equal(cut.code, 130, cut.err);
    const ckpt = readdirSync(join(dir, "run")).find((n) => /^checkpoint-\d+$/.test(n));
    assert.ok(ckpt, cut.err);
    const before = readdirSync(join(dir, "run")).sort();
    const log = readFileSync(join(dir, "run", "trainer_log.jsonl"));
    const again = whet(["train", "--model", join(traj, "init"), ...LONG, "--output-dir", "run"], dir);
    assert.notEqual(again.code, 0);
    assert.match(again.err, new RegExp(`--output-dir run holds an unfinished run .*--resume-from-checkpoint run/${ckpt} .*--overwrite-output-dir`));
    assert.deepEqual(readdirSync(join(dir, "run")).sort(), before, "nothing written into the unfinished run");
    assert.deepEqual(readFileSync(join(dir, "run", "trainer_log.jsonl")), log);
    const resumed = whet(["train", "--model", join(traj, "init"), ...LONG, "--output-dir", "run", "--resume-from-checkpoint"], dir);
    assert.equal(resumed.code, 0, resumed.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cli: an overwrite run stopped by SIGINT/SIGTERM leaves the old run whole and no staging folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-own-"));
  try {
    const first = whet(["train", "--model", join(traj, "init"), ...TRAIN, "--output-dir", "run"], dir);
    assert.equal(first.code, 0, first.err);
    const entries = readdirSync(join(dir, "run")).sort();
    const old = readFileSync(join(dir, "run", "model.safetensors"));
    const over = ["train", "--model", join(traj, "init"), ...LONG, "--output-dir", "run", "--overwrite-output-dir", "--seed", "7"];
    // One signal: the step finishes and the replacement is dropped; two: the process quits at once.
    for (const signals of [["SIGINT"], ["SIGTERM"], ["SIGINT", "SIGINT"]] as NodeJS.Signals[][]) {
      const r = await whetSignalled(over, dir, signals);
      assert.equal(r.code, 130, r.err);
      if (signals.length === 1) assert.match(r.err, /the replacement run was dropped and .*run was left as it was/);
      assert.deepEqual(readdirSync(dir).filter((n) => n !== "run"), [], `leftovers after ${signals.join("+")}`);
      assert.deepEqual(readdirSync(join(dir, "run")).sort(), entries);
      assert.deepEqual(readFileSync(join(dir, "run", "model.safetensors")), old);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
