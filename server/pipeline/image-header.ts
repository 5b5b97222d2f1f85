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

export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const JPEG_SOI = [0xff, 0xd8, 0xff];
const GIF = [0x47, 0x49, 0x46];
const startsWith = (bytes: Uint8Array, sig: number[]) => sig.every((b, i) => bytes[i] === b);

/** "png" or "jpeg" by the file's signature, else null (the bytes are something else). */
export function imageFormat(bytes: Uint8Array): ImageHeader["format"] | null {
  return startsWith(bytes, PNG_SIGNATURE) ? "png" : startsWith(bytes, JPEG_SOI) ? "jpeg" : null;
}

/** Format and declared size; throws BadImageError for anything that is not a PNG or JPEG header. */
export function readImageHeader(bytes: Uint8Array, what = "The image"): ImageHeader {
  const format = imageFormat(bytes);
  if (!format) throw new BadImageError(`${what} is ${startsWith(bytes, GIF) ? "a GIF" : "not a PNG"}; send it as PNG (the plugin exports PNG).`);
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
  return { format, width, height };
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
  return header;
}
