#!/usr/bin/env node
// What freezing saves: a BERT-base-sized training step (12 layers, hidden 768, vocabulary 30522)
// with (a) everything trainable, (b) the embeddings frozen, (c) only the top 2 layers + head
// trainable — whet (`whet bench --freeze …`) beside PyTorch doing the same with requires_grad=False
// (bench/torch_frozen.py), one process at a time, same shapes and threads.
//
// usage: node bench/strategies.mjs [--layers 12] [--hidden 768] [--heads 12] [--batch 8] [--seq 128]
//                                  [--steps 3] [--threads 2] [--only whet|torch]
// stdout: a table, then one JSON line with every row. Needs `npm run build`; for the PyTorch column
// Debian's python3-torch (+ libopenblas0-openmp for the best-configured PyTorch).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WHET = join(ROOT, "dist", "cli", "main.js");
const TORCH = join(ROOT, "bench", "torch_frozen.py");
const PYTHON = "/usr/bin/python3";

const o = { layers: 12, hidden: 768, heads: 12, batch: 8, seq: 128, steps: 3, threads: 2, only: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, "");
  if (!(k in o)) {
    process.stderr.write(`strategies: unknown argument ${argv[i]}\n`);
    process.exit(2);
  }
  o[k] = k === "only" ? argv[i + 1] : Number(argv[i + 1]);
}

// The top-2 case freezes the embeddings and every layer below the top two.
const lower = Array.from({ length: Math.max(0, o.layers - 2) }, (_, i) => `encoder.layer.${i}`);
const SETS = [
  { name: "all trainable", torch: "all", freeze: [] },
  { name: "embeddings frozen", torch: "no-emb", freeze: ["embeddings"] },
  { name: "top 2 layers + head", torch: "top2", freeze: ["embeddings", ...lower] },
];

function runJson(cmd, args) {
  process.stderr.write(`$ ${cmd} ${args.join(" ").slice(0, 160)}\n`);
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30 * 60 * 1000, maxBuffer: 1 << 26 });
  const last = (r.stdout ?? "").trim().split("\n").at(-1);
  if (r.status !== 0 || !last?.startsWith("{")) {
    process.stderr.write(`failed (exit ${r.status}): ${(r.stderr ?? "").slice(-2000)}\n`);
    return null;
  }
  return JSON.parse(last);
}

const shape = ["--layers", o.layers, "--hidden", o.hidden, "--heads", o.heads, "--batch", o.batch, "--seq", o.seq, "--steps", o.steps, "--threads", o.threads].map(String);
const rows = [];
for (const set of SETS) {
  if (o.only !== "torch") {
    if (!existsSync(WHET)) throw new Error("build first: npm run build");
    const freeze = set.freeze.length ? ["--freeze", set.freeze.join(",")] : [];
    const r = runJson(process.execPath, [WHET, "bench", ...shape, "--warmup", "1", ...freeze]);
    if (r) rows.push({ set: set.name, side: "whet", ...r });
  }
  if (o.only !== "whet") {
    if (!existsSync(PYTHON)) process.stderr.write("no /usr/bin/python3: skipping PyTorch\n");
    else {
      const r = runJson(PYTHON, [TORCH, ...shape, "--warmup", "1", "--trainable", set.torch]);
      if (r) rows.push({ set: set.name, side: "torch", ...r });
    }
  }
}

const base = Object.fromEntries(rows.filter((r) => r.set === SETS[0].name).map((r) => [r.side, r.ms_per_step]));
const lines = ["| case | engine | trainable params | ms / step | vs all trainable | peak RSS MB | graph nodes |", "|---|---|---|---|---|---|---|"];
for (const r of rows) {
  const speedup = base[r.side] ? `${(base[r.side] / r.ms_per_step).toFixed(2)}×` : "—";
  lines.push(`| ${r.set} | ${r.engine} | ${(r.trainable / 1e6).toFixed(1)} M of ${(r.params / 1e6).toFixed(1)} M | ` +
    `${r.ms_per_step} | ${speedup} | ${r.peak_rss_mb} | ${r.nodes ?? "—"} |`);
}
process.stdout.write(lines.join("\n") + "\n");
process.stdout.write(JSON.stringify({ shape: o, rows }) + "\n");
