// The rules for the folders and files whet writes, in one place, so that train, pretrain,
// distill, export, predict and forward cannot each get them slightly wrong:
// - the output is never an input (the model folder, the data files), never contains one and
//   never lies inside an input folder: a run cannot write over the model it reads;
// - never "/" or the home folder itself;
// - a non-empty folder that is not an earlier output of the same kind is refused, unless the
//   user passed the overwrite flag;
// - a folder is replaced only as a whole and only when the new run succeeds: the run writes
//   into a sibling staging folder, which is swapped in at the end; one that is interrupted
//   (a signal, an exit) is dropped and the old folder stays whole;
// - an unfinished earlier run is continued only when asked (resume) and replaced only when asked
//   (overwrite): never written into in place by a run that did not say which;
// - nothing is created or written until every check has passed.
import { existsSync, lstatSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, parse, relative, resolve } from "node:path";
import { WhetError } from "../core/errors.js";
import { writeTextAtomic } from "./files.js";
import { LOCK_FILE } from "./run_lock.js";

export interface OutputDirOptions {
  outputDir: string;
  /** What the run reads (model folders, data files): the output may not be, contain or lie inside one. */
  inputs: (string | undefined)[];
  /** The user asked to replace what is there (`--overwrite-output-dir`). */
  overwrite: boolean;
  /** Continue the run already in the folder: written in place, never staged. */
  resume?: boolean;
  /** Entries that also make a folder resumable without `ownMarker` (checkpoint-N folders copied from elsewhere). */
  resumeFrom?: RegExp;
  /** Paths (relative) whose presence marks an earlier output of this kind, e.g. `run.json`. */
  ownMarker: string;
  /** An earlier output of this kind is replaced without the overwrite flag (export re-run). */
  replaceOwn?: boolean;
  /** Paths whose presence marks a finished earlier output: refused without the overwrite flag. */
  finishedMarkers?: string[];
  /**
   * How to continue an unfinished earlier output (given its folder), e.g. the resume flag with its
   * latest checkpoint. When set, such a folder is refused without the resume or overwrite flag.
   */
  unfinishedHint?: (dir: string) => string;
  /**
   * Files a run writes before its last checks (the data report): a folder holding only these is
   * what a refused run left, and is reused, so fixing the typo and running again just works.
   */
  leftovers?: string[];
  /** Flag names for messages. */
  flag: string;
  overwriteFlag?: string;
  /** Where notes go; default stderr. */
  log?: (line: string) => void;
}

/** Where a run writes (`workDir`) and how it ends: `commit` swaps a staged folder in, `abandon` drops it. */
export class OutputDir {
  constructor(
    readonly finalDir: string,
    readonly workDir: string,
    /** Entries of the folder that a successful commit replaces (empty when nothing is replaced). */
    readonly replacing: string[],
    private readonly log: (line: string) => void,
    /** The folder as the user wrote it, for what the command prints. */
    readonly requested: string = finalDir,
  ) {}

  get staged(): boolean {
    return resolve(this.workDir) !== this.finalDir;
  }

  /**
   * Should the process end with a staged run open (a second Ctrl-C exits at once), the staging
   * folder goes and a half-swapped old folder is put back: nothing is left that looks like a run.
   */
  private readonly onExit = (): void => {
    rmSync(this.workDir, { recursive: true, force: true });
    const old = siblingName(this.finalDir, "replaced");
    if (!existsSync(this.finalDir) && existsSync(old)) renameSync(old, this.finalDir);
  };

  /**
   * Runs `fn` in the working folder. Success commits; an error abandons a staged folder (the old
   * one stays whole) and is rethrown. An interrupted run (`{ interrupted: true }`) written in place
   * keeps its checkpoint for a resume; a staged one is dropped, since the old folder was to be
   * replaced only by a finished run.
   */
  async run<T>(fn: (workDir: string) => Promise<T>): Promise<T> {
    let result: T;
    try {
      await this.open();
      result = await fn(this.workDir);
    } catch (e) {
      await this.abandon();
      throw e;
    }
    const interrupted = (result as { interrupted?: unknown } | undefined)?.interrupted === true;
    if (interrupted && this.staged) {
      await this.drop();
      this.log(`interrupted: the replacement run was dropped and ${this.finalDir} was left as it was ` +
        `(run again with the overwrite flag to replace it)`);
    } else await this.commit();
    return result;
  }

  /** Creates the working folder (the checks have all passed by now). */
  async open(): Promise<void> {
    if (this.staged) process.on("exit", this.onExit);
    await mkdir(this.workDir, { recursive: true });
  }

  /** Puts a staged folder in place of the old one; a no-op for runs written in place. */
  async commit(): Promise<void> {
    if (!this.staged) return;
    await retargetPaths(this.workDir, this.workDir, this.requested);
    const old = siblingName(this.finalDir, "replaced");
    const hadOld = existsSync(this.finalDir);
    if (hadOld) await rename(this.finalDir, old);
    await rename(this.workDir, this.finalDir);
    process.off("exit", this.onExit);
    if (hadOld) await rm(old, { recursive: true, force: true });
    if (this.replacing.length) this.log(`replaced the previous contents of ${this.finalDir}: ${summarize(this.replacing)}`);
  }

  /** Drops a staged folder after a failure: the old folder was never touched. */
  async abandon(): Promise<void> {
    if (!this.staged) return;
    await this.drop();
    if (this.replacing.length) this.log(`the run failed: ${this.finalDir} was left as it was`);
  }

  private async drop(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
    process.off("exit", this.onExit);
  }
}

/**
 * Checks the output folder against the rules above and returns where to write. Writes nothing
 * (but removes staging folders of dead processes); `run` or `open` creates the working folder.
 *
 * @example
 * const out = await prepareOutputDir({ outputDir: "runs/sst2", inputs: [modelDir, "train.csv"],
 *   overwrite: false, ownMarker: "run.json", flag: "--output-dir", overwriteFlag: "--overwrite-output-dir" });
 * await out.run(async (dir) => train({ ...args, output_dir: dir }));
 */
export async function prepareOutputDir(o: OutputDirOptions): Promise<OutputDir> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const finalDir = resolve(o.outputDir);
  checkNotInput(finalDir, o.inputs, o.flag, o.outputDir);
  const st = statSync(finalDir, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new WhetError(`${o.flag} ${o.outputDir}: it is a file, not a folder`);
  await removeStaleSiblings(finalDir);
  // The run lock (run_lock.ts) is taken before these checks; it is not content of the folder.
  const entries = st ? readdirSync(finalDir).filter((e) => e !== LOCK_FILE) : [];
  if (entries.every((e) => o.leftovers?.includes(e))) {
    return new OutputDir(finalDir, o.outputDir, [], log, o.outputDir);
  }
  const own = existsSync(join(finalDir, o.ownMarker));
  const overwriteHint = o.overwriteFlag ? `pass ${o.overwriteFlag} to replace it (only once the new run succeeds), or ` : "";
  if (o.resume) {
    const resumable = own || (o.resumeFrom !== undefined && entries.some((e) => o.resumeFrom!.test(e)));
    if (!resumable) throw new WhetError(`${o.flag} ${o.outputDir}: resuming needs the folder of an earlier run (no ${o.ownMarker} there)`);
    return new OutputDir(finalDir, o.outputDir, [], log, o.outputDir);
  }
  if (!own && !o.overwrite) {
    throw new WhetError(
      `${o.flag} ${o.outputDir}: the folder is not empty and is not an earlier whet output (${summarize(entries)}); ${overwriteHint}choose a new or empty folder`,
    );
  }
  refuseFinishedOutput(o);
  if (own && !o.overwrite && !o.replaceOwn) {
    if (!o.unfinishedHint) return new OutputDir(finalDir, o.outputDir, [], log, o.outputDir);
    throw new WhetError(`${o.flag} ${o.outputDir} holds an unfinished run (${summarize(entries)}): ` +
      `${o.unfinishedHint(finalDir)}; ${overwriteHint}choose a new folder`);
  }
  return new OutputDir(finalDir, siblingName(finalDir, "staging"), entries, log, o.outputDir);
}

/**
 * The finished-run rule alone (a few stats): a recipe says it before loading a model or reading
 * data, and prepareOutputDir applies the same rule.
 */
export function refuseFinishedOutput(o: OutputDirOptions): void {
  if (o.overwrite || o.replaceOwn || o.resume) return;
  const finalDir = resolve(o.outputDir);
  const markers = o.finishedMarkers ?? [];
  const finished = markers.length > 0 && markers.every((m) => existsSync(join(finalDir, m)));
  if (finished && existsSync(join(finalDir, o.ownMarker))) {
    const overwriteHint = o.overwriteFlag ? `pass ${o.overwriteFlag} to replace it (only once the new run succeeds), or ` : "";
    throw new WhetError(`${o.flag} ${o.outputDir} holds a finished run: ${overwriteHint}choose a new folder, or continue it with --resume-from-checkpoint`);
  }
}

/**
 * Checks a single output file (predictions, forward outputs): not one of the inputs, not inside
 * an input folder, not a folder itself. Returns its absolute path.
 */
export function checkOutputFile(output: string, inputs: (string | undefined)[], flag: string): string {
  const file = resolve(output);
  checkNotInput(file, inputs, flag, output);
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new WhetError(`${flag} ${output}: it is a folder; expected a file name`);
  return file;
}

function checkNotInput(out: string, inputs: (string | undefined)[], flag: string, shown: string): void {
  const real = realish(out);
  if (parse(real).root === real || real === realish(homedir())) {
    throw new WhetError(`${flag} ${shown}: refusing to write into ${real} itself; name a folder for this output`);
  }
  for (const input of inputs) {
    if (!input || !existsSync(input)) continue;
    const inReal = realish(input);
    const isDir = statSync(inReal).isDirectory();
    if (inReal === real) throw new WhetError(`${flag} ${shown} is an input of this run (${input}); write the output elsewhere`);
    if (within(inReal, real)) throw new WhetError(`${flag} ${shown} contains an input of this run (${input}); write the output elsewhere`);
    if (isDir && within(real, inReal)) throw new WhetError(`${flag} ${shown} lies inside the input folder ${input}; write the output elsewhere`);
  }
}

/** `child` strictly inside `parent`. */
function within(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** The real path of `p`'s deepest existing ancestor, with the rest appended: symlinks cannot hide an input. */
function realish(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  while (!existsSync(head) && dirname(head) !== head) {
    tail.unshift(basename(head));
    head = dirname(head);
  }
  try {
    return join(realpathSync(head), ...tail);
  } catch {
    return abs;
  }
}

function siblingName(dir: string, kind: "staging" | "replaced"): string {
  return join(dirname(dir), `.${basename(dir)}.whet-${kind}-${process.pid}`);
}

/** Staging or replaced folders left by a process that was killed (its pid is gone). */
async function removeStaleSiblings(dir: string): Promise<void> {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.whet-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^(staging|replaced)-(\d+)$/.exec(n.startsWith(prefix) ? n.slice(prefix.length) : "");
    if (!m || isAlive(Number(m[2]))) continue;
    const p = join(parent, n);
    // A replaced folder whose staging never moved in is the user's old output: put it back.
    if (m[1] === "replaced" && !existsSync(dir)) await rename(p, dir);
    else if (lstatSync(p).isDirectory()) await rm(p, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** JSON files of the run that name the staging folder (run.json, trainer_state.json) are made to name the final one. */
async function retargetPaths(root: string, from: string, to: string): Promise<void> {
  const needle = JSON.stringify(from).slice(1, -1);
  const replacement = JSON.stringify(to).slice(1, -1);
  const files = [root, ...(await readdir(root)).filter((n) => n.startsWith("checkpoint-")).map((n) => join(root, n))];
  for (const dir of files) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith(".json")) continue;
      const file = join(dir, name);
      if ((await stat(file)).size > 64 << 20) continue;
      const text = await readFile(file, "utf8");
      if (text.includes(needle)) await writeTextAtomic(file, text.split(needle).join(replacement));
    }
  }
}

function summarize(entries: string[]): string {
  const shown = entries.slice(0, 5).join(", ");
  return entries.length > 5 ? `${shown} and ${entries.length - 5} more` : shown;
}
