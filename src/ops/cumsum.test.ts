import { test } from "node:test";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { cumsum } from "./cumsum.js";
import { cast } from "./elementwise.js";

const cases: Record<string, CheckCase> = {
  "last axis": { inputs: [{ shape: [2, 5], dims: ["b", "t"] }], build: (x) => cumsum(x, -1) },
  "first axis reversed": { inputs: [{ shape: [3, 2, 2] }], build: (x) => cumsum(x, 0, true) },
  "int64 (position ids)": { inputs: [{ shape: [2, 6], dtype: "int64", gen: "int:3" }], build: (x) => cast(cumsum(x, 1), "float32") },
};

for (const [name, c] of Object.entries(cases)) {
  test(`cumsum ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`cumsum ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}
