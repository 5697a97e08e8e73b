import { test } from "node:test";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import * as F from "./elementwise.js";

const cases: Record<string, CheckCase> = {
  "add broadcast": { inputs: [{ shape: [2, 3] }, { shape: [3] }], build: (a, b) => F.add(a, b) },
  "sub broadcast 1": { inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }], build: (a, b) => F.sub(a, b) },
  "mul symbolic": { inputs: [{ shape: [2, 3], dims: ["b", 3] }, { shape: [2, 1], dims: ["b", 1] }], build: (a, b) => F.mul(a, b) },
  "div": { inputs: [{ shape: [3, 2] }, { shape: [2], gen: "positive" }], build: (a, b) => F.div(a, b) },
  "pow": { inputs: [{ shape: [4], gen: "positive" }, { shape: [4] }], build: (a, b) => F.pow(a, b) },
  "pow scalar": { inputs: [{ shape: [2, 3] }], build: (a) => F.pow(a, 2) },
  "max/min": { inputs: [{ shape: [5] }, { shape: [5] }], build: (a, b) => [F.maximum(a, b), F.minimum(a, b)] },
  "unary": {
    inputs: [{ shape: [2, 5] }],
    build: (a) => [F.neg(a), F.exp(a), F.tanh(a), F.erf(a), F.sigmoid(a), F.abs(a), F.relu(a)],
  },
  "log sqrt": { inputs: [{ shape: [6], gen: "positive" }], build: (a) => [F.log(a), F.sqrt(a)] },
  "where": {
    inputs: [{ shape: [2, 3], dtype: "bool", gen: "bool" }, { shape: [2, 3] }, { shape: [3] }],
    build: (c, a, b) => F.where(c, a, b),
  },
  "compare+cast": {
    inputs: [{ shape: [4] }, { shape: [4] }],
    build: (a, b) => [F.mul(F.cast(F.less(a, b), a.dtype), a), F.cast(F.greater(a, 0), "int64"), F.cast(F.not(F.equal(a, b)), "int64")],
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`elementwise ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`elementwise ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}
