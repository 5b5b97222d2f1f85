// The first look at an uploaded image: its format and declared size, read from the header only
// (image-size walks PNG's IHDR and JPEG's markers; no pixel is decoded). Anything over the pixel
// budget is refused here, before a decoder could allocate what the header asks for.
import { disableTypes, imageSize, types } from "image-size";
import { BadImageError, ImageTooLargeError } from "./image-errors.ts";

// Only the formats we recognise are parsed at all.
disableTypes(types.filter((t) => t !== "png" && t !== "jpg"));

/**
 * Largest image we decode: 4096 x 4096 = 16.8 megapixels. The largest pack works at 256 px and the
 * plugin sends photos of at most 512 px, so this leaves room for any design export while a decoded
 * image stays under ~200 MB (16-bit RGBA) and ~1 s to decode on one core.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/**
 * Most bytes a PNG may unpack to: 4096 x 4096 8-bit RGBA. A 16-bit RGBA image of the same size is
 * twice that and takes over a second to unfilter on one core (measured: 1.2 s, against 0.6 s for
 * 8-bit RGBA), while 16 bits add nothing to a mask or a 128 px photo.
 */
export const MAX_DECODED_BYTES = 4096 * 4096 * 4;

export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
  /** PNG only: bytes a pixel once decoded (channels x bit depth / 8). */
  bytesPerPixel?: number;
  /** PNG only: e.g. "16-bit RGBA", for sentences. */
  layout?: string;
}

const PNG_LAYOUTS: Record<number, [string, number]> = { 0: ["greyscale", 1], 2: ["RGB", 3], 3: ["indexed-colour", 1], 4: ["greyscale with alpha", 2], 6: ["RGBA", 4] };

/** Channels and depth from a PNG's IHDR (which image-size has read and checked is there). */
function pngLayout(bytes: Uint8Array): Pick<ImageHeader, "bytesPerPixel" | "layout"> {
  const depth = bytes[24], colour = bytes[25];
  const [name, channels] = PNG_LAYOUTS[colour] ?? ["unknown", 4];
  return { bytesPerPixel: (channels * Math.max(8, depth)) / 8, layout: `${depth}-bit ${name}` };
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const JPEG_SOI = [0xff, 0xd8, 0xff];
const GIF = [0x47, 0x49, 0x46];
const startsWith = (bytes: Uint8Array, sig: number[]) => sig.every((b, i) => bytes[i] === b);

/** What a non-PNG, non-JPEG upload is, by its first bytes, for a sentence: "a GIF", or null. */
export function otherImageKind(bytes: Uint8Array): string | null {
  if (startsWith(bytes, GIF)) return "a GIF";
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && String.fromCharCode(...bytes.subarray(8, 12)) === "WEBP") return "a WebP image";
  if (startsWith(bytes, [0x42, 0x4d])) return "a BMP image";
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "an SVG";
  if (head.startsWith("<")) return "XML or HTML text";
  return null;
}

/** "png" or "jpeg" by the file's signature, else null (the bytes are something else). */
export function imageFormat(bytes: Uint8Array): ImageHeader["format"] | null {
  return startsWith(bytes, PNG_SIGNATURE) ? "png" : startsWith(bytes, JPEG_SOI) ? "jpeg" : null;
}

/** Format and declared size; throws BadImageError for anything that is not a PNG or JPEG header. */
export function readImageHeader(bytes: Uint8Array, what = "The image"): ImageHeader {
  const format = imageFormat(bytes);
  if (!format) throw new BadImageError(`${what} is ${otherImageKind(bytes) ?? "not a PNG"}; send it as PNG (the plugin exports PNG).`);
  let size;
  try {
    size = imageSize(bytes);
  } catch (e) {
    // Not decoded anyway: a JPEG is told to come as PNG whether or not its header reads.
    if (format === "jpeg") throw new BadImageError(`${what} is a JPEG; send it as PNG (the plugin exports PNG).`);
    throw new BadImageError(`${what} is not a readable PNG (${(e as Error).message}).`);
  }
  const width = size.width ?? 0;
  const height = size.height ?? 0;
  if (width < 1 || height < 1) throw new BadImageError(`${what} has no pixels.`);
  return { format, width, height, ...(format === "png" ? pngLayout(bytes) : {}) };
}

/** The header, after refusing a size over the budget with a sentence that says why. */
export function checkImageBudget(bytes: Uint8Array, what = "The image", budget = MAX_IMAGE_PIXELS): ImageHeader {
  const header = readImageHeader(bytes, what);
  if (header.width * header.height > budget) {
    const side = Math.floor(Math.sqrt(budget));
    throw new ImageTooLargeError(
      `${what} declares ${header.width} × ${header.height} pixels; the server reads at most ${(budget / 1e6).toFixed(1)} megapixels ` +
        `(${side} × ${side}) so that one image cannot take all its memory. Export it smaller.`,
    );
  }
  const decoded = header.width * header.height * (header.bytesPerPixel ?? 0);
  if (decoded > MAX_DECODED_BYTES) {
    throw new ImageTooLargeError(
      `${what} is ${header.width} × ${header.height} ${header.layout}, ${Math.round(decoded / 2 ** 20)} MiB once decoded; the server decodes at most ` +
        `${MAX_DECODED_BYTES / 2 ** 20} MiB (4096 × 4096 8-bit RGBA). Export it as an 8-bit PNG, or smaller.`,
    );
  }
  return header;
}
