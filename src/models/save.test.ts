import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConfig } from "../io/config.js";
import { readSafetensorsFile } from "../io/safetensors.js";
import { CompiledGraph } from "../runtime/session.js";
import { createModel, familyOf, type TaskModel } from "./auto.js";
import { traceForward } from "./forward.js";
import { loadPretrainedWeights } from "./pretrained.js";
import { saveModel } from "./save.js";

const fixtures = fileURLToPath(new URL("../../fixtures/hf/", import.meta.url));

async function logits(model: TaskModel, types: boolean): Promise<Float32Array> {
  const { graph, outputs } = traceForward(model, { tokenTypes: types, outputs: ["logits"] });
  const run = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const ids = BigInt64Array.from([2n, 15n, 27n, 3n, 2n, 99n, 3n, 0n]);
  const feeds: Record<string, { dtype: "int64" | "float32"; shape: number[]; data: BigInt64Array | Float32Array }> = {
    input_ids: { dtype: "int64", shape: [2, 4], data: ids },
    attention_mask: { dtype: "int64", shape: [2, 4], data: BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]) },
    token_type_ids: { dtype: "int64", shape: [2, 4], data: new BigInt64Array(8) },
  };
  for (const [k, p] of model.namedParameters()) feeds[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
  const out = await run.run(feeds);
  await run.release();
  return out.logits.data as Float32Array;
}

for (const name of ["bert-seq", "bert-mlm", "roberta-seq", "distilbert-seq"]) {
  test(`${name}: save then reload gives the same keys, shapes and logits`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "whet-save-"));
    try {
      const config = readConfig(fixtures + name);
      const model = createModel(config);
      await loadPretrainedWeights(model, fixtures + name);
      const types = familyOf(config).tokenTypes;
      await saveModel(model, dir);
      const saved = await readSafetensorsFile(join(dir, "model.safetensors"));
      const original = await readSafetensorsFile(join(fixtures + name, "model.safetensors"));
      // Exactly the tensors transformers wrote: same names, shapes and dtypes (tied weights once).
      assert.deepEqual([...saved.tensors.keys()].sort(), [...original.tensors.keys()].sort());
      for (const [k, t] of original.tensors) {
        assert.deepEqual(saved.tensors.get(k)!.shape, t.shape, k);
        assert.equal(saved.tensors.get(k)!.dtype, t.dtype, k);
        assert.deepEqual(saved.tensors.get(k)!.bytes, t.bytes, `${k} bytes`);
      }
      const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
      assert.deepEqual(cfg.architectures, config.architectures);
      if (config.id2label) assert.deepEqual(cfg.id2label, config.id2label);
      const again = createModel(readConfig(dir), undefined, 7);
      await loadPretrainedWeights(again, dir);
      assert.deepEqual(await logits(again, types), await logits(model, types));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
