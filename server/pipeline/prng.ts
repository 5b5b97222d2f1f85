// Seeded standard-normal latents: the same seed gives the same z on every run and machine.
//
// The algorithm, written out so another runtime (the Python exporter, a test) can reproduce it:
//   1. State: four 32-bit words from the seed s (uint32) by SplitMix32-style mixing:
//        x = s; for each word: x = (x + 0x9E3779B9) mod 2^32; word = fmix32(x)
//      where fmix32 is MurmurHash3's finaliser (xor-shift 16, * 0x85EBCA6B, xor-shift 13,
//      * 0xC2B2AE35, xor-shift 16). fmix32 is a bijection, so at most one word can be zero.
//   2. Uniform 32-bit integers from xoshiro128** (Blackman & Vigna 2018).
//   3. Uniforms in the open interval (0, 1): u = (x + 0.5) / 2^32, never 0 or 1.
//   4. Normals by Box-Muller, two per pair (u1, u2): r = sqrt(-2 ln u1), t = 2 pi u2,
//      emitted as r cos t, then r sin t; an odd count drops the last sine.
//   5. Each value is rounded to float32.
// Variation i of a request with seed s uses seed (s + i) mod 2^32.

const GOLDEN = 0x9e3779b9;

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Step 1: the four state words for a uint32 seed. */
export function seedState(seed: number): Uint32Array {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a uint32, got ${seed}`);
  let x = seed >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + GOLDEN) >>> 0;
    s[i] = fmix32(x);
  }
  return s;
}

/** Step 2: xoshiro128** from a given state (copied); returns a function yielding uint32s. */
export function xoshiro128ssFromState(state: ArrayLike<number>): () => number {
  const s = Uint32Array.from(state);
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

export function xoshiro128ss(seed: number): () => number {
  return xoshiro128ssFromState(seedState(seed));
}

const TWO_POW_32 = 4294967296;

/** `count` standard-normal float32 values for one seed. */
export function normalsForSeed(seed: number, count: number): Float32Array {
  const next = xoshiro128ss(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = (next() + 0.5) / TWO_POW_32;
    const u2 = (next() + 0.5) / TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const t = 2 * Math.PI * u2;
    out[i] = r * Math.cos(t);
    if (i + 1 < count) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Seeds of a request's variations: seed, seed+1, ... wrapping at 2^32. */
export function variationSeeds(seed: number, variations: number): number[] {
  return Array.from({ length: variations }, (_, i) => (seed + i) % TWO_POW_32);
}

/** Row-major [seeds.length, zdim] latent batch. */
export function latentBatch(seeds: readonly number[], zdim: number): Float32Array {
  const z = new Float32Array(seeds.length * zdim);
  seeds.forEach((s, i) => z.set(normalsForSeed(s, zdim), i * zdim));
  return z;
}
