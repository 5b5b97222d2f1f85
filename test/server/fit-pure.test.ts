// Fit layout's pure parts: the per-image layout mIoU, which candidates are kept, the parser's input.
import { describe, expect, it } from "vitest";
import { bestIndices, layoutMiou, rgbaToPlanar } from "../../server/pipeline/fit.ts";

const u8 = (...v: number[]) => Uint8Array.from(v);

describe("layoutMiou", () => {
  it("is 1 for the same map, and classes in neither map do not dilute it", () => {
    expect(layoutMiou(u8(0, 0, 1, 1), u8(0, 0, 1, 1))).toBe(1);
  });

  it("averages the IoU of each class present in either map", () => {
    // class 0: 1 shared pixel of 2 -> 1/2; class 1: 2 of 3 -> 2/3; mean 7/12
    expect(layoutMiou(u8(0, 0, 1, 1), u8(0, 1, 1, 1))).toBeCloseTo(7 / 12, 12);
    // class 0: 2 shared of 4 covered -> 1/2; class 1 only parsed: 0; class 2 only drawn: 0; mean 1/6
    expect(layoutMiou(u8(0, 0, 0, 1), u8(0, 0, 2, 0))).toBeCloseTo(1 / 6, 12);
  });

  it("is 0 when nothing agrees, and refuses maps of different sizes", () => {
    expect(layoutMiou(u8(2, 2, 2, 2), u8(0, 0, 0, 0))).toBe(0);
    expect(() => layoutMiou(u8(0, 1), u8(0, 1, 1))).toThrow(/differ in size/);
  });
});

describe("bestIndices", () => {
  it("keeps the n highest, best first", () => {
    expect(bestIndices([0.3, 0.9, 0.1, 0.5], 2)).toEqual([1, 3]);
    expect(bestIndices([0.3, 0.9, 0.1, 0.5], 4)).toEqual([1, 3, 0, 2]);
  });

  it("gives a tie to the earlier candidate (the lower seed)", () => {
    expect(bestIndices([0.2, 0.5, 0.5, 0.1], 1)).toEqual([1]);
    expect(bestIndices([0.5, 0.5, 0.5], 2)).toEqual([0, 1]);
  });

  it("refuses to keep more than it has", () => {
    expect(() => bestIndices([0.1], 2)).toThrow(/cannot keep 2 of 1/);
  });
});

describe("rgbaToPlanar", () => {
  it("turns RGBA bytes into planar [-1, 1] channels, alpha dropped", () => {
    // two 1x1 images: white-ish and black-ish
    const t = rgbaToPlanar([u8(255, 0, 51, 9), u8(0, 255, 204, 255)], 1);
    expect(t.dims).toEqual([2, 3, 1, 1]);
    expect([...(t.data as Float32Array)].map((v) => Math.round(v * 100) / 100)).toEqual([1, -1, -0.6, -1, 1, 0.6]);
  });
});
