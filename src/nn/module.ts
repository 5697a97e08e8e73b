import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { currentGraph } from "../graph/graph.js";
import { Parameter, type Init } from "./parameter.js";

/**
 * Base of every layer and model. Children and parameters are registered under their checkpoint
 * names; `forward` code runs inside `this.scope` so trace errors carry the module path.
 */
export abstract class Module {
  private readonly children = new Map<string, Module>();
  private readonly ownParams = new Map<string, Parameter>();
  private localName = "";

  protected add<M extends Module>(name: string, child: M): M {
    if (this.children.has(name) || this.ownParams.has(name)) throw new WhetError(`module already has a member "${name}"`);
    child.localName = name;
    for (const [, p] of child.namedParameters()) p.name = `${name}.${p.name}`;
    this.children.set(name, child);
    return child;
  }

  protected param(name: string, shape: readonly number[], init: Init, noDecay = false): Parameter {
    if (this.children.has(name) || this.ownParams.has(name)) throw new WhetError(`module already has a member "${name}"`);
    const p = new Parameter(name, shape, init, noDecay);
    this.ownParams.set(name, p);
    return p;
  }

  /**
   * Register a child or a parameter after construction (adapters such as LoRA do), under a module
   * that already sits at `path` in its tree: its parameters get their full names at once.
   */
  attach(name: string, member: Module | Parameter, path: string): void {
    const at = (n: string) => (path ? `${path}.${n}` : n);
    if (member instanceof Parameter) {
      if (this.children.has(name) || this.ownParams.has(name)) throw new WhetError(`module already has a member "${name}"`);
      member.name = at(name);
      this.ownParams.set(name, member);
      return;
    }
    this.add(name, member);
    for (const [, p] of member.namedParameters()) p.name = at(p.name);
  }

  /** Remove what `attach` registered (merging an adapter into its base weights). */
  detach(name: string): void {
    if (!this.children.delete(name) && !this.ownParams.delete(name)) throw new WhetError(`module has no member "${name}"`);
  }

  /** Every parameter with its full dotted name, in registration order (children after own). */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const p of this.ownParams.values()) out.push([p.name, p]);
    for (const c of this.children.values()) out.push(...c.namedParameters());
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Run traced code with this module's name on the module path of error messages. */
  scope<T>(fn: () => T): T {
    return this.localName ? currentGraph().scoped(this.localName, fn) : fn();
  }

  /**
   * Draw every parameter from its init rule. Each parameter's stream is keyed by (seed, name), so
   * a value depends on neither construction order nor the other parameters.
   */
  initWeights(seed: number): void {
    for (const [name, p] of this.namedParameters()) initParameter(p, seed, name);
  }
}

export function initParameter(p: Parameter, seed: number, name = p.name): void {
  const init: Init = p.init;
  if (init.kind === "zeros") p.data.fill(0);
  else if (init.kind === "ones") p.data.fill(1);
  else {
    const rng = new Rng(seed, hashName(name));
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * init.std;
    // An embedding's padding row starts at zero, as nn.Embedding(padding_idx=…) does.
    if (init.zeroRow !== undefined) {
      const w = p.shape[p.shape.length - 1];
      p.data.fill(0, init.zeroRow * w, (init.zeroRow + 1) * w);
    }
  }
}

/** FNV-1a over UTF-16 code units: a stable integer key for a parameter name. */
export function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
