import assert from "node:assert/strict";
import { test } from "node:test";
import { add } from "../ops/elementwise.js";
import { layerNorm } from "../ops/layernorm.js";
import { matmul } from "../ops/matmul.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { Bottleneck, BOTTLENECK_DEFAULTS, bottleneckTail } from "./bottleneck.js";

// h, x [B, T, 4]; LayerNorm weight, bias [4]; down [2, 4] + [2]; up [4, 2] + [4].
const inputs = [[2, 3, 4], [2, 3, 4], [4], [4], [2, 4], [2], [4, 2], [4]].map((shape) => ({ shape }));
for (const kind of ["seq_bn", "double_seq_bn"] as const) {
  const c: CheckCase = {
    inputs,
    build: (h, x, w, b, wd, bd, wu, bu) => bottleneckTail(h, x, (t) => layerNorm(t, w, b, 1e-5),
      (t) => add(matmul(t, wd, false, true), bd), (t) => add(matmul(t, wu, false, true), bu), BOTTLENECK_DEFAULTS[kind]),
  };
  test(`bottleneck ${kind}: gradient matches finite differences`, () => checkGradients(c, { tol: 1e-5 }));
  test(`bottleneck ${kind}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("bottleneck: AdapterHub's parameter names and sizes (hidden / reduction_factor), init_weights bert", () => {
  const b = new Bottleneck(32, { ...BOTTLENECK_DEFAULTS.seq_bn, reduction_factor: 4 });
  b.init(1);
  assert.deepEqual(b.namedParameters().map(([n, p]) => `${n} [${p.shape.join(", ")}]`),
    ["adapter_down.0.weight [8, 32]", "adapter_down.0.bias [8]", "adapter_up.weight [32, 8]", "adapter_up.bias [32]"]);
  assert.ok(b.up.bias!.data.every((v) => v === 0));
  const std = Math.sqrt(b.up.weight.data.reduce((s, v) => s + v * v, 0) / b.up.weight.data.length);
  assert.ok(std > 0.015 && std < 0.025, `std ${std}`);
});
