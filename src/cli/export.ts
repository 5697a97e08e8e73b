import { Command } from "commander";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { mergeAdapter } from "../peft/merge.js";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { encodeQuantized, quantizeDynamicInt8 } from "../compress/quantize.js";
import { dummyInputs, exportOnnx, validateExport, type Comparison } from "../export/onnx_export.js";
import { writeFileAtomic, writeTextAtomic } from "../io/files.js";
import { prepareOutputDir } from "../io/output_dir.js";
import { maxSequenceLength } from "../models/auto.js";
import { traceForward } from "../models/forward.js";
import { configForSave } from "../models/save.js";
import { loadForInference, padRows, type Loaded } from "./common.js";

// Texts for the real-tokenizer part of the check (special tokens, padding, a second segment).
const SAMPLE_TEXTS: [string, string | null][] = [
  ["The quick brown fox jumps over the lazy dog.", null],
  ["whet exports ONNX", "and transformers.js loads it"],
  ["ok", null],
];

function parseRegex(flag: string, v: string | undefined): RegExp | undefined {
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (e) {
    throw new WhetError(`${flag} "${v}" is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** Random and tokenized inputs at several shapes: dynamic axes are exercised, not assumed. */
async function checkInputs(m: Loaded, names: string[], batch: number): Promise<Record<string, NDArray>[]> {
  const c = m.model.config;
  const maxSeq = maxSequenceLength(c);
  const base = { vocabSize: Number(c.vocab_size), typeVocabSize: Number(c.type_vocab_size ?? 2) };
  const sets = [
    dummyInputs(names, { ...base, batch, seq: Math.min(16, maxSeq), seed: 1 }),
    dummyInputs(names, { ...base, batch: 3, seq: Math.min(7, maxSeq), seed: 2 }),
  ];
  const rows = [];
  for (const [text, pair] of SAMPLE_TEXTS) {
    const e = await m.tokenizer.encode(text, pair, { maxLength: maxSeq, truncation: true });
    rows.push({ input_ids: e.ids, attention_mask: e.attentionMask, token_type_ids: e.typeIds });
  }
  sets.push(padRows(rows, m.tokenizer.padTokenId ?? 0, names.includes("token_type_ids")));
  return sets;
}

const round = (c: Comparison) => ({ max_abs_diff: Number(c.maxAbsDiff.toExponential(3)), argmax_agreement: c.argmaxAgreement, cosine: Number(c.cosine.toFixed(6)) });

/**
 * `whet export`: the model as ONNX in the layout transformers.js loads (config.json, tokenizer
 * files, onnx/model.onnx, with --quantize int8 also onnx/model_quantized.onnx). Each file is run
 * in ONNX Runtime and compared with whet's own forward before anything is written.
 */
export function exportCommand(): Command {
  return new Command("export")
    .description("export a model to ONNX in transformers.js layout (onnx/model.onnx, optional int8 onnx/model_quantized.onnx)")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--output <dir>", "folder to write (config.json, tokenizer files, onnx/)")
    .option("--quantize <kind>", "also write onnx/model_quantized.onnx: int8 (dynamic, per-channel weights)")
    .option("--quantize-include <regex>", "quantize only weights whose name matches")
    .option("--quantize-exclude <regex>", "keep weights whose name matches in float32 (e.g. classifier)")
    .option("--no-quantize-embeddings", "keep embedding tables in float32")
    .option("--opset <n>", "ONNX opset to declare (17-21)", Number, 17)
    .option("--atol <x>", "largest absolute difference allowed between the fp32 file and whet's forward", Number, 1e-4)
    .option("--threads <n>", "ONNX Runtime threads for the check", Number)
    .action(async (o) => {
      if (o.quantize !== undefined && o.quantize !== "int8") throw new WhetError(`--quantize ${o.quantize}: only int8 is supported`);
      const m = await loadForInference(o.model, o.adapter);
      // LoRA / IA3 are folded in first (merge_and_unload): a plain model. Prompt and prefix tuning
      // export with their virtual tokens as initializers of the graph.
      const type = m.adapter?.settings.peft_type;
      if (m.adapter && (type === "LORA" || type === "IA3")) mergeAdapter(m.model, m.adapter);
      // An earlier export into this folder is replaced as a whole; anything else there is refused.
      const out = await prepareOutputDir({
        outputDir: o.output, inputs: [m.dir, o.adapter], overwrite: false, ownMarker: join("onnx", "model.onnx"), replaceOwn: true, flag: "--output",
      });
      // Optimum's signature: token_type_ids only where the model has more than one type
      // (BERT); RoBERTa / XLM-R (type_vocab_size 1) and DistilBERT take ids and mask alone.
      const tokenTypes = m.tokenTypes && Number(m.model.config.type_vocab_size ?? 2) > 1;
      const traced = traceForward(m.model, { tokenTypes, outputs: ["logits"] });
      const exp = exportOnnx(traced, { opset: o.opset, metadata: { producer: "whet", task: m.task } });
      const fp32 = await validateExport(exp.bytes, traced, await checkInputs(m, exp.inputNames, 2), { atol: o.atol, threads: o.threads });
      const summary: Record<string, unknown> = { output: o.output, inputs: exp.inputNames, opset: o.opset, "onnx/model.onnx": { bytes: exp.bytes.length, ...round(fp32.logits) } };

      let qbytes: Uint8Array | null = null;
      if (o.quantize === "int8") {
        const q = quantizeDynamicInt8(exp.model, {
          include: parseRegex("--quantize-include", o.quantizeInclude),
          exclude: parseRegex("--quantize-exclude", o.quantizeExclude),
          embeddings: o.quantizeEmbeddings,
        });
        if (q.quantized.length === 0) throw new WhetError("--quantize int8: no weight matched; check --quantize-include / --quantize-exclude");
        qbytes = encodeQuantized(q);
        // More rows than the fp32 check: the int8 verdict is statistical.
        const int8 = await validateExport(qbytes, traced, await checkInputs(m, exp.inputNames, 8), { kind: "int8", threads: o.threads });
        summary["onnx/model_quantized.onnx"] = { bytes: qbytes.length, quantized_weights: q.quantized.length, ...round(int8.logits) };
      }

      await out.run(async (dir) => {
        await mkdir(join(dir, "onnx"), { recursive: true });
        await writeTextAtomic(join(dir, "config.json"), JSON.stringify(configForSave(m.model, { task: m.task, labels: m.labels }), null, 2) + "\n");
        await m.tokenizer.save(dir);
        await writeFileAtomic(join(dir, "onnx", "model.onnx"), [exp.bytes]);
        if (qbytes) await writeFileAtomic(join(dir, "onnx", "model_quantized.onnx"), [qbytes]);
      });
      console.log(JSON.stringify(summary));
    });
}
