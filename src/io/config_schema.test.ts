import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig } from "./config.js";

const bert = { model_type: "bert", vocab_size: 100, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 37, max_position_embeddings: 64 };
const parse = (c: Record<string, unknown>) => parseConfig(JSON.stringify(c), "m/config.json");

test("config.json keys are checked by type, naming the key, the expectation and the value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ hidden_size: "32" }, /"hidden_size" must be a number, got "32"/],
    [{ num_hidden_layers: -1 }, /"num_hidden_layers" must be at least 1, got -1/],
    [{ num_hidden_layers: "two" }, /"num_hidden_layers" must be a number, got "two"/],
    [{ num_hidden_layers: 1.5 }, /"num_hidden_layers" must be an integer, got 1.5/],
    [{ num_labels: 0 }, /"num_labels" must be at least 1, got 0/],
    [{ layer_norm_eps: -1 }, /"layer_norm_eps"/],
    [{ position_embedding_type: "relative_key" }, /"position_embedding_type" must be "absolute" .*not implemented/],
    [{ architectures: "BertModel" }, /"architectures" must be an array/],
    [{ id2label: { 0: 5 } }, /"id2label.0" must be a string, got 5/],
    [{ hidden_size: 12288 * 2 }, /"hidden_size" must be at most 16384 \(whet's documented limit\)/],
    [{ vocab_size: 5e7 }, /"vocab_size" must be at most 1000000/],
    [{ num_hidden_layers: 1e6 }, /"num_hidden_layers" must be at most 128/],
    [{ hidden_size: 33 }, /"hidden_size" 33 is not a multiple of "num_attention_heads" 2/],
    [{ pad_token_id: 2 ** 40 }, /"pad_token_id" 1099511627776 is not a token of the 100-token vocabulary \("vocab_size"\); expected 0 to 99/],
    [{ pad_token_id: 100 }, /"pad_token_id" 100 is not a token/],
    [{ hidden_size: 16384, num_hidden_layers: 128, intermediate_size: 65536 }, /about .*B parameters, beyond whet's limit/],
  ];
  for (const [change, re] of cases) assert.throws(() => parse({ ...bert, ...change }), re, JSON.stringify(change));
  assert.throws(() => parse({ model_type: "distilbert", dim: "768" }), /"dim" must be a number/);
  assert.equal(parse(bert).hidden_size, 32);
});

test("a key given twice in config.json is an error naming it and its line", () => {
  assert.throws(() => parseConfig('{"model_type": "bert",\n"num_labels": 2,\n"num_labels": 3}', "m/config.json"), /m\/config\.json:3: the key "num_labels" appears twice/);
});
