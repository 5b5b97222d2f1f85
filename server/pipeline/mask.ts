// Condition masks: class-id bytes (one a pixel, row-major) and the ways to get them from images.
import { convertIndexedToRgb } from "fast-png";
import type { PackClass } from "../pack/schema.ts";
import { BadImageError } from "./image-errors.ts";
import { imageFormat } from "./image-header.ts";
import { decodePngSafely } from "./safe-png.ts";

export { BadImageError };

export interface Palette {
  ids: Uint8Array;
  rgb: Uint8Array; // 3 bytes a class, in the pack's class order
  /** Class painted where a palette image is transparent: "background" if the pack has one. */
  transparentId: number;
}

export function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function paletteOf(classes: readonly PackClass[]): Palette {
  const ids = Uint8Array.from(classes.map((c) => c.id));
  const rgb = new Uint8Array(classes.length * 3);
  classes.forEach((c, i) => rgb.set(hexToRgb(c.color), i * 3));
  const bg = classes.find((c) => c.name === "background") ?? classes[0];
  return { ids, rgb, transparentId: bg.id };
}

/** 256 flags: which byte values are class ids of the pack. */
export function validClassIds(classes: readonly PackClass[]): Uint8Array {
  const ok = new Uint8Array(256);
  for (const c of classes) ok[c.id] = 1;
  return ok;
}

/** Index of the first byte that is not a class id, or -1. */
export function firstInvalidClassId(mask: Uint8Array, valid: Uint8Array): number {
  for (let i = 0; i < mask.length; i++) if (!valid[mask[i]]) return i;
  return -1;
}

/**
 * Each pixel of an RGB(A) image becomes the id of the nearest palette colour (squared RGB
 * distance; a tie goes to the class listed first). Pixels with alpha < 128 become the
 * palette's transparent class, since design tools export unpainted areas as transparent.
 */
export function snapToPalette(pixels: ArrayLike<number>, channels: 3 | 4, palette: Palette): Uint8Array {
  const count = Math.floor(pixels.length / channels);
  const out = new Uint8Array(count);
  const cache = new Map<number, number>(); // flat shapes repeat few colours
  const k = palette.ids.length;
  for (let p = 0; p < count; p++) {
    const o = p * channels;
    if (channels === 4 && pixels[o + 3] < 128) {
      out[p] = palette.transparentId;
      continue;
    }
    const r = pixels[o], g = pixels[o + 1], b = pixels[o + 2];
    const key = (r << 16) | (g << 8) | b;
    let id = cache.get(key);
    if (id === undefined) {
      let best = Infinity;
      id = palette.ids[0];
      for (let c = 0; c < k; c++) {
        const dr = r - palette.rgb[c * 3], dg = g - palette.rgb[c * 3 + 1], db = b - palette.rgb[c * 3 + 2];
        const d = dr * dr + dg * dg + db * db;
        if (d < best) {
          best = d;
          id = palette.ids[c];
        }
      }
      cache.set(key, id);
    }
    out[p] = id;
  }
  return out;
}

/** Nearest-neighbour resize of one-byte-a-pixel data (class ids must not be blended). */
export function resizeNearest(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      out[y * outW + x] = src[sy * width + sx];
    }
  }
  return out;
}

export interface MaskFromImage {
  mask: Uint8Array;
  /** How the pixels were read: class ids straight from an 8-bit greyscale PNG, or snapped colours. */
  source: "class-ids" | "palette";
  /** Set when the image was resized to the pack's resolution, for the person to see. */
  note?: string;
  /** Set when a colour image looks like a photo, not shapes in the palette's colours. */
  warning?: string;
}

/** Farther than this (squared RGB distance) from every palette colour, a pixel is no palette colour. */
const OFF_PALETTE_DISTANCE2 = 48 * 48;

/**
 * Share of opaque pixels far from every palette colour. Flat shapes stay near their colours (only
 * anti-aliased edges stray); a photo strays almost everywhere.
 */
export function offPaletteShare(pixels: ArrayLike<number>, channels: 3 | 4, palette: Palette): number {
  const count = Math.floor(pixels.length / channels);
  const k = palette.ids.length;
  let opaque = 0, off = 0;
  for (let p = 0; p < count; p++) {
    const o = p * channels;
    if (channels === 4 && pixels[o + 3] < 128) continue;
    opaque++;
    let best = Infinity;
    for (let c = 0; c < k && best > OFF_PALETTE_DISTANCE2; c++) {
      const dr = pixels[o] - palette.rgb[c * 3], dg = pixels[o + 1] - palette.rgb[c * 3 + 1], db = pixels[o + 2] - palette.rgb[c * 3 + 2];
      best = Math.min(best, dr * dr + dg * dg + db * db);
    }
    if (best > OFF_PALETTE_DISTANCE2) off++;
  }
  return opaque ? off / opaque : 0;
}

function photoWarning(share: number): string | undefined {
  if (share < 0.5) return undefined;
  return (
    `${Math.round(share * 100)}% of this image's pixels are far from every colour of the pack's palette: it looks like a photo, not a mask. ` +
    "Each pixel was given the nearest class; to use a photo, ask for its layout (edges or exemplar) instead."
  );
}

/** The largest centred square of one-byte-a-pixel data (the rule the plugin uses for frames). */
export function centreSquareBytes(src: Uint8Array, width: number, height: number): { data: Uint8Array; side: number } {
  const side = Math.min(width, height);
  if (width === height) return { data: src, side };
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((height - side) / 2);
  const out = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) out.set(src.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + side), y * side);
  return { data: out, side };
}

/** "0 to 18" for contiguous ids, else the list. */
export function describeClassIds(classes: readonly PackClass[]): string {
  const ids = classes.map((c) => c.id).sort((a, b) => a - b);
  return ids.every((v, i) => v === ids[0] + i) ? `${ids[0]} to ${ids[ids.length - 1]}` : ids.join(", ");
}

/**
 * A greyscale value that is no class id: most often a coloured design saved in greyscale, where
 * every colour became some grey. Says so, and how to export in colour.
 */
function greyscaleProblem(value: number, x: number, y: number, classes: readonly PackClass[]): string {
  return (
    `This PNG is greyscale, and its value ${value} at pixel (${x}, ${y}) is not a class id of this pack (ids ${describeClassIds(classes)}). ` +
    "If it is a coloured design, its colours were lost when it was saved in greyscale: export it again as a colour PNG " +
    "(RGB or RGBA; Figma's PNG export keeps colour, other tools have a greyscale or colour-mode option to turn off). " +
    "A greyscale mask must hold class ids as grey values."
  );
}

/**
 * A greyscale PNG must be 8-bit to hold class ids: any other depth is refused by its header
 * (IHDR's bit depth and colour type, bytes 24 and 25), before a large one is decoded for nothing
 * (a 4096 x 4096 16-bit one took a second of the decode worker).
 */
function refuseGreyscaleNot8Bit(bytes: Uint8Array): void {
  if (imageFormat(bytes) !== "png" || bytes.length < 26) return;
  const depth = bytes[24], colour = bytes[25];
  if ((colour === 0 || colour === 4) && depth !== 8) throw new BadImageError(`A greyscale class-id PNG must be 8-bit, this one is ${depth}-bit.`);
}

/**
 * A PNG as a class-id mask of size resolution x resolution. An 8-bit greyscale PNG carries
 * class ids directly; any colour PNG (RGB, RGBA, indexed) is snapped to the pack's palette.
 * A non-square image gives its centre square (as the plugin does with frames), resized
 * nearest-neighbour. Throws BadImageError or ImageTooLargeError with a sentence.
 */
export function maskFromPng(bytes: Uint8Array, classes: readonly PackClass[], resolution: number): MaskFromImage {
  refuseGreyscaleNot8Bit(bytes);
  const png = decodePngSafely(bytes, "The mask image");
  const { width, height, channels, depth } = png;
  let ids: Uint8Array;
  let source: MaskFromImage["source"];
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    ids = snapToPalette(rgb, rgb.length === width * height * 4 ? 4 : 3, paletteOf(classes));
    source = "palette";
  } else if (channels === 1 || channels === 2) {
    ids = new Uint8Array(width * height);
    for (let p = 0; p < ids.length; p++) ids[p] = png.data[p * channels];
    source = "class-ids";
    const bad = firstInvalidClassId(ids, validClassIds(classes));
    if (bad >= 0) throw new BadImageError(greyscaleProblem(ids[bad], bad % width, Math.floor(bad / width), classes));
  } else if (channels === 3 || channels === 4) {
    if (depth !== 8 && depth !== 16) throw new BadImageError(`Unsupported PNG bit depth ${depth}.`);
    // Only the pixels the pack-sized mask keeps are read and snapped (nearest neighbour picks
    // them), so a 4096 x 4096 16-bit export costs R x R lookups, not 16.8 million.
    const picked = centreSquareSamples(png.data, width, height, channels, depth, resolution);
    const palette = paletteOf(classes);
    ids = snapToPalette(picked, channels, palette);
    const warning = photoWarning(offPaletteShare(picked, channels, palette));
    return { mask: ids, source: "palette", note: resizeNotes(width, height, resolution), ...(warning ? { warning } : {}) };
  } else {
    throw new BadImageError(`Unsupported PNG layout (${channels} channels).`);
  }
  const square = centreSquareBytes(ids, width, height);
  ids = square.data;
  if (square.side !== resolution) ids = resizeNearest(ids, square.side, square.side, resolution, resolution);
  return { mask: ids, source, note: resizeNotes(width, height, resolution) };
}

/** What was done to fit a width x height image to the pack: centre square, then resize. */
function resizeNotes(width: number, height: number, resolution: number): string | undefined {
  const side = Math.min(width, height);
  const notes: string[] = [];
  if (width !== height) notes.push(`used the centre ${side}x${side} square of the ${width}x${height} mask`);
  if (side !== resolution) notes.push(`resized the mask from ${side}x${side} to ${resolution}x${resolution} (nearest neighbour)`);
  return notes.length ? notes.join("; ") : undefined;
}

/**
 * The pixels of the centre square, resized nearest-neighbour to resolution x resolution, as
 * 8-bit samples (`channels` a pixel; 16-bit samples keep their high byte). The same pixels
 * centreSquareBytes then resizeNearest would pick.
 */
export function centreSquareSamples(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  depth: 8 | 16,
  resolution: number,
): Uint8Array {
  const side = Math.min(width, height);
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((height - side) / 2);
  const shift = depth === 16 ? 8 : 0;
  const out = new Uint8Array(resolution * resolution * channels);
  for (let y = 0; y < resolution; y++) {
    const sy = y0 + Math.min(side - 1, Math.floor(((y + 0.5) * side) / resolution));
    for (let x = 0; x < resolution; x++) {
      const sx = x0 + Math.min(side - 1, Math.floor(((x + 0.5) * side) / resolution));
      const from = (sy * width + sx) * channels;
      const to = (y * resolution + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c] >> shift;
    }
  }
  return out;
}
