import { Command } from "commander";
import { distill } from "../recipes/distillation.js";
import { resolveArguments } from "../train/arguments.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { addPeftOptions, explainPeftErrors, peftInput } from "./peft_options.js";
import { stopOnSignals } from "./signals.js";

/** `whet distill`: flags → the distill recipe → one JSON line with both models' scores. */
export function distillCommand(): Command {
  const cmd = new Command("distill")
    .description("train a smaller student on a teacher's softened logits mixed with the labels (knowledge distillation)")
    .requiredOption("--teacher <dir-or-id>", "the fine-tuned teacher (sequence classification)")
    .option("--student <dir-or-id>", "the student to train (a pretrained folder or Hub id)")
    .option("--student-layers <n>", "or: a student made of this many of the teacher's layers", Number)
    .requiredOption("--train-file <file>", "training data (.csv, .tsv, .jsonl) with the teacher's labels")
    .option("--validation-file <file>", "evaluation data: teacher and student are both scored on it")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--alpha <a>", "weight of the distillation term (the label loss gets 1 - alpha)", Number, 0.5)
    .option("--temperature <t>", "softening temperature", Number, 2)
    .option("--config <file>", "run config (YAML or JSON); flags override it");
  addTrainingOptions(cmd);
  addPeftOptions(cmd, "a PEFT adapter folder that, loaded onto --teacher (LoRA and IA3 merged into it), "
    + "makes the teacher");
  return cmd.action(async (o: Record<string, unknown>) => {
    const { peft: peftCfg, ...fileCfg } = o.config ? readRunConfig(o.config as string) : {};
    const args = resolveArguments({ ...fileCfg, ...trainingFlags(o) }, "distill");
    const peft = peftInput(o, peftCfg, o.config);
    const stop = stopOnSignals();
    const r = await explainPeftErrors(peft, () => distill({
      teacher: o.teacher as string, adapter: o.adapter as string | undefined, peft: peft.value,
      student: o.student as string | undefined, studentLayers: o.studentLayers as number | undefined,
      trainFile: o.trainFile as string, validationFile: o.validationFile as string | undefined,
      textColumn: o.textColumn as string | undefined, textPairColumn: o.textPairColumn as string | undefined, labelColumn: o.labelColumn as string | undefined,
      alpha: o.alpha as number, temperature: o.temperature as number, args,
    }, { signal: stop.signal, runInfo: { command: process.argv.slice(2) } })).finally(() => stop.dispose());
    console.log(JSON.stringify({
      output_dir: r.outputDir, global_step: r.globalStep, interrupted: r.interrupted,
      ...(r.teacher ? { teacher: r.teacher, student: r.student } : {}),
    }));
    if (r.interrupted) process.exitCode = 130;
  });
}
