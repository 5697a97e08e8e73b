#!/usr/bin/env node
// Side-by-side BERT step benchmark: whet (dist/cli/main.js bench) against the best-configured
// PyTorch (../shared/bench/torch_reference.py: OpenMP OpenBLAS, the machine's OPENBLAS_CORETYPE /
// OPENBLAS_L2_SIZE pins dropped for its own process), the shapes of issue 16, same thread count,
// one process at a time, the two engines interleaved (whet, torch, torch, whet, ...) for
// --rounds rounds; each engine's best round is reported. The GEMM roofline (a large MatMul
// through onnxruntime-node) is measured in the same run, before every round and after the last.
//
// usage: node bench/compare.mjs [--quick] [--only whet|torch] [--rounds N] [--threads N]
//   --quick  the BERT-mini shapes only    --only  run one engine    --rounds  default 2
// Progress goes to stderr; stdout gets the table and, last, one JSON line with every row.
// Needs a build (npm run build) for whet; Debian's python3-torch + libopenblas0-openmp for the
// reference. Peak RSS comes from /usr/bin/time -v (Debian package `time`), else from polling
// /proc/PID/status VmHWM.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WHET_CLI = join(ROOT, "dist", "cli", "main.js");
const TORCH_SCRIPT = resolve(ROOT, "..", "shared", "bench", "torch_reference.py");
const PYTHON = "/usr/bin/python3";
const GNU_TIME = "/usr/bin/time";
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;

const MINI = { layers: 4, hidden: 256, heads: 4 };
const BASE = { layers: 12, hidden: 768, heads: 12 };
/** The shapes of the table: short texts (32×24) are the SST-2 shape. */
const SHAPES = [
  { name: "BERT-mini train 32x128", ...MINI, batch: 32, seq: 128, mode: "train" },
  { name: "BERT-mini train 32x24", ...MINI, batch: 32, seq: 24, mode: "train" },
  { name: "BERT-base-sized train 8x128", ...BASE, batch: 8, seq: 128, mode: "train", big: true },
  { name: "BERT-mini infer 32x128", ...MINI, batch: 32, seq: 128, mode: "infer" },
];
const STEPS = 5;
const GEMM_SIZE = 2048;

/**
 * Matrix-product FLOPs of one step (what the roofline counts): per token and layer 24·H² for the
 * projections and FFN plus 4·T·H for the attention products; a training step is ~3× the forward.
 */
function stepFlops(s) {
  const perTokenLayer = 24 * s.hidden * s.hidden + 4 * s.seq * s.hidden;
  const fwd = perTokenLayer * s.layers * s.batch * s.seq;
  return s.mode === "train" ? 3 * fwd : fwd;
}

function parseArgs(argv) {
  const opts = { quick: false, only: null, rounds: 2, threads: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i]);
    const positive = (flag) => {
      const v = value();
      if (!/^[1-9]\d*$/.test(v ?? "")) fail(`${flag} takes a positive integer, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (a === "--quick") opts.quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = value();
      if (v !== "whet" && v !== "torch") fail(`--only takes "whet" or "torch", got ${JSON.stringify(v)}`);
      opts.only = v;
    } else if (a === "--rounds" || a.startsWith("--rounds=")) opts.rounds = positive("--rounds");
    else if (a === "--threads" || a.startsWith("--threads=")) opts.threads = positive("--threads");
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node bench/compare.mjs [--quick] [--only whet|torch] [--rounds N] [--threads N]\n");
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)} (expected --quick, --only whet|torch, --rounds N, --threads N)`);
  }
  return opts;
}

function fail(msg) {
  process.stderr.write(`compare: ${msg}\n`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`${msg}\n`);

/** Why PyTorch cannot run here, or null when it can. */
function torchMissing() {
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found (../shared is absent)`;
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (r.status !== 0) return `${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-openmp)`;
  return null;
}

/** Runs one child to completion, alone, and measures its peak resident set size. */
async function runMeasured(cmd, args) {
  const useTime = existsSync(GNU_TIME);
  const tmp = useTime ? mkdtempSync(join(tmpdir(), "whet-bench-")) : null;
  const timeFile = tmp ? join(tmp, "time.txt") : null;
  const [file, argv] = useTime ? [GNU_TIME, ["-v", "-o", timeFile, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));

  // Fallback: poll the high-water mark while the process lives (a lower bound if it peaks
  // between the last poll and its exit).
  let polledKb = 0;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) polledKb = Math.max(polledKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 20);
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  const [code, signal] = await new Promise((res) => child.on("close", (c, s) => res([c, s])));
  clearTimeout(timer);
  if (poll) clearInterval(poll);

  let peakKb = polledKb;
  if (timeFile) {
    const text = existsSync(timeFile) ? readFileSync(timeFile, "utf8") : "";
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    peakKb = m ? Number(m[1]) : 0;
    rmSync(tmp, { recursive: true, force: true });
  }
  return { code, signal, stdout, stderr, peakRssMb: peakKb ? Math.round(peakKb / 1024) : null };
}

/** Fraction of all cores' time spent busy during one idle second of ours (null off Linux). */
async function cpuBusy() {
  const sample = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = sample();
    await new Promise((r) => setTimeout(r, 1000));
    const b = sample();
    return Math.round((1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)) * 100) / 100;
  } catch {
    return null;
  }
}

/** The last stdout line that parses as a JSON object. */
function lastJson(stdout) {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      return JSON.parse(t);
    } catch {
      /* not JSON: keep looking */
    }
  }
  return null;
}

async function runEngine(engine, shape, threads) {
  const args = shape.mode === "gemm"
    ? ["--mode", "gemm", "--size", shape.size, "--steps", STEPS, "--threads", threads]
    : ["--layers", shape.layers, "--hidden", shape.hidden, "--heads", shape.heads, "--batch", shape.batch,
      "--seq", shape.seq, "--steps", STEPS, "--threads", threads, "--mode", shape.mode];
  const [cmd, argv] = engine === "whet"
    ? [process.execPath, [WHET_CLI, "bench", ...args.map(String)]]
    : [PYTHON, [TORCH_SCRIPT, ...args.map(String)]];
  // Another process on these cores would skew the figure: record how busy they were just before.
  const load = await cpuBusy();
  const busy = load !== null && load > 0.2
    ? ` (WARNING: ${Math.round(load * 100)}% of ${cpus().length} cores busy before the run: timings contended)` : "";
  log(`-- ${engine} ${shape.name}${busy}: ${[cmd, ...argv].join(" ")}`);
  const t0 = performance.now();
  const r = await runMeasured(cmd, argv);
  const wallS = Math.round((performance.now() - t0) / 100) / 10;
  const json = lastJson(r.stdout);
  const figure = shape.mode === "gemm" ? "gflops" : "tokens_per_s";
  if (r.code !== 0 || !json || typeof json[figure] !== "number") {
    const why = r.signal ? `killed by ${r.signal}` : r.code !== 0 ? `exit code ${r.code}`
      : `no JSON line with ${figure} on stdout`;
    const lines = (r.stderr.trim() || r.stdout.trim()).split("\n").map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /^(\w*Error\b|error\b)/i.test(l)) ?? lines.at(-1) ?? "";
    log(`   FAILED (${why}) after ${wallS}s: ${first}\n   ${lines.slice(-4).join("\n   ")}`);
    return { error: `${why}: ${first}`, cpu_busy_before: load };
  }
  log(`   ${json[figure]} ${figure}, ${json.ms_per_step} ms/step, peak RSS ${r.peakRssMb} MB (${wallS}s)`);
  return { ...json, peak_rss_mb: r.peakRssMb ?? json.peak_rss_mb, cpu_busy_before: load };
}

const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** The round with the most tokens/s (the least disturbed by other processes); peak RSS is the largest seen. */
function best(results) {
  const ok = results.filter((r) => r && !r.error);
  if (!ok.length) return results.find((r) => r?.error) ?? null;
  const top = ok.reduce((a, b) => (b.tokens_per_s > a.tokens_per_s ? b : a));
  const rss = Math.max(...ok.map((r) => r.peak_rss_mb ?? 0)) || null;
  return { ...top, peak_rss_mb: rss, rounds_tokens_per_s: ok.map((r) => r.tokens_per_s) };
}

function printTable(rows) {
  const header = ["work", "whet tok/s", "torch tok/s", "whet/torch", "whet roofline", "torch roofline",
    "whet RSS MB", "torch RSS MB", "RSS whet/torch"];
  const cell = (v) => (v === null || v === undefined ? "-" : String(v));
  const tps = (e) => (e?.error ? "FAILED" : e?.tokens_per_s);
  const pct = (v) => (typeof v === "number" ? `${Math.round(v * 100)}%` : null);
  const body = rows.map((r) => [r.name, tps(r.whet), tps(r.torch), r.ratio, pct(r.whet_roofline), pct(r.torch_roofline),
    r.whet?.peak_rss_mb, r.torch?.peak_rss_mb, r.rss_ratio].map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cols) => cols.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)];
  process.stdout.write(`${out.join("\n")}\n`);
}

/** One roofline run (the median of its steps); main() takes the best over all of them. */
async function measureRoofline(threads, into, notes) {
  const r = await runEngine("whet", { name: `GEMM roofline ${GEMM_SIZE}^3`, mode: "gemm", size: GEMM_SIZE }, threads);
  if (r.error) notes.push(`a GEMM roofline run failed (${r.error}): the roofline is from the other run`);
  else into.push(r.gflops);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const shapes = opts.quick ? SHAPES.filter((s) => !s.big) : SHAPES;
  const runWhet = opts.only !== "torch";
  let runTorch = opts.only !== "whet";
  const notes = [];

  if (!existsSync(WHET_CLI)) notes.push(`whet: ${WHET_CLI} not found (run npm run build); whet runs will fail`);
  if (runTorch) {
    const missing = torchMissing();
    if (missing) {
      notes.push(`PyTorch reference skipped: ${missing}; showing whet's figures alone`);
      runTorch = false;
    }
  }
  if (!existsSync(GNU_TIME)) notes.push(`${GNU_TIME} not found (apt-get install time): peak RSS polled from /proc (lower bound)`);
  for (const n of notes) log(`NOTE ${n}`);

  const gemm = [];
  const results = shapes.map(() => ({ whet: [], torch: [] }));
  for (let round = 0; round < opts.rounds; round++) {
    // Before every round and once after: the best of these is the roofline, so one slow spell of
    // the machine during a roofline run cannot lower it (and inflate the fractions).
    await measureRoofline(opts.threads, gemm, notes);
    // Interleaved, and the order flips each round, so a slow spell of the machine hits both engines.
    const order = round % 2 === 0 ? ["whet", "torch"] : ["torch", "whet"];
    for (const [i, shape] of shapes.entries()) {
      for (const engine of order) {
        if ((engine === "whet" && runWhet) || (engine === "torch" && runTorch)) {
          results[i][engine].push(await runEngine(engine, shape, opts.threads)); // sequential: never overlap
        }
      }
    }
  }
  await measureRoofline(opts.threads, gemm, notes);
  const roofline = gemm.length ? Math.max(...gemm) : null;

  const rows = shapes.map((shape, i) => {
    const whet = runWhet ? best(results[i].whet) : null;
    const torch = runTorch ? best(results[i].torch) : null;
    const gflops = (e) => (e && !e.error ? (stepFlops(shape) / (e.ms_per_step / 1000)) / 1e9 : null);
    const frac = (e) => (roofline && gflops(e) ? Math.round((gflops(e) / roofline) * 1000) / 1000 : null);
    return {
      ...shape, threads: opts.threads, step_gflop: Math.round(stepFlops(shape) / 1e8) / 10, whet, torch,
      ratio: ratio(whet?.tokens_per_s, torch?.tokens_per_s), rss_ratio: ratio(whet?.peak_rss_mb, torch?.peak_rss_mb),
      whet_roofline: frac(whet), torch_roofline: frac(torch),
    };
  });

  const how = `median of ${STEPS} steps per run, best of ${opts.rounds} interleaved rounds`;
  process.stdout.write(`\n${opts.threads} threads, ${how}\n`);
  const gemmHow = `onnxruntime-node, four ${GEMM_SIZE}^3 MatMuls chained in one graph, best of ${gemm.length}`;
  process.stdout.write(`GEMM roofline (${gemmHow}): ${roofline ?? "-"} GFLOP/s\n`);
  printTable(rows);
  const engines = new Set(rows.flatMap((r) => [r.whet?.engine, r.torch?.engine]).filter(Boolean));
  for (const e of engines) process.stdout.write(`engine: ${e}\n`);
  const contended = results.flatMap((r) => [...r.whet, ...r.torch]).filter((e) => e?.cpu_busy_before > 0.2).length;
  if (roofline && rows.some((r) => r.whet_roofline > 1)) {
    notes.push("a step ran above the measured GEMM roofline: the roofline run was slowed by other processes");
  }
  if (contended) {
    notes.push(`${contended} run(s) started while other processes kept the cores busy (>20%): `
      + "rerun on a quiet machine before quoting figures");
  }
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`${JSON.stringify({ bench: "compare", threads: opts.threads, steps: STEPS, rounds: opts.rounds,
    roofline_gflops: roofline, gemm_gflops: gemm, notes, rows })}\n`);
}

await main();
