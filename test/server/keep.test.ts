// Keeping a photo's own features where its layout is unchanged (pipeline/keep.ts): small proxy masks
// whose weights can be counted by hand.
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { agreementWeights, keepAgreeing } from "../../server/pipeline/keep.ts";
import type { ProxyMask } from "../../server/pipeline/proxy-mask.ts";

function mask(n: number, h: number, w: number, ids: number[]): ProxyMask {
  return { n, h, w, data: BigInt64Array.from(ids, BigInt) };
}

describe("agreementWeights", () => {
  it("is the share of each cell's 3x3 neighbourhood (cut at the border) where the proxies agree", () => {
    const source = mask(1, 3, 3, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const target = mask(1, 3, 3, [0, 0, 0, 0, 7, 0, 0, 0, 0]); // only the centre redrawn
    // corners see 4 cells (1 changed), edges 6 (1 changed), the centre 9 (1 changed, itself)
    expect([...agreementWeights(source, target)]).toEqual([3 / 4, 5 / 6, 3 / 4, 5 / 6, 8 / 9, 5 / 6, 3 / 4, 5 / 6, 3 / 4].map(Math.fround));
    expect([...agreementWeights(source, source)]).toEqual(Array(9).fill(1));
  });

  it("gives each target its own weights and shares one source among them", () => {
    const source = mask(1, 1, 2, [1, 2]);
    const targets = mask(2, 1, 2, [1, 2, 3, 3]);
    expect([...agreementWeights(source, targets, 0)]).toEqual([1, 1, 0, 0]);
    expect(() => agreementWeights(mask(2, 1, 2, [1, 2, 1, 2]), mask(3, 1, 2, [1, 2, 1, 2, 1, 2]))).toThrow(RangeError);
    expect(() => agreementWeights(mask(1, 2, 1, [1, 2]), mask(1, 1, 2, [1, 2]))).toThrow(/differ in size/);
  });
});

describe("keepAgreeing", () => {
  const tensor = (values: number[], dims: number[]) => new ort.Tensor("float32", Float32Array.from(values), dims);

  it("returns the photo's features where nothing changed and the rearranged ones where everything did", () => {
    const rearranged = tensor([10, 20, 30, 40], [1, 2, 1, 2]);
    const photo = tensor([1, 2, 3, 4], [1, 2, 1, 2]);
    const same = mask(1, 1, 2, [5, 6]);
    expect([...(keepAgreeing(rearranged, photo, same, same).data as Float32Array)]).toEqual([1, 2, 3, 4]);
    const other = mask(1, 1, 2, [7, 7]);
    expect([...(keepAgreeing(rearranged, photo, same, other).data as Float32Array)]).toEqual([10, 20, 30, 40]);
    // one cell of two changed: each cell's neighbourhood is both cells, half agreeing
    const half = mask(1, 1, 2, [5, 7]);
    expect([...(keepAgreeing(rearranged, photo, same, half).data as Float32Array)]).toEqual([5.5, 11, 16.5, 22]);
  });

  it("shares one photo among several rearranged items", () => {
    const rearranged = tensor([10, 20, 30, 40], [2, 1, 1, 2]);
    const photo = tensor([1, 2], [1, 1, 1, 2]);
    const out = keepAgreeing(rearranged, photo, mask(1, 1, 2, [5, 6]), mask(2, 1, 2, [5, 6, 7, 7]));
    expect([...(out.data as Float32Array)]).toEqual([1, 2, 30, 40]);
    expect(() => keepAgreeing(rearranged, tensor([1, 2, 3, 4, 5, 6], [3, 1, 1, 2]), mask(1, 1, 2, [5, 6]), mask(2, 1, 2, [5, 6, 7, 7]))).toThrow(RangeError);
  });
});
