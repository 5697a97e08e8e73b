import { Command } from "commander";
import { WhetError } from "../core/errors.js";
import { LabelMap } from "../data/labels.js";
import { readTable } from "../data/read.js";
import { readConfig, type PretrainedConfig } from "../io/config.js";
import { resolveModel } from "../io/hub.js";
import { createModel, FAMILIES, maxSequenceLength, taskFromConfig, type TaskModel } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "../train/arguments.js";
import { teacherLogits } from "../train/distill.js";
import { Evaluator } from "../train/evaluator.js";
import { prepareRunOutput } from "../train/run_output.js";
import { Trainer } from "../train/trainer.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { encodeRows } from "./train.js";

/**
 * A student with `layers` encoder layers built from the teacher: same embeddings and head, and
 * the teacher's layers picked evenly (first and last kept), as DistilBERT was initialised.
 */
export function shrinkTeacher(teacher: TaskModel, layers: number, seed: number): TaskModel {
  const c = teacher.config;
  const key = c.model_type === "distilbert" ? "n_layers" : "num_hidden_layers";
  const total = Number(c[key]);
  if (!(layers >= 1 && layers <= total)) throw new WhetError(`--student-layers must be between 1 and the teacher's ${total} layers, got ${layers}`);
  const student = createModel({ ...c, [key]: layers } as PretrainedConfig, taskFromConfig(c) ?? "sequence-classification", seed);
  const pick = Array.from({ length: layers }, (_, i) => (layers === 1 ? total - 1 : Math.round((i * (total - 1)) / (layers - 1))));
  const source = new Map(teacher.namedParameters());
  for (const [name, p] of student.namedParameters()) {
    const from = name.replace(/\.layer\.(\d+)\./, (_, i: string) => `.layer.${pick[Number(i)]}.`);
    const t = source.get(from);
    if (!t || t.data.length !== p.data.length) throw new WhetError(`student parameter ${name} has no teacher counterpart ${from}`);
    p.data = Float32Array.from(t.data);
  }
  return student;
}

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
  return cmd.action(async (o: Record<string, unknown>) => {
    const args = resolveArguments({ ...(o.config ? readRunConfig(o.config as string) : {}), ...trainingFlags(o) }, "distill");
    if (!o.student === !o.studentLayers) throw new WhetError("distill: give exactly one of --student and --student-layers");
    const tdir = await resolveModel(o.teacher as string);
    const tconf = readConfig(tdir);
    // As train does (run_glue): never longer than the model can take, and say so.
    const limit = maxSequenceLength(tconf);
    if (args.max_length > limit) {
      console.error(`max_length ${args.max_length} is longer than the teacher's ${limit} positions: using ${limit}`);
      args.max_length = limit;
    }
    const { model: teacher } = await fromPretrained(tdir, { task: "sequence-classification" });
    const tok = await loadTokenizer(tdir);
    const labels = LabelMap.fromConfig(tconf);
    const readOpts = { textColumn: (o.textColumn as string) ?? "text", textPairColumn: o.textPairColumn as string | undefined, labelColumn: (o.labelColumn as string) ?? "label" };
    const train = (await encodeRows((await readTable(o.trainFile as string, readOpts)).rows, tok, args.max_length, labels)).examples;
    const evalSet = o.validationFile ? (await encodeRows((await readTable(o.validationFile as string, readOpts)).rows, tok, args.max_length, labels)).examples : [];
    const padId = tok.padTokenId ?? 0;
    console.error(`computing the teacher's logits for ${train.length} examples (once)`);
    const logits = await teacherLogits(teacher, train, padId, args.per_device_eval_batch_size, args.threads);
    train.forEach((e, i) => (e.teacher = logits[i]));
    const student = o.studentLayers
      ? shrinkTeacher(teacher, o.studentLayers as number, args.seed)
      : (await fromPretrained(o.student as string, { task: "sequence-classification", labels: [...labels.names], seed: args.seed })).model;
    if (FAMILIES[student.config.model_type].tokenTypes !== FAMILIES[tconf.model_type].tokenTypes) {
      throw new WhetError("distill: teacher and student must share a tokenizer family (the student reads the teacher's token ids)");
    }
    const out = await prepareRunOutput(args, [tdir, o.student as string | undefined, o.trainFile as string, o.validationFile as string | undefined]);
    args.output_dir = out.workDir;
    const trainer = new Trainer({
      model: student, args: { ...args, eval_strategy: evalSet.length ? args.eval_strategy : "no" }, train, eval: evalSet, labels: "class",
      labelNames: [...labels.names], padId, tokenizer: tok, distillation: { alpha: o.alpha as number, temperature: o.temperature as number },
      runInfo: { command: process.argv.slice(2), teacher: o.teacher, student: o.student ?? `${o.studentLayers} teacher layers` },
    });
    const result = await out.run(() => trainer.train());
    const report: Record<string, unknown> = { output_dir: out.requested, global_step: result.globalStep, interrupted: result.interrupted };
    if (evalSet.length) {
      // Both models on the same examples: accuracy and the time each takes.
      for (const [name, model] of [["teacher", teacher], ["student", student]] as const) {
        const ev = await Evaluator.create({ model, examples: evalSet, labels: "class", padId, batchSize: args.per_device_eval_batch_size, threads: args.threads });
        const t0 = performance.now();
        const m = await ev.evaluate();
        const ms = performance.now() - t0;
        await ev.release();
        const tokens = evalSet.reduce((s, e) => s + e.input_ids.length, 0);
        report[name] = { accuracy: m.accuracy, f1: m.f1, params: model.parameters().reduce((s, p) => s + p.size, 0), eval_tokens_per_s: Math.round(tokens / (ms / 1000)) };
      }
    }
    console.log(JSON.stringify(report));
    if (result.interrupted) process.exitCode = 130;
  });
}
