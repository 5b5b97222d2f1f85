// Why an uploaded image cannot be used, in a sentence for a person; `code` is the protocol's.

/** Not a usable image (not a PNG, unreadable, or not a mask). */
export class BadImageError extends Error {
  readonly code = "bad_image";
}

/** The header declares more pixels than the server decodes (image-header.ts). */
export class ImageTooLargeError extends Error {
  readonly code = "image_too_large";
}

/** The photo is smaller than the pack's resolution: upscaling would invent the detail the networks read. */
export class ImageTooSmallError extends Error {
  readonly code = "image_too_small";
}

export type ImageError = BadImageError | ImageTooLargeError | ImageTooSmallError;

export function isImageError(e: unknown): e is ImageError {
  return e instanceof BadImageError || e instanceof ImageTooLargeError || e instanceof ImageTooSmallError;
}
