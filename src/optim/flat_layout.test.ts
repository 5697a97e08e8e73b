import assert from "node:assert/strict";
import { test } from "node:test";
import type { ParamSpec } from "../graph/param.js";
import { FlatLayout, type StateMaps } from "./flat_layout.js";

const param = (name: string, shape: number[], start: number): ParamSpec => ({
  name, shape, noDecay: false, requiresGrad: true, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => start + i),
});

test("FlatLayout lays a slot's parameters and moments end to end and keeps them linked", () => {
  const a = param("a", [2, 2], 1), b = param("b", [3], 10);
  const state: StateMaps = { m: new Map([["b", Float32Array.of(7, 8, 9)]]), v: new Map(), acc: new Map() };
  const layout = new FlatLayout([{ group: 0, members: [a, b] }], state, true);
  const slot = layout.slots[0];
  assert.deepEqual([...slot.params], [1, 2, 3, 4, 10, 11, 12]);
  assert.deepEqual([...slot.m], [0, 0, 0, 0, 7, 8, 9], "existing moments are copied in, missing ones start at zero");
  assert.equal(a.data.buffer, slot.params.buffer, "a parameter's data is a view into the flat buffer");
  assert.equal(state.v.get("b")!.buffer, slot.v.buffer);
  assert.equal(state.acc.get("a")!.length, 4);

  // Code elsewhere replaces arrays (loading weights, restoring a checkpoint): adopt() copies them in.
  b.data = Float32Array.of(-1, -2, -3);
  state.m.set("a", Float32Array.of(5, 5, 5, 5));
  layout.adopt();
  assert.deepEqual([...slot.params], [1, 2, 3, 4, -1, -2, -3]);
  assert.deepEqual([...slot.m], [5, 5, 5, 5, 7, 8, 9]);
  assert.equal(b.data.buffer, slot.params.buffer);
  assert.equal(state.m.get("a")!.buffer, slot.m.buffer);
  slot.params[4] = 42;
  assert.equal(b.data[0], 42, "updates to the flat buffer are seen through the parameter");
});

test("FlatLayout refuses a replaced array of the wrong size, naming the parameter", () => {
  const a = param("enc.weight", [2, 3], 0);
  const state: StateMaps = { m: new Map(), v: new Map(), acc: new Map() };
  const layout = new FlatLayout([{ group: 0, members: [a] }], state, false);
  a.data = new Float32Array(5);
  assert.throws(() => layout.adopt(), /parameter enc\.weight holds 5 values, expected 6 \(shape \[2, 3\]\)/);
  a.data = new Float32Array(6);
  state.v.set("enc.weight", new Float32Array(2));
  assert.throws(() => layout.adopt(), /second moment of enc\.weight holds 2 values, expected 6/);
});
