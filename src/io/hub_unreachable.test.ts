// When the Hub cannot be reached and the cache has no copy, the message says so and what to do
// offline; it blames HF_HUB_OFFLINE only when it is set.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveModel } from "./hub.js";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("an unreachable Hub: the message says so, suggests a local folder or whet pretrain, and does not blame HF_HUB_OFFLINE", async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "whet-unreach-"));
  try {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const o = { endpoint, cacheDir, onProgress: false as const, offline: false, retry: { attempts: 1, baseDelayMs: 1 } };
    const e = await resolveModel("prajjwal1/bert-mini", o).then(() => assert.fail("resolved"), (x: Error) => x);
    assert.match(e.message, /cannot reach 127\.0\.0\.1/);
    assert.match(e.message, /The Hub cannot be reached and "prajjwal1\/bert-mini" is not in the cache/);
    assert.match(e.message, /--model path\/to\/folder/);
    assert.match(e.message, /`whet pretrain`/);
    assert.doesNotMatch(e.message, /HF_HUB_OFFLINE/);
    // Offline mode asked for: then it is named.
    const off = await resolveModel("prajjwal1/bert-mini", { ...o, offline: true }).then(() => assert.fail("resolved"), (x: Error) => x);
    assert.match(off.message, /HF_HUB_OFFLINE is set .*unset HF_HUB_OFFLINE, or use a local model folder/);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
