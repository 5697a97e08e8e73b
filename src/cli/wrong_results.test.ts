// Wrong results are errors, not output: inputs the model cannot take and weights that make
// every output NaN stop the command with a message, before ONNX Runtime is reached.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LabelMap } from "../data/labels.js";
import { readSafetensorsFile, writeSafetensorsFile, toFloat32 } from "../io/safetensors.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const model = fileURLToPath(new URL("../../fixtures/hf/bert-seq/", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, err: r.stderr };
}

test("cli: out-of-range ids, masks outside {0, 1} and --batch-size 0 are refused before the run", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-wrong-"));
  try {
    const cases: [string, string[], RegExp][] = [
      ['{"input_ids": [2, -1, 3]}', [], /in\.jsonl:1: input id -1 is outside the vocabulary \(0\.\.\d+/],
      ['{"input_ids": [2, 99999, 3]}', [], /input id 99999 is outside the vocabulary/],
      ['{"input_ids": [2, 5, 3], "attention_mask": [1, 2, 1]}', [], /attention_mask value 2: expected 0 or 1/],
      ['{"text": "hello"}', ["--batch-size", "0"], /--batch-size must be a whole number of at least 1, got 0/],
    ];
    for (const [line, extra, re] of cases) {
      writeFileSync(join(dir, "in.jsonl"), line + "\n");
      const r = whet(["predict", "--model", model, "--input", "in.jsonl", "--output", "out.jsonl", ...extra], dir);
      assert.notEqual(r.code, 0, line);
      assert.match(r.err, re);
      assert.doesNotMatch(r.err, /onnxruntime|at Object\.| {4}at /, "no raw runtime error or stack");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("NaN or Inf in a checkpoint's weights is an error naming the tensor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-nan-"));
  try {
    cpSync(model, dir, { recursive: true });
    const { tensors } = await readSafetensorsFile(join(dir, "model.safetensors"));
    const out = new Map<string, { dtype: "F32"; shape: number[]; data: Float32Array }>();
    for (const [k, t] of tensors) out.set(k, { dtype: "F32", shape: [...t.shape], data: Float32Array.from(toFloat32(t)) });
    const name = [...out.keys()].find((k) => k.includes("attention.self.query.weight"))!;
    out.get(name)!.data[3] = NaN;
    await writeSafetensorsFile(join(dir, "model.safetensors"), out);
    writeFileSync(join(dir, "in.jsonl"), '{"text": "hello"}\n');
    const r = whet(["predict", "--model", dir, "--input", "in.jsonl", "--output", join(dir, "..", `out-${process.pid}.jsonl`)], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`"${name.replace(/\./g, "\\.")}" holds 1 NaN or infinite values`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one nan among fractional regression labels is an error, not a classification task", () => {
  assert.throws(() => LabelMap.fit(["0.5", "1.25", "nan", "3.75", "2.5"]), /Cannot use "nan" as a regression target/);
  assert.equal(LabelMap.fit(["0.5", "1.25", "3.75"]).problemType, "regression");
  assert.equal(LabelMap.fit(["pos", "neg", "none"]).problemType, "single_label_classification");
});

test("cli: a single-class training set is trained but warned about", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-one-"));
  try {
    writeFileSync(join(dir, "one.csv"), "text,label\n" + Array.from({ length: 8 }, (_, i) => `text ${i},yes`).join("\n") + "\n");
    const r = whet(["train", "--model", model, "--train-file", "one.csv", "--output-dir", "run", "--num-train-epochs", "1", "--max-length", "16",
      "--eval-strategy", "no", "--save-strategy", "no", "--threads", "1"], dir);
    assert.match(r.err, /warning: every training row has the label "yes"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
