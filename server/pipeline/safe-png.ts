// The one way the server decodes an uploaded PNG: header and pixel budget first, then the
// guarded chunk stream, then fast-png. JPEGs are recognised (and measured) but not decoded.
import { decode as decodePng, type DecodedPng } from "fast-png";
import { BadImageError } from "./image-errors.ts";
import { checkImageBudget } from "./image-header.ts";
import { guardPng } from "./png-guard.ts";

/** Throws BadImageError or ImageTooLargeError with a sentence that starts with `what`. */
export function decodePngSafely(bytes: Uint8Array, what = "The image"): DecodedPng {
  const header = checkImageBudget(bytes, what);
  if (header.format === "jpeg") throw new BadImageError(`${what} is a JPEG; send it as PNG (the plugin exports PNG).`);
  try {
    return decodePng(guardPng(bytes));
  } catch (e) {
    if (e instanceof BadImageError) throw new BadImageError(`${what}: ${e.message}`);
    throw new BadImageError(`${what} is not a readable PNG (${(e as Error).message}).`);
  }
}
