import { Command } from "commander";
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { saveModel } from "../models/save.js";
import { mergeAdapter } from "../peft/merge.js";
import { loadForInference } from "./common.js";

/** `whet merge`: PEFT's merge_and_unload + save_pretrained — a plain Hugging Face model folder. */
export function mergeCommand(): Command {
  return new Command("merge")
    .description("fold a LoRA or IA3 adapter into its base model and write a plain Hugging Face model folder")
    .requiredOption("--model <dir-or-id>", "the base model folder or Hub id")
    .requiredOption("--adapter <dir>", "the adapter folder (adapter_config.json + adapter_model.safetensors)")
    .requiredOption("--output <dir>", "folder to write (config.json, model.safetensors, tokenizer files)")
    .option("--overwrite", "replace --output if it exists")
    .action(async (o: { model: string; adapter: string; output: string; overwrite?: boolean }) => {
      if (existsSync(o.output) && !o.overwrite) throw new WhetError(`merge: --output ${o.output} exists; pass --overwrite to replace it`);
      const m = await loadForInference(o.model, o.adapter);
      mergeAdapter(m.model, m.adapter!);
      // Written beside the target and renamed at the end: a failure leaves no half-written folder.
      const tmp = join(dirname(o.output), `.${basename(o.output)}.tmp-${process.pid}`);
      await rm(tmp, { recursive: true, force: true });
      try {
        await saveModel(m.model, tmp, { task: m.task, labels: m.labels });
        await m.tokenizer.save(tmp);
        if (existsSync(o.output)) await rm(o.output, { recursive: true });
        await rename(tmp, o.output);
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        throw e;
      }
      console.log(JSON.stringify({ output: o.output, peft_type: m.adapter!.settings.peft_type }));
    });
}
