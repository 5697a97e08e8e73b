import assert from "node:assert/strict";
import { test } from "node:test";
import { formatValue, runConfigJsonSchema, typeText } from "./run_schema.js";
import { trainCommand } from "./train.js";

const flat = (s: string) => s.replace(/\s+/g, " ");

test("train --help: every run-config key is an option with the schema's description, allowed values and default", () => {
  const cmd = trainCommand();
  const help = flat(cmd.helpInformation());
  const { properties } = runConfigJsonSchema();
  const keys = Object.keys(properties);
  assert.ok(keys.length > 40, `${keys.length} keys`);
  for (const key of keys) {
    const long = `--${key.replace(/_/g, "-")}`;
    const opt = cmd.options.find((o) => o.long === long && !o.negate);
    assert.ok(opt, `${key}: no ${long} option in whet train`);
    const p = properties[key];
    const d = formatValue(p.default);
    if (d !== undefined) assert.ok(opt.description.includes(`default ${d}`), `${long}: default ${d} missing: ${opt.description}`);
    assert.ok(opt.description.includes(typeText(p)), `${long}: allowed values ${typeText(p)} missing`);
    if (p.description) assert.ok(opt.description.startsWith(p.description), `${long}: not the schema's description`);
    assert.ok(help.includes(flat(opt.description)), `${long}: its description is not in the printed help`);
  }
  // Spot checks of what a user reads.
  assert.match(help, /--learning-rate <value> .*default 2e-5/);
  assert.match(help, /--lr-scheduler-type <value> .*linear \| cosine/);
  assert.match(help, /--model <dir-or-id> .*required/);
});
