// The server's edge detector against OpenCV itself: models/phototype_train/data/conditions.py edges_from_image
// (what the edges mapper was trained on) run by the repo venv's Python with cv2 on the same pictures.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { edgesFromRgb } from "../../server/pipeline/canny.ts";
import { xoshiro128ss } from "../../server/pipeline/prng.ts";
import { defaultTestPack, faceLayout } from "./helpers.ts";
import { flatRgb, syntheticFace } from "./images.ts";
import { PYTHON } from "../../scripts/python.ts";

const SCRIPT = resolve(import.meta.dirname, "fixtures/canny_parity.py");
const hasCv2 = spawnSync(PYTHON, ["-c", "import cv2, numpy, phototype_train"], { stdio: "ignore" }).status === 0;

function noise(width: number, height: number, seed: number): Uint8Array {
  const next = xoshiro128ss(seed);
  return Uint8Array.from({ length: width * height * 3 }, () => next() >>> 24);
}

/** Smooth gradient with two hard-edged discs: long weak edges and strong ones. */
function discs(size: number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 60 + Math.round((120 * (x + y)) / (2 * size));
      if ((x - size * 0.35) ** 2 + (y - size * 0.4) ** 2 < (size * 0.2) ** 2) v = 220;
      if ((x - size * 0.7) ** 2 + (y - size * 0.65) ** 2 < (size * 0.15) ** 2) v -= 50;
      rgb.set([v, Math.round(v * 0.8), 255 - v], (y * size + x) * 3);
    }
  }
  return rgb;
}

describe.skipIf(!hasCv2)("Canny parity with OpenCV (conditions.py edges_from_image)", () => {
  const dir = mkdtempSync(join(tmpdir(), "phototype-canny-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("agrees with cv2 pixel for pixel on faces, noise, gradients and flat images", () => {
    const classes = defaultTestPack().manifest.classes;
    const cases: { name: string; width: number; height: number; rgb: Uint8Array }[] = [];
    for (const size of [32, 64, 128]) {
      cases.push({ name: `face${size}`, width: size, height: size, rgb: syntheticFace(classes, faceLayout(classes, size), size, size) });
      cases.push({ name: `sharp${size}`, width: size, height: size, rgb: syntheticFace(classes, faceLayout(classes, size), size, size + 1, 0, 0) });
      cases.push({ name: `discs${size}`, width: size, height: size, rgb: discs(size) });
    }
    cases.push({ name: "noise", width: 48, height: 40, rgb: noise(48, 40, 3) });
    cases.push({ name: "noise-odd", width: 17, height: 9, rgb: noise(17, 9, 4) });
    cases.push({ name: "flat", width: 32, height: 32, rgb: flatRgb(32, 32, 128) });
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(cases.map(({ name, width, height }) => ({ name, width, height }))));
    for (const c of cases) writeFileSync(join(dir, `${c.name}.rgb`), c.rgb);
    execFileSync(PYTHON, [SCRIPT, dir], { stdio: ["ignore", "inherit", "inherit"] });

    let agree = 0, total = 0, edgesCv = 0;
    const perImage: string[] = [];
    for (const c of cases) {
      const ours = edgesFromRgb(c.rgb, c.width, c.height);
      const theirs = new Uint8Array(readFileSync(join(dir, `${c.name}.edges`)));
      expect(theirs.length).toBe(ours.length);
      let same = 0;
      for (let i = 0; i < ours.length; i++) same += ours[i] === theirs[i] ? 1 : 0;
      agree += same;
      total += ours.length;
      edgesCv += theirs.reduce((a, b) => a + b, 0);
      perImage.push(`${c.name} ${((100 * same) / ours.length).toFixed(2)}%`);
      // Each image on its own clears the bar too, so one broken case cannot hide in the total.
      expect(same / ours.length, c.name).toBeGreaterThanOrEqual(0.95);
    }
    console.log(`Canny parity with cv2: ${((100 * agree) / total).toFixed(3)}% of ${total} pixels (${edgesCv} edge pixels in cv2's maps); ${perImage.join(", ")}`);
    // The test images really have edges (an all-zero answer on both sides would agree trivially).
    expect(edgesCv).toBeGreaterThan(total / 20);
    // The port is meant to be bit-exact; 99 % overall leaves room only for a platform's rounding.
    expect(agree / total).toBeGreaterThanOrEqual(0.99);
  });
});
