// A 50 MB single-row CSV (a quote left open swallows a file): `whet inspect` and `whet train` cut
// the row before tokenizing, name its line, and stay far below 2 GB. Timings are printed, not asserted.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const model = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url));
const GB = 1024 ** 3;

/** text,label; line 2 holds one text of `mb` MB of words; then a few ordinary rows. */
function writeHugeCsv(path: string, mb: number): void {
  const fd = openSync(path, "w");
  const words = "the licensor grants you a copy of the program under these terms ".repeat(16_000); // ~1 MB
  writeSync(fd, "text,label\n\"");
  for (let i = 0; i < mb; i++) writeSync(fd, words);
  writeSync(fd, "\",GPL-3\n");
  for (let i = 0; i < 8; i++) writeSync(fd, `ordinary row ${i},${i % 2 ? "GPL-3" : "MPL-2.0"}\n`);
  closeSync(fd);
}

/** Runs whet in a child that reports its own peak RSS (process.resourceUsage) on exit. */
async function runWhet(dir: string, args: string[]): Promise<{ code: number | null; out: string; rssBytes: number; seconds: number }> {
  const wrapper = join(dir, "measure.mjs");
  await writeFile(wrapper, "process.on('exit', () => process.stderr.write(`\\nMAXRSS_KB ${process.resourceUsage().maxRSS}\\n`));\n" +
    `await import(${JSON.stringify(main)});\n`);
  const started = Date.now();
  const child = spawn(process.execPath, [wrapper, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  const kb = Number(/MAXRSS_KB (\d+)/.exec(out)?.[1] ?? NaN);
  return { code, out, rssBytes: kb * 1024, seconds: (Date.now() - started) / 1000 };
}

test("a 50 MB single-row CSV: inspect and train cut the row before tokenizing, name its line, stay under 2 GB", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-huge-"));
  try {
    const csv = join(dir, "huge.csv");
    writeHugeCsv(csv, 50);
    const inspect = await runWhet(dir, ["inspect", csv, "--model", model, "--max-length", "64"]);
    assert.equal(inspect.code, 0, inspect.out.slice(-2000));
    assert.match(inspect.out, /Oversized rows: 1 over 100,000 characters: line 2 \(5\d,\d{3},\d{3} characters\)/);
    assert.match(inspect.out, /max ≥ \d+ \(1 long row counted up to the cut\); .* exceed max_length 64/);
    const train = await runWhet(dir, ["train", "--model", model, "--train-file", csv, "--output-dir", join(dir, "run"),
      "--max-steps", "1", "--eval-strategy", "no", "--max-length", "64", "--threads", "1"]);
    assert.equal(train.code, 0, train.out.slice(-2000));
    assert.match(train.out, new RegExp(`warning: ${csv.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: a row of 5\\d,\\d{3},\\d{3} characters`));
    assert.match(train.out, /"global_step":1/);
    for (const [name, r] of [["inspect", inspect], ["train", train]] as const) {
      // Figures for the record (a shared machine's timings are noisy): not asserted.
      console.log(`# ${name} on a 50 MB row: ${r.seconds.toFixed(1)} s, peak RSS ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB`);
      assert.ok(r.rssBytes > 0 && r.rssBytes < 2 * GB, `${name}: peak RSS ${r.rssBytes} bytes`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
