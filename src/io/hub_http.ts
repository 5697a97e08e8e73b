// HTTP against the Hub's `/{repo}/resolve/{revision}/{file}` layout, following huggingface_hub's
// file_download.py: a HEAD (redirects not followed, except relative ones such as a renamed repo)
// gives the commit (X-Repo-Commit), the blob name (X-Linked-Etag for LFS files, else ETag) and
// the size (X-Linked-Size, else Content-Length); a GET then fetches the bytes, from the CDN that
// the HEAD's redirect names for LFS files. Node's fetch is used with `redirect: "manual"` so the
// token is never sent to another host, and with `Accept-Encoding: identity` so the byte counts
// are those of the file, not of a compressed transfer.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import { dirname } from "node:path";
import { HubError } from "./hub_errors.js";

const COMMIT_HEX = /^[0-9a-f]{40}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** No dots at all: an ETag can never be ".", "..", a hidden name or carry a path separator. */
const SAFE_ETAG = /^[A-Za-z0-9_-]{1,128}$/;

export interface HubHttpOptions {
  /** `https://huggingface.co` or a mirror, without a trailing slash. */
  endpoint: string;
  token?: string;
  /** Tries per request on network errors, 429 and 5xx (a download that makes progress tries again for free). */
  attempts: number;
  /** First wait between tries; it doubles each time, up to 10 s. */
  baseDelayMs: number;
  /** HEAD deadline (`HF_HUB_ETAG_TIMEOUT`). */
  headTimeoutMs: number;
  /**
   * The receive window (`HF_HUB_DOWNLOAD_TIMEOUT`): a connection that delivers less than
   * MIN_WINDOW_BYTES in one window is dropped and resumed, so a drip of one byte every few
   * seconds counts as a stall, not as progress.
   */
  readTimeoutMs: number;
  /**
   * Overall deadline for one file, all retries included; default FILE_DEADLINE_BASE_MS plus the
   * time the file takes at MIN_AVERAGE_BYTES_PER_S (`WHET_HUB_FILE_TIMEOUT`, in seconds, overrides).
   */
  fileTimeoutMs?: number;
}

/** Bytes a connection must deliver per receive window to count as alive. */
export const MIN_WINDOW_BYTES = 1024;
/** The default per-file deadline: 10 minutes, plus the file's size at 64 KiB/s (a 1 GB model: 4.7 h). */
export const FILE_DEADLINE_BASE_MS = 600_000;
export const MIN_AVERAGE_BYTES_PER_S = 65_536;
/** A resume after a dropped connection is free (no back-off, no try used) when it had made this much progress. */
const FREE_RESUME_BYTES = 1 << 20;

/** A file at a revision, named for messages and URLs. */
export interface FileRef {
  repoId: string;
  revision: string;
  file: string;
}

/** What a HEAD says about a file. */
export interface FileMeta {
  commit: string;
  /** The blob's name in the cache: git sha1 for regular files, sha256 of the contents for LFS ones. */
  etag: string;
  size?: number;
  /** The etag is the sha256 of the contents and is checked after download. */
  lfs: boolean;
  /** Where the GET goes: the CDN for LFS files, the resolve URL otherwise. */
  url: string;
}

const USER_AGENT = `whet; node/${process.versions.node}`;

export class HubHttp {
  private readonly origin: string;

  constructor(readonly opts: HubHttpOptions) {
    this.origin = new URL(opts.endpoint).origin;
  }

  resolveUrl(ref: FileRef): string {
    const file = ref.file.split("/").map(encodeURIComponent).join("/");
    return `${this.opts.endpoint}/${ref.repoId}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
  }

  /** HEAD the file, with retries; throws a HubError naming the repo, revision or file that is missing. */
  async metadata(ref: FileRef): Promise<FileMeta> {
    const doing = describe(ref, "Looking up");
    return this.retry(doing, async () => {
      let url = this.resolveUrl(ref);
      for (let hop = 0; ; hop++) {
        const res = await this.send(url, "HEAD", {}, AbortSignal.timeout(this.opts.headTimeoutMs), doing);
        if (res.status >= 300 && res.status < 400) {
          const loc = res.headers.get("location");
          if (!loc) throw new HubError(`${doing}: HTTP ${res.status} from ${clean(url)} without a Location header`, "Http");
          // Relative: the Hub's own redirect (renamed repo, resolve-cache); follow it, keeping the token.
          // Absolute: the CDN holding an LFS blob; that is where the GET must go.
          if (isRelative(loc) && hop < 10) {
            url = new URL(loc, url).href;
            continue;
          }
          return this.parseMeta(res, new URL(loc, url).href, doing, url);
        }
        if (!res.ok) throw this.httpError(res, ref, url, doing);
        return this.parseMeta(res, url, doing, url);
      }
    });
  }

  private parseMeta(res: Response, location: string, doing: string, url: string): FileMeta {
    return parseHubMeta(res.headers, res.status, location, doing, url, this.opts.endpoint);
  }

  /**
   * Downloads `meta` into `partial` and checks it (size; sha256 for LFS files). A `partial` left
   * by an interrupted run is continued with a Range request; one that fails the check is deleted.
   */
  async download(ref: FileRef, meta: FileMeta, partial: string, onBytes: (received: number) => void): Promise<void> {
    const doing = describe(ref, "Downloading");
    const deadline = Date.now() + (this.opts.fileTimeoutMs ?? FILE_DEADLINE_BASE_MS + ((meta.size ?? 0) / MIN_AVERAGE_BYTES_PER_S) * 1000);
    await checkFreeSpace(partial, meta.size, doing);
    let failures = 0;
    let freeRetries = 0;
    let restarted = false;
    // LFS files are hashed as the bytes arrive, so a 400 MB file is not read back a second time.
    let sum: RunningHash | undefined;
    const onData = (chunk: Uint8Array | "restart") => {
      if (!meta.lfs) return;
      if (chunk === "restart" || !sum) sum = { hash: createHash("sha256"), bytes: 0 };
      if (chunk !== "restart") {
        sum.hash.update(chunk);
        sum.bytes += chunk.length;
      }
    };
    for (;;) {
      let have = await sizeOf(partial);
      // Unknown size, or more bytes than the file has: the partial file cannot be trusted.
      if (have > 0 && (meta.size === undefined || have > meta.size)) {
        await fs.rm(partial, { force: true });
        have = 0;
      }
      try {
        // An empty partial file is fetched too: that also creates it for files of zero bytes.
        if (meta.size === undefined || have < meta.size || have === 0) {
          // Bytes left by an earlier run (or a failed write) are hashed from the file first.
          if (meta.lfs && sum?.bytes !== have) sum = await hashPrefix(partial, have);
          await this.fetchInto({ ref, meta, partial, offset: have, deadline, doing }, onBytes, onData);
        }
        const size = await sizeOf(partial);
        await verify(meta, partial, size, sum?.bytes === size ? sum.hash.digest("hex") : undefined, doing);
        return;
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
        if (e.code === "Integrity") {
          await fs.rm(partial, { force: true });
          // A resumed file may have started from bad bytes left by an earlier run: one clean retry.
          if (have > 0 && !restarted) {
            restarted = true;
            continue;
          }
          throw e;
        }
        if (!e.retryable) throw e;
        if (Date.now() >= deadline) throw new HubError(`${e.message}; the file's deadline has passed, giving up`, e.code, false);
        // A dropped connection that delivered real progress costs nothing: resume at once, within reason.
        if ((await sizeOf(partial)) >= have + FREE_RESUME_BYTES && freeRetries++ < 50) continue;
        if (++failures >= this.opts.attempts) throw exhausted(e, failures);
        await sleep(Math.min(this.backoff(failures), Math.max(0, deadline - Date.now())));
      }
    }
  }

  private async fetchInto(job: FetchJob, onBytes: (n: number) => void, onData: (chunk: Uint8Array | "restart") => void): Promise<void> {
    const { meta, partial, deadline, doing } = job;
    let offset = job.offset;
    const ac = new AbortController();
    const window = this.opts.readTimeoutMs;
    let inWindow = 0;
    let stall: NodeJS.Timeout | undefined;
    const arm = () => {
      stall = setTimeout(() => {
        if (inWindow >= MIN_WINDOW_BYTES) {
          inWindow = 0;
          return arm();
        }
        ac.abort(new Error(`less than ${MIN_WINDOW_BYTES} bytes in ${window / 1000} s (HF_HUB_DOWNLOAD_TIMEOUT)`));
      }, window);
    };
    arm();
    const overall = setTimeout(() => {
      const seconds = Math.round((this.opts.fileTimeoutMs ?? deadline - Date.now()) / 1000);
      ac.abort(new Error(`the file's overall deadline passed (WHET_HUB_FILE_TIMEOUT${this.opts.fileTimeoutMs ? ` = ${seconds} s` : ""})`));
    }, Math.max(0, deadline - Date.now()));
    try {
      const { res, url } = await this.openBody(job, ac.signal);
      if (res.status === 200 && offset > 0) {
        offset = 0; // the server ignored the Range header: start over rather than append the whole file
        onData("restart");
      }
      const limit = byteLimit(meta, res, offset, doing, url);
      const cannotWrite = (e: unknown) => new HubError(`${doing}: cannot write ${partial}: ${(e as Error).message}`, "CacheWrite");
      const fh = await fs.open(partial, offset > 0 ? "a" : "w").catch((e: unknown) => {
        throw cannotWrite(e);
      });
      let received = offset;
      onBytes(received);
      try {
        for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
          inWindow += chunk.length;
          // Checked before writing: a decompression or size bomb never reaches the disk.
          if (received + chunk.length > limit.bytes) {
            ac.abort(new Error("too many bytes"));
            throw new HubError(`${doing}: ${host(url)} sent more than ${limit.bytes} bytes (${limit.why}); refused`, "Integrity");
          }
          await fh.write(chunk).catch((e: unknown) => {
            throw cannotWrite(e);
          });
          onData(chunk);
          received += chunk.length;
          onBytes(received);
        }
      } catch (e) {
        if (e instanceof HubError) throw e;
        throw networkError(doing, url, ac.signal.aborted ? ac.signal.reason : e);
      } finally {
        await fh.close();
      }
      if (limit.expected !== undefined && received < limit.expected) {
        throw new HubError(`${doing}: the connection to ${host(url)} ended after ${received} of ${limit.expected} bytes`, "Network", true);
      }
    } finally {
      clearTimeout(stall);
      clearTimeout(overall);
    }
  }

  /** The GET (following redirects) whose body continues `job.partial` at `job.offset`. */
  private async openBody(job: FetchJob, signal: AbortSignal): Promise<{ res: Response; url: string }> {
    const { ref, meta, partial, offset, doing } = job;
    let url = meta.url;
    let res: Response;
    for (let hop = 0; ; hop++) {
      res = await this.send(url, "GET", offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal, doing);
      const loc = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !loc || hop >= 10) break;
      await res.body?.cancel();
      url = new URL(loc, url).href; // send() drops the token if this leaves the Hub's host
    }
    if (res.status === 206) {
      const start = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1];
      if (Number(start) !== offset) {
        await res.body?.cancel();
        await fs.rm(partial, { force: true });
        throw new HubError(`${doing}: asked for bytes from ${offset}, got Content-Range "${res.headers.get("content-range")}"`, "Http", true);
      }
    } else if (res.status === 416) {
      await res.body?.cancel();
      await fs.rm(partial, { force: true });
      throw new HubError(`${doing}: the server refused to resume at byte ${offset} (HTTP 416); starting over`, "Http", true);
    } else if (res.status !== 200) {
      throw this.httpError(res, ref, url, doing);
    }
    return { res, url };
  }

  /** One request; network failures become retryable HubErrors naming the host and the cause. */
  private async send(url: string, method: string, extra: Record<string, string>, signal: AbortSignal, doing: string): Promise<Response> {
    const headers: Record<string, string> = { "User-Agent": USER_AGENT, "Accept-Encoding": "identity", ...extra };
    // The token is for the Hub only; a CDN URL is already signed and must not see it.
    if (this.opts.token && new URL(url).origin === this.origin) headers.Authorization = `Bearer ${this.opts.token}`;
    try {
      return await fetch(url, { method, headers, redirect: "manual", signal });
    } catch (e) {
      throw networkError(doing, url, e);
    }
  }

  private async retry<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof HubError) || !e.retryable) throw e;
        if (attempt >= this.opts.attempts) throw exhausted(e, attempt);
        await sleep(this.backoff(attempt));
      }
    }
  }

  private backoff(failures: number): number {
    return Math.min(this.opts.baseDelayMs * 2 ** (failures - 1), 10_000);
  }

  /** Turns a non-2xx answer into the error the user can act on, using the Hub's X-Error-Code. */
  private httpError(res: Response, ref: FileRef | undefined, url: string, doing: string): HubError {
    void res.body?.cancel().catch(() => {});
    const code = res.headers.get("x-error-code");
    const said = res.headers.get("x-error-message");
    const detail = `HTTP ${res.status} from ${clean(url)}${code ? ` (${code})` : ""}${said ? `: "${said}"` : ""}`;
    const repo = ref?.repoId ?? "the repo";
    const page = `${this.opts.endpoint}/${repo}`;
    const tokenNote = this.opts.token
      ? "the token that was sent has no access to it: check HF_TOKEN or the token option"
      : "set HF_TOKEN (or pass the token option) to a token with read access";
    if (code === "GatedRepo") {
      return new HubError(`${doing}: "${repo}" is gated: accept its conditions at ${page}, then ${tokenNote}; ${detail}`, "GatedRepo");
    }
    if (res.status === 401 || res.status === 403) {
      return new HubError(`${doing}: "${repo}" is gated or private, or does not exist: ${tokenNote}; ${detail}`, "Unauthorized");
    }
    if (res.status === 404) {
      if (code === "RepoNotFound") {
        return new HubError(`${doing}: repository "${repo}" not found on ${this.opts.endpoint} (a private repo needs HF_TOKEN); ${detail}`, "RepoNotFound");
      }
      if (code === "RevisionNotFound") {
        return new HubError(`${doing}: revision "${ref?.revision}" not found in "${repo}" (expected a branch, tag or commit sha); ${detail}`, "RevisionNotFound");
      }
      const what = code === "EntryNotFound" ? `file "${ref?.file}" not found in "${repo}" at revision "${ref?.revision}"` : "not found (repo, revision or file)";
      return new HubError(`${doing}: ${what}; ${detail}`, "EntryNotFound");
    }
    const retryable = res.status === 429 || res.status >= 500;
    return new HubError(`${doing}: ${detail}`, "Http", retryable);
  }
}

/**
 * What a HEAD answer's headers say about a file, validated: these values become folder and file
 * names in the cache. Throws a HubError naming the header otherwise.
 */
export function parseHubMeta(h: Headers, status: number, location: string, doing: string, url: string, endpoint: string): FileMeta {
  const commit = h.get("x-repo-commit");
  if (!commit) {
    throw new HubError(
      `${doing}: ${clean(url)} answered HTTP ${status} without an X-Repo-Commit header: ` +
        `"${endpoint}" does not behave like the Hugging Face Hub (check HF_ENDPOINT, or a proxy in between)`,
      "Http",
    );
  }
  // These headers become folder and file names in the cache: anything but the shapes the Hub
  // sends could step outside it (huggingface_hub checks the commit against the same pattern).
  if (!COMMIT_HEX.test(commit)) throw badHeader(doing, url, "X-Repo-Commit", commit, "a 40-character hex commit sha");
  const linked = h.get("x-linked-etag");
  const etag = normalizeEtag(linked ?? h.get("etag"));
  if (!etag) throw new HubError(`${doing}: ${clean(url)} sent no ETag, so the file cannot be cached by content`, "Http");
  // A file that claims to live in LFS is named by the sha256 it is then checked against.
  if (linked !== null && !SHA256_HEX.test(etag)) throw badHeader(doing, url, "X-Linked-Etag", linked, "the 64-character hex sha256 of an LFS file");
  if (linked === null && !SAFE_ETAG.test(etag)) {
    throw badHeader(doing, url, "ETag", h.get("etag") ?? "", 'a token of letters, digits, "-" and "_" (a git blob sha on the Hub)');
  }
  const sizeName = h.has("x-linked-size") ? "X-Linked-Size" : "Content-Length";
  const sizeText = h.get(sizeName);
  if (sizeText !== null && !/^\d{1,16}$/.test(sizeText.trim())) throw badHeader(doing, url, sizeName, sizeText, "a byte count");
  const size = sizeText === null ? undefined : Number(sizeText);
  return { commit, etag, size, lfs: linked !== null, url: location };
}

interface FetchJob {
  ref: FileRef;
  meta: FileMeta;
  partial: string;
  offset: number;
  /** Epoch ms after which the file is abandoned. */
  deadline: number;
  doing: string;
}

/** Files whose size nobody announced are capped here (the Hub always announces one). */
export const MAX_UNANNOUNCED_BYTES = 1 << 30;

/**
 * How many bytes the partial file may reach, and how many it must: the size the HEAD announced,
 * else this GET's Content-Length, else MAX_UNANNOUNCED_BYTES. A body that decompresses beyond
 * it (fetch undoes a Content-Encoding the client never asked for) is cut off before being written.
 */
function byteLimit(meta: FileMeta, res: Response, offset: number, doing: string, url: string): { bytes: number; expected?: number; why: string } {
  const lengthText = res.headers.get("content-length");
  const length = lengthText !== null && /^\d{1,16}$/.test(lengthText.trim()) ? offset + Number(lengthText) : undefined;
  if (meta.size !== undefined) {
    if (length !== undefined && length > meta.size && !res.headers.get("content-encoding")) {
      throw new HubError(`${doing}: ${host(url)} announced ${length} bytes (Content-Length) for a file of ${meta.size}; refused`, "Integrity");
    }
    return { bytes: meta.size, expected: meta.size, why: `the size announced by the Hub` };
  }
  if (length !== undefined && !res.headers.get("content-encoding")) {
    if (length > MAX_UNANNOUNCED_BYTES) {
      throw new HubError(`${doing}: ${host(url)} announced ${length} bytes (Content-Length) without a size in its HEAD answer; files of unknown size are capped at ${MAX_UNANNOUNCED_BYTES}`, "Integrity");
    }
    return { bytes: length, expected: length, why: "its Content-Length" };
  }
  return { bytes: MAX_UNANNOUNCED_BYTES, why: "no size was announced; the cap for such files" };
}

/** Refuses a download the disk cannot hold before a byte of it is written (huggingface_hub only warns). */
async function checkFreeSpace(partial: string, size: number | undefined, doing: string): Promise<void> {
  if (size === undefined) return;
  const have = await sizeOf(partial);
  const st = await fs.statfs(dirname(partial)).catch(() => undefined);
  if (!st) return;
  const free = Number(st.bavail) * Number(st.bsize);
  if (size - have > free) {
    throw new HubError(`${doing}: the file needs ${size - have} more bytes but ${dirname(partial)} has ${free} free; free some space or set HF_HUB_CACHE`, "CacheWrite");
  }
}

interface RunningHash {
  hash: Hash;
  bytes: number;
}

async function hashPrefix(file: string, bytes: number): Promise<RunningHash> {
  const hash = createHash("sha256");
  if (bytes > 0) for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
  return { hash, bytes };
}

/** Checks the size, and for LFS files the sha256 (`digest` when it was computed on the way in). */
async function verify(meta: FileMeta, file: string, size: number, digest: string | undefined, doing: string): Promise<void> {
  if (meta.size !== undefined && size !== meta.size) {
    throw new HubError(`${doing}: expected ${meta.size} bytes (the size the Hub announced), got ${size}`, "Integrity");
  }
  if (!meta.lfs) return;
  const got = digest ?? (await hashPrefix(file, size)).hash.digest("hex");
  if (got !== meta.etag) {
    throw new HubError(`${doing}: sha256 of the ${size} bytes received is ${got}, expected ${meta.etag} (X-Linked-Etag); the file was discarded`, "Integrity");
  }
}

/** `W/"abc"` or `"abc"` → `abc` (huggingface_hub's _normalize_etag). */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "") || undefined;
}

function badHeader(doing: string, url: string, header: string, value: string, expected: string): HubError {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return new HubError(`${doing}: ${clean(url)} sent ${header} ${shown}; expected ${expected}. Refused: the cache would be written under that name (check HF_ENDPOINT)`, "Http");
}

function networkError(doing: string, url: string, e: unknown): HubError {
  return new HubError(`${doing}: cannot reach ${host(url)}: ${causeOf(e)}`, "Network", true);
}

/** fetch wraps the useful part ("connect ECONNREFUSED 127.0.0.1:9") in `cause`. */
function causeOf(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c && parts.length < 4; c = (c as { cause?: unknown }).cause) {
    const m = c instanceof Error ? c.message : String(c);
    if (m && m !== "fetch failed" && !parts.includes(m)) parts.push(m);
  }
  return parts.join(": ") || "unknown error";
}

function exhausted(e: HubError, tries: number): HubError {
  return new HubError(`${e.message} (gave up after ${tries} ${tries === 1 ? "try" : "tries"})`, e.code, false);
}

function describe(ref: FileRef, verb: string): string {
  return `${verb} "${ref.file}" in "${ref.repoId}" (revision "${ref.revision}")`;
}

function isRelative(loc: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(loc) && !loc.startsWith("//");
}

function host(url: string): string {
  return new URL(url).host;
}

/** A URL without its query: CDN URLs carry long signatures that help nobody in a message. */
function clean(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

async function sizeOf(file: string): Promise<number> {
  return fs.stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
