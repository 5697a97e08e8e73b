import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { COMPLETE_MARKER, cleanCheckpointLeftovers, listCheckpoints, rotateCheckpoints } from "./checkpoint.js";

const DEAD = 999_999_999; // no such process

function fakeCheckpoint(dir: string, complete: boolean) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.safetensors"), "w");
  writeFileSync(join(dir, "trainer_state.json"), "{}");
  if (complete) writeFileSync(join(dir, COMPLETE_MARKER), "{}");
}

test("a folder that looks like a checkpoint but was not completely written is never listed", () => {
  const out = mkdtempSync(join(tmpdir(), "whet-ckpt-"));
  fakeCheckpoint(join(out, "checkpoint-4"), true);
  fakeCheckpoint(join(out, "checkpoint-8"), false);
  mkdirSync(join(out, "checkpoint-12")); // what in-place rotation used to leave after a kill
  assert.deepEqual(listCheckpoints(out), [join(out, "checkpoint-4")]);
});

test("leftovers of killed saves and rotations are removed at the next start; a finished save is kept", async () => {
  const out = mkdtempSync(join(tmpdir(), "whet-ckpt-"));
  fakeCheckpoint(join(out, `.checkpoint-4.tmp-${DEAD}`), false); // killed mid-save
  fakeCheckpoint(join(out, `.checkpoint-6.deleting-${DEAD}`), true); // killed mid-rotation
  fakeCheckpoint(join(out, `.checkpoint-8.tmp-${DEAD}`), true); // killed between marker and rename
  fakeCheckpoint(join(out, `.checkpoint-2.tmp-${process.ppid}`), false); // a live process: not ours to touch
  const removed = await cleanCheckpointLeftovers(out);
  assert.deepEqual(removed.sort(), [`.checkpoint-4.tmp-${DEAD}`, `.checkpoint-6.deleting-${DEAD}`]);
  assert.deepEqual(readdirSync(out).sort(), [`.checkpoint-2.tmp-${process.ppid}`, "checkpoint-8"]);
  assert.deepEqual(listCheckpoints(out), [join(out, "checkpoint-8")]);
});

test("a replaced checkpoint whose successor never arrived is put back", async () => {
  const out = mkdtempSync(join(tmpdir(), "whet-ckpt-"));
  fakeCheckpoint(join(out, `.checkpoint-4.old-${DEAD}`), true);
  fakeCheckpoint(join(out, `.checkpoint-4.tmp-${DEAD}`), false);
  await cleanCheckpointLeftovers(out);
  assert.deepEqual(readdirSync(out), ["checkpoint-4"]);
  assert.ok(existsSync(join(out, "checkpoint-4", COMPLETE_MARKER)));
});

test("rotation keeps the newest and the best and leaves nothing half-deleted", async () => {
  const out = mkdtempSync(join(tmpdir(), "whet-ckpt-"));
  for (const n of [2, 4, 6, 8]) fakeCheckpoint(join(out, `checkpoint-${n}`), true);
  await rotateCheckpoints(out, 2, join(out, "checkpoint-2"));
  assert.deepEqual(readdirSync(out).sort(), ["checkpoint-2", "checkpoint-8"]);
});
