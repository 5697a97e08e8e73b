// Bottleneck adapters as AdapterHub's `adapters` library builds them (methods/modeling.py, Adapter
// with pre_forward / forward / post_forward): https://github.com/adapter-hub/adapters
//   seq_bn (Pfeiffer): after the feed-forward block only; the block's LayerNorm before and after:
//     y = LN(up(relu(down(LN(h + x)))) + h + x)
//   double_seq_bn (Houlsby): after attention and after the feed-forward block; swish:
//     y = LN(up(swish(down(h))) + h + x)
// where h is the sublayer's output (dense + dropout), x the block's input (the residual), LN the
// block's own LayerNorm, down: hidden → hidden / reduction_factor, up: back. Weights N(0, 0.02),
// biases 0 (init_weights "bert").
import { WhetError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { Linear } from "../nn/linear.js";
import { hashName, Module } from "../nn/module.js";
import { ModuleList } from "../nn/module_list.js";
import { Rng } from "../core/rng.js";
import { add, mul, relu, sigmoid } from "../ops/elementwise.js";

export type BottleneckKind = "seq_bn" | "double_seq_bn";

export interface BottleneckSettings {
  architecture: BottleneckKind;
  reduction_factor: number;
  non_linearity: "relu" | "swish";
  /** original_ln_before: the block's LayerNorm on h + x before the adapter (seq_bn). */
  original_ln_before: boolean;
}

export const BOTTLENECK_DEFAULTS: Record<BottleneckKind, BottleneckSettings> = {
  seq_bn: { architecture: "seq_bn", reduction_factor: 16, non_linearity: "relu", original_ln_before: true },
  double_seq_bn: { architecture: "double_seq_bn", reduction_factor: 16, non_linearity: "swish", original_ln_before: false },
};

/**
 * The adapter's arithmetic on plain tensors (so it can be gradient-checked): the sublayer output
 * h, the residual x and the block's LayerNorm `norm`, with down/up projections as functions.
 */
export function bottleneckTail(h: Tensor, x: Tensor, norm: (t: Tensor) => Tensor, down: (t: Tensor) => Tensor, up: (t: Tensor) => Tensor,
  s: Pick<BottleneckSettings, "non_linearity" | "original_ln_before">): Tensor {
  const act = (t: Tensor) => (s.non_linearity === "relu" ? relu(t) : mul(t, sigmoid(t)));
  const input = s.original_ln_before ? norm(add(h, x)) : h; // pre_forward; the adapter's residual is h (residual_before_ln)
  return norm(add(add(up(act(down(input))), h), x)); // forward (+ residual h), post_forward (original_ln_after)
}

/** One bottleneck: adapter_down.0 [hidden → hidden/rf], adapter_up [→ hidden], as AdapterHub names them. */
export class Bottleneck extends Module {
  readonly adapter_down: ModuleList<Linear>;
  readonly up: Linear;

  constructor(hidden: number, readonly s: BottleneckSettings) {
    super();
    if (!(s.reduction_factor > 0)) throw new WhetError(`bottleneck adapter: reduction_factor must be positive, got ${s.reduction_factor}`);
    const size = Math.max(1, Math.floor(hidden / s.reduction_factor));
    this.adapter_down = this.add("adapter_down", new ModuleList([new Linear(hidden, size, { std: 0.02 })]));
    this.up = this.add("adapter_up", new Linear(size, hidden, { std: 0.02 }));
  }

  get down(): Linear {
    return this.adapter_down.items[0];
  }

  /** init_weights "bert": weights N(0, 0.02), biases 0, drawn per parameter name from `seed`. */
  init(seed: number): void {
    for (const l of [this.down, this.up]) {
      const rng = new Rng(seed, hashName(l.weight.name));
      for (let i = 0; i < l.weight.data.length; i++) l.weight.data[i] = 0.02 * rng.normal();
      l.bias!.data.fill(0);
    }
  }

  forward(h: Tensor, x: Tensor, norm: (t: Tensor) => Tensor): Tensor {
    return this.scope(() => bottleneckTail(h, x, norm, (t) => this.down.forward(t), (t) => this.up.forward(t), this.s));
  }
}

/** A place for a bottleneck: a block tail (dense, dropout, residual, LayerNorm) at `path`. */
export interface BottleneckSite {
  path: string;
  owner: Module;
  hidden: number;
}

/** Attach one bottleneck under each site as `<path>.adapters`, AdapterHub's place for them. */
export function attachBottlenecks(sites: readonly BottleneckSite[], s: BottleneckSettings, seed: number): Bottleneck[] {
  return sites.map((site) => {
    const b = new Bottleneck(site.hidden, s);
    site.owner.attach("adapters", b, site.path);
    b.init(seed);
    return b;
  });
}
