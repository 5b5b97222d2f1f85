// The CLI as a user runs it: a child process on the TypeScript entry (through tsx).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "fast-png";
import { defaultTestPack, faceLayout, PACKS_DIR, paletteImage } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const pack = defaultTestPack();
const R = pack.manifest.resolution;
let dir: string;

/** Runs the CLI from the repository root (where tsx resolves); file arguments are made absolute. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const FILE_FLAGS = new Set(["--mask", "--out"]);
  const absolute = args.map((a, i) => (FILE_FLAGS.has(args[i - 1]) && !a.startsWith("nope") ? join(dir, a) : a));
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "server/cli.ts"), ...absolute],
      { cwd: ROOT, env: { ...process.env, PHOTOTYPE_PACKS: PACKS_DIR }, timeout: 120_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "phototype-cli-"));
  const ids = faceLayout(pack.manifest.classes, R);
  writeFileSync(join(dir, "ids.png"), encode({ width: R, height: R, data: ids, channels: 1, depth: 8 }));
  const big = faceLayout(pack.manifest.classes, R * 3);
  writeFileSync(join(dir, "palette.png"), encode({ width: R * 3, height: R * 3, data: paletteImage(pack.manifest.classes, big), channels: 4, depth: 8 }));
  writeFileSync(join(dir, "broken.png"), "not a png at all");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("phototype CLI", () => {
  it("generate writes one PNG per variation, deterministic per seed", async () => {
    const r = await cli("generate", "--mask", "ids.png", "--seed", "7", "-n", "3", "--out", "out", "--batch", "2");
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const files = readdirSync(join(dir, "out")).sort();
    expect(files).toEqual([`${pack.name}-7.png`, `${pack.name}-8.png`, `${pack.name}-9.png`]);
    for (const f of files) {
      const png = decode(readFileSync(join(dir, "out", f)));
      expect([png.width, png.height]).toEqual([R, R]);
    }
    const again = await cli("generate", "--mask", "ids.png", "--seed", "8", "--out", "again");
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, "again", `${pack.name}-8.png`))).toEqual(readFileSync(join(dir, "out", `${pack.name}-8.png`)));
  });

  it("snaps a palette PNG and says when it resized it", async () => {
    const r = await cli("generate", "--mask", "palette.png", "--seed", "1", "--out", "pal", "--pack", pack.name);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resized the mask from ${R * 3}x${R * 3} to ${R}x${R}`));
    expect(existsSync(join(dir, "pal", `${pack.name}-1.png`))).toBe(true);
  });

  it("exits 2 with one line for a missing file, an unknown pack, a bad PNG and bad options", async () => {
    const cases = [
      [["generate", "--mask", "nope.png"], /mask file nope.png not found/],
      [["generate", "--mask", "ids.png", "--pack", "no-such-pack"], /unknown pack no-such-pack/],
      [["generate", "--mask", "broken.png"], /not a readable PNG/],
      [["generate", "--mask", "ids.png", "--seed", "-1"], /seed must be an integer/],
      [["serve", "--host", "0.0.0.0", "--port", "0"], /without a token/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i];
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });
  });

  it("verify checks parity for every pack", async () => {
    const r = await cli("verify");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok +${pack.name} on (cpu|cuda)`, "m"));
  });
});
