// The face identity embedder (scripts/face-identity.ts) on synthetic drawn faces (no dataset in CI):
// a face and its mirror image, or the same drawing at another resolution, embed closer than a
// different face; and the pure parts (cosine distance, crop geometry, summaries) by hand.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineDistance, cropBox, embedFile, mirrorRgb, openFaceEmbedder, summarize, type FaceEmbedder } from "../../scripts/face-identity.ts";
import type { PackClass } from "../../server/pack/schema.ts";
import { faceLayout, type FacePose } from "../server/helpers.ts";
import { syntheticFace } from "../server/images.ts";

const names = ["background", "skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "u_lip", "l_lip", "hair", "neck", "cloth"];
/** Photo-like colours per part, so the drawings look a little like faces rather than a class palette. */
function palette(colours: string[]): PackClass[] {
  return names.map((name, id) => ({ id, name, label: name, color: colours[id] }));
}
const A_COLOURS = palette(["#8FA3B8", "#E0B49A", "#CFA088", "#3A2A22", "#3A2A22", "#4A3426", "#4A3426", "#B8605E", "#C06A66", "#4B3223", "#D6A88E", "#2E3F66"]);
const B_COLOURS = palette(["#5E7A52", "#8D5B3E", "#7E5036", "#1A1210", "#1A1210", "#201612", "#201612", "#6E3A34", "#74403A", "#D9C08A", "#80533A", "#B03A2E"]);
const A_POSE: FacePose = { cx: 0.44, cy: 0.5, s: 1, hair: 1 }; // off centre, so its mirror image differs
const B_POSE: FacePose = { cx: 0.5, cy: 0.54, s: 0.85, hair: 1.25 };

function face(classes: PackClass[], pose: FacePose, size: number, seed: number): Uint8Array {
  return syntheticFace(classes, faceLayout(classes, size, pose), size, seed, Math.max(1, size / 64));
}

/** 2x2 box average: the same drawing at half the resolution. */
function halve(rgb: Uint8Array, size: number): Uint8Array {
  const h = size / 2;
  const out = new Uint8Array(h * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) for (let c = 0; c < 3; c++) {
    const at = (yy: number, xx: number) => rgb[(yy * size + xx) * 3 + c];
    out[(y * h + x) * 3 + c] = Math.round((at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4);
  }
  return out;
}

const pack = (...images: Uint8Array[]) => {
  const out = new Uint8Array(images.reduce((n, i) => n + i.length, 0));
  images.reduce((at, i) => (out.set(i, at), at + i.length), 0);
  return out;
};

describe("cosineDistance", () => {
  it("is 1 - cos of the angle between the vectors", () => {
    expect(cosineDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(cosineDistance([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
    expect(cosineDistance([1, 0], [-3, 0])).toBeCloseTo(2, 12);
    expect(cosineDistance([1, 1], [1, 0])).toBeCloseTo(1 - Math.SQRT1_2, 12);
    expect(cosineDistance(new Float32Array([3, 4]), new Float32Array([4, 3]))).toBeCloseTo(1 - 24 / 25, 6);
  });

  it("says 1 for an all-zero vector and refuses different lengths", () => {
    expect(cosineDistance([0, 0], [1, 2])).toBe(1);
    expect(() => cosineDistance([1, 2], [1, 2, 3])).toThrow(/lengths 2 and 3/);
  });
});

describe("cropBox", () => {
  it("samples a centred crop where a half-pixel-centre resize of it would", () => {
    // res 4, crop 0.5 -> pixels 1..2 (edges 1 and 3), out 2: samples at pixel indices 1 and 2
    expect(cropBox(4, 0.5, 0.5, 2)).toEqual([1 / 3, 1 / 3, 2 / 3, 2 / 3]);
    // whole image, 8 -> 4: samples at 0.5, 2.5, 4.5, 6.5
    const [y0, x0, y1, x1] = cropBox(8, 1, 0.5, 4);
    expect([y0 * 7, x0 * 7, y1 * 7, x1 * 7].map((v) => Number(v.toFixed(9)))).toEqual([0.5, 0.5, 6.5, 6.5]);
    // same share of the face at any resolution: 64 px and 256 px crops cover the same part of the photo
    const at = (res: number) => cropBox(res, 0.75, 0.5, 224).map((v) => (v * (res - 1) + 0.5) / res);
    at(64).forEach((v, i) => expect(v).toBeCloseTo(at(256)[i], 9));
  });
});

describe("summarize", () => {
  it("gives mean, median and 5th/95th percentiles", () => {
    const s = summarize(Array.from({ length: 21 }, (_, i) => 20 - i)); // 0..20 in any order
    expect(s).toEqual({ n: 21, mean: 10, median: 10, p5: 1, p95: 19 });
  });
});

describe("openFaceEmbedder (faceres on WASM)", () => {
  let embedder: FaceEmbedder;
  let work: string;
  beforeAll(async () => {
    embedder = await openFaceEmbedder();
    work = mkdtempSync(join(tmpdir(), "phototype-face-identity-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("puts a face's mirror image and its 128 px original nearer to it than a different face", async () => {
    const a128 = face(A_COLOURS, A_POSE, 128, 1);
    const a = halve(a128, 128);
    const b = face(B_COLOURS, B_POSE, 64, 2);
    const [ea, eaMirror, eb] = await embedder.embed(pack(a, mirrorRgb(a, 64), b), 64);
    const [ea128] = await embedder.embed(a128, 128);
    expect(ea.length).toBe(1024);
    for (const e of [ea, eaMirror, eb, ea128]) expect(e.every(Number.isFinite)).toBe(true);
    // measured 0.017 (mirror), 0.036 (128 px), 0.52 (different); real photos: ~0.06 and ~0.6
    const different = cosineDistance(ea, eb);
    expect(different).toBeGreaterThan(0.3);
    expect(cosineDistance(ea, eaMirror)).toBeLessThan(Math.min(0.15, different / 3));
    expect(cosineDistance(ea, ea128)).toBeLessThan(Math.min(0.15, different / 3));
  });

  it("embeds a raw HWC file the same way, one embedding an image, and refuses a wrong size", async () => {
    const images = pack(face(A_COLOURS, A_POSE, 32, 4), face(B_COLOURS, B_POSE, 32, 5));
    const file = join(work, "two.bin");
    writeFileSync(file, images);
    const fromFile = await embedFile(file, 32, embedder);
    const direct = await embedder.embed(images, 32);
    expect(fromFile).toHaveLength(2);
    fromFile.forEach((e, i) => expect(cosineDistance(e, direct[i])).toBeLessThan(1e-6));
    await expect(embedder.embed(images.subarray(1), 32)).rejects.toThrow(/not a whole number of 32x32 RGB images/);
  });
});
