import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { loadTokenizer } from "./load.js";

const fixtures = fileURLToPath(new URL("../../fixtures/hf/", import.meta.url));

/** A copy of a fixture tokenizer folder with `files` written over it; removed after the test. */
function folder(t: { after(fn: () => void): void }, from: string, files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), "whet-tokcfg-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(fixtures, from), dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), typeof body === "string" ? body : JSON.stringify(body, null, 1));
  return dir;
}

const refuses = async (dir: string, re: RegExp) =>
  assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof WhetError && re.test(e.message), `expected ${re}`);

test("tokenizer_config.json: a setting of the wrong type names the file, the key, the type and the value", async (t) => {
  const base = JSON.parse(readFileSync(join(fixtures, "bert-seq", "tokenizer_config.json"), "utf8"));
  const cases: [object, RegExp][] = [
    // "false" as a string used to be ignored: the tokenizer lower-cased anyway.
    [{ do_lower_case: "false" }, /tokenizer_config\.json": "do_lower_case": expected boolean, got "false"/],
    [{ model_max_length: "512" }, /"model_max_length": expected number, got "512"/],
    [{ model_max_length: -1 }, /"model_max_length": .*got -1/],
    [{ model_max_length: 12.5 }, /"model_max_length": expected a whole number, got 12.5/],
    [{ padding_side: "up" }, /"padding_side": .*got "up"/],
    [{ model_input_names: "input_ids" }, /"model_input_names": expected array/],
    [{ cls_token: 7 }, /"cls_token": expected a token string or an AddedToken object/],
    [{ mask_token: { content: 5 } }, /"mask_token\.content": expected string, got 5/],
    [{ mask_token: { content: "[MASK]", lstrip: "yes" } }, /"mask_token\.lstrip": expected boolean, got "yes"/],
    [{ sep_token: "" }, /"sep_token": expected a token, got an empty string/],
    [{ additional_special_tokens: "[X]" }, /"additional_special_tokens": expected array/],
    [{ additional_special_tokens: ["[X]", ["[Y]"]] }, /"additional_special_tokens\.1": expected a token string/],
    [{ added_tokens_decoder: { "-1": { content: "[X]" } } }, /"added_tokens_decoder\.-1": expected a token id/],
    [{ added_tokens_decoder: { "99999999999": { content: "[X]" } } }, /"added_tokens_decoder\.99999999999": expected a token id/],
    [{ added_tokens_decoder: { "0": { content: "[PAD]", special: "true" } } }, /"added_tokens_decoder\.0\.special": expected boolean/],
  ];
  for (const [change, re] of cases) await refuses(folder(t, "bert-seq", { "tokenizer_config.json": { ...base, ...change } }), re);
  // The real files, AddedToken objects and added_tokens_decoder included, still load.
  const ok = folder(t, "bert-seq", { "tokenizer_config.json": { ...base, model_max_length: 1000000000000000019884624838656,
    added_tokens_decoder: { "0": { content: "[PAD]", lstrip: false, normalized: false, rstrip: false, single_word: false, special: true } } } });
  assert.equal((await loadTokenizer(ok)).modelMaxLength, Infinity);
  assert.ok(await loadTokenizer(join(fixtures, "roberta-seq")));
});

test("special_tokens_map.json and added_tokens.json are checked the same way", async (t) => {
  await refuses(folder(t, "roberta-seq", { "special_tokens_map.json": { mask_token: { content: "<mask>", rstrip: 1 } } }),
    /special_tokens_map\.json": "mask_token\.rstrip": expected boolean, got 1/);
  await refuses(folder(t, "roberta-seq", { "special_tokens_map.json": { pad_token: ["<pad>"] } }), /special_tokens_map\.json": "pad_token": expected a token/);
  await refuses(folder(t, "bert-seq", { "added_tokens.json": { "[NEW]": 2 ** 40 } }), /added_tokens\.json": id of "\[NEW\]" must be a whole number from 0/);
});

test("vocab.json and merges.txt: ids checked, duplicates named, line:column on errors", async (t) => {
  const vocab = JSON.parse(readFileSync(join(fixtures, "roberta-seq", "vocab.json"), "utf8")) as Record<string, number>;
  const [first, second] = Object.keys(vocab);
  await refuses(folder(t, "roberta-seq", { "vocab.json": { ...vocab, [second]: vocab[first] } }),
    new RegExp(`vocab\\.json": ${JSON.stringify(first)} and ${JSON.stringify(second)} both have id ${vocab[first]}`.replace(/[()[\]]/g, "\\$&")));
  await refuses(folder(t, "roberta-seq", { "vocab.json": { ...vocab, [second]: 2 ** 31 } }), /id of .* must be a whole number from 0 to 2147483647, got 2147483648/);
  await refuses(folder(t, "roberta-seq", { "vocab.json": {} }), /vocab\.json" is empty/);
  await refuses(folder(t, "roberta-seq", { "vocab.json": '{\n  "a": 0,\n  "b" 1\n}' }), /Malformed JSON in tokenizer file ".*vocab\.json", line 3 column 7/);
  const merges = readFileSync(join(fixtures, "roberta-seq", "merges.txt"), "utf8").split("\n");
  merges.splice(3, 0, "Ġ t h");
  await refuses(folder(t, "roberta-seq", { "merges.txt": merges.join("\n") }), /merges\.txt", line 4 column 5: expected two tokens "a b", got "Ġ t h"/);
  merges.splice(3, 1, "Ġ");
  await refuses(folder(t, "roberta-seq", { "merges.txt": merges.join("\n") }), /merges\.txt", line 4 column 2: expected two tokens/);
});
