import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile, writeSafetensorsFile } from "../io/safetensors.js";
import { resolveArguments } from "../train/arguments.js";
import { distill } from "./distillation.js";

const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

/** The teacher with its position table cut to `positions` rows: a student that takes shorter inputs. */
async function shortStudent(dir: string, positions: number): Promise<string> {
  const student = join(dir, "student-model");
  cpSync(join(traj, "init"), student, { recursive: true });
  const config = JSON.parse(readFileSync(join(student, "config.json"), "utf8"));
  writeFileSync(join(student, "config.json"), JSON.stringify({ ...config, max_position_embeddings: positions }));
  const { tensors } = await readSafetensorsFile(join(student, "model.safetensors"));
  const name = "bert.embeddings.position_embeddings.weight";
  const table = tensors.get(name)!;
  const rowBytes = table.bytes.length / table.shape[0];
  tensors.set(name, { ...table, shape: [positions, table.shape[1]], bytes: table.bytes.slice(0, positions * rowBytes) });
  await writeSafetensorsFile(join(student, "model.safetensors"), tensors);
  return student;
}

test("distill: max_length is clamped to the student's positions as well as the teacher's, and says so", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "whet-distill-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const student = await shortStudent(dir, 12);
  const lines: string[] = [];
  const r = await distill({
    teacher: join(traj, "init"), student, trainFile: join(traj, "train.csv"), alpha: 0.5, temperature: 2,
    args: resolveArguments({ output_dir: join(dir, "out"), max_length: 128, max_steps: 1, threads: 1, save_strategy: "no",
      per_device_train_batch_size: 8, eval_strategy: "no" }),
  }, { log: (l) => lines.push(l) });
  assert.equal(r.globalStep, 1);
  assert.ok(lines.includes("max_length 128 is longer than the teacher's 64 positions: using 64"), lines.join("\n"));
  assert.ok(lines.includes("max_length 64 is longer than the student's 12 positions: using 12"), lines.join("\n"));
});
