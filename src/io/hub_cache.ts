// The Hugging Face cache layout, byte for byte as Python's huggingface_hub writes it, so both
// tools share one cache:
//   {cache}/models--{org}--{name}/blobs/{etag}                   file contents, named by git sha1 or LFS sha256
//   {cache}/models--{org}--{name}/snapshots/{commit}/{file}      relative symlink to ../../blobs/{etag}
//   {cache}/models--{org}--{name}/refs/{revision}                the commit sha that revision pointed to
//   {cache}/models--{org}--{name}/.no_exist/{commit}/{file}      empty: the file is known not to exist there
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { homedir, hostname } from "node:os";
import * as path from "node:path";
import { HubError } from "./hub_errors.js";

/** A full git commit sha: a revision that can never move, so its snapshot can be trusted without asking the Hub. */
export const COMMIT_RE = /^[0-9a-f]{40}$/;

type Env = Record<string, string | undefined>;

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (huggingface_hub's constants.py). */
export function hfHome(env: Env = process.env): string {
  if (env.HF_HOME) return expandHome(env.HF_HOME);
  const xdg = env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : path.join(homedir(), ".cache");
  return path.join(xdg, "huggingface");
}

/** `$HF_HUB_CACHE` (or its legacy name `$HUGGINGFACE_HUB_CACHE`), else `{hfHome}/hub`. */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE;
  return explicit ? expandHome(explicit) : path.join(hfHome(env), "hub");
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(homedir(), p.slice(1)) : p;
}

/** `org/name` → `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** `a/b.json` → `a{sep}b.json`: repo paths always use `/`, disk paths the platform's separator. */
function local(file: string): string {
  return path.join(...file.split("/"));
}

async function exists(p: string): Promise<boolean> {
  // stat follows symlinks: a snapshot link whose blob was deleted counts as missing.
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** One repo's folder in the cache. */
export class RepoCache {
  readonly root: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.root = path.join(cacheDir, repoFolderName(repoId));
  }

  blobPath(etag: string): string {
    return this.inside(path.join(this.root, "blobs", etag), "blobs", `blob name "${etag}"`);
  }

  snapshotDir(commit: string): string {
    return this.inside(path.join(this.root, "snapshots", commit), "snapshots", `commit "${commit}"`);
  }

  snapshotFile(commit: string, file: string): string {
    return this.inside(path.join(this.snapshotDir(commit), local(file)), path.join("snapshots", commit), `file "${file}"`);
  }

  /**
   * Every path this class hands out passes here: resolved, it must stay inside `{repo}/{area}`.
   * Names come from the user (revision, files) and from the server (commit, etag); the callers
   * validate them too, and this is the last line that a new caller cannot forget.
   */
  private inside(p: string, area: string, what: string): string {
    const base = path.resolve(this.root, area);
    const rel = path.relative(base, path.resolve(p));
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new HubError(`Caching "${this.repoId}": the ${what} would put a file at ${path.resolve(p)}, outside ${base}; refused`, "InvalidId");
    }
    return p;
  }

  /** The commit a branch or tag pointed to when last seen online; a commit sha maps to itself. */
  async readRef(revision: string): Promise<string | undefined> {
    if (COMMIT_RE.test(revision)) return revision;
    try {
      const sha = (await fs.readFile(this.refPath(revision), "utf8")).trim();
      // A ref file is trusted only when it holds a commit sha: it names a snapshot folder.
      return COMMIT_RE.test(sha) ? sha : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records revision → commit; skipped when unchanged so a read-only shared cache still works. */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    if ((await this.readRef(revision)) === commit) return;
    const ref = this.refPath(revision);
    await fs.mkdir(path.dirname(ref), { recursive: true });
    await writeAtomic(ref, commit);
  }

  private refPath(revision: string): string {
    return this.inside(path.join(this.root, "refs", local(revision)), "refs", `revision "${revision}"`);
  }

  private noExistPath(commit: string, file: string): string {
    return this.inside(path.join(this.root, ".no_exist", commit, local(file)), path.join(".no_exist", commit), `file "${file}"`);
  }

  hasFile(commit: string, file: string): Promise<boolean> {
    return exists(this.snapshotFile(commit, file));
  }

  hasBlob(etag: string): Promise<boolean> {
    return exists(this.blobPath(etag));
  }

  isKnownMissing(commit: string, file: string): Promise<boolean> {
    return exists(this.noExistPath(commit, file));
  }

  /** Remembers that `file` does not exist at `commit`, so later runs (and offline ones) need not ask. */
  async markMissing(commit: string, file: string): Promise<void> {
    const marker = this.noExistPath(commit, file);
    await fs.mkdir(path.dirname(marker), { recursive: true });
    await fs.writeFile(marker, "");
  }

  /** Points snapshots/{commit}/{file} at blobs/{etag} with a relative link, as huggingface_hub does. */
  async link(commit: string, file: string, etag: string): Promise<void> {
    const dst = this.snapshotFile(commit, file);
    const src = this.blobPath(etag);
    await fs.mkdir(path.dirname(dst), { recursive: true });
    const rel = path.relative(path.dirname(dst), src);
    // Build the link beside its final name, then rename over: a reader never sees a half state.
    const tmp = `${dst}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await fs.symlink(rel, tmp);
    } catch (e) {
      // Windows without developer mode cannot create symlinks; huggingface_hub copies then.
      if (!isErrno(e, "EPERM", "EACCES", "ENOTSUP", "EINVAL")) throw e;
      await fs.copyFile(src, tmp);
    }
    await fs.rename(tmp, dst);
  }
}

/** Writes a small file so readers see the old or the new content, never a prefix. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === "object" && e !== null && codes.includes((e as { code?: string }).code ?? "");
}

const LOCK_STALE_MS = 60_000;
const LOCK_TOUCH_MS = 15_000;
const LOCK_POLL_MS = 100;

/**
 * Takes an exclusive lock on `file` (created with O_EXCL), waiting while another process or call
 * holds it. Two downloads of one blob would otherwise append to the same `.incomplete` file.
 * A lock is stale when its owner on this host is dead, or when its holder stopped touching it
 * (another host on a shared disk). Returns the release function.
 *
 * The name differs from huggingface_hub's `{etag}.lock`: Python's filelock leaves its lock file in
 * place after release, which would look held forever to an O_EXCL lock.
 */
export async function acquireLock(file: string): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const owner = `${process.pid}@${hostname()}`;
  for (;;) {
    try {
      await fs.writeFile(file, owner, { flag: "wx" });
      break;
    } catch (e) {
      if (!isErrno(e, "EEXIST")) throw e;
      if (await isStale(file)) await fs.rm(file, { force: true });
      else await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  const touch = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now).catch(() => {});
  }, LOCK_TOUCH_MS);
  touch.unref();
  return async () => {
    clearInterval(touch);
    await fs.rm(file, { force: true });
  };
}

async function isStale(file: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
    const [pid, host] = text.split("@");
    if (host === hostname() && pid && !isAlive(Number(pid))) return true;
    return Date.now() - st.mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // vanished or half-written: poll again
  }
}

/** Whether a process with this id runs on this host (this process counts). */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0 probes without signalling
    return true;
  } catch (e) {
    return isErrno(e, "EPERM"); // exists, owned by someone else
  }
}
