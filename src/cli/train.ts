import { Command, InvalidArgumentError } from "commander";
import { DATA_KEYS, resolveRunSpec } from "../recipes/run_spec.js";
import { finetune } from "../recipes/finetune.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { addPeftOptions, explainPeftErrors, peftInput } from "./peft_options.js";
import { describeFromSchema } from "./schema_help.js";
import { stopOnSignals } from "./signals.js";

/** `--augment eda` or `--augment '{"method": "eda", "num_aug": 8}'`. */
function augmentFlag(v: string): unknown {
  if (!v.trim().startsWith("{")) return { method: v };
  try {
    return JSON.parse(v);
  } catch (e) {
    throw new InvalidArgumentError(`expected a method name or a JSON object: ${(e as Error).message}`);
  }
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `whet train`: flags and a run config → the finetune recipe → one JSON line. */
export function trainCommand(): Command {
  const cmd = new Command("train")
    .description("fine-tune a model for text classification on a CSV / TSV / JSONL file")
    .option("--model <dir-or-id>", "pretrained model folder or Hub id (org/name[@revision])")
    .option("--task <task>", "sequence-classification (default) or token-classification (CoNLL or JSONL tokens/ner_tags)")
    .option("--train-file <file>", "training data (.csv, .tsv, .jsonl; CoNLL for token classification)")
    .option("--validation-file <file>", "evaluation data; default: a stratified split of the training data")
    .option("--validation-split <fraction>", "share of the training data held out when no validation file is given", Number)
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--label-separator <sep>", "multi-label: separator inside the label field (e.g. \"|\")")
    .option("--quote [char]", "CSV/TSV quote character (default \" for CSV; for TSV only when the file is clearly quoted)")
    .option("--no-quote", "read CSV/TSV fields as they are: \" is plain text (GLUE-style TSV)")
    .option("--header", "the CSV/TSV starts with a header row naming the columns (default)")
    .option("--no-header", "the CSV/TSV has no header row: name columns by position (--text-column 0 --label-column 1)")
    .option("--problem-type <type>", "single_label_classification, multi_label_classification or regression " +
      "(default: inferred from the labels)")
    .option("--label-names <names-or-file>", "label names in id order: a,b,c or a file with one per line " +
      "(also names integer ner_tags; default: a tags.txt beside the data)")
    .option("--strict", "stop at the first bad row instead of skipping it")
    .option("--augment <method-or-json>", "augment the training split: a method (eda) or a JSON object " +
      "('{\"method\": \"eda\", \"num_aug\": 8}')", augmentFlag)
    .option("--config <file>", "run config (YAML or JSON) with any of these options; flags override it");
  describeFromSchema(addTrainingOptions(addPeftOptions(cmd)));
  return cmd.action(async (opts: Record<string, unknown>) => {
    const fileCfg = opts.config ? readRunConfig(opts.config as string) : {};
    const input: Record<string, unknown> = { ...fileCfg, ...trainingFlags(opts) };
    for (const k of DATA_KEYS) if (opts[camel(k)] !== undefined) input[k] = opts[camel(k)];
    const peft = peftInput(opts, fileCfg.peft, opts.config);
    input.peft = peft.value;
    const spec = resolveRunSpec(input, "train");
    const stop = stopOnSignals();
    const run = () => finetune(spec, { signal: stop.signal, runInfo: { command: process.argv.slice(2) } });
    const result = await explainPeftErrors(peft, run).finally(() => stop.dispose());
    console.log(JSON.stringify({
      output_dir: result.outputDir, global_step: result.globalStep, train_loss: result.trainLoss, interrupted: result.interrupted,
      ...Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [`eval_${k}`, v])),
    }));
    if (result.interrupted) process.exitCode = 130;
  });
}
