// A loopback stand-in for the Hugging Face Hub, for tests (these machines cannot reach the Hub).
// It serves the Hub's URL layout and headers: `/{repo}/resolve/{revision}/{file}` with
// X-Repo-Commit, ETag (git blob sha1) or, for LFS files, a 302 to a second "CDN" server with
// X-Linked-Etag (sha256) and X-Linked-Size; Range requests; X-Error-Code on errors. The CDN
// listens on another port and is addressed as "localhost" while the Hub is "127.0.0.1", so the
// two are different hosts (both loopback) and a test can see which one received the token.
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

export interface FakeRepo {
  /** `org/name`. */
  id: string;
  files: Record<string, string | Uint8Array>;
  /** Files stored in LFS (served from the CDN); default: *.safetensors and *.bin. */
  lfs?: string[];
  /** Branch or tag → commit; default `{ main: sha1(id) }`. */
  refs?: Record<string, string>;
  /** Answers 401 unless the request carries the hub's token. */
  private?: boolean;
}

export interface FakeRequest {
  method: string;
  /** "hub" or "cdn". */
  server: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  /** The token private repos accept. */
  token: string;
  requests: FakeRequest[];
  /** Files whose next GET stops after half the bytes (the socket is destroyed). */
  dropOnce: Set<string>;
  /** Files whose next GET sends half the bytes, then nothing more while the connection stays open. */
  stallOnce: Set<string>;
  /** Files served with one byte flipped (their sha256 then disagrees with X-Linked-Etag). */
  corrupt: Set<string>;
  /** Headers sent instead of the real ones for a file (HEAD and GET on the Hub): a hostile mirror. */
  forgedHeaders: Record<string, Record<string, string>>;
  /** Files served one byte every `dripMs` (each byte arrives well within any stall timeout). */
  drip: Set<string>;
  dripMs: number;
  /** Files whose GET body is a gzip stream of this many zero bytes (Content-Encoding: gzip). */
  gzipBomb: Map<string, number>;
  /** Answer 200 with the whole file to Range requests, as some servers do. */
  ignoreRange: boolean;
  /** Answer the next n requests with 503. */
  failNext: number;
  /** Old repo id → new one: answered with a relative redirect, as the Hub does for renamed repos. */
  renamed: Record<string, string>;
  commit(repoId: string, ref?: string): string;
  close(): Promise<void>;
}

export const sha1 = (b: string | Uint8Array) => createHash("sha1").update(b).digest("hex");
export const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");
/** The git blob id, which the Hub sends as the ETag of a regular file. */
export const gitBlobSha = (b: Uint8Array) => sha1(Buffer.concat([Buffer.from(`blob ${b.length}\0`), b]));

export async function startFakeHub(repos: FakeRepo[]): Promise<FakeHub> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const blobs = new Map<string, { name: string; bytes: Buffer }>(); // sha256 → LFS content
  const bytesOf = (r: FakeRepo, f: string) => Buffer.from(r.files[f]!);
  const isLfs = (r: FakeRepo, f: string) => (r.lfs ? r.lfs.includes(f) : /\.(safetensors|bin)$/.test(f));
  for (const r of repos) for (const f of Object.keys(r.files)) if (isLfs(r, f)) blobs.set(sha256(bytesOf(r, f)), { name: f, bytes: bytesOf(r, f) });
  const refsOf = (r: FakeRepo) => r.refs ?? { main: sha1(r.id) };

  const hub: FakeHub = {
    endpoint: "",
    cdnOrigin: "",
    token: "hf_fake_token",
    requests: [],
    dropOnce: new Set(),
    stallOnce: new Set(),
    corrupt: new Set(),
    ignoreRange: false,
    forgedHeaders: {},
    drip: new Set(),
    dripMs: 50,
    gzipBomb: new Map(),
    failNext: 0,
    renamed: {},
    commit: (id, ref = "main") => refsOf(byId.get(id)!)[ref]!,
    close: async () => {
      await Promise.all([hubServer, cdnServer].map((s) => new Promise((r) => s.close(r))));
      hubServer.closeAllConnections();
      cdnServer.closeAllConnections();
    },
  };

  const log = (server: string, req: http.IncomingMessage) =>
    hub.requests.push({ method: req.method!, server, path: req.url!, range: req.headers.range, authorization: req.headers.authorization });

  const hubServer = http.createServer((req, res) => {
    log("hub", req);
    if (hub.failNext > 0) {
      hub.failNext--;
      return end(res, 503, {});
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!.split("?")[0]!);
    if (!m) return end(res, 404, {});
    const [, id, rev, file] = m.map((s) => decodeURIComponent(s)) as [string, string, string, string];
    if (hub.renamed[id]) {
      const path = req.url!.replace(`/${id}/`, `/${hub.renamed[id]}/`);
      return end(res, 307, { Location: path });
    }
    const repo = byId.get(id);
    const authorized = req.headers.authorization === `Bearer ${hub.token}`;
    if (repo?.private && !authorized) {
      return end(res, 401, { "X-Error-Code": "RepoNotFound", "X-Error-Message": "Invalid username or password." });
    }
    if (!repo) return end(res, 404, { "X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found" });
    const refs = refsOf(repo);
    const commit = refs[rev] ?? (Object.values(refs).includes(rev) ? rev : undefined);
    if (!commit) return end(res, 404, { "X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id: " + rev });
    if (!(file in repo.files)) return end(res, 404, { "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": commit });
    const bytes = bytesOf(repo, file);
    if (isLfs(repo, file)) {
      const sha = sha256(bytes);
      return end(res, 302, {
        Location: `${hub.cdnOrigin}/repos/${sha}?X-Amz-Signature=fake`,
        "X-Repo-Commit": commit,
        "X-Linked-Etag": `"${sha}"`,
        "X-Linked-Size": String(bytes.length),
        ETag: `"${gitBlobSha(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\n`))}"`,
        ...hub.forgedHeaders[file],
      });
    }
    serveBytes(req, res, file, bytes, { "X-Repo-Commit": commit, ETag: `"${gitBlobSha(bytes)}"`, ...hub.forgedHeaders[file] });
  });

  const cdnServer = http.createServer((req, res) => {
    log("cdn", req);
    const sha = /^\/repos\/([0-9a-f]{64})/.exec(req.url!)?.[1];
    const blob = sha ? blobs.get(sha) : undefined;
    if (!blob) return end(res, 404, {});
    serveBytes(req, res, blob.name, blob.bytes, {});
  });

  function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, name: string, bytes: Buffer, headers: Record<string, string>) {
    if (hub.corrupt.has(name)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1]! ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    let status = 200;
    let body = bytes;
    if (range && !hub.ignoreRange) {
      const start = Number(range[1]);
      if (start >= bytes.length) return end(res, 416, { "Content-Range": `bytes */${bytes.length}` });
      status = 206;
      body = bytes.subarray(start);
      headers["Content-Range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    const bomb = hub.gzipBomb.get(name);
    if (bomb !== undefined && req.method === "GET") {
      const packed = gzipSync(Buffer.alloc(bomb));
      res.writeHead(200, { ...headers, "Content-Encoding": "gzip", "Content-Length": String(packed.length) });
      return res.end(packed);
    }
    res.writeHead(status, { ...headers, "Content-Length": String(body.length), "Accept-Ranges": "bytes" });
    if (req.method === "HEAD") return res.end();
    if (hub.drip.has(name)) {
      let i = 0;
      const t = setInterval(() => {
        if (i >= body.length || res.destroyed) {
          clearInterval(t);
          return res.end();
        }
        res.write(body.subarray(i, ++i));
      }, hub.dripMs);
      res.on("close", () => clearInterval(t));
      return;
    }
    if (hub.dropOnce.has(name)) {
      hub.dropOnce.delete(name);
      // Half the bytes, then the socket dies: what a flaky network does to a long download.
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (hub.stallOnce.has(name)) {
      hub.stallOnce.delete(name);
      res.write(body.subarray(0, body.length >> 1));
      return; // never ended: only the client's read timeout gets it out
    }
    res.end(body);
  }

  const listen = (s: http.Server) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
  hub.endpoint = `http://127.0.0.1:${await listen(hubServer)}`;
  hub.cdnOrigin = `http://localhost:${await listen(cdnServer)}`;
  return hub;
}

function end(res: http.ServerResponse, status: number, headers: Record<string, string>) {
  res.writeHead(status, { ...headers, "Content-Length": "0" });
  res.end();
}
