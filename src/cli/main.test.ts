// Exit codes: 0 ok, 1 failure, 2 usage error (commander's), whatever the command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));

function whet(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args]);
    let out = "", err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

test("main: usage errors exit 2 with commander's message and a hint; help and version exit 0", async () => {
  const [option, command, help, version] = await Promise.all([whet(["train", "--no-such-flag"]), whet(["trian"]), whet(["--help"]), whet(["--version"])]);
  assert.equal(option.code, 2);
  assert.match(option.err, /unknown option '--no-such-flag'/);
  assert.match(option.err, /whet train --help/);
  assert.equal(command.code, 2);
  assert.match(command.err, /unknown command 'trian'/);
  assert.equal(help.code, 0);
  for (const c of ["train", "inspect", "init", "doctor"]) assert.match(help.out, new RegExp(`^  ${c} `, "m"));
  assert.equal(version.code, 0);
  assert.match(version.out, /^\d+\.\d+\.\d+\n$/);
});

test("main: init and doctor (which load only what they need) follow the same conventions", async () => {
  const [help, bad] = await Promise.all([whet(["init", "--help"]), whet(["doctor", "--no-such-flag"])]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--force/);
  assert.equal(bad.code, 2);
});
