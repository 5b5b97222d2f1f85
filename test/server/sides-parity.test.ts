// The training code's side rule (models/phototype_train/data/sides.py, which relabels the parser's
// training masks) against the server's (pipeline/sides.ts) on the same maps: a parser trained on
// those masks names sides as the server places them, so the two must agree pixel for pixel.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PYTHON } from "../../scripts/python.ts";
import { xoshiro128ss } from "../../server/pipeline/prng.ts";
import { sideRulesOf } from "../../server/pipeline/side-pairs.ts";
import { placeSides } from "../../server/pipeline/sides.ts";
import { defaultTestPack } from "./helpers.ts";

const SIZE = 24;
const PY = `
import sys, numpy as np
from phototype_train.data.sides import place_sides
n, size = int(sys.argv[2]), int(sys.argv[3])
maps = np.frombuffer(open(sys.argv[1] + "/in.bin", "rb").read(), np.uint8).reshape(n, size, size).astype(np.int64)
open(sys.argv[1] + "/out.bin", "wb").write(np.stack([place_sides(m) for m in maps]).astype(np.uint8).tobytes())
`;

/** Random maps: sometimes skin, sometimes a nose, and 1-5 rectangles of paired classes that may touch or overlap. */
function randomMaps(count: number, ids: (name: string) => number): Uint8Array {
  const next = xoshiro128ss(7);
  const int = (n: number) => Math.floor((next() / 2 ** 32) * n);
  const paired = ["l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear"].map(ids);
  const out = new Uint8Array(count * SIZE * SIZE);
  for (let i = 0; i < count; i++) {
    const map = out.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
    const rect = (id: number, x0: number, y0: number, w: number, h: number) => {
      for (let y = y0; y < Math.min(SIZE, y0 + h); y++) for (let x = x0; x < Math.min(SIZE, x0 + w); x++) map[y * SIZE + x] = id;
    };
    if (int(3) > 0) rect(ids("skin"), int(8), int(6), 8 + int(12), 10 + int(8));
    if (int(2) > 0) rect(ids("nose"), 6 + int(12), 8 + int(8), 1 + int(3), 2 + int(3));
    for (let k = 1 + int(5); k > 0; k--) rect(paired[int(paired.length)], int(SIZE - 2), int(SIZE - 2), 1 + int(5), 1 + int(3));
    // a thin diagonal stroke: one region only with diagonal neighbours (8-connected), often across the midline
    if (int(2) > 0) {
      const id = paired[int(paired.length)], x0 = 4 + int(10), y0 = int(12);
      for (let t = 0; t < 6 + int(6); t++) rect(id, x0 + t, y0 + t, 1, 1);
    }
  }
  return out;
}

describe("sides by position: training code and server agree", () => {
  const dir = mkdtempSync(join(tmpdir(), "phototype-sides-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("relabels 300 random maps identically", () => {
    const m = defaultTestPack().manifest;
    const ids = (name: string) => m.classes.find((c) => c.name === name)!.id;
    const n = 300;
    const maps = randomMaps(n, ids);
    writeFileSync(join(dir, "in.bin"), maps);
    execFileSync(PYTHON, ["-c", PY, dir, String(n), String(SIZE)], { stdio: ["ignore", "inherit", "inherit"] });
    const theirs = new Uint8Array(readFileSync(join(dir, "out.bin")));
    const rules = sideRulesOf(m);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const map = maps.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
      const ours = placeSides(map, SIZE, rules);
      expect([...theirs.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE)]).toEqual([...ours]);
      if (ours.some((v, p) => v !== map[p])) changed++;
    }
    expect(changed).toBeGreaterThan(n / 4); // the maps exercise the rule, not only its no-op
  });
});
