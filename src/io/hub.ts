// Model download from the Hugging Face Hub into the cache that Python's huggingface_hub uses
// (layout in hub_cache.ts, HTTP in hub_http.ts). A local folder works the same way.
import { existsSync, statSync } from "node:fs";
import * as fs from "node:fs/promises";
import { homedir } from "node:os";
import * as path from "node:path";
import { COMMIT_RE, RepoCache, acquireLock, hfHome, hubCacheDir, repoFolderName } from "./hub_cache.js";
import { HubError } from "./hub_errors.js";
import { HubHttp, type FileMeta, type FileRef } from "./hub_http.js";
import { progressReporter, type ProgressEvent } from "./progress.js";

export { HubError, type HubErrorCode } from "./hub_errors.js";
export { hubCacheDir } from "./hub_cache.js";

export interface ResolveModelOptions {
  /** Branch, tag or commit sha; default "main" (or the `@revision` part of the id). */
  revision?: string;
  /**
   * Exactly these files (all required; an `*.index.json` brings its shards). Default: config.json,
   * the tokenizer files that exist, and the weights: model.safetensors, else
   * model.safetensors.index.json and its shards, else pytorch_model.bin.
   */
  files?: string[];
  /** Bearer token; default `HF_TOKEN`, else the file `huggingface-cli login` writes. `false`: none. */
  token?: string | false;
  /** Use the cache only; default from `HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Progress handler; default a bar on stderr (plain lines when it is not a terminal); `false`: silent. */
  onProgress?: false | ((e: ProgressEvent) => void);
  /** Cache root; default `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Hub address; default `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /**
   * Overall deadline for one file, retries included; default `WHET_HUB_FILE_TIMEOUT` (seconds),
   * else 10 minutes plus the file's size at 64 KiB/s.
   */
  fileTimeoutMs?: number;
  /** Tries per request on network errors and 5xx, and the first wait between them; default 5 and 500 ms. */
  retry?: { attempts?: number; baseDelayMs?: number };
}

// Optional files fetched when present: tokenizers (Marian's source.spm / target.spm / target_vocab.json,
// XLM-R's sentencepiece.bpe.model) and the generation defaults of translation models.
const TOKENIZER_FILES = [
  "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt",
  "sentencepiece.bpe.model", "source.spm", "target.spm", "target_vocab.json", "generation_config.json",
];
const NO_WEIGHTS = "weights (model.safetensors, or model.safetensors.index.json and its shards, or pytorch_model.bin)";

/**
 * Returns a local folder holding the model: `idOrPath` itself when it is a folder with a
 * config.json, else the cache snapshot of the Hub repo `org/name` (optionally `org/name@revision`),
 * downloading what is missing.
 *
 * @example
 * const dir = await resolveModel("google-bert/bert-base-uncased");
 * const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
 */
export async function resolveModel(idOrPath: string, opts: ResolveModelOptions = {}): Promise<string> {
  const localDir = asLocalFolder(idOrPath);
  if (localDir !== undefined) {
    if (!existsSync(path.join(localDir, "config.json"))) {
      throw new HubError(`Loading the model folder "${idOrPath}": it has no config.json (expected a model saved by whet or transformers)`, "LocalNotFound");
    }
    return localDir;
  }
  const ref = parseModelRef(idOrPath);
  const revision = opts.revision ?? ref.revision ?? "main";
  checkRepoPath(revision, "revision", idOrPath);
  for (const f of opts.files ?? []) checkRepoPath(f, "file", idOrPath);
  const env = process.env;
  const cache = new RepoCache(opts.cacheDir ?? hubCacheDir(env), ref.repoId);
  const report = opts.onProgress === false ? undefined : (opts.onProgress ?? progressReporter());
  const note = (m: string) => {
    if (opts.onProgress !== false) process.stderr.write(`whet: ${m}\n`);
  };

  const offline = opts.offline ?? isTrue(env.HF_HUB_OFFLINE ?? env.TRANSFORMERS_OFFLINE);
  if (offline) return fromCache(cache, revision, opts.files, "HF_HUB_OFFLINE is set (or offline: true)", OFFLINE_HINT);
  // A commit sha never moves: a complete snapshot of it needs no request at all.
  if (COMMIT_RE.test(revision)) {
    const hit = await fromCache(cache, revision, opts.files, "", "").catch(() => undefined);
    if (hit) return hit;
  }

  const http = new HubHttp({
    endpoint: (opts.endpoint ?? env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, ""),
    token: opts.token === false ? undefined : (opts.token ?? (await readToken(env))),
    attempts: Math.max(1, opts.retry?.attempts ?? 5),
    baseDelayMs: opts.retry?.baseDelayMs ?? 500,
    headTimeoutMs: seconds(env.HF_HUB_ETAG_TIMEOUT, 10) * 1000,
    readTimeoutMs: seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10) * 1000,
    fileTimeoutMs: opts.fileTimeoutMs ?? (env.WHET_HUB_FILE_TIMEOUT ? seconds(env.WHET_HUB_FILE_TIMEOUT, 600) * 1000 : undefined),
  });
  const first = opts.files?.[0] ?? "config.json";
  let head: FileMeta;
  try {
    head = await http.metadata({ repoId: ref.repoId, revision, file: first });
  } catch (e) {
    // As huggingface_hub does: when the Hub is unreachable, failing, or refuses the token, a
    // complete cached copy still serves. A missing repo, revision or file is an answer, not an outage.
    if (!(e instanceof HubError) || !["Network", "Http", "Unauthorized", "GatedRepo"].includes(e.code)) throw e;
    try {
      const dir = await fromCache(cache, revision, opts.files, "the Hub did not answer", "");
      note(`${e.message}; using the cached snapshot ${dir}`);
      return dir;
    } catch (cacheErr) {
      // Unreachable is not "offline mode": HF_HUB_OFFLINE is not set here, so do not blame it.
      const advice = e.code === "Network" ? `. The Hub cannot be reached and "${ref.repoId}" is not in the cache ` +
        `(${cache.root}): use a local model folder instead (--model path/to/folder, e.g. one saved by whet or ` +
        "transformers), pretrain one offline with `whet pretrain`, or run once with network access " +
        "(HF_ENDPOINT may name a mirror)" : `. The cache cannot stand in: ${(cacheErr as Error).message}`;
      throw new HubError(`${e.message}${advice}`, e.code);
    }
  }
  const commit = head.commit;
  await cache.writeRef(revision, commit);

  // Every later request names the commit, so a branch that moves meanwhile cannot mix two versions.
  const get = async (file: string, required: boolean): Promise<boolean> => {
    const fileRef: FileRef = { repoId: ref.repoId, revision: commit, file };
    if (await cache.hasFile(commit, file)) return true;
    if (file !== first && (await cache.isKnownMissing(commit, file))) {
      if (!required) return false;
      throw new HubError(`Looking up "${file}" in "${ref.repoId}" (commit ${commit}): the file does not exist there (the cache's .no_exist entry says so)`, "EntryNotFound");
    }
    let meta = head;
    if (file !== first) {
      try {
        meta = await http.metadata(fileRef);
      } catch (e) {
        if (!(e instanceof HubError) || e.code !== "EntryNotFound") throw e;
        await cache.markMissing(commit, file);
        if (required) throw e;
        return false;
      }
    }
    await fetchBlob(http, cache, fileRef, meta, report);
    return true;
  };
  const lacking = await collectFiles(opts.files, get, (f) => cache.snapshotFile(commit, f));
  if (lacking.length) {
    throw new HubError(`Downloading "${ref.repoId}" (revision "${revision}", commit ${commit}): the repo has no ${lacking.join(", ")}`, "EntryNotFound");
  }
  return cache.snapshotDir(commit);
}

/** `org/name` or `org/name@revision` → its parts; throws on anything that is not a valid repo id. */
export function parseModelRef(id: string): { repoId: string; revision?: string } {
  const at = id.indexOf("@");
  const repoId = at < 0 ? id : id.slice(0, at);
  const revision = at < 0 ? undefined : id.slice(at + 1);
  const parts = repoId.split("/");
  const valid =
    parts.length <= 2 &&
    parts.every((p) => /^[A-Za-z0-9_.-]{1,96}$/.test(p) && /^\w/.test(p) && /\w$/.test(p)) &&
    !repoId.includes("--") &&
    !repoId.includes("..") &&
    !repoId.endsWith(".git") &&
    revision !== "";
  if (!valid) {
    throw new HubError(
      `Resolving the model "${id}": it is neither an existing folder nor a Hub repo id (expected "org/name" or "org/name@revision": letters, digits, "-", "_", "."; no "--" or "..")`,
      "InvalidId",
    );
  }
  return { repoId, revision };
}

/**
 * Walks the wanted files in order. `get(file, required)` makes the file present in the snapshot
 * and says whether it could; it throws (online) or records (offline) when a required one is
 * absent. Returns what is lacking beyond that: the weights, when none of the three forms exist.
 */
async function collectFiles(files: string[] | undefined, get: (file: string, required: boolean) => Promise<boolean>, local: (file: string) => string): Promise<string[]> {
  const withShards = async (index: string) => {
    for (const shard of await shardsOf(index, local(index))) await get(shard, true);
  };
  if (files) {
    for (const f of files) if ((await get(f, true)) && f.endsWith(".index.json")) await withShards(f);
    return [];
  }
  await get("config.json", true);
  for (const f of TOKENIZER_FILES) await get(f, false);
  if (await get("model.safetensors", false)) return [];
  if (await get("model.safetensors.index.json", false)) {
    await withShards("model.safetensors.index.json");
    return [];
  }
  if (await get("pytorch_model.bin", false)) return [];
  return [NO_WEIGHTS];
}

/** The shard files an index's weight_map names, relative to the repo root. */
async function shardsOf(index: string, file: string): Promise<string[]> {
  let map: unknown;
  try {
    map = (JSON.parse(await fs.readFile(file, "utf8")) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new HubError(`Reading the shard index "${index}" (${file}): ${(e as Error).message}`, "Integrity");
  }
  if (typeof map !== "object" || map === null) {
    throw new HubError(`Reading the shard index "${index}" (${file}): expected a "weight_map" object of tensor name → shard file`, "Integrity");
  }
  const dir = path.posix.dirname(index);
  const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))].sort();
  return shards.map((s) => {
    const shard = dir === "." ? s : `${dir}/${s}`;
    checkRepoPath(shard, "shard", index);
    return shard;
  });
}

/** Puts the blob in place (unless another run already did) and links the snapshot to it. */
async function fetchBlob(http: HubHttp, cache: RepoCache, ref: FileRef, meta: FileMeta, report?: (e: ProgressEvent) => void): Promise<void> {
  const blob = cache.blobPath(meta.etag);
  if (!(await cache.hasBlob(meta.etag))) {
    await fs.mkdir(path.dirname(blob), { recursive: true });
    const lock = path.join(cache.cacheDir, ".locks", repoFolderName(cache.repoId), `${meta.etag}.whet.lock`);
    const release = await acquireLock(lock);
    try {
      if (!(await cache.hasBlob(meta.etag))) {
        const label = `${ref.repoId}: ${ref.file}`;
        let last = 0;
        await http.download(ref, meta, `${blob}.incomplete`, (received) => {
          last = received;
          report?.({ label, received, total: meta.size, done: false });
        });
        // Renamed only once complete and verified: a blob under its final name is always whole.
        await fs.rename(`${blob}.incomplete`, blob);
        report?.({ label, received: meta.size ?? last, total: meta.size, done: true });
      }
    } finally {
      await release();
    }
  }
  await cache.link(ref.revision, ref.file, meta.etag);
}

const OFFLINE_HINT = "; run once online or unset HF_HUB_OFFLINE, or use a local model folder";

/** The snapshot for `revision` from the cache alone, or an error listing what is missing (`hint` ends it). */
async function fromCache(cache: RepoCache, revision: string, files: string[] | undefined, why: string, hint: string): Promise<string> {
  const where = `"${cache.repoId}" (revision "${revision}") in the cache ${cache.root}`;
  const commit = await cache.readRef(revision);
  if (!commit) {
    throw new HubError(`Resolving ${where} without the network (${why}): it was never downloaded (no refs/${revision})${hint}`, "NotCached");
  }
  const missing: string[] = [];
  const get = async (file: string, required: boolean) => {
    if (await cache.hasFile(commit, file)) return true;
    if (required) missing.push(file);
    return false;
  };
  missing.push(...(await collectFiles(files, get, (f) => cache.snapshotFile(commit, f))));
  if (missing.length) {
    throw new HubError(`Resolving ${where} without the network (${why}): snapshot ${commit} lacks ${missing.join(", ")}${hint}`, "NotCached");
  }
  return cache.snapshotDir(commit);
}

/** A folder path the user meant, or undefined for something to look up on the Hub. */
function asLocalFolder(p: string): string | undefined {
  const expanded = p === "~" || p.startsWith("~/") ? path.join(homedir(), p.slice(1)) : p;
  // An existing folder wins, as in transformers' from_pretrained ("org/name" may be a local path).
  if (statSync(expanded, { throwIfNoEntry: false })?.isDirectory()) return expanded;
  const looksLikePath = path.isAbsolute(expanded) || /^\.\.?([/\\]|$)/.test(p) || p.includes("\\") || p.split("/").length > 2;
  if (looksLikePath) throw new HubError(`Loading the model folder "${p}": no such folder (expected a folder with config.json, or a Hub id "org/name")`, "LocalNotFound");
  return undefined;
}

/** Revisions and file names become cache paths: refuse anything that could step outside the repo folder. */
function checkRepoPath(p: string, what: string, context: string): void {
  const bad = p === "" || p.startsWith("/") || p.includes("\\") || p.includes("\0") || p.split("/").some((s) => s === "" || s === "." || s === "..");
  if (bad) throw new HubError(`Resolving "${context}": invalid ${what} "${p}" (expected a relative name such as "main" or "config.json", without "..")`, "InvalidId");
}

/** HF_TOKEN, its legacy name, or the token file `huggingface-cli login` writes. */
async function readToken(env: Record<string, string | undefined>): Promise<string | undefined> {
  const fromEnv = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = env.HF_TOKEN_PATH ?? path.join(hfHome(env), "token");
  return fs.readFile(file, "utf8").then(
    (t) => t.trim() || undefined,
    () => undefined,
  );
}

function isTrue(v: string | undefined): boolean {
  return ["1", "on", "yes", "true"].includes((v ?? "").trim().toLowerCase());
}

function seconds(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 ? n : fallback;
}
