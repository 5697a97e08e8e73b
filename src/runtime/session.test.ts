import assert from "node:assert/strict";
import { test } from "node:test";
import { Graph, trace } from "../graph/graph.js";
import { mul } from "../ops/elementwise.js";
import { CompiledGraph } from "./session.js";

test("session: large outputs come back in blocks and are reassembled, into a given buffer when asked", async () => {
  const g = new Graph();
  const a = g.input("a", [1000, 3], "float32");
  const out = trace(g, () => ({ y: mul(a, 2), small: mul(a, 1) }));
  const c = await CompiledGraph.compile(g, out, { threads: 1, splitOutputsOver: 1024 });
  try {
    assert.ok(c.outputNames.some((n) => n.startsWith("y__part")), "y is split");
    const data = Float32Array.from({ length: 3000 }, (_, i) => i);
    const into = new Float32Array(3000);
    const r = await c.run({ a: { dtype: "float32", shape: [1000, 3], data } }, { y: { dtype: "float32", shape: [1000, 3], data: into } });
    assert.equal(r.y.data, into);
    assert.deepEqual(r.y.shape, [1000, 3]);
    into.forEach((v, i) => assert.equal(v, 2 * i));
    const plain = await c.run({ a: { dtype: "float32", shape: [1000, 3], data } });
    assert.deepEqual(Array.from(plain.y.data as Float32Array), Array.from(into));
    assert.deepEqual(Array.from(plain.small.data as Float32Array), Array.from(data));
  } finally {
    await c.release();
  }
});
