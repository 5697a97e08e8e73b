// The committed schema/whet-run.schema.json and README.md's configuration reference are
// generated from the zod schemas: these tests regenerate both in memory and fail when a
// committed copy is stale, naming the command that refreshes it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TrainingArgumentsSchema } from "../train/arguments.js";
import { trainCommand } from "./train.js";
import {
  configReferenceMarkdown, DATA_KEYS, DOCS_END, DOCS_START, replaceMarkedBlock, runConfigJsonSchema, runConfigSchemaText, typeText,
} from "./run_schema.js";
import { PEFT_SHORTHANDS } from "./peft_options.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const REGEN = 'run "npm run gen:schema" (build, then scripts/gen-schema.mjs and scripts/gen-config-docs.mjs) and commit the result';

test("schema: the committed schema/whet-run.schema.json is current", () => {
  let committed: string;
  try {
    committed = readFileSync(`${root}schema/whet-run.schema.json`, "utf8");
  } catch {
    assert.fail(`schema/whet-run.schema.json is missing: ${REGEN}`);
  }
  assert.ok(committed === runConfigSchemaText(), `schema/whet-run.schema.json is stale: ${REGEN}`);
});

test("schema: README.md's configuration reference is current", () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  assert.ok(readme.includes(DOCS_START) && readme.includes(DOCS_END), `README.md lacks the markers ${DOCS_START} / ${DOCS_END}`);
  assert.ok(replaceMarkedBlock(readme, configReferenceMarkdown()) === readme, `README.md's configuration reference is stale: ${REGEN}`);
});

test("schema: every key has a type and a description; training arguments come first from zod", () => {
  const { properties, additionalProperties } = runConfigJsonSchema();
  assert.equal(additionalProperties, false, "typos are flagged in editors");
  assert.deepEqual(Object.keys(properties), [...DATA_KEYS, ...Object.keys(TrainingArgumentsSchema.shape)]);
  for (const [name, p] of Object.entries(properties)) {
    assert.ok(p.description && p.description.length > 5, `${name} has a description`);
    assert.doesNotMatch(typeText(p), /any/, `${name} has a type`);
  }
  assert.equal(properties.learning_rate.default, 2e-5);
  assert.deepEqual(properties.eval_strategy.enum, ["no", "steps", "epoch"]);
  assert.equal(properties.max_steps.minimum, undefined, "zod's safe-integer bounds are dropped");
});

test("schema: the data keys are exactly whet train's data flags", () => {
  const training = new Set(Object.keys(TrainingArgumentsSchema.shape).map((k) => `--${k.replace(/_/g, "-")}`));
  // --no-quote and --quote set one key; --peft-config and --lora-r … are shorthands for keys inside the peft: mapping.
  const longs = trainCommand().options.map((o) => o.long!.replace(/^--no-/, "--"));
  const flags = [...new Set(longs)].filter((f) => !training.has(f) && f !== "--config" && !PEFT_SHORTHANDS.includes(f));
  assert.deepEqual(flags.sort(), DATA_KEYS.map((k) => `--${k.replace(/_/g, "-")}`).sort(),
    "add the key to DataKeysSchema in src/cli/run_schema.ts (or the flag to whet train)");
});

test("schema: replaceMarkedBlock keeps everything outside the markers", () => {
  const text = `a\n${DOCS_START}\nold\n${DOCS_END}\nb\n`;
  assert.equal(replaceMarkedBlock(text, "new"), `a\n${DOCS_START}\nnew\n${DOCS_END}\nb\n`);
  assert.throws(() => replaceMarkedBlock("no markers", "x"), /lacks the markers/);
});
