// No module in the shipped code may reach itself through its imports: a cycle makes load order
// decide which bindings exist yet, and ties modules that should be separable. Type-only imports
// count too (they are the usual first step into a runtime cycle), and so do dynamic import()s.
import { resolve } from "node:path";
import { parseCircular, parseDependencyTree, type DependencyTree } from "dpdm";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SOURCES = ["server", "ui", "plugin", "protocol"].flatMap((dir) => [`${dir}/**/*.ts`, `${dir}/**/*.tsx`]);

/** Each module's imports (paths relative to the repo root), type-only and dynamic ones included. */
async function importGraph(): Promise<DependencyTree> {
  return parseDependencyTree(SOURCES, { cwd: ROOT, context: ROOT, transform: false, skipDynamicImports: false });
}

/** Relative imports that resolve to no file: an edge the cycle search would silently miss. */
function unresolvedImports(tree: DependencyTree): string[] {
  return Object.values(tree).flatMap((deps) =>
    (deps ?? []).filter((dep) => dep.request.startsWith(".") && dep.id === null).map((dep) => `${dep.issuer} imports ${dep.request}`),
  );
}

describe("import graph of server/, ui/, plugin/ and protocol/", () => {
  const graph = importGraph();

  it("resolves every relative import", async () => {
    const tree = await graph;
    expect(Object.keys(tree).length).toBeGreaterThan(0);
    expect(unresolvedImports(tree)).toEqual([]);
  });

  it("has no cycles", async () => {
    const cycles = parseCircular(await graph, false).map((cycle) => [...cycle, cycle[0]].join(" -> "));
    expect(cycles).toEqual([]);
  });
});
