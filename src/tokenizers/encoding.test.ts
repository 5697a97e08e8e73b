// encode and encodeBatch name their fields alike (inputIds, tokenTypeIds, attentionMask…).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenizer } from "./load.js";

const dir = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url));

test("encode and encodeBatch: the same field names, the same values row by row", async () => {
  const tok = await loadTokenizer(dir);
  const texts = ["GNU GENERAL PUBLIC LICENSE", "Apache License Version 2.0, January 2004"];
  const one = await tok.encode(texts[0], "Version 3");
  const batch = await tok.encodeBatch([texts[0]], ["Version 3"], { padding: false });
  for (const k of ["inputIds", "tokenTypeIds", "attentionMask", "specialTokensMask"] as const) {
    assert.deepEqual(batch[k][0], one[k], k);
    assert.deepEqual(batch.encodings[0][k], one[k], `encodings[0].${k}`);
  }
  assert.ok(one.tokenTypeIds.includes(1), "the pair's segment ids");
  // The old names stay for one release, as the same arrays (padding reaches both).
  const padded = await tok.encodeBatch(texts);
  for (const e of padded.encodings) {
    assert.equal(e.ids, e.inputIds);
    assert.equal(e.typeIds, e.tokenTypeIds);
    assert.equal(e.inputIds.length, padded.inputIds[1].length);
  }
  assert.equal(padded.inputIds[0].at(-1), tok.padTokenId);
});
