import assert from "node:assert/strict";
import { test } from "node:test";
import { namingFlags, optionName, optionSetting, optionSettings, useCommandLineNames } from "./option_names.js";

test("option names: the library's spelling by default, flags once the program switches", () => {
  try {
    assert.equal(namingFlags(), false);
    assert.equal(optionName("text_column"), "textColumn");
    assert.equal(optionName("eval_strategy"), "eval_strategy", "TrainingArguments keep transformers' names");
    assert.equal(optionName("validation_split", "validationSize"), "validationSize", "a function's own spelling wins");
    assert.equal(optionSetting("header", false), "header: false");
    assert.equal(optionSetting("text_column", "0"), 'textColumn: "0"');
    assert.equal(optionSetting("label_column", null), "labelColumn: null");
    assert.equal(optionSettings(["header", false], ["text_column", "0"]), 'header: false, textColumn: "0"');
    useCommandLineNames();
    assert.equal(namingFlags(), true);
    assert.equal(optionName("text_column"), "--text-column");
    assert.equal(optionName("validation_split", "validationSize"), "--validation-split");
    assert.equal(optionName("metric_for_best_model"), "--metric-for-best-model");
    assert.equal(optionSetting("header", false), "--no-header");
    assert.equal(optionSetting("overwrite_output_dir", true), "--overwrite-output-dir");
    assert.equal(optionSetting("text_column", "0"), "--text-column 0");
    assert.equal(optionSettings(["header", false], ["text_column", "0"]), "--no-header --text-column 0");
  } finally {
    useCommandLineNames(false);
  }
});
