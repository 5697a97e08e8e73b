import { isFloat } from "../core/dtype.js";
import { ShapeError, WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { broadcastShapes, formatShape, shapeEq } from "../core/shape.js";
import type { Tensor } from "../graph/tensor.js";
import { add, cast, div, equal, exp, greater, less, log, mul, neg, not, relu, scalar, sub, where } from "./elementwise.js";
import { takeAlong } from "./gather.js";
import { mean, restoreAxes, sum } from "./reduce.js";
import { logSoftmax } from "./softmax.js";

// Losses composed of primitives, so their gradients follow from the primitives' rules and are
// checked by the same tests. Each returns a float scalar (reduction "mean", torch's default).

export interface CrossEntropyOptions {
  /** Targets equal to this take no part in the loss or its denominator (default -100). */
  ignoreIndex?: number;
  /** Per-class weights, shape [C]. */
  weight?: Tensor;
  /** ε: mix the one-hot target with the uniform distribution, (1-ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

const desc = (t: Tensor) => `${t.dtype}${formatShape(t.shape)}`;

/**
 * Cross entropy of `logits` [..., C] against integer class `labels` [...], averaged as
 * torch.nn.functional.cross_entropy does (reduction "mean"):
 *   Σ_i [(1-ε)·(−w_{y_i}·logp_{i,y_i}) + (ε/C)·Σ_c(−w_c·logp_{i,c})] / Σ_i w_{y_i}
 * over the targets i that are not `ignoreIndex` (w = 1 without weights). If every target is
 * ignored the result is NaN (0/0), as in torch. Labels outside [0, C) other than `ignoreIndex`
 * match no class: they add only the smoothing term and nothing to the denominator (torch raises).
 * @example crossEntropy(logits, labels) // [B, T, V] and int64 [B, T] -> scalar
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, weight, labelSmoothing: eps = 0 } = opts;
  if (!isFloat(logits.dtype) || logits.rank === 0) throw new ShapeError(`crossEntropy: logits must be floating point with a class axis, got ${desc(logits)}`);
  const C = logits.shape[logits.rank - 1];
  if (typeof C !== "number") throw new ShapeError(`crossEntropy: the class axis of the logits ${desc(logits)} must be static, got "${C}"`);
  if (labels.dtype !== "int64" || !shapeEq(labels.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError(`crossEntropy: labels ${desc(labels)} must be int64 with the shape of the logits ${desc(logits)} less the class axis`);
  }
  if (weight && (weight.dtype !== logits.dtype || !shapeEq(weight.shape, [C]))) {
    throw new ShapeError(`crossEntropy: weight ${desc(weight)} must be ${logits.dtype}[${C}] for logits ${desc(logits)}`);
  }
  if (!(eps >= 0 && eps <= 1)) throw new WhetError(`crossEntropy: labelSmoothing must lie in [0, 1], got ${eps}`);
  const dt = logits.dtype;
  if (!weight && eps === 0) return targetCrossEntropy(logits, labels, ignoreIndex, C);

  // [..., C] one-hot by comparison with a constant class range: no per-element gather, and the
  // backward is a single broadcast multiply.
  const lab = restoreAxes(labels, [-1]); // [...] -> [..., 1]
  const classes = logits.graph.constant(ndarray("int64", [C], Array.from({ length: C }, (_, c) => c)));
  // w_{y_i} at the target class, 0 elsewhere: [..., C]
  let wTarget = where(equal(lab, classes), weight ?? scalar(1, dt, logits), scalar(0, dt, logits));
  // Only needed when smoothing touches every class of a kept row, or when the ignored index is
  // itself a class: otherwise an ignored label matches no class and its one-hot row is zero.
  const inRange = Number.isInteger(ignoreIndex) && ignoreIndex >= 0 && ignoreIndex < C;
  const kept = eps > 0 || inRange ? cast(not(equal(lab, scalar(ignoreIndex, "int64", labels))), dt) : null; // [..., 1]
  if (inRange) wTarget = mul(wTarget, kept!);
  let coef = wTarget;
  if (eps > 0) {
    const smooth = mul(kept!, weight ? mul(weight, eps / C) : scalar(eps / C, dt, logits)); // [..., 1|C]
    coef = add(mul(wTarget, 1 - eps), smooth);
  }
  const total = sum(mul(coef, logSoftmax(logits, -1)));
  return neg(div(total, sum(wTarget)));
}

/**
 * The unweighted, unsmoothed case: pick log p(y) with one gather instead of a one-hot product.
 * For a masked-LM vocabulary (C ≈ 30k) the one-hot path holds three extra [N, C] tensors; here
 * the forward adds none and the backward one (the scatter of dy). Same semantics: labels equal to
 * `ignoreIndex` or outside [0, C) count neither in the sum nor in the denominator.
 */
function targetCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: number, C: number): Tensor {
  const dt = logits.dtype;
  // Counted targets as 0/1 in the logits' dtype: [...]
  let kept = mul(cast(greater(labels, -1), dt), cast(less(labels, C), dt));
  if (Number.isInteger(ignoreIndex) && ignoreIndex >= 0 && ignoreIndex < C) kept = mul(kept, cast(not(equal(labels, ignoreIndex)), dt));
  // Uncounted targets read class 0 (any valid index) so the gather stays in range; `kept` zeroes them.
  const safe = where(greater(kept, 0), labels, 0); // int64 [...]
  const picked = takeAlong(logSoftmax(logits, -1), safe); // [..., C] -> [...]
  return neg(div(sum(mul(picked, kept)), sum(kept)));
}

export interface BceOptions {
  /** Weight of the positive term, broadcast against the logits (torch's pos_weight, e.g. [C]). */
  posWeight?: Tensor;
}

/**
 * Binary cross entropy on logits, mean over every element, in torch's stable form:
 *   (1 - t)·x + (1 + (p - 1)·t)·softplus(-x),  softplus(-x) = m + log(e^{-m} + e^{-x-m}), m = max(-x, 0).
 * That softplus has the exact gradient everywhere, x = 0 included (max's kink cancels out).
 */
export function bceWithLogits(logits: Tensor, targets: Tensor, opts: BceOptions = {}): Tensor {
  if (!isFloat(logits.dtype) || targets.dtype !== logits.dtype || !shapeEq(logits.shape, targets.shape)) {
    throw new ShapeError(`bceWithLogits: targets ${desc(targets)} must match the logits ${desc(logits)}`);
  }
  const { posWeight } = opts;
  if (posWeight) {
    const fits = posWeight.dtype === logits.dtype && (() => {
      try {
        return shapeEq(broadcastShapes(logits.shape, posWeight.shape), logits.shape);
      } catch {
        return false;
      }
    })();
    if (!fits) throw new ShapeError(`bceWithLogits: posWeight ${desc(posWeight)} does not broadcast to the logits ${desc(logits)}`);
  }
  const negX = neg(logits);
  const m = relu(negX);
  const softplusNeg = add(m, log(add(exp(neg(m)), exp(sub(negX, m)))));
  const lw = posWeight ? add(mul(sub(posWeight, 1), targets), 1) : null;
  return mean(add(mul(sub(1, targets), logits), lw ? mul(lw, softplusNeg) : softplusNeg));
}

/**
 * Mean squared error over every element. The shapes must be equal: torch only warns when they
 * broadcast, and [B, 1] against [B] silently averages a [B, B] matrix.
 */
export function mse(pred: Tensor, target: Tensor): Tensor {
  if (!isFloat(pred.dtype) || target.dtype !== pred.dtype || !shapeEq(pred.shape, target.shape)) {
    throw new ShapeError(`mse: target ${desc(target)} must match the prediction ${desc(pred)}`);
  }
  const d = sub(pred, target);
  return mean(mul(d, d));
}
