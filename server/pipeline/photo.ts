// A user's photo as the networks take it: PNG bytes -> RGB -> centre square -> area-averaged
// down to the pack's resolution -> float [1, 3, R, R] in [-1, 1] (what the encoder and parser
// were trained on: uint8 / 127.5 - 1).
import { convertIndexedToRgb } from "fast-png";
import { BadImageError, ImageTooSmallError } from "./image-errors.ts";
import { decodePngSafely } from "./safe-png.ts";

export { BadImageError, ImageTooSmallError };

export interface RgbImage {
  width: number;
  height: number;
  /** 3 bytes a pixel, row-major. */
  rgb: Uint8Array;
}

/**
 * PNG bytes -> RGB. Transparent pixels are laid on white paper (a cut-out photo's empty area).
 * Throws BadImageError or ImageTooLargeError (over the pixel budget, refused before decoding).
 */
export function decodePhoto(bytes: Uint8Array, what = "The photo"): RgbImage {
  const png = decodePngSafely(bytes, what);
  const { width, height } = png;
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length === width * height * 4 ? 4 : 3;
  }
  const shift = png.depth === 16 ? 8 : 0;
  if (!png.palette && png.depth !== 8 && png.depth !== 16) throw new BadImageError(`PNG bit depth ${png.depth} is not supported; export 8-bit PNG.`);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const o = p * channels;
    let r: number, g: number, b: number, a = 255;
    if (channels <= 2) {
      r = g = b = data[o] >> shift;
      if (channels === 2) a = data[o + 1] >> shift;
    } else {
      r = data[o] >> shift;
      g = data[o + 1] >> shift;
      b = data[o + 2] >> shift;
      if (channels === 4) a = data[o + 3] >> shift;
    }
    if (a < 255) {
      // over white: c * a + 255 * (1 - a)
      r = Math.round((r * a + 255 * (255 - a)) / 255);
      g = Math.round((g * a + 255 * (255 - a)) / 255);
      b = Math.round((b * a + 255 * (255 - a)) / 255);
    }
    rgb[p * 3] = r;
    rgb[p * 3 + 1] = g;
    rgb[p * 3 + 2] = b;
  }
  return { width, height, rgb };
}

/** The largest centred square (the same rule the plugin uses for frames). */
export function centreSquare(img: RgbImage): RgbImage {
  const side = Math.min(img.width, img.height);
  if (img.width === side && img.height === side) return img;
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const rgb = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + side) * 3), y * side * 3);
  return { width: side, height: side, rgb };
}

/** Per output index: the source indices it covers and how much of each (fractions of a pixel). */
function areaWeights(src: number, out: number): { index: Int32Array; weight: Float64Array; start: Int32Array } {
  const scale = src / out;
  const index: number[] = [], weight: number[] = [], start: number[] = [];
  for (let o = 0; o < out; o++) {
    start.push(index.length);
    const a = o * scale, b = (o + 1) * scale;
    for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 1e-9) {
        index.push(s);
        weight.push(w / scale);
      }
    }
  }
  start.push(index.length);
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start: Int32Array.from(start) };
}

/**
 * Area-average resize (what cv2.INTER_AREA does when shrinking): each output pixel is the mean of
 * the source area it covers, partial pixels weighted by the part covered. Never enlarges.
 */
export function resizeArea(img: RgbImage, outW: number, outH: number): RgbImage {
  if (outW > img.width || outH > img.height) throw new RangeError(`area resize only shrinks (${img.width}x${img.height} -> ${outW}x${outH})`);
  if (outW === img.width && outH === img.height) return img;
  const wx = areaWeights(img.width, outW);
  const wy = areaWeights(img.height, outH);
  const rows = new Float64Array(img.height * outW * 3);
  for (let y = 0; y < img.height; y++) {
    for (let ox = 0; ox < outW; ox++) {
      let r = 0, g = 0, b = 0;
      for (let k = wx.start[ox]; k < wx.start[ox + 1]; k++) {
        const o = (y * img.width + wx.index[k]) * 3, w = wx.weight[k];
        r += img.rgb[o] * w;
        g += img.rgb[o + 1] * w;
        b += img.rgb[o + 2] * w;
      }
      const q = (y * outW + ox) * 3;
      rows[q] = r;
      rows[q + 1] = g;
      rows[q + 2] = b;
    }
  }
  const rgb = new Uint8Array(outW * outH * 3);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = wy.start[oy]; k < wy.start[oy + 1]; k++) v += rows[(wy.index[k] * outW + ox) * 3 + c] * wy.weight[k];
        rgb[(oy * outW + ox) * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
  }
  return { width: outW, height: outH, rgb };
}

/** Decoded photo -> its centre square at the pack's resolution. Throws ImageTooSmallError below it. */
export function photoForPack(img: RgbImage, resolution: number): RgbImage {
  const side = Math.min(img.width, img.height);
  if (side < resolution) {
    throw new ImageTooSmallError(
      `The photo is ${img.width} × ${img.height} px; this pack needs at least ${resolution} × ${resolution} (its shorter side is used, centre-cropped to a square).`,
    );
  }
  return resizeArea(centreSquare(img), resolution, resolution);
}

/** PNG bytes -> the pack-sized RGB square; throws BadImageError or ImageTooSmallError with a sentence. */
export function readPhoto(bytes: Uint8Array, resolution: number, what = "The photo"): RgbImage {
  return photoForPack(decodePhoto(bytes, what), resolution);
}

/** RGB -> planar float [3, h, w] in [-1, 1], appended at `offset` of `out` (for batching). */
export function rgbToPlanar(img: RgbImage, out: Float32Array = new Float32Array(3 * img.width * img.height), offset = 0): Float32Array {
  const plane = img.width * img.height;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[offset + c * plane + p] = img.rgb[p * 3 + c] / 127.5 - 1;
  }
  return out;
}
