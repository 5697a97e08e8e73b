/**
 * One output folder, one run: `lockOutputDir` takes `<dir>/.whet.lock` (created with O_EXCL,
 * holding the owner's pid, host, start time and command) and refuses a second run into the same
 * folder at once, naming the process that holds it. Two trainings writing one folder interleave
 * trainer_log.jsonl and mix run.json silently, so waiting or sharing is never right here.
 * A lock is stale when its owner on this host is dead (a crash, kill -9) or, on another host of
 * a shared disk, when it was not touched for a minute; a stale lock is taken over with a note.
 * Within one process the lock is re-entrant (the recipe takes it early, the Trainer again).
 *
 * @example
 * const release = await lockOutputDir("runs/a", { command: "whet train …" });
 * try { await train(); } finally { await release(); }
 */
import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { mkdir, readFile, rm, rmdir, stat, utimes, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { WhetError } from "../core/errors.js";
import { isAlive, isErrno } from "./hub_cache.js";

export const LOCK_FILE = ".whet.lock";
const STALE_MS = 60_000;
const TOUCH_MS = 15_000;

interface Owner { pid: number; host: string; started: string; command?: string }

/** Locks this process holds; `created`: the topmost folder taking the lock created (removed again if left empty). */
const held = new Map<string, { count: number; touch: NodeJS.Timeout; created?: string }>();

export interface LockOptions {
  /** What is running, for the other process's message (default: this process's arguments). */
  command?: string;
  /** Where the note about a stale lock goes (default: stderr). */
  log?: (line: string) => void;
}

/** Take the output folder's lock, creating the folder; returns the release function. */
export async function lockOutputDir(dir: string, o: LockOptions = {}): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  const mine = held.get(file);
  if (mine) {
    mine.count++;
    return releaser(file);
  }
  const created = await mkdir(dir, { recursive: true }).catch((e) => {
    if (isErrno(e, "EEXIST", "ENOTDIR")) throw new WhetError(`--output-dir ${dir} is a file, not a folder`);
    throw new WhetError(`--output-dir ${dir}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? e})`);
  });
  const owner: Owner = {
    pid: process.pid, host: hostname(), started: new Date().toISOString(),
    command: o.command ?? process.argv.slice(1).join(" "),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, JSON.stringify(owner) + "\n", { flag: "wx" });
      break;
    } catch (e) {
      if (!isErrno(e, "EEXIST") || attempt > 0) throw lockError(e, dir, file);
      const other = await readOwner(file);
      if (!(await isStale(file, other))) throw busy(dir, file, other);
      (o.log ?? ((l: string) => process.stderr.write(l + "\n")))(
        `${dir}: taking over a stale lock of process ${other?.pid ?? "?"}${other?.host ? ` on ${other.host}` : ""} (no longer running)`);
      await rm(file, { force: true });
    }
  }
  const touch = setInterval(() => { const now = new Date(); utimes(file, now, now).catch(() => {}); }, TOUCH_MS);
  touch.unref();
  held.set(file, { count: 1, touch, created: created === undefined ? undefined : resolve(created) });
  if (held.size === 1) process.on("exit", releaseAllSync);
  return releaser(file);
}

/**
 * A process that exits while holding locks (a second Ctrl-C quits at once) removes them on the
 * way out, so the next run finds no lock to judge stale; only a kill -9 or a crash leaves one.
 */
function releaseAllSync(): void {
  for (const [file, h] of held) {
    clearInterval(h.touch);
    rmSync(file, { force: true });
  }
  held.clear();
}

function releaser(file: string): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const h = held.get(file);
    if (!h || --h.count > 0) return;
    clearInterval(h.touch);
    held.delete(file);
    if (held.size === 0) process.off("exit", releaseAllSync);
    await rm(file, { force: true });
    if (h.created) await removeEmptyUpTo(dirname(resolve(file)), h.created);
  };
}

/**
 * A run refused after the lock was taken (its output folder is an input, or not its own) leaves
 * no folder behind: the folders the lock created are removed while they are empty.
 */
async function removeEmptyUpTo(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return; // not empty (the run wrote there), or gone
    }
    if (d === top || dirname(d) === d) return;
  }
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Owner;
  } catch {
    return null; // half-written or not ours: judged by its age
  }
}

async function isStale(file: string, owner: Owner | null): Promise<boolean> {
  if (owner && owner.host === hostname() && Number.isInteger(owner.pid)) return !isAlive(owner.pid);
  try {
    return Date.now() - (await stat(file)).mtimeMs > STALE_MS;
  } catch {
    return true; // vanished meanwhile
  }
}

function busy(dir: string, file: string, o: Owner | null): WhetError {
  const who = o ? `process ${o.pid} on ${o.host}, started ${o.started}${o.command ? `: ${o.command}` : ""}` : "another process";
  return new WhetError(`--output-dir ${dir} is in use by ${who}. Choose another --output-dir, wait for that run ` +
    `to end, or if it is gone delete ${file}`);
}

function lockError(e: unknown, dir: string, file: string): WhetError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOTDIR") return new WhetError(`--output-dir ${dir} is a file, not a folder`);
  if (code === "EEXIST") return new WhetError(`--output-dir ${dir}: another run took ${file} while a stale lock was cleared`);
  return new WhetError(`--output-dir ${dir}: cannot write ${file} (${code ?? (e as Error).message})`);
}
