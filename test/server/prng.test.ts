import { describe, expect, it } from "vitest";
import { latentBatch, normalsForSeed, seedState, variationSeeds, xoshiro128ss, xoshiro128ssFromState } from "../../server/pipeline/prng.ts";

describe("seeded normal PRNG", () => {
  it("is xoshiro128** (reference vector for state 1, 2, 3, 4)", () => {
    // From the reference implementation (Blackman & Vigna), as published with rand_xoshiro.
    const next = xoshiro128ssFromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, next)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it("gives the same numbers for the same seed and different ones for another", () => {
    expect(normalsForSeed(7, 64)).toEqual(normalsForSeed(7, 64));
    expect(normalsForSeed(7, 64)).not.toEqual(normalsForSeed(8, 64));
    expect(Array.from({ length: 8 }, xoshiro128ss(0))).toEqual(Array.from({ length: 8 }, xoshiro128ss(0)));
  });

  it("seeds every state word, never all zero", () => {
    for (const seed of [0, 1, 0xffffffff, 123456789]) expect(Array.from(seedState(seed)).some((w) => w !== 0)).toBe(true);
  });

  it("has mean near 0 and standard deviation near 1", () => {
    const n = 200_000;
    const z = normalsForSeed(42, n);
    let sum = 0;
    let sq = 0;
    for (const v of z) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01); // standard error 0.0022
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it("odd counts are a prefix of the even stream", () => {
    expect(normalsForSeed(3, 5)).toEqual(normalsForSeed(3, 6).subarray(0, 5));
  });

  it("variation i uses (seed + i) mod 2^32", () => {
    expect(variationSeeds(7, 3)).toEqual([7, 8, 9]);
    expect(variationSeeds(0xfffffffe, 3)).toEqual([0xfffffffe, 0xffffffff, 0]);
    const batch = latentBatch([5, 6], 4);
    expect(batch.subarray(4, 8)).toEqual(normalsForSeed(6, 4));
  });

  it("refuses seeds that are not uint32", () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) expect(() => seedState(bad)).toThrow(RangeError);
  });
});
