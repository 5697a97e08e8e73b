#!/usr/bin/env node
// Where a step's time goes: sums ONNX Runtime profiler output (WHET_ORT_PROFILE=prefix writes one
// JSON per session, chrome://tracing format) by operator type and prints each type's share of the
// kernel time, with the number of node runs and the total host-measured run time.
//
// usage: WHET_ORT_PROFILE=/tmp/p node dist/cli/main.js bench --seq 24 --steps 3
//        node bench/profile_shares.mjs /tmp/p_*.json [--top 20]
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 20;
if (!args.length) {
  process.stderr.write("usage: node bench/profile_shares.mjs PROFILE.json... [--top N]\n");
  process.exit(2);
}
for (const file of args) {
  let events;
  try {
    events = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    process.stderr.write(`profile_shares: cannot read ${file} as ORT profiler JSON: ${e.message}\n`);
    process.exit(1);
  }
  const byOp = new Map();
  let kernelUs = 0;
  let runUs = 0;
  let runs = 0;
  for (const e of events) {
    if (e.cat === "Session" && e.name === "model_run") {
      runUs += e.dur;
      runs++;
    }
    if (e.cat !== "Node" || !String(e.name).endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    const s = byOp.get(op) ?? { us: 0, count: 0 };
    s.us += e.dur;
    s.count++;
    byOp.set(op, s);
    kernelUs += e.dur;
  }
  const rows = [...byOp.entries()].sort((a, b) => b[1].us - a[1].us);
  process.stdout.write(`${file}: ${runs} runs, ${(runUs / 1000).toFixed(1)} ms in model_run, `
    + `${(kernelUs / 1000).toFixed(1)} ms in kernels (${runUs ? Math.round((kernelUs / runUs) * 100) : "-"}%)\n`);
  for (const [op, s] of rows.slice(0, top)) {
    const share = ((s.us / kernelUs) * 100).toFixed(1).padStart(5);
    process.stdout.write(`  ${share}%  ${op.padEnd(28)} ${String(s.count / Math.max(runs, 1)).padStart(6)} nodes/run  `
      + `${(s.us / 1000 / Math.max(runs, 1)).toFixed(1)} ms/run\n`);
  }
}
