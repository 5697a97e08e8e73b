// `whet export` end to end on the project's tiny fixtures, checked with the real clients: the
// folder loads in onnxruntime-node as it is, and transformers.js (a devDependency) classifies with
// the same labels and scores as `whet predict`.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { exportCommand } from "./export.js";
import { predictCommand } from "./inference.js";

const fx = fileURLToPath(new URL("../../fixtures/hf/", import.meta.url));
const TEXTS = ["The quick brown fox jumps over the lazy dog.", "GNU GENERAL PUBLIC LICENSE", "ok", "Mozilla Public License Version 2.0, a copyleft licence"];

/** Run a command in-process and return what it printed (export is registered in main.ts by the lead). */
async function run(cmd: ReturnType<typeof exportCommand>, args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    await cmd.exitOverride().parseAsync(args, { from: "user" });
  } finally {
    console.log = log;
  }
  return lines.join("\n");
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-export-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function whetPredict(model: string, dir: string): Promise<{ label: string; score: number }[]> {
  writeFileSync(join(dir, "in.jsonl"), TEXTS.map((text) => JSON.stringify({ text }) + "\n").join(""));
  await run(predictCommand(), ["--model", model, "--input", join(dir, "in.jsonl"), "--output", join(dir, "pred.jsonl"), "--threads", "1"]);
  return readFileSync(join(dir, "pred.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

/** transformers.js's text-classification pipeline on an exported folder, offline. */
async function transformersJs(folder: string, dtype: "fp32" | "q8"): Promise<{ label: string; score: number }[] | null> {
  let tjs: typeof import("@huggingface/transformers");
  try {
    tjs = await import("@huggingface/transformers");
  } catch {
    return null;
  }
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.useFSCache = false;
  tjs.env.localModelPath = dirname(folder) + "/";
  const clf = await tjs.pipeline("text-classification", basename(folder), { local_files_only: true, dtype, device: "cpu" });
  try {
    return (await clf(TEXTS)) as { label: string; score: number }[];
  } finally {
    await clf.dispose();
  }
}

test("export: transformers.js layout, fp32 and int8 files that ONNX Runtime and transformers.js run", async (t) => {
  await inTmp(async (dir) => {
    const out = join(dir, "bert-onnx");
    const summary = JSON.parse(await run(exportCommand(), ["--model", join(fx, "bert-seq"), "--output", out, "--quantize", "int8", "--threads", "1"]));
    for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "onnx/model.onnx", "onnx/model_quantized.onnx"]) {
      assert.ok(existsSync(join(out, f)), `${f} is written`);
    }
    assert.deepEqual(summary.inputs, ["input_ids", "attention_mask", "token_type_ids"]);
    assert.ok(summary["onnx/model.onnx"].max_abs_diff <= 1e-4);
    const q = summary["onnx/model_quantized.onnx"];
    assert.ok(q.cosine >= 0.99 && q.quantized_weights > 0 && q.bytes < summary["onnx/model.onnx"].bytes / 2, JSON.stringify(q));
    assert.deepEqual(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).id2label, { 0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2" });

    // onnxruntime-node loads the file as it is: Optimum's names, int64 inputs, dynamic axes.
    const s = await ort.InferenceSession.create(join(out, "onnx", "model.onnx"));
    assert.deepEqual(s.outputNames, ["logits"]);
    for (const m of s.inputMetadata) assert.deepEqual(m.isTensor && [m.type, ...m.shape], ["int64", "batch_size", "sequence_length"]);
    await s.release();

    const want = await whetPredict(join(fx, "bert-seq"), dir);
    const fp32 = await transformersJs(out, "fp32");
    if (!fp32) return t.skip("@huggingface/transformers is not installed (a devDependency)");
    fp32.forEach((r, i) => {
      assert.equal(r.label, want[i].label, TEXTS[i]);
      assert.ok(Math.abs(r.score - want[i].score) <= 1e-4, `${TEXTS[i]}: ${r.score} vs ${want[i].score}`);
    });
    // int8 (dtype q8 loads onnx/model_quantized.onnx): this random tiny model has near-tied
    // labels that may flip; where the label agrees, the score stays close.
    const q8 = (await transformersJs(out, "q8"))!;
    const same = q8.filter((r, i) => r.label === want[i].label);
    assert.ok(same.length >= TEXTS.length / 2, JSON.stringify(q8));
    q8.forEach((r, i) => assert.ok(r.label !== want[i].label || Math.abs(r.score - want[i].score) < 0.05, `${TEXTS[i]}: ${r.score} vs ${want[i].score}`));
  });
});

test("export: RoBERTa and DistilBERT take ids and mask only, as Optimum exports them, and match whet predict", async (t) => {
  await inTmp(async (dir) => {
    for (const name of ["roberta-seq", "distilbert-seq"]) {
      const out = join(dir, name);
      const summary = JSON.parse(await run(exportCommand(), ["--model", join(fx, name), "--output", out, "--threads", "1", "--opset", "18"]));
      assert.deepEqual(summary.inputs, ["input_ids", "attention_mask"], name);
      assert.equal(existsSync(join(out, "onnx", "model_quantized.onnx")), false);
      const got = await transformersJs(out, "fp32");
      if (!got) return t.skip("@huggingface/transformers is not installed (a devDependency)");
      const want = await whetPredict(join(fx, name), dir);
      got.forEach((r, i) => {
        assert.equal(r.label, want[i].label, `${name}: ${TEXTS[i]}`);
        assert.ok(Math.abs(r.score - want[i].score) <= 1e-4, `${name}: ${r.score} vs ${want[i].score}`);
      });
    }
  });
});

test("export: bad options are refused with the reason", async () => {
  await inTmp(async (dir) => {
    const args = ["--model", join(fx, "bert-seq"), "--output", join(dir, "o")];
    await assert.rejects(run(exportCommand(), [...args, "--quantize", "int4"]), /--quantize int4: only int8 is supported/);
    await assert.rejects(run(exportCommand(), [...args, "--opset", "13"]), /opset 13 is not supported; use 17 to 21/);
    await assert.rejects(run(exportCommand(), [...args, "--quantize", "int8", "--quantize-include", "("]), /--quantize-include "\(" is not a valid regular expression/);
    await assert.rejects(run(exportCommand(), [...args, "--quantize", "int8", "--quantize-include", "nothing-matches"]), /no weight matched/);
    assert.equal(existsSync(join(dir, "o")), false, "nothing is written when the export fails");
  });
});
