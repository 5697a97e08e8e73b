import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { writeError, writeTextAtomic } from "./files.js";
import { checkOutputFile, prepareOutputDir, type OutputDirOptions } from "./output_dir.js";

const base = (outputDir: string, extra: Partial<OutputDirOptions> = {}): OutputDirOptions => ({
  outputDir, inputs: [], overwrite: false, ownMarker: "run.json", finishedMarkers: ["run.json", "model.safetensors"],
  flag: "--output-dir", overwriteFlag: "--overwrite-output-dir", log: () => {}, ...extra,
});

function userFolder(): string {
  const d = mkdtempSync(join(tmpdir(), "whet-out-"));
  writeFileSync(join(d, "config.json"), "{\"mine\": true}");
  writeFileSync(join(d, "notes.txt"), "my notes");
  return d;
}

test("the output can never be an input, contain one, or lie inside an input folder", async () => {
  const model = userFolder();
  const refuse = (out: string, re: RegExp) => assert.rejects(prepareOutputDir(base(out, { inputs: [model], overwrite: true })), re);
  await refuse(model, /is an input of this run/);
  await refuse(join(model, "run"), /lies inside the input folder/);
  await refuse(join(model, ".."), /contains an input/);
  const link = join(tmpdir(), `whet-link-${process.pid}`);
  symlinkSync(model, link);
  await refuse(link, /is an input of this run/);
  await assert.rejects(prepareOutputDir(base("/", { overwrite: true })), /refusing to write into \/ itself/);
  await assert.rejects(prepareOutputDir(base(homedir(), { overwrite: true })), /itself/);
  assert.equal(readFileSync(join(model, "notes.txt"), "utf8"), "my notes");
  assert.ok(!existsSync(join(model, "run")));
});

test("a non-empty folder that is not a whet run is refused, naming the flag, and nothing is written", async () => {
  const d = userFolder();
  await assert.rejects(prepareOutputDir(base(d)), (e: unknown) => e instanceof WhetError && /not empty/.test(e.message) && /--overwrite-output-dir/.test(e.message) && /notes\.txt/.test(e.message));
  assert.deepEqual(readdirSync(d).sort(), ["config.json", "notes.txt"]);
});

test("a folder holding only what a refused run left (the data report) is reused; with anything else it is not", async () => {
  const d = mkdtempSync(join(tmpdir(), "whet-out-"));
  writeFileSync(join(d, "data_report.json"), "{}");
  const out = await prepareOutputDir(base(d, { leftovers: ["data_report.json"] }));
  assert.equal(out.workDir, d);
  await assert.rejects(prepareOutputDir(base(d)), /not empty/);
  writeFileSync(join(d, "notes.txt"), "my notes");
  await assert.rejects(prepareOutputDir(base(d, { leftovers: ["data_report.json"] })), /not empty/);
});

test("a finished run is refused without the flag; an empty or new folder is used in place", async () => {
  const d = mkdtempSync(join(tmpdir(), "whet-out-"));
  writeFileSync(join(d, "run.json"), "{}");
  writeFileSync(join(d, "model.safetensors"), "x");
  await assert.rejects(prepareOutputDir(base(d)), /holds a finished run/);
  const fresh = join(d, "..", `whet-new-${process.pid}`);
  const out = await prepareOutputDir(base(fresh));
  assert.ok(!out.staged);
  assert.ok(!existsSync(fresh), "nothing is written by the checks");
  await out.open();
  assert.ok(existsSync(fresh));
});

test("with the overwrite flag the old folder is replaced as a whole only when the run succeeds", async () => {
  const d = userFolder();
  const fail = await prepareOutputDir(base(d, { overwrite: true }));
  assert.ok(fail.staged);
  await assert.rejects(fail.run(async (w) => {
    writeFileSync(join(w, "model.safetensors"), "half");
    throw new Error("NaN loss");
  }), /NaN loss/);
  assert.deepEqual(readdirSync(d).sort(), ["config.json", "notes.txt"]);
  assert.ok(!existsSync(fail.workDir));

  const notes: string[] = [];
  const ok = await prepareOutputDir(base(d, { overwrite: true, log: (l) => notes.push(l) }));
  await ok.run(async (w) => {
    writeFileSync(join(w, "run.json"), JSON.stringify({ output_dir: w }));
    writeFileSync(join(w, "model.safetensors"), "new");
  });
  assert.deepEqual(readdirSync(d).sort(), ["model.safetensors", "run.json"]);
  // Paths recorded during the run name the final folder, not the staging one.
  assert.equal(JSON.parse(readFileSync(join(d, "run.json"), "utf8")).output_dir, d);
  assert.match(notes.join("\n"), /replaced the previous contents .*notes\.txt/);
  assert.deepEqual(readdirSync(join(d, "..")).filter((n) => n.includes("whet-staging") || n.includes("whet-replaced")), []);
});

test("resuming writes in place into an earlier run only", async () => {
  const d = userFolder();
  await assert.rejects(prepareOutputDir(base(d, { resume: true })), /resuming needs the folder of an earlier run/);
  writeFileSync(join(d, "run.json"), "{}");
  const out = await prepareOutputDir(base(d, { resume: true }));
  assert.ok(!out.staged);
});

test("resuming accepts a folder holding only a copied checkpoint when resumeFrom names it", async () => {
  const d = mkdtempSync(join(tmpdir(), "whet-out-"));
  mkdirSync(join(d, "checkpoint-4"));
  await assert.rejects(prepareOutputDir(base(d, { resume: true })), /resuming needs the folder of an earlier run/);
  const out = await prepareOutputDir(base(d, { resume: true, resumeFrom: /^checkpoint-\d+$/ }));
  assert.ok(!out.staged);
  // A folder of the user's with no checkpoint stays refused.
  await assert.rejects(prepareOutputDir(base(userFolder(), { resume: true, resumeFrom: /^checkpoint-\d+$/ })),
    /resuming needs the folder of an earlier run/);
});

test("stale staging folders of dead processes are removed; an orphaned replaced folder is put back", async () => {
  const parent = mkdtempSync(join(tmpdir(), "whet-out-"));
  const d = join(parent, "run");
  mkdirSync(join(parent, ".run.whet-staging-999999999"));
  mkdirSync(join(parent, ".run.whet-replaced-999999998"));
  writeFileSync(join(parent, ".run.whet-replaced-999999998", "run.json"), "{}");
  await prepareOutputDir(base(d, { overwrite: true }));
  assert.ok(existsSync(join(d, "run.json")));
  assert.ok(!existsSync(join(parent, ".run.whet-staging-999999999")));
});

test("output files: not an input, not inside a model folder, not a folder", () => {
  const model = userFolder();
  const input = join(model, "..", `in-${process.pid}.jsonl`);
  writeFileSync(input, "{}\n");
  assert.throws(() => checkOutputFile(input, [input, model], "--output"), /--output .* is an input of this run/);
  assert.throws(() => checkOutputFile(join(model, "config.json"), [input, model], "--output"), /inside the input folder/);
  assert.throws(() => checkOutputFile(tmpdir(), [], "--output"), /contains an input|it is a folder/);
});

test("atomic text writes leave no temporary file, and a failed write names the path and the cause", async () => {
  const d = mkdtempSync(join(tmpdir(), "whet-out-"));
  await writeTextAtomic(join(d, "a.json"), "{}");
  assert.deepEqual(readdirSync(d), ["a.json"]);
  await assert.rejects(writeTextAtomic(join(d, "missing", "a.json"), "{}"), /Writing .*missing\/a\.json: the folder does not exist \(ENOENT\)/);
  const full = writeError("/x/preds.jsonl", Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
  assert.match(full.message, /^Writing \/x\/preds\.jsonl: no space left on the device \(ENOSPC\); nothing was written under that name$/);
});
