import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateFromTemplates, parseTemplates, readTemplates } from "./templates.js";

const INTENTS = fileURLToPath(new URL("../../../fixtures/augment/intents.yaml", import.meta.url));

test("templates: every combination, labels from the template or the slot value", async () => {
  const set = await readTemplates(INTENTS);
  const out = generateFromTemplates(set, { seed: 0 });
  assert.equal(out.length, 9 + 9 + 2 + 3);
  assert.deepEqual(out[0], { text: "Book a flight to Paris today", label: "book_flight", template: 0 });
  assert.ok(out.some((e) => e.text === "What's the weather in New York on Monday?" && e.label === "get_weather"));
  assert.deepEqual(out.filter((e) => e.template === 2).map((e) => [e.text, e.label]),
    [["I want to cancel my order", "cancel_order"], ["I want to track my order", "track_order"]]);
  assert.deepEqual(out.filter((e) => e.template === 3).map((e) => e.text), ["Play some jazz", "Play some rock",
    "Play some classical music"]);
});

test("templates: max_per_template samples distinct combinations, the same for a seed", () => {
  const src = "slots:\n  a: [1, 2, 3, 4, 5]\n  b: [x, y, z]\ntemplates:\n  - {text: '{a}{b} {{literal}}', label: L}\n";
  const set = parseTemplates(src, "t.yaml");
  const a = generateFromTemplates(set, { seed: 1, maxPerTemplate: 4 });
  assert.equal(a.length, 4);
  assert.equal(new Set(a.map((e) => e.text)).size, 4);
  assert.ok(a.every((e) => /^[1-5][xyz] \{literal\}$/.test(e.text)));
  assert.deepEqual(generateFromTemplates(set, { seed: 1, maxPerTemplate: 4 }), a);
  assert.notDeepEqual(generateFromTemplates(set,
    { seed: 2, maxPerTemplate: 4 }).map((e) => e.text), a.map((e) => e.text));
  assert.equal(generateFromTemplates(set, { seed: 1 }).length, 15);
});

test("templates: an undefined slot names the file, line and template", () => {
  const src = "slots:\n  city: [Paris]\ntemplates:\n  - {text: 'to {city}', label: a}\n" +
    "  - text: 'from {cty}'\n    label: b\n";
  assert.throws(() => parseTemplates(src, "intents.yaml"),
    /: intents\.yaml:5: template 2 \("from \{cty\}"\) uses slot "cty", which is not defined \(slots: city\)$/);
});

test("templates: missing labels, conflicting slot labels, stray braces and bad YAML are errors", () => {
  assert.throws(() => parseTemplates("templates:\n  - 'hello {x}'\nslots:\n  x: [a]\n", "f.yaml"),
    /f\.yaml:2: template 1 .* has no label/);
  const conflict = "slots:\n  a: [{value: x, label: A}]\n  b: [{value: y, label: B}]\ntemplates:\n  - '{a} {b}'\n";
  assert.throws(() => generateFromTemplates(parseTemplates(conflict, "c.yaml"), { seed: 0 }),
    /c\.yaml:5: .*conflicting labels "A" and "B"/);
  assert.throws(() => parseTemplates("templates:\n  - {text: 'a {b', label: x}\n", "s.yaml"),
    /s\.yaml:2: .*brace that is not a \{slot_name\}/);
  assert.throws(() => parseTemplates("templates: [\n", "y.yaml"), /y\.yaml:\d+: invalid YAML/);
  assert.throws(() => parseTemplates("slots: {}\n", "n.yaml"), /n\.yaml: expected a mapping with a "templates" list/);
  assert.throws(() => parseTemplates("slots:\n  a: []\ntemplates: []\n", "e.yaml"),
    /e\.yaml:2: slot "a" must be a non-empty list/);
});
