// Pure modules behind the photo features: decoding and sizing photos, tracing class maps into
// polygons, restyle blending, the face check.
import { describe, expect, it } from "vitest";
import { encode } from "fast-png";
import { labelRegions, rasterizePolygons, ringArea, simplifyRing, traceClassMap, traceOuter } from "../../server/pipeline/contours.ts";
import { contrast, faceClassIds, faceProblem, faceShare, MIN_CONTRAST, MIN_FACE_SHARE } from "../../server/pipeline/face.ts";
import { BadImageError, centreSquare, decodePhoto, ImageTooSmallError, readPhoto, resizeArea, rgbToPlanar } from "../../server/pipeline/photo.ts";
import { argmaxToIds } from "../../server/pipeline/proxy-mask.ts";
import { blendFeatures, regionWeights } from "../../server/pipeline/region.ts";
import { defaultTestPack, faceLayout } from "./helpers.ts";
import { flatRgb, rgbPng, syntheticFace } from "./images.ts";

describe("photo decoding and sizing", () => {
  it("reads RGB, RGBA (over white), grey and 16-bit PNGs", () => {
    const rgb = decodePhoto(encode({ width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60]), channels: 3, depth: 8 }));
    expect(Array.from(rgb.rgb)).toEqual([10, 20, 30, 40, 50, 60]);
    const rgba = decodePhoto(encode({ width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 0, 0, 0, 0]), channels: 4, depth: 8 }));
    expect(Array.from(rgba.rgb)).toEqual([0, 0, 0, 255, 255, 255]);
    const grey = decodePhoto(encode({ width: 1, height: 1, data: Uint8Array.from([77]), channels: 1, depth: 8 }));
    expect(Array.from(grey.rgb)).toEqual([77, 77, 77]);
    const deep = decodePhoto(encode({ width: 1, height: 1, data: Uint16Array.from([65535, 256, 0]), channels: 3, depth: 16 }));
    expect(Array.from(deep.rgb)).toEqual([255, 1, 0]);
  });

  it("refuses JPEGs and broken PNGs with a sentence", () => {
    expect(() => decodePhoto(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toThrow(/JPEG; send it as PNG/);
    expect(() => decodePhoto(Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0]))).toThrow(BadImageError);
    expect(() => decodePhoto(new Uint8Array(0))).toThrow(BadImageError);
  });

  it("crops the centre square and area-averages it down", () => {
    // 4x2: the centre square is columns 1-2.
    const img = { width: 4, height: 2, rgb: Uint8Array.from([0, 0, 0, 10, 10, 10, 20, 20, 20, 0, 0, 0, 0, 0, 0, 30, 30, 30, 40, 40, 40, 0, 0, 0]) };
    const sq = centreSquare(img);
    expect([sq.width, sq.height]).toEqual([2, 2]);
    expect(Array.from(sq.rgb.filter((_, i) => i % 3 === 0))).toEqual([10, 20, 30, 40]);
    expect(Array.from(resizeArea(sq, 1, 1).rgb)).toEqual([25, 25, 25]);
    // 3 -> 2: the middle source pixel is split half and half.
    const row = { width: 3, height: 1, rgb: Uint8Array.from([0, 0, 0, 90, 90, 90, 180, 180, 180]) };
    expect(Array.from(resizeArea({ ...row, height: 1 }, 2, 1).rgb.filter((_, i) => i % 3 === 0))).toEqual([30, 150]);
    expect(() => resizeArea(row, 4, 1)).toThrow(RangeError);
  });

  it("refuses a photo smaller than the pack's resolution and sizes the rest", () => {
    expect(() => readPhoto(rgbPng(flatRgb(20, 40, 9), 20, 40), 32)).toThrow(ImageTooSmallError);
    expect(() => readPhoto(rgbPng(flatRgb(20, 40, 9), 20, 40), 32)).toThrow(/20 × 40 px; this pack needs at least 32 × 32/);
    const ok = readPhoto(rgbPng(flatRgb(100, 64, 9), 100, 64), 32);
    expect([ok.width, ok.height, ok.rgb[0]]).toEqual([32, 32, 9]);
    const planar = rgbToPlanar({ width: 1, height: 1, rgb: Uint8Array.from([0, 255, 127]) });
    expect(planar[0]).toBe(-1);
    expect(planar[1]).toBe(1);
    expect(planar[2]).toBeCloseTo(127 / 127.5 - 1, 6);
  });
});

describe("class map -> polygons", () => {
  const map = (rows: string[]) => Uint8Array.from(rows.join(""), (c) => (c === "." ? 0 : Number(c)));

  it("traces a region's outline along pixel edges, clockwise, corners only", () => {
    const m = map(["....", ".11.", ".11.", "...."]);
    const { labels } = labelRegions(m, 4, 4);
    expect(traceOuter(labels, 4, 4, labels[5], 1, 1)).toEqual([3, 1, 3, 3, 1, 3, 1, 1]);
    expect(ringArea([3, 1, 3, 3, 1, 3, 1, 1])).toBe(4);
  });

  it("keeps diagonal neighbours apart (4-connectivity) and traces L shapes and pinches", () => {
    const m = map(["1.", ".1"]);
    const { count } = labelRegions(m, 2, 2);
    expect(count).toBe(4);
    const L = map(["1..", "1..", "111"]);
    const traced = traceClassMap(L, 3, 3, { skip: [0], epsilon: 0 });
    expect(traced.polygons).toHaveLength(1);
    expect(traced.polygons[0].area).toBe(5);
    expect(rasterizePolygons(traced.polygons, 3, 3, 0)).toEqual(L);
  });

  it("drops holes but orders polygons so painting them rebuilds the map", () => {
    // A ring of 1 around a 2, inside a background of 0.
    const m = map(["......", ".1111.", ".1221.", ".1221.", ".1111.", "......"]);
    const { polygons } = traceClassMap(m, 6, 6, { skip: [0], epsilon: 0 });
    expect(polygons.map((p) => [p.classId, p.area])).toEqual([
      [1, 16],
      [2, 4],
    ]);
    expect(rasterizePolygons(polygons, 6, 6, 0)).toEqual(m);
  });

  it("rebuilds a face layout closely after simplification, with few corners", () => {
    const { classes } = defaultTestPack().manifest;
    const R = 64;
    const layout = faceLayout(classes, R);
    const bg = classes.find((c) => c.name === "background")!.id;
    const exact = traceClassMap(layout, R, R, { skip: [bg], epsilon: 0, minPixels: 1 });
    expect(rasterizePolygons(exact.polygons, R, R, bg)).toEqual(layout);
    const simple = traceClassMap(layout, R, R, { skip: [bg] });
    const redrawn = rasterizePolygons(simple.polygons, R, R, bg);
    const same = redrawn.reduce((a, v, i) => a + (v === layout[i] ? 1 : 0), 0);
    expect(same / layout.length).toBeGreaterThan(0.95);
    const corners = (ps: { points: number[] }[]) => ps.reduce((a, p) => a + p.points.length / 2, 0);
    expect(corners(simple.polygons)).toBeLessThan(corners(exact.polygons) / 2);
    expect(new Set(simple.polygons.map((p) => p.classId)).has(bg)).toBe(false);
  });

  it("drops specks below minPixels and caps the count", () => {
    const m = map(["1.2.", "....", "3333", "...."]);
    const r = traceClassMap(m, 4, 4, { skip: [0], minPixels: 2 });
    expect(r.polygons.map((p) => p.classId)).toEqual([3]);
    expect(r.dropped).toBe(2);
    expect(traceClassMap(m, 4, 4, { skip: [0], minPixels: 1, maxPolygons: 2 }).dropped).toBe(1);
  });

  it("simplifies a staircase into its diagonal, never below a triangle", () => {
    const stairs = [0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 3, 2, 3, 3, 0, 3];
    const s = simplifyRing(stairs, 0.75);
    expect(s.length / 2).toBeLessThan(stairs.length / 2);
    expect(s.length / 2).toBeGreaterThanOrEqual(3);
  });
});

describe("restyle region", () => {
  it("weights feature cells by the share of their pixels in the classes", () => {
    // 4x4 map onto a 2x2 grid: the top-left cell is all class 5, the top-right half.
    const m = Uint8Array.from([5, 5, 5, 0, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(regionWeights(m, 4, new Set([5]), 2, 2))).toEqual([1, 0.5, 0, 0]);
    expect(() => regionWeights(m, 3, new Set([5]), 2, 2)).toThrow(RangeError);
  });

  it("blends per cell for every channel and item, leaving weight-0 cells untouched", () => {
    const main = Float32Array.from([1, 1, 2, 2, /* item 2 */ 3, 3, 4, 4]); // n=2, C=2, plane=2
    const other = Float32Array.from([9, 9, 9, 9, 9, 9, 9, 9]);
    expect(Array.from(blendFeatures(main, other, Float32Array.from([0, 0.5]), 2, 2, 2))).toEqual([1, 5, 2, 5.5, 3, 6, 4, 6.5]);
    expect(Array.from(blendFeatures(main, other, Float32Array.from([0, 0, 1, 1]), 2, 2, 2))).toEqual([1, 1, 2, 2, 9, 9, 9, 9]);
    expect(() => blendFeatures(main, other, new Float32Array(3), 2, 2, 2)).toThrow(RangeError);
  });

  it("takes the parser's argmax per item as class ids", () => {
    // n=2, k=2, plane=2
    const logits = Float32Array.from([0, 5, 1, 2, /* item 2 */ 3, 0, 1, 1]);
    expect(Array.from(argmaxToIds(logits, 2, 2, 0))).toEqual([1, 0]);
    expect(Array.from(argmaxToIds(logits, 2, 2, 1))).toEqual([0, 1]);
  });
});

describe("face check", () => {
  const { classes } = defaultTestPack().manifest;
  const ids = faceClassIds(classes);
  const skin = classes.find((c) => c.name === "skin")!.id;
  const bg = classes.find((c) => c.name === "background")!.id;
  const R = 32;
  const photo = { width: R, height: R, rgb: syntheticFace(classes, faceLayout(classes, R), R, 1) };

  it("finds face parts by name", () => {
    expect(ids.has(skin)).toBe(true);
    expect(ids.has(bg)).toBe(false);
  });

  it("refuses a flat picture whatever the parser says, and too little skin", () => {
    const flat = { width: R, height: R, rgb: flatRgb(R, R, 128) };
    expect(contrast(flat)).toBeCloseTo(0, 4);
    const allSkin = new Uint8Array(R * R).fill(skin);
    expect(faceProblem(flat, allSkin, ids)).toMatch(/flat colour/);
    expect(contrast(photo)).toBeGreaterThan(MIN_CONTRAST);
    const little = new Uint8Array(R * R).fill(bg);
    little.fill(skin, 0, Math.floor(R * R * MIN_FACE_SHARE) - 1);
    expect(faceShare(little, ids)).toBeLessThan(MIN_FACE_SHARE);
    expect(faceProblem(photo, little, ids)).toMatch(new RegExp(`only ${Math.round(MIN_FACE_SHARE * 100)} % of the picture looks like skin`));
    expect(faceProblem(photo, faceLayout(classes, R), ids)).toBeNull();
    // Without a parser, contrast decides.
    expect(faceProblem(photo, null, ids)).toBeNull();
  });
});
