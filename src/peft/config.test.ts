import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatConfig } from "./adapter_files.js";
import { configToWrite, parsePeftConfig, type LoraSettings } from "./config.js";

const fx = fileURLToPath(new URL("../../fixtures/peft/", import.meta.url));

for (const name of ["bert-lora", "roberta-lora", "bert-ia3", "bert-prompt", "bert-prefix"]) {
  test(`config ${name}: PEFT's own adapter_config.json reads and writes back byte for byte`, () => {
    const text = readFileSync(`${fx}${name}/adapter/adapter_config.json`, "utf8");
    const s = parsePeftConfig(JSON.parse(text));
    assert.equal(formatConfig(configToWrite(s)), text);
  });
}

test("config: PEFT's defaults, and modules_to_save as the user gave it", () => {
  const s = parsePeftConfig({ peft_type: "LORA", task_type: "SEQ_CLS", modules_to_save: ["classifier", "classifier", "score"] }) as LoraSettings;
  assert.equal(s.r, 8);
  assert.equal(s.lora_alpha, 8);
  assert.equal(s.lora_dropout, 0);
  assert.equal(s.bias, "none");
  assert.equal(s.target_modules, null);
  assert.deepEqual(s.modules_to_save, ["classifier"]);
  const regex = parsePeftConfig({ peft_type: "LORA", target_modules: ".*\\.(query|value)", layers_to_transform: 1 }) as LoraSettings;
  assert.equal(regex.target_modules, ".*\\.(query|value)");
  assert.deepEqual(regex.layers_to_transform, [1]);
});

test("config: options whet does not implement, bad values and unknown types are errors naming the key", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ peft_type: "LORA", use_dora: true }, /"use_dora": true is not implemented/],
    [{ peft_type: "LORA", loftq_config: { loftq_bits: 4 } }, /"loftq_config"/],
    [{ peft_type: "LORA", init_lora_weights: "pissa" }, /"init_lora_weights" must be true, false or "gaussian"/],
    [{ peft_type: "LORA", r: 0 }, /"r" must be a positive integer, got 0/],
    [{ peft_type: "LORA", r: 4, lora_dropout: 1 }, /"lora_dropout" must be in \[0, 1\)/],
    [{ peft_type: "LORA", bias: "some" }, /"bias" must be "none", "all" or "lora_only"/],
    [{ peft_type: "LORA", target_modules: "(" }, /"target_modules" must be a list of module names or a valid regular expression/],
    [{ peft_type: "LORA", rank_pattern: { query: -1 } }, /"rank_pattern.query" must be a positive number/],
    [{ peft_type: "LORA", task_type: "CAUSAL_LM" }, /"task_type" must be one of SEQ_CLS, TOKEN_CLS/],
    [{ peft_type: "VERA" }, /peft_type "VERA" is not supported by whet \(supported: LORA, IA3, PROMPT_TUNING, PREFIX_TUNING, BOTTLENECK\)/],
    [{ r: 8 }, /peft_type undefined is not supported/],
    [{ peft_type: "PROMPT_TUNING", num_virtual_tokens: 4, prompt_tuning_init: "SAMPLE_VOCAB" }, /whet does not implement "SAMPLE_VOCAB"/],
    [{ peft_type: "PREFIX_TUNING" }, /"num_virtual_tokens" must be a positive integer/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parsePeftConfig(raw, "cfg.json"), re, JSON.stringify(raw));
  assert.throws(() => parsePeftConfig({ peft_type: "LORA", use_dora: true }, "cfg.json"), /^PeftConfigError: cfg\.json: /);
});
