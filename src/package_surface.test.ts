// The package as another project sees it: `npm pack` the built package, unpack it into a fresh
// folder's node_modules (its dependencies linked from this checkout: no network), then import
// `whetml` and `whetml/engine` from a script there and run the `whetml` / `whet` bins.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

test("package: npm pack ships the user API, whetml/engine and the bins, without tests or test helpers", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whetml-pack-"));
  try {
    // --ignore-scripts: pack the dist/ this test runs from, without rebuilding it.
    const out = execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: root, encoding: "utf8" });
    const [info] = JSON.parse(out) as { name: string; filename: string; files: { path: string }[] }[];
    assert.equal(info.name, "whetml");
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes("dist/index.js") && files.includes("dist/engine.js") && files.includes("schema/whet-run.schema.json"));
    assert.deepEqual(files.filter((f) => /\.test\.|^dist\/testing\//.test(f)), [], "no tests or test helpers are shipped");

    // A project that installed the tarball: node_modules/whetml, its dependencies beside it.
    const project = join(dir, "project"), modules = join(project, "node_modules"), pkg = join(modules, "whetml");
    mkdirSync(pkg, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, info.filename), "-C", pkg, "--strip-components", "1"]);
    for (const name of readdirSync(join(root, "node_modules"))) {
      if (name !== ".bin" && name !== "whetml") symlinkSync(join(root, "node_modules", name), join(modules, name));
    }
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", dependencies: { whetml: "0.1.0" } }));
    writeFileSync(join(project, "use.mjs"), `
      import { finetune, Trainer, fromPretrained, resolveRunSpec, LabelMap, distillation } from "whetml";
      import * as whet from "whetml";
      import { Graph, trace, gradients, ops, evaluateReference, ndarray } from "whetml/engine";
      const g = new Graph();
      const x = g.input("x", [2, 3], "float32");
      const [dx] = trace(g, () => gradients(ops.sum(ops.mul(x, x), [0, 1]), [x]));
      const out = evaluateReference(g, [dx], { x: ndarray("float32", [2, 3], [1, 2, 3, 4, 5, 6]) });
      let deep = "exported";
      try { await import("whetml/dist/train/trainer.js"); } catch (e) { deep = e.code; }
      console.log(JSON.stringify({
        api: [finetune, Trainer, fromPretrained, resolveRunSpec, LabelMap, distillation].map((f) => typeof f),
        engineOnMain: "Graph" in whet || "TrainStep" in whet,
        grad: Array.from(out[0].data), deep,
        spec: resolveRunSpec({ model: "m", train_file: "t.csv", output_dir: "o" }).args.learning_rate,
      }));
    `);
    const r = spawnSync(process.execPath, ["use.mjs"], { cwd: project, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.api, ["function", "function", "function", "function", "function", "function"]);
    assert.equal(got.engineOnMain, false, "engine internals live on whetml/engine only");
    assert.deepEqual(got.grad, [2, 4, 6, 8, 10, 12]);
    assert.equal(got.deep, "ERR_PACKAGE_PATH_NOT_EXPORTED", "internal files are not part of the surface");
    assert.equal(got.spec, 2e-5);

    const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(manifest.bin).sort(), ["whet", "whetml"]);
    for (const bin of Object.values(manifest.bin) as string[]) {
      const v = spawnSync(process.execPath, [join(pkg, bin), "--version"], { cwd: project, encoding: "utf8" });
      assert.equal(v.status, 0, v.stderr);
      assert.equal(v.stdout.trim(), manifest.version);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
