import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { bceWithLogits, crossEntropy, mse } from "./loss.js";

const cases: Record<string, CheckCase> = {
  "crossEntropy symbolic": {
    inputs: [{ shape: [2, 3, 5], dims: ["b", "t", 5] }, { shape: [2, 3], dims: ["b", "t"], dtype: "int64", gen: "int:5" }],
    build: (x, y) => crossEntropy(x, y),
  },
  "crossEntropy weight, smoothing, ignored": {
    inputs: [
      { shape: [4, 3], dims: ["n", 3] },
      { shape: [4], dims: ["n"], dtype: "int64", values: [2, -100, 0, 1] },
      { shape: [3], gen: "positive" },
    ],
    build: (x, y, w) => crossEntropy(x, y, { weight: w, labelSmoothing: 0.1 }),
  },
  "crossEntropy ignoreIndex is a class": {
    inputs: [{ shape: [5, 4] }, { shape: [5], dtype: "int64", values: [3, 0, 1, 0, 2] }],
    build: (x, y) => crossEntropy(x, y, { ignoreIndex: 0, labelSmoothing: 0.05 }),
  },
  "crossEntropy gather path: ignored and out-of-range targets": {
    inputs: [{ shape: [2, 3, 6], dims: ["b", "t", 6] }, { shape: [2, 3], dims: ["b", "t"], dtype: "int64", values: [1, -100, 5, -100, 0, 7] }],
    build: (x, y) => crossEntropy(x, y),
  },
  "bceWithLogits": {
    inputs: [{ shape: [3, 4], dims: ["b", 4] }, { shape: [3, 4], dims: ["b", 4], gen: "positive" }],
    build: (x, t) => bceWithLogits(x, t),
  },
  "bceWithLogits posWeight": {
    inputs: [{ shape: [2, 3] }, { shape: [2, 3], gen: "positive" }, { shape: [3], gen: "positive" }],
    build: (x, t, p) => bceWithLogits(x, t, { posWeight: p }),
  },
  "mse": { inputs: [{ shape: [2, 3], dims: ["b", 3] }, { shape: [2, 3], dims: ["b", 3] }], build: (p, t) => mse(p, t) },
};

for (const [name, c] of Object.entries(cases)) {
  test(`loss ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`loss ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

// Made with torch 1.13 in float64 (/usr/bin/python3, Debian's python3-torch):
//   logits = [round(sin(0.7 i + 0.3) * 3, 2) for i in range(24)] as [2, 3, 4];
//   A..D: F.cross_entropy(logits.reshape(6, 4), labels.reshape(6), ...) then .backward();
//   E, G: F.binary_cross_entropy_with_logits(x [2, 3], t [2, 3], pos_weight=...), grads of x and t;
//   mse: F.mse_loss. Each entry is [loss, d/dlogits(, d/dtargets)].
type Want = [loss: number, dInput: number[], dTarget?: number[]];
interface TorchNumbers {
  logits: number[]; labels: number[]; labels2: number[]; w: number[]; bl: number[]; bt: number[]; pw: number[]; mse: number;
  A: Want; B: Want; C: Want; D: Want; E: Want; G: Want;
}
const T: TorchNumbers = {
  logits: [0.89, 2.52, 2.97, 2.03, 0.12, -1.84, -2.93, -2.65, -1.12, 0.93, 2.55, 2.97, 1.99, 0.07, -1.88, -2.94, -2.63, -1.07, 0.98, 2.58, 2.96, 1.95, 0.02, -1.91],
  labels: [0, 3, -100, 2, 1, 1],
  w: [0.5, 2, 1, 1.5],
  A: [3.0191073694140913, [-0.18839578181894118, 0.059226475802690394, 0.09288560370499799, 0.036283702311252775, 0.15988752231884862, 0.02252150391881136, 0.007572101080585207, -0.1899811273182452, 0, 0, 0, 0, 0.17025741906834824, 0.024960922989764486, -0.1964487078556888, 0.0012303657975761054, 0.0008856653337432566, -0.1957852769937005, 0.03273955150341062, 0.16216006015654663, 0.14037470901636248, -0.14887286672441094, 0.007421011288583884, 0.0010771464194645859]],
  B: [2.843091624957096, [-0.061305410389922266, 0.017182302561819268, 0.034578015807409886, 0.009545092020693103, 0.16666721101450127, 0.016585155914461972, 0.004406320781330845, -0.1876586877102941, 0, 0, 0, 0, 0.12286703896075495, 0.011132104331791855, -0.12954280396577217, -0.004456339326774637, -0.0005679244518173083, -0.25849047015205245, 0.041445454745761015, 0.21761293985810873, 0.1912295106117841, -0.19398590603177934, 0.006632461950374268, -0.003876066530379052]],
  labels2: [0, 3, 2, 2, 1, 1],
  C: [2.751449887627782, [-0.09682157272788972, 0.023121511589685954, 0.06296955301031087, 0.010730508127892882, 0.28354613420291314, 0.01582022585284559, 0.001224433208560689, -0.3005907932643194, -0.0038140243686832368, -0.00607758219855819, -0.11688331384155869, 0.12677492040880012, 0.21721286252720703, 0.0077612114240658845, -0.20783892906059157, -0.017135144890681363, 0, 0, 0, 0, 0, 0, 0, 0]],
  D: [2.720426265760327, [-0.23549472727367646, 0.07403309475336299, 0.11610700463124747, 0.04535462788906597, 0.19985940289856077, 0.028151879898514198, 0.009465126350731509, -0.2374764091478065, 0.002319976791730251, 0.01802135028708744, -0.15893648937291302, 0.13859516229409535, 0.21282177383543527, 0.031201153737205604, -0.245560884819611, 0.0015379572469701316, 0, 0, 0, 0, 0, 0, 0, 0]],
  bl: [0, -2.5, 1.25, 50, -50, 0.3],
  bt: [1, 0, 0.25, 0, 1, 0.7],
  pw: [2, 0.5, 1.5],
  E: [17.100970206777735, [-0.08333333333333333, 0.012643030003540591, 0.08788331019578184, 0.16666666666666666, -0.16666666666666666, -0.02092624719805682], [0, 0.4166666666666667, -0.20833333333333334, -8.333333333333334, 8.333333333333334, -0.049999999999999996]],
  G: [13.087413981993082, [-0.16666666666666666, 0.012643030003540591, 0.08324372397025458, 0.16666666666666666, -0.08333333333333333, -0.04575043371737669], [0.11552453009332421, 0.2017591888089542, -0.18733924322121895, -8.333333333333334, 4.166666666666667, -0.0038037296276227464]],
  mse: 3.375,
};

function close(got: ArrayLike<number>, want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-12, `${what}[${i}]: ${got[i]} vs torch ${want[i]}`);
}

function ceAgainstTorch(labels: number[], want: Want, opts: { weight?: boolean; labelSmoothing?: number; ignoreIndex?: number }): void {
  const g = new Graph();
  const x = g.input("x", ["b", "t", 4], "float64"), y = g.input("y", ["b", "t"], "int64"), w = g.input("w", [4], "float64");
  const [loss, dx] = trace(g, () => {
    const loss = crossEntropy(x, y, { ...opts, weight: opts.weight ? w : undefined });
    return [loss, gradients(loss, [x])[0]!];
  });
  const feeds = { x: ndarray("float64", [2, 3, 4], T.logits), y: ndarray("int64", [2, 3], labels), w: ndarray("float64", [4], T.w) };
  const [lv, dv] = evaluate(g, [loss, dx], feeds);
  close(lv.data, [want[0]], "loss");
  close(dv.data, want[1], "dlogits");
}

test("crossEntropy matches torch: plain, with an ignored target", () => ceAgainstTorch(T.labels, T.A, {}));
test("crossEntropy matches torch: class weights and label smoothing", () => ceAgainstTorch(T.labels, T.B, { weight: true, labelSmoothing: 0.1 }));
test("crossEntropy matches torch: ignoreIndex inside the class range", () => {
  ceAgainstTorch(T.labels2, T.C, { weight: true, labelSmoothing: 0.2, ignoreIndex: 1 });
  ceAgainstTorch(T.labels2, T.D, { ignoreIndex: 1 });
});

test("bceWithLogits and mse match torch (x = 0 and |x| = 50 included)", () => {
  for (const [want, pos] of [[T.E, false], [T.G, true]] as const) {
    const g = new Graph();
    const x = g.input("x", [2, 3], "float64"), t = g.input("t", [2, 3], "float64"), p = g.input("p", [3], "float64");
    const outs = trace(g, () => {
      const loss = bceWithLogits(x, t, pos ? { posWeight: p } : {});
      return [loss, ...(gradients(loss, [x, t]) as never[])];
    });
    const feeds = { x: ndarray("float64", [2, 3], T.bl), t: ndarray("float64", [2, 3], T.bt), p: ndarray("float64", [3], T.pw) };
    const [lv, dx, dt] = evaluate(g, outs, feeds);
    close(lv.data, [want[0]], "bce loss");
    close(dx.data, want[1], "bce dlogits");
    close(dt.data, want[2]!, "bce dtargets");
  }
  const g = new Graph();
  const a = g.input("a", [4], "float64"), b = g.input("b", [4], "float64");
  const l = trace(g, () => mse(a, b));
  const [lv] = evaluate(g, [l], { a: ndarray("float64", [4], [0.5, -1, 2, 3.5]), b: ndarray("float64", [4], [1, 1, -1, 3]) });
  close(lv.data, [T.mse], "mse");
});

test("losses: mismatched shapes are ShapeErrors naming both shapes", () => {
  const g = new Graph();
  const x = g.input("x", ["b", "t", 5], "float32");
  const y = g.input("y", ["b", 5], "int64");
  const yf = g.input("yf", ["b", "t"], "float32");
  const w = g.input("w", [4], "float32");
  const p = g.input("p", ["b", 1], "float32"), q = g.input("q", ["b"], "float32");
  const sym = g.input("sym", ["b", "c"], "float32"), ys = g.input("ys", ["b"], "int64");
  trace(g, () => {
    const both = (re: RegExp) => (e: Error) => e instanceof ShapeError && re.test(e.message);
    assert.throws(() => crossEntropy(x, y), both(/int64\[b, 5\].*float32\[b, t, 5\]/));
    assert.throws(() => crossEntropy(x, yf), both(/float32\[b, t\].*float32\[b, t, 5\]/));
    assert.throws(() => crossEntropy(sym, ys), both(/float32\[b, c\] must be static/));
    const yt = g.input("yt", ["b", "t"], "int64");
    assert.throws(() => crossEntropy(x, yt, { weight: w }), both(/float32\[4\].*float32\[b, t, 5\]/));
    assert.throws(() => crossEntropy(x, yt, { labelSmoothing: 1.5 }), /labelSmoothing/);
    assert.throws(() => bceWithLogits(p, q), both(/float32\[b\].*float32\[b, 1\]/));
    assert.throws(() => bceWithLogits(q, q, { posWeight: w }), both(/float32\[4\].*float32\[b\]/));
    assert.throws(() => mse(p, q), both(/float32\[b\].*float32\[b, 1\]/));
  });
});

test("crossEntropy: the gather path (no weights, no smoothing) equals the one-hot path and skips -100", () => {
  const g = new Graph();
  const x = g.input("x", ["n", 5], "float64"), y = g.input("y", ["n"], "int64"), w = g.input("w", [5], "float64");
  const outs = trace(g, () => {
    const lean = crossEntropy(x, y), full = crossEntropy(x, y, { weight: w }); // unit weights take the one-hot path
    return [lean, full, gradients(lean, [x])[0]!, gradients(full, [x])[0]!];
  });
  const xs = [0.3, -1.2, 2.5, 0.1, -0.4, 1.1, 0.9, -2.2, 0.05, 0.7, -0.3, 0.2, 1.4, -0.8, 0.6, 2.1, -1.5, 0.0, 0.4, -0.9];
  const feeds = { x: ndarray("float64", [4, 5], xs), y: ndarray("int64", [4], [2, -100, 4, -100]), w: ndarray("float64", [5], [1, 1, 1, 1, 1]) };
  const [lean, full, dLean, dFull] = evaluate(g, outs, feeds);
  close(lean.data, [full.data[0]], "loss");
  close(dLean.data, Array.from(dFull.data), "dlogits");
  // Rows 1 and 3 are ignored: no gradient reaches them.
  for (const r of [1, 3]) for (let c = 0; c < 5; c++) assert.ok(dLean.data[r * 5 + c] === 0, `row ${r} got a gradient`);
  // By hand: mean of -log softmax(row 0)[2] and -log softmax(row 2)[4].
  const nll = (row: number, k: number) => {
    const v = xs.slice(row * 5, row * 5 + 5), m = Math.max(...v);
    return -(v[k] - m - Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0)));
  };
  close(lean.data, [(nll(0, 2) + nll(2, 4)) / 2], "loss by hand");
});
