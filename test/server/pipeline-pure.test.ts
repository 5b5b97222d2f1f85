import { describe, expect, it } from "vitest";
import { decode, encode } from "fast-png";
import { argmaxClasses, bytesToInt64, maskAt, tileMask } from "../../server/pipeline/proxy-mask.ts";
import { BadImageError, centreSquareBytes, firstInvalidClassId, maskFromPng, paletteOf, resizeNearest, snapToPalette, validClassIds } from "../../server/pipeline/mask.ts";
import { encodeRgbaPng, imageToRgba } from "../../server/pipeline/image.ts";
import { pipelineContractProblems } from "../../server/pipeline/contract.ts";
import type { PackClass } from "../../server/pack/schema.ts";
import { defaultTestPack } from "./helpers.ts";

const classes: PackClass[] = [
  { id: 0, name: "background", label: "Background", color: "#000000" },
  { id: 1, name: "skin", label: "Skin", color: "#FF0000" },
  { id: 5, name: "hair", label: "Hair", color: "#0000FF" },
];

describe("argmax over classes", () => {
  it("picks the largest logit per pixel and batch item", () => {
    // n=2, k=3, h=1, w=2; layout [n][k][h*w]
    const logits = Float32Array.from([
      /* b0 k0 */ 0, 5, /* k1 */ 1, 2, /* k2 */ -1, 9,
      /* b1 k0 */ 3, 0, /* k1 */ 2, 0, /* k2 */ 1, 0.5,
    ]);
    const m = argmaxClasses(logits, 2, 3, 1, 2);
    expect(Array.from(m.data, Number)).toEqual([1, 2, 0, 2]);
    expect([m.n, m.h, m.w]).toEqual([2, 1, 2]);
  });

  it("breaks ties toward the lower class and never picks NaN", () => {
    const m = argmaxClasses(Float32Array.from([2, Number.NaN, 2, 1]), 1, 2, 1, 2);
    expect(Array.from(m.data, Number)).toEqual([0, 1]);
  });

  it("refuses logits of the wrong size", () => {
    expect(() => argmaxClasses(new Float32Array(5), 1, 2, 1, 2)).toThrow(RangeError);
  });

  it("tiles and slices masks along the batch", () => {
    const one = { n: 1, h: 1, w: 2, data: BigInt64Array.from([3n, 4n]) };
    const three = tileMask(one, 3);
    expect(Array.from(three.data, Number)).toEqual([3, 4, 3, 4, 3, 4]);
    expect(Array.from(maskAt(three, 2).data, Number)).toEqual([3, 4]);
    expect(Array.from(bytesToInt64(Uint8Array.from([0, 255])), Number)).toEqual([0, 255]);
  });
});

describe("palette snapping", () => {
  const palette = paletteOf(classes);
  it("maps exact and near colours to the nearest class", () => {
    const rgb = Uint8Array.from([0, 0, 0, 250, 10, 10, 20, 20, 200, 130, 0, 0]);
    expect(Array.from(snapToPalette(rgb, 3, palette))).toEqual([0, 1, 5, 1]);
  });
  it("gives a tie to the class listed first", () => {
    // (128, 0, 0) is 128 from black and 127 from red; (127, 0, 0) is 127 from black, 128 from red.
    expect(Array.from(snapToPalette(Uint8Array.from([127, 0, 0]), 3, palette))).toEqual([0]);
    const tie = paletteOf([classes[1], { ...classes[2], color: "#00FF00" }]);
    expect(Array.from(snapToPalette(Uint8Array.from([128, 128, 0]), 3, tie))).toEqual([1]);
  });
  it("paints transparent pixels as background", () => {
    const rgba = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 255]);
    expect(Array.from(snapToPalette(rgba, 4, palette))).toEqual([0, 1]);
  });
});

describe("masks from PNGs", () => {
  it("reads an 8-bit greyscale PNG as class ids", () => {
    const ids = Uint8Array.from([0, 1, 5, 0]);
    const png = encode({ width: 2, height: 2, data: ids, channels: 1, depth: 8 });
    const read = maskFromPng(png, classes, 2);
    expect(Array.from(read.mask)).toEqual([0, 1, 5, 0]);
    expect(read.source).toBe("class-ids");
    expect(read.note).toBeUndefined();
  });
  it("refuses greyscale values that are not class ids", () => {
    const png = encode({ width: 2, height: 1, data: Uint8Array.from([0, 7]), channels: 1, depth: 8 });
    expect(() => maskFromPng(png, classes, 2)).toThrow(/value 7/);
  });
  it("snaps a colour PNG and resizes it nearest-neighbour with a note", () => {
    const rgba = new Uint8Array(4 * 4 * 4);
    for (let p = 0; p < 16; p++) rgba.set(p % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], p * 4);
    const read = maskFromPng(encode({ width: 4, height: 4, data: rgba, channels: 4, depth: 8 }), classes, 2);
    expect(Array.from(read.mask)).toEqual([1, 5, 1, 5]);
    expect(read.source).toBe("palette");
    expect(read.note).toMatch(/4x4 to 2x2/);
  });
  it("reads a large colour PNG's pack-sized pixels only, as the full snap, centre square and resize would (8 and 16 bits)", () => {
    const [w, h, R] = [37, 23, 8];
    const palette = paletteOf(classes);
    const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 97 + (i >> 3) * 31) & 255));
    const square = centreSquareBytes(snapToPalette(rgba, 4, palette), w, h);
    const expected = Array.from(resizeNearest(square.data, square.side, square.side, R, R));
    expect(Array.from(maskFromPng(encode({ width: w, height: h, data: rgba, channels: 4, depth: 8 }), classes, R).mask)).toEqual(expected);
    const wide = Uint16Array.from(rgba, (v) => v * 256 + 3); // the high byte is v
    expect(Array.from(maskFromPng(encode({ width: w, height: h, data: wide, channels: 4, depth: 16 }), classes, R).mask)).toEqual(expected);
  });
  it("throws BadImageError for bytes that are not a PNG", () => {
    expect(() => maskFromPng(Uint8Array.from([1, 2, 3]), classes, 2)).toThrow(BadImageError);
  });
  it("resizes class ids without blending", () => {
    expect(Array.from(resizeNearest(Uint8Array.from([1, 2, 3, 4]), 2, 2, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it("finds class ids the pack lacks", () => {
    const valid = validClassIds(classes);
    expect(firstInvalidClassId(Uint8Array.from([0, 1, 5]), valid)).toBe(-1);
    expect(firstInvalidClassId(Uint8Array.from([0, 2, 5]), valid)).toBe(1);
  });
});

describe("image to PNG", () => {
  it("maps [-1, 1] to 0..255, clamps and keeps alpha opaque", () => {
    // n=1, 3 channels, 1x2 pixels
    const img = Float32Array.from([-1, 1, 0, 2, 0.5, Number.NaN]);
    const rgba = imageToRgba(img, 1, 1, 2, 0);
    expect(Array.from(rgba)).toEqual([0, 128, 191, 255, 255, 255, 0, 255]);
    const png = decode(encodeRgbaPng(rgba, 2, 1));
    expect([png.width, png.height, png.channels]).toEqual([2, 1, 4]);
    expect(Array.from(png.data)).toEqual(Array.from(rgba));
  });
});

describe("pipeline contract", () => {
  it("accepts the real pack and names what a broken export gets wrong", () => {
    const m = defaultTestPack().manifest;
    expect(pipelineContractProblems(m)).toEqual([]);
    const broken = structuredClone(m);
    broken.networks.g1.outputs.reverse(); // style first, features second
    broken.networks.g2.outputs[0].shape = ["batch", 3, m.resolution * 2, m.resolution * 2];
    const problems = pipelineContractProblems(broken);
    expect(problems.some((p) => p.startsWith("g1 output 0"))).toBe(true);
    expect(problems.some((p) => p.startsWith("g2 output 0"))).toBe(true);
  });
});
