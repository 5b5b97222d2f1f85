// Synthetic pictures for tests and the feature grids: photo-like RGB images made from a class
// layout (palette colours, softened, with seeded noise), flat images, PNG helpers.
import { encode } from "fast-png";
import type { PackClass } from "../../server/pack/schema.ts";
import { xoshiro128ss } from "../../server/pipeline/prng.ts";
import { paletteImage } from "./helpers.ts";

/** Nearest-neighbour upscale of a class mask (one byte a pixel). */
export function upscaleMask(mask: Uint8Array, size: number, factor: number): Uint8Array {
  const out = new Uint8Array(size * factor * size * factor);
  const W = size * factor;
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) out[y * W + x] = mask[Math.floor(y / factor) * size + Math.floor(x / factor)];
  return out;
}

/** RGBA -> RGB. */
export function rgbOf(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) out.set(rgba.subarray(p, p + 3), q);
  return out;
}

/** A box blur of radius r on RGB, then seeded noise of +-amplitude: a layout that looks a little like a photo. */
export function photoLike(rgb: Uint8Array, width: number, height: number, radius: number, amplitude: number, seed: number): Uint8Array {
  const next = xoshiro128ss(seed);
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0, n = 0;
        for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
          for (let xx = Math.max(0, x - radius); xx <= Math.min(width - 1, x + radius); xx++) {
            sum += rgb[(yy * width + xx) * 3 + c];
            n++;
          }
        }
        const noise = amplitude ? ((next() / 2 ** 32) * 2 - 1) * amplitude : 0;
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(sum / n + noise)));
      }
    }
  }
  return out;
}

/** A face layout in palette colours, softened and noised, `size` px square, as RGB. */
export function syntheticFace(classes: readonly PackClass[], mask: Uint8Array, size: number, seed: number, radius = 1, amplitude = 12): Uint8Array {
  return photoLike(rgbOf(paletteImage(classes, mask)), size, size, radius, amplitude, seed);
}

export function flatRgb(width: number, height: number, value: number): Uint8Array {
  return new Uint8Array(width * height * 3).fill(value);
}

export function rgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}
