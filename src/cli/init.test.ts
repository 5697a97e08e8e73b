import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { resolveArguments, TrainingArgumentsSchema } from "../train/arguments.js";
import { readRunConfig } from "./args_options.js";
import { DATA_KEYS, DataKeysSchema, runConfigJsonSchema } from "./run_schema.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const whet = (args: string[], cwd: string) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

function inTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "whet-init-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("init: writes run.yaml that loads back as whet train --config reads it; refuses to overwrite without --force", () => {
  inTmp((dir) => {
    const r = whet(["init"], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /wrote run\.yaml/);
    const text = readFileSync(join(dir, "run.yaml"), "utf8");
    // The modeline points editors at the shipped schema, relative to the file.
    const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1];
    assert.ok(ref, "schema modeline");
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, ref), "utf8")).properties), Object.keys(runConfigJsonSchema().properties));

    // As train.ts does: data keys apart, the rest through resolveArguments.
    const cfg = readRunConfig(join(dir, "run.yaml"));
    const data = Object.fromEntries(Object.entries(cfg).filter(([k]) => DATA_KEYS.includes(k)));
    const rest = Object.fromEntries(Object.entries(cfg).filter(([k]) => !DATA_KEYS.includes(k)));
    assert.equal(DataKeysSchema.parse(data).model, "prajjwal1/bert-mini");
    const args = resolveArguments({ ...rest, output_dir: join(dir, "out") }, "run.yaml");
    const defaults = resolveArguments({ output_dir: join(dir, "out") });
    assert.deepEqual(args, defaults, "the set values are the defaults");

    // Every option is listed, set or commented out, so the file never goes stale.
    for (const k of Object.keys(runConfigJsonSchema().properties)) assert.match(text, new RegExp(`^(# )?${k}: `, "m"), `${k} is listed`);

    assert.equal(whet(["init"], dir).code, 1);
    writeFileSync(join(dir, "run.yaml"), "mine\n");
    const again = whet(["init"], dir);
    assert.equal(again.code, 1);
    assert.match(again.err, /run\.yaml already exists: pass --force/);
    assert.equal(readFileSync(join(dir, "run.yaml"), "utf8"), "mine\n", "left untouched");
    assert.equal(whet(["init", "--force"], dir).code, 0);
    assert.equal(readFileSync(join(dir, "run.yaml"), "utf8"), text);
  });
});

test("init: every commented-out example is a valid value once uncommented", () => {
  inTmp((dir) => {
    const r = whet(["init", "--output", "-"], dir);
    assert.equal(r.code, 0, r.err);
    const shapes = { ...DataKeysSchema.shape, ...TrainingArgumentsSchema.shape } as Record<string, { safeParse(v: unknown): { success: boolean } }>;
    const commented = [...r.out.matchAll(/^# ([a-z_]+): (.+)$/gm)];
    assert.ok(commented.length > 15);
    for (const [, key, value] of commented) {
      if (value.startsWith("<")) continue; // a key without example shows its type
      const v = YAML.parse(`${key}: ${value}`)[key];
      assert.ok(shapes[key].safeParse(v).success, `# ${key}: ${value}`);
    }
  });
});

test("init: --output names the file; JSON is refused (no comments there)", () => {
  inTmp((dir) => {
    assert.equal(whet(["init", "-o", "cfg.yml"], dir).code, 0);
    assert.match(readFileSync(join(dir, "cfg.yml"), "utf8"), /^learning_rate: 2e-5$/m);
    const j = whet(["init", "-o", "run.json"], dir);
    assert.equal(j.code, 1);
    assert.match(j.err, /name the file run\.yaml/);
  });
});
