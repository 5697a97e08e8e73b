// Run configs (--config) as an attacker or a careless user writes them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { readRunConfig } from "./args_options.js";

test("run config: YAML merge keys work as in PyYAML; bombs, huge files, deep nesting, devices and FIFOs are refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "whet-runcfg-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const refused = (path: string, re: RegExp) =>
    assert.throws(() => readRunConfig(path), (e: unknown) => e instanceof WhetError && re.test(e.message), String(re));

  assert.deepEqual(readRunConfig(file("merge.yaml", "x-base: &base\n  learning-rate: 0.1\n  seed: 3\n<<: *base\nseed: 4\n")),
    { x_base: { "learning-rate": 0.1, seed: 3 }, learning_rate: 0.1, seed: 4 });
  const bomb = "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n<<: {e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]}\n";
  refused(file("bomb.yaml", bomb), /Excessive alias count/);
  refused(file("huge.yaml", `output_dir: ${"x".repeat(2 << 20)}\n`), /huge\.yaml: \d+ bytes; a run config is at most 1048576 bytes/);
  refused(file("deep.yaml", `a: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`), /deep\.yaml: the document is nested too deeply$/);
  refused(file("dup.json", '{"seed": 1,\n "seed": 2}'), /dup\.json, line 2: the key "seed" appears twice/);
  refused("/dev/zero", /--config \/dev\/zero: it is a character device; expected a regular file/);
  const fifo = join(dir, "run.yaml");
  if (spawnSync("mkfifo", [fifo]).status === 0) refused(fifo, /run\.yaml: it is a FIFO/);
});
