// Generator output to pixels: [n, 3, h, w] floats in [-1, 1] -> RGBA bytes -> PNG.
import { encode } from "fast-png";

/** Batch item `index` of a planar [n, 3, h, w] image as interleaved RGBA (alpha 255). */
export function imageToRgba(image: Float32Array, n: number, h: number, w: number, index: number): Uint8Array {
  const plane = h * w;
  if (image.length !== n * 3 * plane) throw new RangeError(`image holds ${image.length} values, not ${n}x3x${h}x${w}`);
  if (index < 0 || index >= n) throw new RangeError(`index ${index} outside batch of ${n}`);
  const base = index * 3 * plane;
  const out = new Uint8Array(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round((image[base + c * plane + p] + 1) * 127.5);
      out[p * 4 + c] = v > 255 ? 255 : v >= 0 ? v : 0; // NaN -> 0
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

export function encodeRgbaPng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}
