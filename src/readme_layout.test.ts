// README.md's Layout section names only what exists, and every folder of src/ is in its table.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

function layoutSection(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Layout");
  assert.ok(start >= 0, "README.md has a Layout section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

test("README Layout: every path it names exists; every folder of src/ is listed", () => {
  const text = layoutSection();
  // Paths in backticks (`src/io/`, `src/index.ts`, `.ci/run`) and link targets ((ARCHITECTURE.md)).
  const named = [
    ...[...text.matchAll(/`([.\w-]*\/[\w./-]*|[\w-]+\.(?:ts|md|cjs|mjs))`/g)].map((m) => m[1]),
    ...[...text.matchAll(/\]\(([^)#:]+)\)/g)].map((m) => m[1]),
  ].filter((p) => !p.startsWith("whetml")); // package entries (`whetml/engine`), not paths
  assert.ok(named.length > 15, `found ${named.length} paths`);
  // A bare file name ("elementwise.ts") is an example of a kind of file: it must exist somewhere in src/.
  const files = readdirSync(join(root, "src"), { recursive: true }).map(String);
  for (const p of named) {
    const found = p.includes("/") ? existsSync(join(root, p)) : existsSync(join(root, p)) || files.some((f) => f.endsWith(`/${p}`));
    assert.ok(found, `README Layout names ${p}, which does not exist`);
  }
  const folders = readdirSync(join(root, "src")).filter((d) => statSync(join(root, "src", d)).isDirectory());
  for (const d of folders) assert.ok(text.includes(`\`src/${d}/\``), `src/${d}/ is missing from README's Layout table`);
});
