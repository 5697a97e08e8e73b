import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import { startFakeHub } from "../testing/fake_hub.js";
import { hubReachCheck } from "./doctor_hub.js";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("doctor: the Hub's reachability, from HF_ENDPOINT; offline is fine; HF_HUB_OFFLINE means no request", async () => {
  const hub = await startFakeHub([]);
  try {
    const up = await hubReachCheck({ HF_ENDPOINT: hub.endpoint });
    assert.equal(up.status, "ok");
    assert.match(up.detail, new RegExp(`Hub: ${hub.endpoint} answers \\(HTTP \\d+`));
    assert.ok(hub.requests.length > 0, "the fake Hub was asked");

    hub.requests.length = 0;
    const off = await hubReachCheck({ HF_ENDPOINT: hub.endpoint, HF_HUB_OFFLINE: "1" });
    assert.equal(off.status, "info");
    assert.match(off.detail, /not contacted \(HF_HUB_OFFLINE is set\); fine for offline work/);
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const down = await hubReachCheck({ HF_ENDPOINT: dead });
  assert.equal(down.status, "info", "unreachable is not a problem");
  assert.match(down.detail, /cannot be reached \(ECONNREFUSED\); fine for offline work: use local model folders, `whet pretrain`/);
});
