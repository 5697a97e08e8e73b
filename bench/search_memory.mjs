// Memory between the trials of a fine-tuning search: RSS and V8 heap after each trial of a
// `whet search`-style run on the bert-seq fixture (a tiny BERT, a few steps per trial).
// Run: npx tsc -p tsconfig.json && node --expose-gc bench/search_memory.mjs [--trials 10]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runFinetuneSearch } from "../dist/hpo/finetune_search.js";

const i = process.argv.indexOf("--trials");
const TRIALS = i >= 0 ? Number(process.argv[i + 1]) : 10;
const traj = fileURLToPath(new URL("../fixtures/trajectories/bert-seq/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "whet-search-memory-"));
writeFileSync(join(dir, "space.yaml"), "learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}\n" +
  "per_device_train_batch_size: {type: categorical, choices: [8, 16]}\n");
const base = {
  model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: join(dir, "out"), max_steps: 8,
  max_length: 32, eval_strategy: "steps", eval_steps: 4, save_strategy: "no", validation_split: 0.25, threads: 1,
};
const mb = (b) => (b / 2 ** 20).toFixed(1);
const rows = [];
const { study } = await runFinetuneSearch({
  storage: `sqlite:///${join(dir, "s.db")}`, studyName: "memory", direction: "maximize", nTrials: TRIALS,
  sampler: "tpe", pruner: "none", seed: 0, spaceFile: join(dir, "space.yaml"), catchErrors: false, base,
  metric: "eval_accuracy", log: () => undefined,
  callbacks: [(_s, t) => {
    globalThis.gc?.();
    const m = process.memoryUsage();
    rows.push([t.number, mb(m.rss), mb(m.heapUsed), mb(m.external + m.arrayBuffers)]);
  }],
});
await study.storage.close();
rmSync(dir, { recursive: true, force: true });
console.log(`after each trial (MiB; ${globalThis.gc ? "after a full GC" : "no --expose-gc: without a forced GC"})`);
console.log("trial  rss     heapUsed  external+arrayBuffers");
for (const r of rows) console.log(r.map((c, k) => String(c).padEnd([7, 8, 10, 8][k])).join(""));
console.log(`rss growth from trial 1 to trial ${rows.length}: ${(rows.at(-1)[1] - rows[0][1]).toFixed(1)} MiB`);
