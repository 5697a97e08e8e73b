import { Module } from "./module.js";

/** Children registered as "0", "1", …, as torch.nn.ModuleList names them in checkpoints. */
export class ModuleList<M extends Module> extends Module implements Iterable<M> {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.add(String(i), m));
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
