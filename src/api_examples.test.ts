// Every value `import … from "whetml"` offers has an example a user can start from: in its doc
// comment (what an editor shows), in its file's opening comment by name, or in a ts block of the
// README; and the README's list of exports names each of them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repo = fileURLToPath(new URL("../", import.meta.url));

const hasExample = (text: string) => /@example|```/.test(text);
const names = (text: string, name: string) => new RegExp(`\\b${name}\\b`).test(text);

function docOf(decl: ts.Declaration): string {
  const nodes: ts.Node[] = [decl];
  if (ts.isVariableDeclaration(decl)) nodes.push(decl.parent.parent);
  return nodes.flatMap((n) => ts.getJSDocCommentsAndTags(n).map((d) => d.getText())).join("\n");
}

test("whetml's exports: each value has a runnable example, and the README lists it", () => {
  const program = ts.createProgram([join(repo, "src", "index.ts")], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const index = checker.getSymbolAtLocation(program.getSourceFile(join(repo, "src", "index.ts"))!)!;
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]).join("\n");
  const start = readme.indexOf("What `import … from \"whetml\"` holds");
  assert.ok(start > 0, "README.md lists the exports");
  const listing = readme.slice(start, readme.indexOf("\n#", start));
  const noExample: string[] = [], unlisted: string[] = [];
  let values = 0;
  for (const exported of checker.getExportsOfModule(index)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue;
    values++;
    const name = exported.name, decl = symbol.declarations![0], file = decl.getSourceFile();
    const opening = file.getFullText().slice(0, file.statements[0]?.getStart() ?? 0);
    const openingExample = opening.slice(Math.max(0, opening.search(/@example|```/)));
    const ok = hasExample(docOf(decl)) || (hasExample(opening) && names(openingExample, name)) || names(blocks, name);
    if (!ok) noExample.push(`${name} (${file.fileName.slice(repo.length)})`);
    if (!listing.includes(`\`${name}\``)) unlisted.push(name);
  }
  assert.ok(values > 100, `index.ts exports ${values} values`);
  assert.deepEqual(noExample, [], "exports without an example in their doc comment or the README");
  assert.deepEqual(unlisted, [], "exports missing from the README's list of exports");
});
