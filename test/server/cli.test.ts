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
  return cliWith({}, ...args);
}

function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const FILE_FLAGS = new Set(["--mask", "--out"]);
  const absolute = args.map((a, i) => (FILE_FLAGS.has(args[i - 1]) && !a.startsWith("nope") && !a.startsWith("/") ? join(dir, a) : a));
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "server/cli.ts"), ...absolute],
      { cwd: ROOT, env: { ...process.env, PHOTOTYPE_PACKS: PACKS_DIR, ...env }, timeout: 120_000 },
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
  // Twice as wide: the face in the middle, background strips on both sides.
  const wide = new Uint8Array(2 * R * R).fill(pack.manifest.classes.find((c) => c.name === "background")!.id);
  for (let y = 0; y < R; y++) wide.set(ids.subarray(y * R, (y + 1) * R), y * 2 * R + R / 2);
  writeFileSync(join(dir, "wide.png"), encode({ width: 2 * R, height: R, data: wide, channels: 1, depth: 8 }));
  // A palette design saved in greyscale: every colour became a grey that is no class id.
  const rgba = paletteImage(pack.manifest.classes, ids);
  const grey = Uint8Array.from({ length: R * R }, (_, p) => Math.round(0.299 * rgba[p * 4] + 0.587 * rgba[p * 4 + 1] + 0.114 * rgba[p * 4 + 2]));
  writeFileSync(join(dir, "grey-export.png"), encode({ width: R, height: R, data: grey, channels: 1, depth: 8 }));
  writeFileSync(join(dir, "empty.png"), encode({ width: R, height: R, data: new Uint8Array(R * R), channels: 1, depth: 8 }));
  // The eyes and brows each in the other side's class, as a designer who mixed them up would draw.
  const other = new Map(["eye", "brow"].flatMap((part) => {
    const [l, r] = [`l_${part}`, `r_${part}`].map((n) => pack.manifest.classes.find((c) => c.name === n)!.id);
    return [[l, r], [r, l]] as const;
  }));
  writeFileSync(join(dir, "swapped.png"), encode({ width: R, height: R, data: ids.map((v) => other.get(v) ?? v), channels: 1, depth: 8 }));
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

  it("generate --fit k keeps the closest of k candidates per image, says their scores and cost, and names each file by its seed", async () => {
    const r = await cli("generate", "--mask", "ids.png", "--seed", "7", "-n", "2", "--fit", "2", "--out", "fit");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/seeds 7\.\.10, fitting the layout: the best 2 of 4 candidates/);
    expect(r.stderr).toMatch(/fit: [\d.]+ ms/);
    const seeds = [...r.stderr.matchAll(/seed (\d+): layout mIoU ([\d.]+) by the pack's parser/g)].map((m) => Number(m[1]));
    expect(seeds).toHaveLength(2);
    expect(seeds.every((s) => s >= 7 && s <= 10)).toBe(true);
    expect(readdirSync(join(dir, "fit")).sort()).toEqual(seeds.map((s) => `${pack.name}-${s}.png`).sort());
    // The seed it names, generated plainly, is the same image.
    const plain = await cli("generate", "--mask", "ids.png", "--seed", String(seeds[0]), "--out", "fit-plain");
    expect(plain.code).toBe(0);
    expect(readFileSync(join(dir, "fit-plain", `${pack.name}-${seeds[0]}.png`))).toEqual(readFileSync(join(dir, "fit", `${pack.name}-${seeds[0]}.png`)));
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
      [["generate", "--mask", "broken.png"], /broken.png: The mask image is not a PNG/],
      [["generate", "--mask", "ids.png", "--seed", "-1"], /seed must be an integer/],
      [["serve", "--host", "0.0.0.0", "--port", "0"], /without --token/],
      [["generate", "--mask", "ids.png", "--out", "/proc/nope"], /--out \/proc\/nope: cannot create \/proc\/nope/],
      [["generate", "--mask", "ids.png", "--out", "/dev/null/x"], /--out \/dev\/null\/x: \/dev\/null is a file, not a folder/],
      [["generate", "--mask", "ids.png", "--out", "ids.png/x"], /ids.png is a file, not a folder/],
      [["generate", "--mask", "ids.png", "--fit", "9"], /fit must be an integer from 1 to 8/],
      [["generate", "--mask", "grey-export.png"], /colours were lost when it was saved in greyscale: export it again as a colour PNG/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i];
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    });
  });

  it("uses a non-square mask's centre square, and warns when no face is drawn", async () => {
    const wide = await cli("generate", "--mask", "wide.png", "--seed", "5", "--out", "wide");
    expect(wide.code).toBe(0);
    expect(wide.stderr).toMatch(new RegExp(`used the centre ${R}x${R} square of the ${2 * R}x${R} mask`));
    expect(wide.stderr).not.toMatch(/warning/);
    // The centre square is exactly the square mask: the same picture, byte for byte.
    const square = await cli("generate", "--mask", "ids.png", "--seed", "5", "--out", "square");
    expect(readFileSync(join(dir, "wide", `${pack.name}-5.png`))).toEqual(readFileSync(join(dir, "square", `${pack.name}-5.png`)));
    const empty = await cli("generate", "--mask", "empty.png", "--seed", "5", "--out", "empty");
    expect(empty.code).toBe(0);
    expect(empty.stderr).toMatch(/warning: No face was drawn/);
  });

  it("places eyes and brows by position: a mask with the sides swapped gives the same picture", async () => {
    const swapped = await cli("generate", "--mask", "swapped.png", "--seed", "4", "--out", "swapped");
    const right = await cli("generate", "--mask", "ids.png", "--seed", "4", "--out", "right");
    expect([swapped.code, right.code]).toEqual([0, 0]);
    const same = readFileSync(join(dir, "swapped", `${pack.name}-4.png`)).equals(readFileSync(join(dir, "right", `${pack.name}-4.png`)));
    expect(same, "the two PNGs are byte for byte the same").toBe(true);
  });

  it("pair prints the pairing code the server uses, alone on stdout", async () => {
    const own = mkdtempSync(join(tmpdir(), "phototype-pair-"));
    try {
      const r = await cliWith({ PHOTOTYPE_CONFIG_DIR: own }, "pair");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(readFileSync(join(own, "secret"), "utf8").trim());
      expect(r.stdout.trim()).toMatch(/^\w{4}-\w{4}-\w{4}$/);
      expect(r.stderr).toMatch(/Figma plugin/);
      expect((await cliWith({ PHOTOTYPE_CONFIG_DIR: own }, "pair")).stdout).toBe(r.stdout);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("generate --help says the limits and defaults", async () => {
    const r = await cli("generate", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 to 8/);
    expect(r.stdout).toMatch(/default: a random seed/);
    expect(r.stdout).not.toMatch(/--default-pack/);
  });

  it("verify checks parity for every pack", async () => {
    const r = await cli("verify");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok +${pack.name} on (cpu|cuda)`, "m"));
  });
});
