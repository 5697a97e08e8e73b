// A real full disk: a 2 MiB tmpfs, nearly filled, as the output of train, export and predict.
// Each must fail with a message that names the file and says the disk is full, and leave no
// truncated file under a real name and no temporary file behind. Mounting needs root (or
// CAP_SYS_ADMIN); elsewhere the test is skipped and says why.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, err: r.stderr };
}

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** Leaves `free` bytes on the mount by resizing the filler file. */
function leaveFree(disk: string, free: number): void {
  const filler = join(disk, "filler");
  writeFileSync(filler, "");
  const s = statfsSync(disk);
  writeFileSync(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - free)));
}

/** What a failed write may leave: no temporary files, and what is there is whole (JSON parses, no weights). */
function assertNothingTruncated(disk: string, what: string): void {
  for (const f of files(disk)) {
    if (f === "filler") continue;
    assert.ok(!/\.tmp|tmp-\d+|whet-staging/.test(f), `${what}: temporary file left: ${f}`);
    assert.ok(!/\.(onnx|safetensors)$/.test(f), `${what}: ${f} exists although the disk was full`);
    if (f.endsWith(".json")) assert.doesNotThrow(() => JSON.parse(readFileSync(join(disk, f), "utf8")), `${what}: ${f} is truncated`);
    if (f === "predictions.jsonl") assert.fail(`${what}: ${f} was written although the disk was full`);
  }
}

test("a real full disk (tmpfs): train, export and predict fail naming the file, and leave nothing truncated", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "whet-full-"));
  const disk = join(dir, "disk");
  mkdirSync(disk);
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", disk], { encoding: "utf8" });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): ${(mount.stderr || mount.error?.message || "").trim()}`);
    return;
  }
  t.after(() => {
    if (spawnSync("umount", [disk]).status !== 0) spawnSync("umount", ["-l", disk]);
    rmSync(dir, { recursive: true, force: true });
  });
  const full = (r: { code: number | null; err: string }, what: string) => {
    assert.notEqual(r.code, 0, `${what} succeeded on a full disk`);
    assert.match(r.err, new RegExp(`Writing ${disk.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\S+: no space left on the device \\(ENOSPC\\)`), r.err);
    assert.doesNotMatch(r.err, /\n\s+at /, `${what}: a stack trace instead of a message`);
    assertNothingTruncated(disk, what);
  };

  // The model's weights (200 KB) do not fit in what is left.
  leaveFree(disk, 64 << 10);
  full(whet(["train", "--model", join(traj, "init"), "--train-file", join(traj, "train.csv"), "--output-dir", join(disk, "run"),
    "--max-steps", "1", "--per-device-train-batch-size", "8", "--max-length", "16", "--threads", "1", "--eval-strategy", "no",
    "--save-strategy", "no"], dir), "train");

  rmSync(join(disk, "run"), { recursive: true, force: true });
  leaveFree(disk, 64 << 10);
  full(whet(["export", "--model", join(traj, "init"), "--output", join(disk, "onnx-model"), "--threads", "1"], dir), "export");

  rmSync(join(disk, "onnx-model"), { recursive: true, force: true });
  const texts = readFileSync(join(traj, "train.csv"), "utf8").split("\n").slice(1, 200).filter((l) => l);
  writeFileSync(join(dir, "in.jsonl"), texts.map((l) => JSON.stringify({ text: l.slice(0, 80) })).join("\n") + "\n");
  leaveFree(disk, 4 << 10);
  full(whet(["predict", "--model", join(traj, "init"), "--input", "in.jsonl", "--output", join(disk, "predictions.jsonl"), "--threads", "1"],
    dir), "predict");
  assert.deepEqual(files(disk).filter((f) => f !== "filler" && !f.startsWith("run/") && !f.startsWith("onnx-model/")), []);
  assert.ok(relative(dir, disk) === "disk");
});
