import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAugmentSummary, parseAugmentSpec, resolveSpecPaths } from "./augment_spec.js";

test("parseAugmentSpec: unknown methods and options, options of another method, wrong types", () => {
  assert.throws(() => parseAugmentSpec({ method: "mixup" }),
    /Unknown augmentation method "mixup" for method \(expected one of: eda, template, back-translation, code-switch\)/);
  assert.throws(() => parseAugmentSpec({ method: "eda", cross: 0.5 }),
    /cross is an option of code-switch, not of method "eda"/);
  assert.throws(() => parseAugmentSpec({ method: "eda", num_augs: 2 }, (k) => `augment.${k}`),
    /Unknown augmentation option augment\.num_augs \(method "eda" takes: augment\.method, augment\.num_aug/);
  assert.throws(() => parseAugmentSpec({ method: "eda", alpha_sr: "high" }), /alpha_sr must be a number, got "high"/);
  assert.throws(() => parseAugmentSpec({ method: "template" }), /method "template" needs templates/);
  assert.throws(() => parseAugmentSpec({ method: "code-switch" }), /method "code-switch" needs dictionaries/);
  assert.throws(() => parseAugmentSpec({ method: "eda", pair: "second" }), /pair must be "first" or "both"/);
});

test("resolveSpecPaths: template and dictionary paths relative to the run config's folder", () => {
  const spec = parseAugmentSpec({ method: "code-switch", dictionaries: ["dicts/en-de.txt", "fr=/abs/en-fr.txt",
    "xx=rel.txt"] });
  assert.deepEqual(resolveSpecPaths(spec, "/runs/a").dictionaries, ["/runs/a/dicts/en-de.txt", "fr=/abs/en-fr.txt",
    "xx=/runs/a/rel.txt"]);
  assert.equal(resolveSpecPaths(parseAugmentSpec({ method: "template", templates: "t.yaml" }), "/c").templates,
    "/c/t.yaml");
  const summary = { method: "eda", rows_before: 200, rows_after: 987, added: 787, duplicates_dropped: 13 };
  assert.equal(formatAugmentSummary(summary),
    "augment eda: 200 training rows -> 987 (787 added, 13 duplicates dropped)");
});

test("parseAugmentSpec: back-translation takes one way to name its models and one output per text", () => {
  assert.throws(() => parseAugmentSpec({ method: "back-translation" }), /needs exactly one of back_translate/);
  const twice = { method: "back-translation", back_translate: "en-de", pivot_models: ["a", "b"] };
  assert.throws(() => parseAugmentSpec(twice),
    /needs exactly one of/);
  assert.throws(() => parseAugmentSpec({ method: "back-translation", back_translate: "en-de", num_aug: 3 }),
    /num_aug must be 1 for back-translation/);
  assert.equal(parseAugmentSpec({ method: "back-translation", pivot_models: ["a", "b"] }).pivot_models?.length, 2);
});
