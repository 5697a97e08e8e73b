#!/usr/bin/env node
// Side-by-side BERT step benchmark: whet (dist/cli/main.js bench) against PyTorch
// (../shared/bench/torch_reference.py), same shapes, same thread count, one process at a time.
//
// usage: node bench/compare.mjs [--quick] [--only whet|torch]
//   --quick  BERT-mini only          --only  run one engine
// Progress goes to stderr; stdout gets the table and, last, one JSON line with every row.
// Needs a build (npm run build) for whet; Debian's python3-torch (+ libopenblas0-openmp for the
// best-configured PyTorch) for the reference. Peak RSS comes from /usr/bin/time -v (Debian
// package `time`), else from polling /proc/PID/status VmHWM.
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

const CONFIGS = [
  { name: "BERT-mini", layers: 4, hidden: 256, heads: 4 },
  { name: "BERT-small", layers: 4, hidden: 512, heads: 8 },
];
const COMMON = { batch: 32, seq: 128, steps: 5, threads: 2 };
const MODES = ["train", "infer"];

function parseArgs(argv) {
  const opts = { quick: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") opts.quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a.includes("=") ? a.slice("--only=".length) : argv[++i];
      if (v !== "whet" && v !== "torch") fail(`--only takes "whet" or "torch", got ${JSON.stringify(v)}`);
      opts.only = v;
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node bench/compare.mjs [--quick] [--only whet|torch]\n");
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)} (expected --quick, --only whet|torch)`);
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

async function runEngine(engine, cfg, mode) {
  const shape = ["--layers", cfg.layers, "--hidden", cfg.hidden, "--heads", cfg.heads,
    "--batch", COMMON.batch, "--seq", COMMON.seq, "--steps", COMMON.steps,
    "--threads", COMMON.threads, "--mode", mode].map(String);
  const [cmd, args] = engine === "whet"
    ? [process.execPath, [WHET_CLI, "bench", ...shape]]
    : [PYTHON, [TORCH_SCRIPT, ...shape]];
  // Another process on these cores would skew the figure: record how busy they were just before.
  const load = await cpuBusy();
  const busy = load !== null && load > 0.2
    ? ` (WARNING: ${Math.round(load * 100)}% of ${cpus().length} cores busy before the run: timings contended)` : "";
  log(`-- ${engine} ${cfg.name} ${mode}${busy}: ${[cmd, ...args].join(" ")}`);
  const t0 = performance.now();
  const r = await runMeasured(cmd, args);
  const wallS = Math.round((performance.now() - t0) / 100) / 10;
  const json = lastJson(r.stdout);
  if (r.code !== 0 || !json || typeof json.tokens_per_s !== "number") {
    const why = r.signal ? `killed by ${r.signal}` : r.code !== 0 ? `exit code ${r.code}`
      : "no JSON line with tokens_per_s on stdout";
    const lines = (r.stderr.trim() || r.stdout.trim()).split("\n").map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /^(\w*Error\b|error\b)/i.test(l)) ?? lines.at(-1) ?? "";
    log(`   FAILED (${why}) after ${wallS}s: ${first}\n   ${lines.slice(-4).join("\n   ")}`);
    return { error: `${why}: ${first}`, cpu_busy_before: load };
  }
  log(`   ${json.tokens_per_s} tokens/s, ${json.ms_per_step} ms/step, peak RSS ${r.peakRssMb} MB (${wallS}s)`);
  return { ...json, peak_rss_mb: r.peakRssMb, cpu_busy_before: load };
}

const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b > 0 ? Math.round((a / b) * 100) / 100 : null);

function printTable(rows) {
  const header = ["config", "mode", "whet tok/s", "torch tok/s", "whet/torch", "whet RSS MB", "torch RSS MB", "RSS whet/torch"];
  const cell = (v) => (v === null || v === undefined ? "-" : String(v));
  const tps = (e) => (e?.error ? "FAILED" : e?.tokens_per_s);
  const body = rows.map((r) => [r.config, r.mode, tps(r.whet), tps(r.torch), r.ratio,
    r.whet?.peak_rss_mb, r.torch?.peak_rss_mb, r.rss_ratio].map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cols) => cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)];
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const configs = opts.quick ? CONFIGS.slice(0, 1) : CONFIGS;
  let runWhet = opts.only !== "torch";
  let runTorch = opts.only !== "whet";
  const notes = [];

  if (runWhet && !existsSync(WHET_CLI)) {
    notes.push(`whet: ${WHET_CLI} not found (run npm run build); whet runs will fail`);
  }
  if (runTorch) {
    const missing = torchMissing();
    if (missing) {
      notes.push(`PyTorch reference skipped: ${missing}; showing whet's figures alone`);
      runTorch = false;
    }
  }
  if (!existsSync(GNU_TIME)) notes.push(`${GNU_TIME} not found (apt-get install time): peak RSS polled from /proc (lower bound)`);
  for (const n of notes) log(`NOTE ${n}`);
  if (!runWhet && !runTorch) fail("nothing to run");

  const rows = [];
  for (const cfg of configs) {
    for (const mode of MODES) {
      const row = { config: cfg.name, layers: cfg.layers, hidden: cfg.hidden, heads: cfg.heads, ...COMMON, mode };
      row.whet = runWhet ? await runEngine("whet", cfg, mode) : null; // sequential: never overlap timings
      row.torch = runTorch ? await runEngine("torch", cfg, mode) : null;
      row.ratio = ratio(row.whet?.tokens_per_s, row.torch?.tokens_per_s);
      row.rss_ratio = ratio(row.whet?.peak_rss_mb, row.torch?.peak_rss_mb);
      rows.push(row);
    }
  }

  process.stdout.write(`\nbatch ${COMMON.batch} x seq ${COMMON.seq}, ${COMMON.threads} threads, median of ${COMMON.steps} steps\n`);
  printTable(rows);
  const engines = new Set(rows.flatMap((r) => [r.whet?.engine, r.torch?.engine]).filter(Boolean));
  for (const e of engines) process.stdout.write(`engine: ${e}\n`);
  const contended = rows.flatMap((r) => [r.whet, r.torch]).filter((e) => e?.cpu_busy_before > 0.2).length;
  if (contended) notes.push(`${contended} run(s) started while other processes kept the cores busy (>20%): rerun on a quiet machine before quoting figures`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`${JSON.stringify({ bench: "compare", ...COMMON, notes, rows })}\n`);
}

await main();
