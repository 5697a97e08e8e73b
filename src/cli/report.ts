import { Command } from "commander";

/** `whet report RUN_DIR`: one self-contained HTML page about a training run. */
export function reportCommand(): Command {
  return new Command("report").description("write an HTML report of a training run").argument("<run-dir>");
}
