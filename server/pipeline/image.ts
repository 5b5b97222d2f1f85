// Generator output to pixels: [n, 3, h, w] floats in [-1, 1] -> RGBA bytes -> PNG.
// PNGs are written with Node's native zlib: fast-png's JavaScript deflate took ~12 ms an image and
// ~60 ms for an 8-image strip on the server's thread, enough to hold /health past 250 ms.
import { decode } from "fast-png";
import { crc32, deflateSync, inflateSync } from "node:zlib";

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

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit RGBA PNG: rows unfiltered (filter 0), one IDAT, native deflate. */
export function encodeRgbaPng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height); // each row: filter byte 0, then the row
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, adaptive filtering, no interlace
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 6 })), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/**
 * RGBA pixels of a PNG that encodeRgbaPng wrote (native inflate, rows copied out); any other PNG
 * goes through fast-png.
 */
export function rgbaOfPng(png: Uint8Array, width: number, height: number): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const idatAt = 8 + 25; // after the signature and IHDR
  const own = png.length > idatAt + 8 && String.fromCharCode(...png.subarray(idatAt + 4, idatAt + 8)) === "IDAT" && png[24] === 8 && png[25] === 6 && png[28] === 0;
  if (own) {
    const raw = inflateSync(png.subarray(idatAt + 8, idatAt + 8 + view.getUint32(idatAt)));
    const stride = width * 4;
    if (raw.length === (stride + 1) * height && Array.from({ length: height }, (_, y) => raw[y * (stride + 1)]).every((f) => f === 0)) {
      const out = new Uint8Array(stride * height);
      for (let y = 0; y < height; y++) out.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
      return out;
    }
  }
  return decode(png).data as Uint8Array;
}
