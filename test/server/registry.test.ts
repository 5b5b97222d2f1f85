// Broken copies of a real pack beside a good one: each broken one is refused with a reason,
// the good one keeps serving.
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseDefaultPack, loadPackFolder, loadPacks } from "../../server/pack/registry.ts";
import { sidePairsOf } from "../../server/pipeline/side-pairs.ts";
import { silentLogger } from "../../server/log.ts";
import { startServer } from "../../server/server.ts";
import { authFetch, defaultTestPack } from "./helpers.ts";

const good = defaultTestPack();
let root: string;

/** Copies the good pack to root/folder under a new name and lets `breakIt` damage it. */
function brokenCopy(folder: string, breakIt: (dir: string, manifest: Record<string, any>) => void): void {
  const dir = join(root, folder);
  cpSync(good.dir, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "pack.json"), "utf8"));
  manifest.name = folder;
  breakIt(dir, manifest);
  writeFileSync(join(dir, "pack.json"), JSON.stringify(manifest, null, 2));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "phototype-packs-"));
  cpSync(good.dir, join(root, good.name), { recursive: true });
  const g2 = good.manifest.networks.g2.file;
  brokenCopy("bad-sha", (dir) => {
    const bytes = readFileSync(join(dir, g2));
    bytes[bytes.length - 1] ^= 0xff; // same size, different content
    writeFileSync(join(dir, g2), bytes);
  });
  brokenCopy("missing-file", (dir) => unlinkSync(join(dir, g2)));
  brokenCopy("bad-size", (_dir, m) => (m.networks.g2.bytes += 1));
  brokenCopy("bad-schema", (_dir, m) => (m.resolution = "big"));
  brokenCopy("no-mapper", (_dir, m) => delete m.networks[m.conditions[0].network]);
  brokenCopy("no-rearranger", (_dir, m) => delete m.networks.rearranger);
  brokenCopy("wrong-shape", (_dir, m) => (m.networks.g2.outputs[0].shape[2] = m.resolution * 2));
  brokenCopy("bad-sides", (_dir, m) => (m.sidePairs = [{ label: "Eye", imageLeft: "r_eye", imageRight: "third_eye" }]));
  brokenCopy("bad-json", () => {});
  writeFileSync(join(root, "bad-json", "pack.json"), "{ nope");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("pack registry", () => {
  it("refuses each broken pack with one clear line and keeps the good one", () => {
    const lines: string[] = [];
    const registry = loadPacks(root, { log: (l) => lines.push(l) });
    expect([...registry.packs.keys()]).toEqual([good.name]);
    const reasons = Object.fromEntries(registry.refused.map((r) => [r.folder, r.reason]));
    expect(reasons["bad-sha"]).toMatch(/sha256/);
    expect(reasons["missing-file"]).toMatch(/missing/);
    expect(reasons["bad-size"]).toMatch(/bytes/);
    expect(reasons["bad-schema"]).toMatch(/schema.*resolution/);
    expect(reasons["no-mapper"]).toMatch(/lacks required network/);
    expect(reasons["no-rearranger"]).toMatch(/rearranger/);
    expect(reasons["wrong-shape"]).toMatch(/g2 output 0/);
    expect(reasons["bad-json"]).toMatch(/not valid JSON/);
    expect(reasons["bad-sides"]).toMatch(/side pair Eye names class third_eye/);
    expect(lines.length).toBe(9);
    for (const line of lines) expect(line).toMatch(/^pack [a-z-]+: refused: /);
  });

  it("refuses a second pack with the same name", () => {
    const dup = mkdtempSync(join(tmpdir(), "phototype-dup-"));
    try {
      cpSync(good.dir, join(dup, "a"), { recursive: true });
      cpSync(good.dir, join(dup, "b"), { recursive: true });
      const registry = loadPacks(dup, { log: () => {} });
      expect(registry.packs.size).toBe(1);
      expect(registry.refused[0]).toMatchObject({ folder: "b", reason: expect.stringMatching(/already/) });
    } finally {
      rmSync(dup, { recursive: true, force: true });
    }
  });

  it("loads a pack made before sidePairs, taking the pairs from its l_ / r_ class names", () => {
    const older = mkdtempSync(join(tmpdir(), "phototype-older-"));
    try {
      const dir = join(older, good.name);
      cpSync(good.dir, dir, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(dir, "pack.json"), "utf8"));
      delete manifest.sidePairs;
      writeFileSync(join(dir, "pack.json"), JSON.stringify(manifest, null, 2));
      const loaded = loadPackFolder(dir);
      expect(loaded.manifest.sidePairs).toBeUndefined();
      expect(sidePairsOf(loaded.manifest)).toEqual(sidePairsOf(good.manifest));
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });

  it("chooses the default pack: requested, else faces-128, else the first by name", () => {
    expect(chooseDefaultPack(["b", "a"], "b").name).toBe("b");
    expect(chooseDefaultPack(["b", "faces-64", "faces-128", "a"]).name).toBe("faces-128");
    expect(chooseDefaultPack(["b", "a"]).name).toBe("a");
    expect(chooseDefaultPack(["b", "a"], "zzz")).toMatchObject({ name: "a", note: expect.stringMatching(/zzz/) });
    expect(chooseDefaultPack([]).name).toBeNull();
  });

  it("a server on that folder serves the good pack and reports the refused ones", async () => {
    const server = await startServer({ port: 0, packsDir: root, log: silentLogger, warmup: false });
    try {
      const health = await (await authFetch(server, `/health`)).json();
      expect(health.packs).toEqual([good.name]);
      expect(health.defaultPack).toBe(good.name);
      expect(health.refused.map((r: { folder: string }) => r.folder).sort()).toEqual(
        ["bad-json", "bad-schema", "bad-sha", "bad-sides", "bad-size", "missing-file", "no-mapper", "no-rearranger", "wrong-shape"],
      );
      const R = good.manifest.resolution;
      const res = await authFetch(server, `/generate?seed=1`, { method: "POST", body: new Uint8Array(R * R).fill(good.manifest.classes[0].id) });
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
