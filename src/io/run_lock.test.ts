import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LOCK_FILE, lockOutputDir } from "./run_lock.js";

const self = fileURLToPath(new URL("./run_lock.js", import.meta.url));

test("run lock: a second process is refused at once, naming the first; released on exit", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-lock-"));
  try {
    // Another process holds the folder (it waits until told to go).
    const holder = spawn(process.execPath, ["--input-type=module", "-e",
      `const { lockOutputDir } = await import(${JSON.stringify(self)}); const r = await lockOutputDir(${JSON.stringify(dir)}, ` +
      `{ command: "whet train --output-dir run" }); console.log("held"); process.stdin.once("data", async () => { await r(); process.exit(0); });`],
    { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
    const t0 = Date.now();
    await assert.rejects(lockOutputDir(dir), (e: Error) => {
      assert.match(e.message, new RegExp(`--output-dir .* is in use by process ${holder.pid} on ${hostname()}.*whet train --output-dir run`));
      return true;
    });
    assert.ok(Date.now() - t0 < 2000, "refused at once, not after waiting");
    holder.stdin!.write("go\n");
    await new Promise((res) => holder.once("exit", res));
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, "released");
    const release = await lockOutputDir(dir);
    const again = await lockOutputDir(dir); // re-entrant in one process
    await again();
    assert.equal(existsSync(join(dir, LOCK_FILE)), true, "still held by the outer taker");
    await release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("run lock: a dead owner's lock is stale and taken over with a note; a file as output dir", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-lock-"));
  try {
    const dead = spawnSync(process.execPath, ["-e", "process.pid"]).pid!; // exited: its pid is free
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: "then" }));
    const notes: string[] = [];
    const release = await lockOutputDir(dir, { log: (l) => notes.push(l) });
    assert.match(notes[0], new RegExp(`stale lock of process ${dead}`));
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid, process.pid);
    await release();
    writeFileSync(join(dir, "file"), "x");
    await assert.rejects(lockOutputDir(join(dir, "file")), /--output-dir .*file is a file, not a folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("run lock: a process that exits without releasing (a second Ctrl-C) leaves no lock behind", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-lock-"));
  try {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e",
      `const { lockOutputDir } = await import(${JSON.stringify(self)}); await lockOutputDir(${JSON.stringify(dir)}); process.exit(130);`],
    { encoding: "utf8" });
    assert.equal(r.status, 130, r.stderr);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
