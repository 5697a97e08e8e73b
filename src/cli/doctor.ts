/**
 * `whet doctor`: is this machine ready to fine-tune? Node against package.json's engines,
 * onnxruntime-node (its version, execution providers, and a one-op graph compiled and run the
 * way training runs one), the native tokenizers module, cores, memory, and the Hugging Face
 * cache and variables. Exit 0 when all is well, 1 with one line per problem.
 *
 * The native modules are imported inside their checks, not at the top: a broken install is
 * exactly when doctor must still run and say which part failed.
 *
 * @example
 * whet doctor          # ✓/✗ lines for people
 * whet doctor --json   # { ok, problems, checks, … } for scripts; same exit code
 */
import { Command } from "commander";
import { runDoctor, type DoctorReport, type Status } from "./doctor_checks.js";
import { style } from "./style.js";

export { runDoctor, type Check, type DoctorReport, type Status } from "./doctor_checks.js";

export function formatDoctor(r: DoctorReport, s = style(process.stdout)): string {
  const mark: Record<Status, string> = { ok: s.green("✓"), warn: s.yellow("!"), fail: s.red("✗"), info: s.dim("·") };
  const lines = r.checks.map((c) => `${mark[c.status]} ${c.detail}${c.fix ? s.dim(` — ${c.fix}`) : ""}`);
  lines.push("", r.ok ? s.green("All good.") : s.red(`${r.problems.length} ${r.problems.length === 1 ? "problem" : "problems"}:`));
  for (const p of r.problems) lines.push(`  ${s.red("✗")} ${p}`);
  return lines.join("\n");
}

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check that this machine can run whet: Node, ONNX Runtime, tokenizers, memory, the Hugging Face cache")
    .option("--json", "print the findings as one JSON object")
    .action(async (o: { json?: boolean }) => {
      const r = await runDoctor();
      console.log(o.json ? JSON.stringify(r) : formatDoctor(r));
      if (!r.ok) process.exitCode = 1;
    });
}
