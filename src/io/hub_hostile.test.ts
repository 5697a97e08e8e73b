// A hostile or broken mirror behind HF_ENDPOINT: forged headers, drips, bombs. Nothing it sends
// may put a file outside the cache, keep a download running forever or fill the disk.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startFakeHub, type FakeHub } from "../testing/fake_hub.js";
import { HubError, resolveModel, type ResolveModelOptions } from "./hub.js";
import { RepoCache } from "./hub_cache.js";

const root = mkdtempSync(join(tmpdir(), "whet-hostile-"));
process.env.HF_HOME = join(root, "home");
process.env.HF_ENDPOINT = "http://127.0.0.1:9";
for (const k of ["HF_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT"]) delete process.env[k];

const config = JSON.stringify({ model_type: "bert", hidden_size: 32, pad: "x".repeat(4000) });
const weights = randomBytes(20_000);
let hub: FakeHub;
before(async () => {
  hub = await startFakeHub([{ id: "org/tiny", files: { "config.json": config, "model.safetensors": weights } }]);
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** A cache two levels below `root/box`, so an escape of a few `../` lands inside `root/box` where we can look. */
function options(extra: ResolveModelOptions = {}): ResolveModelOptions & { cacheDir: string } {
  const box = mkdtempSync(join(root, "box-"));
  return { endpoint: hub.endpoint, cacheDir: join(box, "a", "cache"), onProgress: false, retry: { attempts: 2, baseDelayMs: 1 }, ...extra };
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !statSync(join(dir, f)).isDirectory()) : [];
}

/** Forges headers for one file, runs `fn`, and asserts the refusal names `header` and that nothing left the cache. */
async function refusedHeader(file: string, headers: Record<string, string>, header: string) {
  const o = options();
  hub.forgedHeaders[file] = headers;
  try {
    await assert.rejects(resolveModel("org/tiny", o), (e: unknown) => {
      assert.ok(e instanceof HubError, String(e));
      assert.match(e.message, new RegExp(`sent ${header} `), e.message);
      return true;
    });
  } finally {
    delete hub.forgedHeaders[file];
  }
  const box = join(o.cacheDir, "..", "..");
  const outside = filesUnder(box).filter((f) => !f.startsWith(join("a", "cache")));
  assert.deepEqual(outside, [], "files written outside the cache");
  assert.ok(!existsSync(join(root, "x")) && !existsSync(join(root, "evil")));
}

test("an ETag that is a path is refused, naming the header", async () => {
  await refusedHeader("config.json", { ETag: '"../../../x"' }, "ETag");
  await refusedHeader("config.json", { ETag: '"..\\\\x"' }, "ETag");
  await refusedHeader("config.json", { ETag: '"."' }, "ETag");
});

test("an X-Linked-Etag that is not a sha256 is refused, naming the header", async () => {
  await refusedHeader("model.safetensors", { "X-Linked-Etag": '"../../../x"' }, "X-Linked-Etag");
  await refusedHeader("model.safetensors", { "X-Linked-Etag": '"abc"' }, "X-Linked-Etag");
});

test("an X-Repo-Commit that is not a commit sha is refused, naming the header", async () => {
  await refusedHeader("config.json", { "X-Repo-Commit": "../../../evil" }, "X-Repo-Commit");
  await refusedHeader("model.safetensors", { "X-Repo-Commit": "A".repeat(40) }, "X-Repo-Commit");
});

test("a size header that is not a byte count is refused, and a size beyond the free space too", async () => {
  await refusedHeader("model.safetensors", { "X-Linked-Size": "-5" }, "X-Linked-Size");
  const o = options();
  hub.forgedHeaders["model.safetensors"] = { "X-Linked-Size": String(2 ** 52) };
  try {
    await assert.rejects(resolveModel("org/tiny", o), (e: unknown) => e instanceof HubError && e.code === "CacheWrite" && /free/.test(e.message));
  } finally {
    delete hub.forgedHeaders["model.safetensors"];
  }
  assert.deepEqual(filesUnder(join(o.cacheDir, "models--org--tiny", "blobs")).filter((f) => f.includes("incomplete")), []);
});

test("every cache path is checked to stay inside its area", () => {
  const cache = new RepoCache(join(root, "c"), "org/tiny");
  assert.throws(() => cache.blobPath("../../x"), /outside/);
  assert.throws(() => cache.snapshotDir("../x"), /outside/);
  assert.throws(() => cache.snapshotFile("a".repeat(40), "../../x"), /outside/);
  assert.ok(cache.blobPath("a".repeat(64)).startsWith(join(root, "c", "models--org--tiny", "blobs")));
});

test("a drip of one byte at a time is a stall, and a file has an overall deadline", async () => {
  hub.drip.add("config.json");
  hub.dripMs = 20;
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = "0.3";
  const t0 = Date.now();
  try {
    // Many tries allowed: only the overall deadline can end this.
    const o = options({ fileTimeoutMs: 1500, retry: { attempts: 1000, baseDelayMs: 1 } });
    await assert.rejects(resolveModel("org/tiny", o), (e: unknown) => e instanceof HubError && /deadline/.test(e.message) && /config\.json/.test(e.message));
  } finally {
    hub.drip.delete("config.json");
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test("a gzip bomb is cut off at the announced size before it reaches the disk", async () => {
  const o = options();
  hub.gzipBomb.set("config.json", 64 << 20);
  try {
    await assert.rejects(resolveModel("org/tiny", o), (e: unknown) => e instanceof HubError && e.code === "Integrity" && /more than \d+ bytes/.test(e.message));
  } finally {
    hub.gzipBomb.delete("config.json");
  }
  const blobs = join(o.cacheDir, "models--org--tiny", "blobs");
  for (const f of filesUnder(blobs)) assert.ok(statSync(join(blobs, f)).size <= config.length, f);
});
