#!/usr/bin/env node
// The `whet` program. Exit codes: 0 ok, 1 failure, 2 usage error (an unknown option, a missing
// argument: commander's errors; an invalid option value: UsageError), 130 interrupted training.
//
// Commands that load native modules (onnxruntime-node, tokenizers) are imported dynamically, so
// that on a broken install `whet doctor` still runs and says which part failed, and the other
// commands point to it instead of printing a module loader's stack trace. Add new commands to
// that list; only doctor and init are imported statically.
import { normalizeArgv } from "./argv_aliases.js";
import { Command, CommanderError } from "commander";
import { UsageError } from "../core/errors.js";
import { useCommandLineNames } from "../core/option_names.js";
import { doctorCommand } from "./doctor.js";
import { initCommand } from "./init.js";

// Messages from the library name options as the flags a user of this program typed.
useCommandLineNames();
const program = new Command("whet")
  .description("fine-tune transformer language models in TypeScript")
  .version("0.1.0");

// init and doctor need none of the others: skipping them makes both start in a fraction of the time.
const wanted = process.argv[2];
const light = wanted === "init" || wanted === "doctor";
let loadError: unknown = null;
if (!light) {
  try {
    // One after the other: concurrent import() of modules sharing dependencies can fail in Node 20
    // with "request for 'commander' is not in cache" (nodejs/node#52187).
    const train = await import("./train.js");
    const evaluate = await import("./evaluate.js");
    const inspect = await import("./inspect.js");
    const inference = await import("./inference.js");
    const bench = await import("./bench.js");
    const exporting = await import("./export.js");
    const distilling = await import("./distill.js");
    const pretraining = await import("./pretrain.js");
    const demo = await import("./demo.js");
    const bias = await import("./bias.js");
    const report = await import("./report.js");
    const augmenting = await import("./augment.js");
    const translating = await import("./translate.js");
    const searching = await import("./search.js");
    const merging = await import("./merge.js");
    program
      .addCommand(train.trainCommand())
      .addCommand(evaluate.evaluateCommand())
      .addCommand(inference.predictCommand())
      .addCommand(inference.forwardCommand())
      .addCommand(inference.tokenizeCommand())
      .addCommand(inspect.inspectCommand())
      .addCommand(pretraining.pretrainCommand())
      .addCommand(distilling.distillCommand())
      .addCommand(demo.demoCommand())
      .addCommand(exporting.exportCommand())
      .addCommand(bench.benchCommand())
      .addCommand(bias.biasCommand())
      .addCommand(report.reportCommand())
      .addCommand(augmenting.augmentCommand())
      .addCommand(translating.translateCommand())
      .addCommand(searching.searchCommand())
      .addCommand(merging.mergeCommand());
  } catch (e) {
    loadError = e;
  }
}
program.addCommand(initCommand()).addCommand(doctorCommand());

// addCommand() does not pass settings down, so every command gets them here: commander throws
// instead of exiting (the handler below picks the code), and a usage error ends with a hint.
const configure = (c: Command): void => {
  c.exitOverride().showHelpAfterError(`(run "${c.name() === "whet" ? "whet" : `whet ${c.name()}`} --help" for usage)`);
  c.commands.forEach(configure);
};
configure(program);

if (loadError !== null && wanted !== undefined && !["help", "-h", "--help", "-V", "--version"].includes(wanted)) {
  console.error(`whet: cannot load its modules: ${loadError instanceof Error ? loadError.message : String(loadError)}`);
  console.error(`run "whet doctor" to see what is wrong with the installation`);
  process.exit(1);
}

program.parseAsync(normalizeArgv(process.argv, (l) => console.error(l))).catch((e: unknown) => {
  if (e instanceof CommanderError && e.code.startsWith("commander.")) {
    // commander has printed its message already; --help and --version end here with code 0.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  console.error(`whet: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
