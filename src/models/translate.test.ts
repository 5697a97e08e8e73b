import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startFakeHub } from "../testing/fake_hub.js";
import { translate, Translator } from "./translate.js";

const DIR = fileURLToPath(new URL("../../fixtures/marian/", import.meta.url));
const expected = JSON.parse(readFileSync(`${DIR}expected.json`, "utf8"));
const beam4 = expected.generate.find((g: { name: string }) => g.name === "beam4");

test("translate(): the library call the CLI and back-translation use; batching does not change outputs", async () => {
  const t = await Translator.load(DIR, { threads: 1 });
  try {
    const seen: number[] = [];
    const one = await translate(t, expected.texts, {
      numBeams: 4,
      maxNewTokens: 12,
      batchSize: 1,
      onBatch: (d: number) => seen.push(d),
    });
    const all = await t.translate(expected.texts, { numBeams: 4, maxNewTokens: 12, batchSize: 4 });
    assert.deepEqual(one, all);
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(
      all.map((r) => r.translation),
      beam4.decoded,
    );
    assert.deepEqual(await t.translate([]), []);
    // Sampling (one beam): the same seed repeats; another seed draws other tokens; pad is never drawn.
    const sample = (seed: number) =>
      t.translate(expected.texts, { doSample: true, numBeams: 1, maxNewTokens: 12, seed, topK: 0 });
    const [s1, s1again, s2] = [await sample(1), await sample(1), await sample(2)];
    assert.deepEqual(s1, s1again);
    assert.notDeepEqual(
      s1.map((r) => r.ids),
      s2.map((r) => r.ids),
    );
    for (const r of [...s1, ...s2]) assert.ok(!r.ids.includes(494) && r.ids.at(-1) === 0, JSON.stringify(r.ids));
    await assert.rejects(t.translate(["a"], { doSample: true, numBeams: 4 }), /beam sampling\) is not supported/);
    await assert.rejects(t.translate(["a"], { batchSize: 0 }), /batch size must be a positive integer/);
    await assert.rejects(
      t.translate(["a"], { maxNewTokens: 100 }),
      /max_length 101 needs more decoder positions than the model has \(max_position_embeddings 64\)/,
    );
  } finally {
    await t.release();
  }
  // A path loads, translates and releases in one call.
  const greedy = await translate(DIR, expected.texts.slice(0, 1), { numBeams: 1, maxNewTokens: 12, threads: 1 });
  assert.equal(greedy[0].translation, expected.generate[0].decoded[0]);
});

test("translate(): a Hub id downloads the Marian files (source.spm, target.spm, generation_config.json) and translates", async () => {
  const files = Object.fromEntries(
    readdirSync(DIR)
      .filter((f) => f !== "expected.json" && f !== "README.md")
      .map((f) => [f, readFileSync(join(DIR, f))]),
  );
  const hub = await startFakeHub([{ id: "Helsinki-NLP/opus-mt-tiny", files }]);
  const cacheDir = mkdtempSync(join(tmpdir(), "whet-marian-hub-"));
  try {
    const out = await translate("Helsinki-NLP/opus-mt-tiny", expected.texts, {
      endpoint: hub.endpoint,
      cacheDir,
      onProgress: false,
      numBeams: 4,
      maxNewTokens: 12,
      threads: 1,
    });
    assert.deepEqual(
      out.map((r) => r.translation),
      beam4.decoded,
    );
    const fetched = hub.requests.filter((r) => r.method === "GET").map((r) => r.path.split("/").at(-1));
    for (const f of ["source.spm", "target.spm", "vocab.json", "generation_config.json"])
      assert.ok(fetched.includes(f), `${f} fetched`);
  } finally {
    await hub.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
