// Every registry entry must describe its own model truthfully: the parameter names it predicts
// (embeddings, layer i, head), its sizes, its LoRA targets and head modules exist in the model it builds.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PretrainedConfig } from "../io/config.js";
import { createModel, maxSequenceLength, numLayers, TASKS } from "./auto.js";
import { FAMILIES, familyOf } from "./registry.js";

const SIZES = { vocab_size: 50, hidden_size: 8, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 20, type_vocab_size: 2, pad_token_id: 1 };

function tinyConfig(type: string): PretrainedConfig {
  const fam = familyOf(type);
  const c: PretrainedConfig = { model_type: type, vocab_size: 50, pad_token_id: 1, type_vocab_size: 2, id2label: { 0: "a", 1: "b" } };
  for (const [k, v] of Object.entries(SIZES)) if (k in fam.sizeKeys) c[fam.sizeKeys[k as keyof typeof fam.sizeKeys]] = v;
  return c;
}

for (const [type, fam] of Object.entries(FAMILIES)) {
  test(`registry ${type}: layer naming, sizes, LoRA targets and head modules match the model it builds`, () => {
    assert.equal(fam.modelType, type);
    const config = tinyConfig(type);
    assert.equal(numLayers(fam, config), 3);
    for (const task of TASKS) {
      const model = createModel(config, task, 1);
      const names = model.namedParameters().map(([n]) => n);
      const parts = names.map((n) => fam.partOf(n));
      assert.deepEqual([...new Set(parts.filter((p) => p.kind === "layer").map((p) => (p as { index: number }).index))], [0, 1, 2], `${task}: layers 0..2`);
      assert.ok(parts.some((p) => p.kind === "embeddings"), `${task}: embeddings found`);
      names.forEach((n, i) => {
        if (parts[i].kind === "head") assert.ok(!n.startsWith(`${fam.prefix}.embeddings.`) && !/\.layer\.\d+\./.test(n), `${n} is not head`);
        else assert.ok(n.startsWith(`${fam.prefix}.`), `${n} is under the prefix ${fam.prefix}`);
      });
      if (task === "sequence-classification") {
        for (const m of fam.headModules) assert.ok(names.some((n) => n.startsWith(`${m}.`)), `head module ${m} exists`);
        assert.ok(names.filter((n) => fam.partOf(n).kind === "head").every((n) => /pooler|classifier/.test(n)));
      }
      for (const t of fam.loraTargets ?? []) assert.ok(names.some((n) => n.includes(`.${t}.weight`)), `LoRA target ${t} exists`);
    }
    // RoBERTa's positions start after padding_idx (pad_token_id 1): two of the 20 are unusable.
    assert.equal(maxSequenceLength(config), fam.prefix === "roberta" ? 18 : 20);
  });
}

test("registry: an unknown model_type is a clear error naming the supported ones", () => {
  assert.throws(() => familyOf("gpt2"), /model_type "gpt2" is not supported \(supported: bert, roberta, xlm-roberta, distilbert\)/);
  assert.throws(() => familyOf("constructor"), /not supported/);
});
