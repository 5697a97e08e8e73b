import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatDoctor, runDoctor } from "./doctor.js";
import { style } from "./style.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));

test("doctor: all well here; --json; a token is reported as set, never shown", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-doctor-"));
  try {
    const env: Record<string, string | undefined> = { ...process.env, HF_HOME: join(dir, "hf"), HF_TOKEN: "hf_secretvalue123", HF_HUB_OFFLINE: "1", NO_COLOR: "1" };
    delete env.HF_HUB_CACHE;
    const r = spawnSync(process.execPath, [main, "doctor", "--json"], { encoding: "utf8", env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /secretvalue/);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, true);
    assert.deepEqual(j.problems, []);
    assert.equal(j.node.satisfied, true);
    assert.equal(j.onnxruntime.session, "ok");
    assert.ok(j.onnxruntime.backends.some((b: { name: string }) => b.name === "cpu"));
    assert.equal(j.tokenizers.loaded, true);
    assert.ok(j.threads >= 1 && j.memory.total_bytes > 0);
    assert.equal(j.huggingface.cache_dir, join(dir, "hf", "hub"));
    assert.equal(j.huggingface.cache, "will be created");
    assert.equal(j.huggingface.env.HF_TOKEN, "(set)");
    assert.equal(j.huggingface.env.HF_HOME, join(dir, "hf"));
    assert.equal(j.huggingface.token, "HF_TOKEN");
    assert.ok(j.checks.some((c: { name: string }) => c.name === "hub-offline"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("doctor: an unusable cache is a problem, one clear line; the command exits 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-doctor-"));
  try {
    writeFileSync(join(dir, "file"), "");
    const cache = join(dir, "file", "hub");
    const r = await runDoctor({ HF_HUB_CACHE: cache });
    assert.equal(r.ok, false);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0], /^hub-cache: Hugging Face cache .* cannot be written: .*file is a file, not a folder — set HF_HOME or HF_HUB_CACHE/);
    const text = formatDoctor(r, style({ isTTY: false }, {}));
    assert.match(text, /✗ Hugging Face cache/);
    assert.ok(text.includes("1 problem:\n  ✗ hub-cache: "), text);
    const cli = spawnSync(process.execPath, [main, "doctor"], { encoding: "utf8", env: { ...process.env, HF_HUB_CACHE: cache } });
    assert.equal(cli.status, 1);
    assert.match(cli.stdout, /1 problem:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
