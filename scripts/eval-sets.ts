// The image sets `npm run eval` scores, made by the server's own pipeline and stages:
// layouts x seeds (through generate()), unconditional samples (mapping -> g1 -> g2, no mask) and
// rearranger pairs (one seed's features moved into another seed's proxy mask). All HWC RGB bytes.
import * as ort from "onnxruntime-node";
import { decode } from "fast-png";
import { generate } from "../server/pipeline/generate.ts";
import { imageToRgba } from "../server/pipeline/image.ts";
import { variationSeeds } from "../server/pipeline/prng.ts";
import type { PackRuntime } from "../server/pipeline/runtime.ts";
import { latentsFor, mapLatents, proxyOf, rearrange, render, synthesizeFeatures } from "../server/pipeline/stages.ts";

/** RGBA bytes (the server's PNG pixels) -> RGB bytes written at `out[offset..]`. */
function rgbaToRgb(rgba: Uint8Array, out: Uint8Array, offset: number): void {
  for (let p = 0, q = offset; p < rgba.length; p += 4, q += 3) out.set(rgba.subarray(p, p + 3), q);
}

/** [-1, 1] planar float images [n, 3, R, R] -> HWC RGB bytes, rounded as the server's PNGs are. */
export function planarToHwc(data: Float32Array, n: number, R: number): Uint8Array {
  const out = new Uint8Array(n * R * R * 3);
  for (let i = 0; i < n; i++) rgbaToRgb(imageToRgba(data, n, R, R, i), out, i * R * R * 3);
  return out;
}

/** Every layout (R x R class ids, packed) x `seeds` variations from `firstSeed`: [n, seeds, R, R, 3]. */
export async function layoutOutputs(rt: PackRuntime, layouts: Uint8Array, n: number, seeds: number, firstSeed: number,
  onProgress?: (done: number) => void): Promise<Uint8Array> {
  const R = rt.pack.manifest.resolution;
  const out = new Uint8Array(n * seeds * R * R * 3);
  for (let i = 0; i < n; i++) {
    const mask = layouts.slice(i * R * R, (i + 1) * R * R);
    const { images } = await generate(rt, { mask, seed: firstSeed, variations: seeds });
    images.forEach((img, s) => {
      const png = decode(img.png); // the bytes a user gets
      if (png.channels !== 4) throw new Error(`expected RGBA PNGs from the pipeline, got ${png.channels} channels`);
      rgbaToRgb(png.data as Uint8Array, out, (i * seeds + s) * R * R * 3);
    });
    onProgress?.((i + 1) * seeds);
  }
  return out;
}

async function featuresOf(rt: PackRuntime, seeds: number[]) {
  const w = await mapLatents(rt, latentsFor(rt, seeds), rt.pack.manifest.truncation);
  return synthesizeFeatures(rt, w);
}

/** `count` samples straight through g1 -> g2: what the generator makes with no layout asked. */
export async function unconditionalOutputs(rt: PackRuntime, count: number, firstSeed: number, batch = 10): Promise<Uint8Array> {
  const R = rt.pack.manifest.resolution;
  const out = new Uint8Array(count * R * R * 3);
  for (let i = 0; i < count; i += batch) {
    const seeds = variationSeeds(firstSeed + i, Math.min(batch, count - i));
    const { features, style } = await featuresOf(rt, seeds);
    const img = await render(rt, features, style);
    out.set(planarToHwc(img.data as Float32Array, seeds.length, R), i * R * R * 3);
  }
  return out;
}

function item(t: ort.Tensor, i: number): ort.Tensor {
  const [n, ...rest] = t.dims as number[];
  const size = t.data.length / n;
  const data = (t.data as Float32Array | BigInt64Array).slice(i * size, (i + 1) * size);
  return new ort.Tensor(t.type as "float32" | "int64", data as Float32Array, [1, ...rest]);
}

/**
 * `pairs` (source, target) seed pairs; per pair 4 images [pairs, 4, R, R, 3]: the source rearranged into
 * the target's proxy mask, the target itself, the source unmoved, and the target rearranged into its own mask.
 */
export async function rearrangerPairs(rt: PackRuntime, pairs: number, firstSeed: number): Promise<Uint8Array> {
  const R = rt.pack.manifest.resolution;
  const out = new Uint8Array(pairs * 4 * R * R * 3);
  for (let p = 0; p < pairs; p++) {
    const [a, b] = variationSeeds(firstSeed + 2 * p, 2);
    const { features, style } = await featuresOf(rt, [a, b]);
    const proxy = await proxyOf(rt, features);
    const one = (m: typeof proxy, i: number) => ({ n: 1, h: m.h, w: m.w, data: m.data.slice(i * m.h * m.w, (i + 1) * m.h * m.w) });
    const [fa, fb, sa, sb] = [item(features, 0), item(features, 1), item(style, 0), item(style, 1)];
    const moved = await rearrange(rt, fa, one(proxy, 0), one(proxy, 1));
    const self = await rearrange(rt, fb, one(proxy, 1), one(proxy, 1));
    const imgs = [await render(rt, moved, sa), await render(rt, fb, sb), await render(rt, fa, sa), await render(rt, self, sb)];
    imgs.forEach((img, k) => out.set(planarToHwc(img.data as Float32Array, 1, R), (p * 4 + k) * R * R * 3));
  }
  return out;
}
