import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { UsageError } from "../core/errors.js";
import { readConfig, type PretrainedConfig } from "../io/config.js";
import { createModel, type TaskModel } from "../models/auto.js";
import { TrainStep } from "../optim/train_step.js";
import { matchParameters, modelLayout, planParamGroups } from "./param_groups.js";
import { UnfreezingPlan } from "./unfreezing.js";

const hf = (name: string) => fileURLToPath(new URL(`../../fixtures/hf/${name}`, import.meta.url));

/** The four families with the fixtures' tiny configs (XLM-R is RoBERTa's config under its own model_type). */
function family(kind: "bert" | "roberta" | "xlm-roberta" | "distilbert", overrides: Partial<PretrainedConfig> = {}): TaskModel {
  const dir = kind === "xlm-roberta" ? "roberta-seq" : `${kind}-seq`;
  return createModel({ ...readConfig(hf(dir)), ...(kind === "xlm-roberta" ? { model_type: "xlm-roberta" } : {}), ...overrides } as PretrainedConfig, "sequence-classification");
}

const HEADS = {
  bert: ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"],
  roberta: ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"],
  "xlm-roberta": ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"],
  distilbert: ["pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"],
};

for (const kind of ["bert", "roberta", "xlm-roberta", "distilbert"] as const) {
  test(`${kind}: layer-wise lr decay gives the head lr, layer i lr·D^(L−i), the embeddings lr·D^(L+1), each split by decay`, () => {
    const model = family(kind);
    const layout = modelLayout(model);
    assert.equal(layout.numLayers, 2);
    const plan = planParamGroups(model, { learningRate: 1e-3, weightDecay: 0.01, layerwiseLrDecay: 0.5 });
    const lrOf = new Map(plan.groups.flatMap((g) => g.params.map((n) => [n, g.lr] as const)));
    const wdOf = new Map(plan.groups.flatMap((g) => g.params.map((n) => [n, g.weightDecay] as const)));
    for (const [name, p] of model.namedParameters()) {
      const want = HEADS[kind].includes(name) ? 1e-3 : name.includes(".layer.1.") ? 5e-4 : name.includes(".layer.0.") ? 2.5e-4 : 1.25e-4;
      assert.ok(Math.abs(lrOf.get(name)! - want) < 1e-18, `${name}: lr ${lrOf.get(name)} vs ${want}`);
      assert.equal(wdOf.get(name), p.noDecay ? 0 : 0.01, name);
    }
    assert.deepEqual(plan.groups.map((g) => g.name), ["head", "head (no decay)", "layer 1", "layer 1 (no decay)", "layer 0", "layer 0 (no decay)", "embeddings", "embeddings (no decay)"]);
  });

  test(`${kind}: gradual unfreezing opens the head, then the top layer, then the rest with the embeddings`, () => {
    const model = family(kind);
    const plan = new UnfreezingPlan(model);
    const names = model.namedParameters().map(([n]) => n);
    assert.deepEqual(plan.apply(plan.stageAt({ epoch: 0, globalStep: 0 })), names.filter((n) => HEADS[kind].includes(n)));
    assert.deepEqual(plan.apply(plan.stageAt({ epoch: 1, globalStep: 40 })), names.filter((n) => HEADS[kind].includes(n) || n.includes(".layer.1.")));
    assert.deepEqual(plan.apply(plan.stageAt({ epoch: 5, globalStep: 400 })), names);
    assert.ok(model.parameters().every((p) => p.requiresGrad));
  });
}

test("patterns match on . boundaries as PEFT's target_modules, or as a whole-path regex", () => {
  const model = family("bert", { num_hidden_layers: 11 });
  const names = (pattern: string) => matchParameters(model, pattern).map((p) => p.name);
  assert.deepEqual(names("embeddings"), model.namedParameters().map(([n]) => n).filter((n) => n.startsWith("bert.embeddings.")));
  assert.ok(names("encoder.layer.1").every((n) => n.startsWith("bert.encoder.layer.1.")), "layer.1 must not take layer.10");
  assert.equal(names("encoder.layer.1").length, 16);
  assert.equal(names("layer.0.attention").length, 10);
  assert.deepEqual(names("classifier.bias"), ["classifier.bias"]);
  assert.equal(names("LayerNorm").length, 2 * (1 + 2 * 11));
  assert.equal(names(String.raw`.*layer\.(0|1)\.attention\.self\.(query|value)`).length, 8);
  assert.deepEqual(names("mbeddings"), []);
});

test("param_groups: first matching rule wins; its lr and weight decay apply to every parameter it matches", () => {
  const model = family("distilbert");
  const plan = planParamGroups(model, {
    learningRate: 2e-5, weightDecay: 0.01, paramGroups: [{ match: "classifier", learning_rate: 1e-3 }, { match: "embeddings", weight_decay: 0 }],
  });
  const byName = Object.fromEntries(plan.groups.map((g) => [g.name, g]));
  assert.deepEqual(byName.classifier.params, ["classifier.weight"]);
  assert.equal(byName.classifier.lr, 1e-3);
  assert.equal(byName.classifier.lrScale, 1e-3 / 2e-5);
  assert.deepEqual(byName["classifier (no decay)"].params, ["classifier.bias"]);
  assert.equal(byName["classifier (no decay)"].weightDecay, 0);
  assert.equal(byName.embeddings.weightDecay, 0);
  assert.ok(byName.embeddings.params.includes("distilbert.embeddings.LayerNorm.weight"));
  assert.equal(byName.embeddings.lr, 2e-5);
  assert.deepEqual(plan.groups.map((g) => g.name), ["classifier", "classifier (no decay)", "embeddings", "default", "default (no decay)"]);
  const total = plan.groups.reduce((s, g) => s + g.params.length, 0);
  assert.equal(total, model.parameters().length);
});

test("bad strategies are usage errors that name the option and list the model's modules", () => {
  const model = family("roberta");
  assert.throws(() => planParamGroups(model, { learningRate: 1, weightDecay: 0, freeze: ["pooler"] }), (e: unknown) =>
    e instanceof UsageError && /freeze \(--freeze\): "pooler" matches no module/.test(e.message) && /roberta\.encoder\.layer\.\{0-1\}\.attention/.test(e.message));
  assert.throws(() => planParamGroups(model, { learningRate: 1, weightDecay: 0, paramGroups: [{ match: "pre_classifier", learning_rate: 1 }] }),
    (e: unknown) => e instanceof UsageError && /param_groups \(--param-groups\): "pre_classifier" matches no module/.test(e.message));
  assert.throws(() => planParamGroups(model, { learningRate: 1, weightDecay: 0, freeze: ["roberta", "classifier"] }),
    (e: unknown) => e instanceof UsageError && /freeze \(--freeze\).*freezes every parameter/.test(e.message));
  assert.throws(() => planParamGroups(model, { learningRate: 1, weightDecay: 0, freeze: ["layer.(0"] }), /not a valid regular expression/);
  assert.throws(() => planParamGroups(model, { learningRate: 1, weightDecay: 0, freeze: [String.raw`layer\.\d+\.attention`] }),
    /must match a whole name, such as "roberta\.encoder\.layer\.0\.attention": try "\.\*layer\\\.\\d\+\\\.attention\.\*"/);
  const frozenHead = family("bert");
  for (const p of frozenHead.parameters()) if (p.name.startsWith("classifier") || p.name.includes("pooler")) p.requiresGrad = false;
  assert.throws(() => new UnfreezingPlan(frozenHead, { frozen: new Set(frozenHead.parameters().filter((p) => !p.requiresGrad).map((p) => p.name)) }),
    (e: unknown) => e instanceof UsageError && /every head parameter is frozen/.test(e.message));
});

test("a frozen subgraph costs nothing: no backward and no AdamW nodes below the lowest trainable parameter", async () => {
  const count = async (trainable: (name: string) => boolean) => {
    const model = family("bert");
    for (const p of model.parameters()) p.requiresGrad = trainable(p.name);
    const step = await TrainStep.compile({
      inputs: [
        { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" }, { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" },
        { name: "token_type_ids", shape: ["batch", "seq"], dtype: "int64" }, { name: "labels", shape: ["batch"], dtype: "int64" },
      ],
      forward: (x) => ({ loss: model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, labels: x.labels }).loss! }),
      params: model.parameters(), weightDecay: 0.01, threads: 1,
    });
    const nodes = step.graph.nodes;
    await step.release();
    const grad = (part: string) => nodes.filter((n) => n.scope.startsWith("grad(") && n.scope.includes(part)).length;
    // AdamW runs on the host over the trainable parameters alone; frozen ones get no moments.
    assert.deepEqual([...step.m.keys()].sort(), step.trainable.map((p) => p.name).sort());
    return {
      all: nodes.length, adamw: step.trainable.length,
      embeddings: grad(".embeddings"), layer0: grad(".layer.0."), layer1: grad(".layer.1."), scatter: nodes.filter((n) => n.op.name === "ScatterAddRows").length,
    };
  };
  const all = await count(() => true);
  const noEmb = await count((n) => !n.startsWith("bert.embeddings."));
  const top = await count((n) => !n.startsWith("bert.embeddings.") && !n.includes(".layer.0."));
  assert.ok(all.embeddings > 0 && all.scatter > 0 && all.adamw === 41, JSON.stringify(all));
  assert.deepEqual([noEmb.embeddings, noEmb.scatter, noEmb.adamw], [0, 0, 36]);
  assert.ok(noEmb.layer0 > 0);
  assert.deepEqual([top.embeddings, top.layer0, top.scatter, top.adamw], [0, 0, 0, 20]);
  assert.ok(top.layer1 > 0 && top.all < noEmb.all && noEmb.all < all.all);
});
