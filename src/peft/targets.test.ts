import assert from "node:assert/strict";
import { test } from "node:test";
import { insideSavedModule, isSavedModule, layerIndex, matchesTarget, patternValue } from "./targets.js";

test("targets: PEFT's matching rules (fixtures/peft/README.md)", () => {
  const names = ["roberta.encoder.layer.0.attention.output.dense", "roberta.encoder.layer.0.intermediate.dense", "roberta.encoder.layer.0.output.dense", "classifier.dense"];
  assert.deepEqual(names.filter((n) => matchesTarget(n, ["dense"])), names);
  assert.deepEqual(names.filter((n) => matchesTarget(n, ["output.dense"])), [names[0], names[2]]);
  assert.ok(!matchesTarget("bert.encoder.layer.0.attention.self.query_extra", ["query"]), "a whole name part, not a prefix");
  assert.ok(matchesTarget("bert.encoder.layer.0.attention.self.query", ".*self\\.(query|value)"), "a string is a full-match regex");
  assert.ok(!matchesTarget("bert.encoder.layer.0.attention.self.query", "query"));
  assert.ok(insideSavedModule("classifier.dense", ["classifier", "score"]), "inside a saved copy: never targeted");
  assert.ok(isSavedModule("pre_classifier", ["classifier"]), "modules_to_save ends-with has no '.' boundary");
  assert.ok(isSavedModule("bert.pooler", ["pooler"]));
  assert.equal(layerIndex("bert.encoder.layer.11.attention.self.query", null), 11);
  assert.equal(layerIndex("distilbert.transformer.layer.3.attention.q_lin", null), 3);
  assert.equal(layerIndex("classifier", null), null);
  assert.equal(patternValue("bert.encoder.layer.1.attention.self.value", { value: 2 }), 2);
  assert.equal(patternValue("bert.encoder.layer.1.attention.self.value", { "layer.0.attention.self.value": 2 }), undefined);
});
