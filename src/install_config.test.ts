// The repository's .npmrc: onnxruntime-node's install script is told to skip its CUDA download
// (it reads npm_config_onnxruntime_node_install), and npm 11's warning about that key is not
// printed on every command.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

test(".npmrc: the CUDA download is skipped and npm commands print no 'Unknown project config' warning", (t) => {
  const r = spawnSync("npm", ["run", "env"], { cwd: root, encoding: "utf8", env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "" } });
  if (r.error) return t.skip(`npm is not runnable here: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^npm_config_onnxruntime_node_install=skip$/m, "what onnxruntime-node's script/install-utils.js reads");
  assert.doesNotMatch(r.stderr, /Unknown project config/);
});
