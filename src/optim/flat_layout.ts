import { WhetError } from "../core/errors.js";
import { numel } from "../core/shape.js";
import type { ParamSpec } from "../graph/param.js";
import { AdamWArena } from "./adamw_wasm.js";
import type { Slot } from "./step_program.js";

/** The per-parameter state maps a TrainStep exposes (checkpoints read and replace their entries). */
export interface StateMaps {
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  acc: Map<string, Float32Array>;
}

/**
 * One slot's members laid end to end in flat buffers: parameters, both AdamW moments and, when
 * accumulating, the gradient sums. Each member's `data` and map entries are views into them.
 */
export interface FlatSlot {
  members: ParamSpec[];
  size: number;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  acc: Float32Array | null;
}

interface Views {
  p: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  acc: Float32Array[] | null;
}

/**
 * The flat storage of one compiled program's trainable parameters, so the optimizer update is a
 * handful of nodes per slot instead of a dozen per parameter, with the same per-element values.
 *
 * Code elsewhere replaces arrays wholesale (loading weights, restoring a checkpoint's moments:
 * `p.data = …`, `step.m.set(name, …)`); `adopt()` notices a replaced array before each run,
 * copies its values into the flat buffer and puts the view back, so those paths keep working.
 *
 * @example
 * const layout = new FlatLayout(program.slots, { m, v, acc }, false);
 * layout.adopt(); // before every run
 * feeds["flat.p.0"] = layout.slots[0].params;
 */
export class FlatLayout {
  readonly slots: FlatSlot[];
  /**
   * The WebAssembly memory the flat buffers live in, whose AdamW kernel updates them in place;
   * null when they would not fit one (then they are plain arrays and pass through in chunks).
   */
  readonly arena: AdamWArena | null;
  private readonly views: Views[];

  constructor(slots: readonly Slot[], private readonly state: StateMaps, accumulation: boolean) {
    this.slots = [];
    this.views = [];
    const sizes = slots.map((s) => s.members.reduce((n, p) => n + sizeOf(p), 0));
    const perSlot = accumulation ? 4 : 3;
    this.arena = AdamWArena.create(perSlot * sizes.reduce((a, b) => a + b, 0), perSlot * slots.length);
    const alloc = (n: number): Float32Array => this.arena?.alloc(n) ?? new Float32Array(n);
    for (const [k, s] of slots.entries()) {
      const size = sizes[k];
      const flat: FlatSlot = {
        members: s.members, size,
        params: alloc(size), m: alloc(size), v: alloc(size),
        acc: accumulation ? alloc(size) : null,
      };
      this.slots.push(flat);
      this.views.push({
        p: viewsOf(flat.params, s.members), m: viewsOf(flat.m, s.members), v: viewsOf(flat.v, s.members),
        acc: flat.acc ? viewsOf(flat.acc, s.members) : null,
      });
    }
    this.adopt();
  }

  /**
   * Bring every member's parameter and state arrays back into the flat buffers: an array that
   * was replaced since the last run is copied in and its view restored. An identity check per
   * array when nothing changed.
   */
  adopt(): void {
    this.slots.forEach((slot, k) => {
      const views = this.views[k];
      slot.members.forEach((p, i) => {
        const pv = views.p[i];
        if (p.data !== pv) {
          if (p.data.length !== pv.length) {
            throw new WhetError(`training step: parameter ${p.name} holds ${p.data.length} values, expected ${pv.length} (shape [${p.shape.join(", ")}])`);
          }
          pv.set(p.data);
          p.data = pv;
        }
        adoptEntry(this.state.m, p.name, views.m[i], "first moment");
        adoptEntry(this.state.v, p.name, views.v[i], "second moment");
        if (views.acc) adoptEntry(this.state.acc, p.name, views.acc[i], "gradient sum");
      });
    });
  }
}

/** Parameter shapes are static: a symbolic one could not be laid out flat. */
export function sizeOf(p: ParamSpec): number {
  const n = numel(p.shape);
  if (typeof n !== "number") throw new WhetError(`training step: parameter ${p.name} has a symbolic shape ${String(n)}`);
  return n;
}

function viewsOf(flat: Float32Array, members: readonly ParamSpec[]): Float32Array[] {
  let offset = 0;
  return members.map((p) => {
    const n = sizeOf(p);
    const view = flat.subarray(offset, offset + n);
    offset += n;
    return view;
  });
}

/** A missing entry starts at zero (a parameter never trained); a replaced one is copied in. */
function adoptEntry(map: Map<string, Float32Array>, name: string, view: Float32Array, what: string): void {
  const cur = map.get(name);
  if (cur === view) return;
  if (!cur) view.fill(0);
  else if (cur.length !== view.length) {
    throw new WhetError(`training step: the ${what} of ${name} holds ${cur.length} values, expected ${view.length}`);
  } else view.set(cur);
  map.set(name, view);
}
