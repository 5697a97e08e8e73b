import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startFakeHub, gitBlobSha, sha256, type FakeHub } from "../testing/fake_hub.js";
import { HubError, hubCacheDir, parseModelRef, resolveModel, type ResolveModelOptions } from "./hub.js";
import { progressReporter, type ProgressEvent } from "./progress.js";

// Never the real home cache, token or Hub, even if a test forgets an option.
const root = mkdtempSync(join(tmpdir(), "whet-hub-"));
process.env.HF_HOME = join(root, "home");
process.env.HF_ENDPOINT = "http://127.0.0.1:9";
for (const k of ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"]) delete process.env[k];

const weights = randomBytes(300_000);
const shard1 = randomBytes(70_000);
const shard2 = randomBytes(50_000);
const config = JSON.stringify({ model_type: "bert", hidden_size: 32 });
const index = JSON.stringify({ metadata: { total_size: 120_000 }, weight_map: { "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors", "c.weight": "model-00001-of-00002.safetensors" } });

let hub: FakeHub;
before(async () => {
  hub = await startFakeHub([
    { id: "org/tiny", files: { "config.json": config, "tokenizer.json": "{}", "vocab.txt": "[PAD]\n[UNK]\n", "model.safetensors": weights, "README.md": "# tiny" } },
    { id: "org/sharded", files: { "config.json": config, "model.safetensors.index.json": index, "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2, "pytorch_model.bin": weights } },
    { id: "org/legacy", files: { "config.json": config, "pytorch_model.bin": weights } },
    { id: "org/noweights", files: { "config.json": config } },
    { id: "org/private", private: true, files: { "config.json": config, "model.safetensors": weights } },
    { id: "org/versions", refs: { main: "a".repeat(40), v1: "b".repeat(40) }, files: { "config.json": config, "model.safetensors": weights } },
  ]);
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh cache per test, quiet, with retries that do not wait. */
function options(extra: ResolveModelOptions = {}): ResolveModelOptions & { cacheDir: string } {
  hub.requests.length = 0;
  return { endpoint: hub.endpoint, cacheDir: mkdtempSync(join(root, "cache-")), onProgress: false, retry: { attempts: 3, baseDelayMs: 1 }, ...extra };
}

/** A loopback port nobody listens on (a fresh one: fetch refuses well-known ports such as 9). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const gets = () => hub.requests.filter((r) => r.method === "GET");
const heads = () => hub.requests.filter((r) => r.method === "HEAD");

async function rejectsWith(p: Promise<unknown>, code: string, ...fragments: (string | RegExp)[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HubError, `expected a HubError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const f of fragments) assert.match(e.message, typeof f === "string" ? new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : f);
    return true;
  });
}

test("a fresh download lands in huggingface_hub's layout", async () => {
  const o = options();
  const dir = await resolveModel("org/tiny", o);
  const repo = join(o.cacheDir, "models--org--tiny");
  const commit = hub.commit("org/tiny");
  assert.equal(dir, join(repo, "snapshots", commit));
  assert.equal(readFileSync(join(repo, "refs", "main"), "utf8"), commit);
  // Regular files are named by their git blob sha1, LFS files by their sha256.
  const expected = { "config.json": gitBlobSha(Buffer.from(config)), "tokenizer.json": gitBlobSha(Buffer.from("{}")), "vocab.txt": gitBlobSha(Buffer.from("[PAD]\n[UNK]\n")), "model.safetensors": sha256(weights) };
  assert.deepEqual(readdirSync(join(repo, "blobs")).sort(), Object.values(expected).sort());
  for (const [file, etag] of Object.entries(expected)) {
    assert.ok(lstatSync(join(dir, file)).isSymbolicLink(), file);
    assert.equal(readlinkSync(join(dir, file)), join("..", "..", "blobs", etag));
  }
  assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
  assert.equal(readFileSync(join(dir, "config.json"), "utf8"), config);
  assert.ok(!existsSync(join(dir, "README.md")), "only the files a model needs");
  // Absent tokenizer files are remembered, as huggingface_hub does, so later runs need not ask.
  assert.ok(existsSync(join(repo, ".no_exist", commit, "merges.txt")));
  // Every request after the first names the commit, not the branch.
  assert.ok(heads().slice(1).every((r) => r.path.includes(`/resolve/${commit}/`)));
});

test("a second call is served from the cache: one HEAD, no GET", async () => {
  const o = options();
  const first = await resolveModel("org/tiny", o);
  hub.requests.length = 0;
  assert.equal(await resolveModel("org/tiny", o), first);
  assert.equal(gets().length, 0);
  assert.equal(heads().length, 1, "only config.json is asked for, to learn where main points");
});

test("offline mode resolves from the cache without a request", async () => {
  const o = options();
  const dir = await resolveModel("org/tiny", o);
  hub.requests.length = 0;
  assert.equal(await resolveModel("org/tiny", { ...o, offline: true }), dir);
  process.env.HF_HUB_OFFLINE = "1";
  try {
    assert.equal(await resolveModel("org/tiny", o), dir);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.equal(hub.requests.length, 0);
});

test("offline mode fails clearly when the model is not cached", async () => {
  const o = options({ offline: true });
  await rejectsWith(resolveModel("org/tiny", o), "NotCached", '"org/tiny"', "never downloaded", "refs/main", "HF_HUB_OFFLINE");
  const dir = await resolveModel("org/tiny", { ...o, offline: false });
  unlinkSync(join(dir, "model.safetensors"));
  await rejectsWith(resolveModel("org/tiny", o), "NotCached", "lacks weights (model.safetensors");
  await rejectsWith(resolveModel("org/tiny", { ...o, files: ["config.json", "special.bin"] }), "NotCached", "lacks special.bin");
  assert.equal(hub.requests.filter((r) => r.method === "GET" && r.path.endsWith("special.bin")).length, 0);
});

/** The second request continued where the first stopped: after some bytes, at most the half the server sent. */
function assertResumed(range: string | undefined) {
  const start = Number(/^bytes=(\d+)-$/.exec(range ?? "")?.[1]);
  assert.ok(start > 0 && start <= weights.length >> 1, `expected a Range from within the first half, got ${range}`);
}

test("a connection dropped mid-file is resumed with a Range request and verified", async () => {
  const o = options();
  hub.dropOnce.add("model.safetensors");
  const dir = await resolveModel("org/tiny", o);
  assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
  const cdn = gets().filter((r) => r.server === "cdn");
  assert.equal(cdn.length, 2);
  assert.equal(cdn[0]!.range, undefined);
  assertResumed(cdn[1]!.range);
  assert.deepEqual(readdirSync(join(o.cacheDir, "models--org--tiny", "blobs")).filter((f) => f.endsWith(".incomplete")), []);
});

test("a download that stalls is abandoned after HF_HUB_DOWNLOAD_TIMEOUT and resumed", async () => {
  const o = options();
  hub.stallOnce.add("model.safetensors");
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = "0.3";
  try {
    const dir = await resolveModel("org/tiny", o);
    assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
  } finally {
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
  const cdn = gets().filter((r) => r.server === "cdn");
  assert.equal(cdn.length, 2);
  assertResumed(cdn[1]!.range);
});

test("a partial file from an earlier run is continued, and restarted when the server ignores Range", async () => {
  for (const ignoreRange of [false, true]) {
    const o = options();
    const blobs = join(o.cacheDir, "models--org--tiny", "blobs");
    mkdirSync(blobs, { recursive: true });
    const start = ignoreRange ? Buffer.from("garbage from somewhere else") : weights.subarray(0, 1000);
    writeFileSync(join(blobs, `${sha256(weights)}.incomplete`), start);
    hub.ignoreRange = ignoreRange;
    try {
      const dir = await resolveModel("org/tiny", o);
      assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
    } finally {
      hub.ignoreRange = false;
    }
    assert.equal(gets().filter((r) => r.server === "cdn")[0]!.range, `bytes=${start.length}-`);
  }
});

test("a download whose sha256 disagrees with X-Linked-Etag is rejected and not left in place", async () => {
  const o = options();
  hub.corrupt.add("model.safetensors");
  try {
    await rejectsWith(resolveModel("org/tiny", o), "Integrity", '"model.safetensors"', sha256(weights), "X-Linked-Etag");
  } finally {
    hub.corrupt.delete("model.safetensors");
  }
  const repo = join(o.cacheDir, "models--org--tiny");
  assert.ok(!existsSync(join(repo, "blobs", sha256(weights))));
  assert.ok(!existsSync(join(repo, "blobs", `${sha256(weights)}.incomplete`)));
  assert.ok(!existsSync(join(repo, "snapshots", hub.commit("org/tiny"), "model.safetensors")));
  // The next run, against a healthy server, completes.
  const dir = await resolveModel("org/tiny", o);
  assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
});

test("the token goes to the Hub but not to the CDN; without one a private repo says to set HF_TOKEN", async () => {
  await rejectsWith(resolveModel("org/private", options()), "Unauthorized", '"org/private"', "gated or private", "set HF_TOKEN", "HTTP 401");
  await rejectsWith(resolveModel("org/private", options({ token: "hf_wrong" })), "Unauthorized", "the token that was sent has no access");
  process.env.HF_TOKEN = hub.token;
  try {
    const dir = await resolveModel("org/private", options());
    assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
  } finally {
    delete process.env.HF_TOKEN;
  }
  const hubAuth = hub.requests.filter((r) => r.server === "hub").map((r) => r.authorization);
  const cdnAuth = hub.requests.filter((r) => r.server === "cdn").map((r) => r.authorization);
  assert.ok(hubAuth.length > 0 && hubAuth.every((a) => a === `Bearer ${hub.token}`));
  assert.ok(cdnAuth.length > 0 && cdnAuth.every((a) => a === undefined));
});

test("404s say whether the repo, the revision or the file is missing", async () => {
  await rejectsWith(resolveModel("org/nope", options()), "RepoNotFound", 'repository "org/nope" not found');
  await rejectsWith(resolveModel("org/tiny@nope", options()), "RevisionNotFound", 'revision "nope" not found in "org/tiny"');
  await rejectsWith(resolveModel("org/tiny", options({ files: ["config.json", "missing.txt"] })), "EntryNotFound", 'file "missing.txt" not found in "org/tiny"');
  await rejectsWith(resolveModel("org/noweights", options()), "EntryNotFound", "has no weights (model.safetensors");
});

test("sharded safetensors: the index brings its shards, and pytorch_model.bin is not fetched", async () => {
  const dir = await resolveModel("org/sharded", options());
  assert.deepEqual(readFileSync(join(dir, "model-00001-of-00002.safetensors")), shard1);
  assert.deepEqual(readFileSync(join(dir, "model-00002-of-00002.safetensors")), shard2);
  assert.equal(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"), index);
  assert.ok(!hub.requests.some((r) => r.path.includes("pytorch_model.bin")));
  assert.equal(gets().filter((r) => r.server === "cdn").length, 2, "a shard named twice is fetched once");
  // Offline, the same selection is made from the cache.
  const o = { ...options(), cacheDir: join(dir, "..", "..", "..") };
  assert.equal(await resolveModel("org/sharded", { ...o, offline: true }), dir);
});

test("pytorch_model.bin is the fallback when there are no safetensors", async () => {
  const dir = await resolveModel("org/legacy", options());
  assert.deepEqual(readFileSync(join(dir, "pytorch_model.bin")), weights);
});

test("revisions: @tag syntax and the revision option write refs; a cached commit sha needs no request", async () => {
  const o = options();
  const v1 = await resolveModel("org/versions@v1", o);
  assert.equal(v1, join(o.cacheDir, "models--org--versions", "snapshots", "b".repeat(40)));
  assert.equal(readFileSync(join(o.cacheDir, "models--org--versions", "refs", "v1"), "utf8"), "b".repeat(40));
  assert.ok(!existsSync(join(o.cacheDir, "models--org--versions", "refs", "main")));
  const main = await resolveModel("org/versions", { ...o, revision: "main" });
  assert.equal(main, join(o.cacheDir, "models--org--versions", "snapshots", "a".repeat(40)));
  assert.equal(gets().filter((r) => r.server === "cdn").length, 1, "the same blob serves both commits");
  hub.requests.length = 0;
  assert.equal(await resolveModel(`org/versions@${"b".repeat(40)}`, o), v1);
  assert.equal(hub.requests.length, 0);
});

test("local folders are returned as they are; a missing one is an error", async () => {
  const dir = join(root, "local-model");
  mkdirSync(dir, { recursive: true });
  await rejectsWith(resolveModel(dir, options()), "LocalNotFound", "no config.json");
  writeFileSync(join(dir, "config.json"), config);
  assert.equal(await resolveModel(dir, options()), dir);
  await rejectsWith(resolveModel(join(root, "absent"), options()), "LocalNotFound", "no such folder");
  await rejectsWith(resolveModel("./absent/model", options()), "LocalNotFound", "no such folder");
  assert.equal(hub.requests.length, 0);
});

test("5xx are retried, unreachable hosts are named with the cause, and a cached copy stands in", async () => {
  const o = options();
  hub.failNext = 2;
  const dir = await resolveModel("org/tiny", o);
  hub.failNext = 5;
  await rejectsWith(resolveModel("org/legacy", options()), "Http", "HTTP 503", "gave up after 3 tries", "The cache cannot stand in");
  hub.failNext = 3;
  assert.equal(await resolveModel("org/tiny", o), dir, "a failing Hub falls back on a complete cached copy");
  hub.failNext = 0;
  const dead = `http://127.0.0.1:${await closedPort()}`;
  await rejectsWith(resolveModel("org/legacy", options({ endpoint: dead })), "Network", `cannot reach ${new URL(dead).host}`, "ECONNREFUSED", "is not in the cache");
  // huggingface_hub's behaviour: with the Hub down, a complete cached snapshot is used.
  assert.equal(await resolveModel("org/tiny", { ...o, endpoint: dead }), dir);
});

test("a renamed repo's relative redirect is followed; the cache keeps the name asked for", async () => {
  hub.renamed["old/tiny"] = "org/tiny";
  try {
    const o = options();
    const dir = await resolveModel("old/tiny", o);
    assert.equal(dir, join(o.cacheDir, "models--old--tiny", "snapshots", hub.commit("org/tiny")));
    assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights);
  } finally {
    delete hub.renamed["old/tiny"];
  }
});

test("concurrent calls share one download per blob", async () => {
  const o = options();
  const dirs = await Promise.all([resolveModel("org/tiny", o), resolveModel("org/tiny", o), resolveModel("org/tiny", o)]);
  assert.equal(new Set(dirs).size, 1);
  assert.equal(gets().filter((r) => r.server === "cdn").length, 1);
  assert.deepEqual(readFileSync(join(dirs[0]!, "model.safetensors")), weights);
});

test("the cache folder follows HF_HUB_CACHE, then HF_HOME, then ~/.cache/huggingface", () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: "/a/hub", HF_HOME: "/b" }), "/a/hub");
  assert.equal(hubCacheDir({ HF_HOME: "/b" }), join("/b", "hub"));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: "/x" }), join("/x", "huggingface", "hub"));
  assert.match(hubCacheDir({}), /\.cache[/\\]huggingface[/\\]hub$/);
});

test("the environment's cache, endpoint and offline settings are honoured", async () => {
  const o = options();
  process.env.HF_HUB_CACHE = o.cacheDir;
  process.env.HF_ENDPOINT = hub.endpoint;
  try {
    const dir = await resolveModel("org/legacy", { onProgress: false });
    assert.equal(dir, join(o.cacheDir, "models--org--legacy", "snapshots", hub.commit("org/legacy")));
  } finally {
    delete process.env.HF_HUB_CACHE;
    process.env.HF_ENDPOINT = "http://127.0.0.1:9";
  }
});

test("ids and names that are not repo ids, or that could leave the cache, are refused", async () => {
  assert.deepEqual(parseModelRef("org/name@v1.0"), { repoId: "org/name", revision: "v1.0" });
  assert.deepEqual(parseModelRef("bert-base-uncased"), { repoId: "bert-base-uncased", revision: undefined });
  for (const bad of ["org/na--me", "org/name@", "-org/name", "org/name.git", "org/n ame"]) {
    assert.throws(() => parseModelRef(bad), (e: unknown) => e instanceof HubError && e.code === "InvalidId", bad);
  }
  await rejectsWith(resolveModel("org/tiny", options({ revision: "../../escape" })), "InvalidId", '"../../escape"');
  await rejectsWith(resolveModel("org/tiny", options({ files: ["../x.json"] })), "InvalidId", '"../x.json"');
  assert.equal(hub.requests.length, 0);
});

test("progress: events for each downloaded file, plain lines when stderr is not a terminal", async () => {
  const events: ProgressEvent[] = [];
  await resolveModel("org/tiny", options({ onProgress: (e) => events.push(e) }));
  const last = events.filter((e) => e.done).map((e) => e.label);
  assert.deepEqual(last, ["org/tiny: config.json", "org/tiny: tokenizer.json", "org/tiny: vocab.txt", "org/tiny: model.safetensors"]);
  const w = events.filter((e) => e.label.endsWith("model.safetensors"));
  assert.equal(w.at(-1)!.received, weights.length);
  assert.equal(w[0]!.total, weights.length);

  const out: string[] = [];
  const report = progressReporter({ write: (t: string) => out.push(t), isTTY: false });
  report({ label: "x", received: 0, total: 2_500_000, done: false });
  report({ label: "x", received: 1_000_000, total: 2_500_000, done: false });
  report({ label: "x", received: 2_500_000, total: 2_500_000, done: true });
  assert.equal(out.length, 2);
  assert.match(out[0]!, /^x: downloading \(2\.5 MB\)\n$/);
  assert.match(out[1]!, /^x: 2\.5 MB in [\d.]+ s/);
  const tty: string[] = [];
  const bar = progressReporter({ write: (t: string) => tty.push(t), isTTY: true, columns: 100 });
  bar({ label: "y", received: 500, total: 1000, done: false });
  assert.match(tty[0]!, /^\ry \[#{12}-{12}\] {2}50% 500 B\/1\.0 kB/);
});
