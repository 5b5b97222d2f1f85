// Does a photo show a face? Two checks, both needed: the picture has something in it (contrast),
// and the face parser finds enough skin and face parts in it.
//
// Why the contrast check: a parser only ever saw faces, so on a blank picture it still answers
// something; faces-64's parser calls a flat grey square 22 % face parts.
import type { PackClass } from "../pack/schema.ts";
import type { RgbImage } from "./photo.ts";

/** Class names that make a face: skin and the parts inside it. Looked up by name in the pack. */
export const FACE_PART_NAMES = ["skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "mouth", "u_lip", "l_lip"] as const;

/**
 * At least this share of the photo's (centre-square) pixels must parse as skin or a face part.
 * Measured with faces-64's parser: its own samples 19-43 % (64 of them), the 100 test/ photos
 * 19-45 %, random noise 2-11 % (8 images). 15 % sits between faces and noise.
 */
export const MIN_FACE_SHARE = 0.15;

/** Grey-level standard deviation (0-255) below which a picture is one flat colour, not a photo. */
export const MIN_CONTRAST = 6;

export function faceClassIds(classes: readonly PackClass[]): Set<number> {
  return new Set(classes.filter((c) => (FACE_PART_NAMES as readonly string[]).includes(c.name)).map((c) => c.id));
}

/** Share of pixels whose class is one of `faceIds`. */
export function faceShare(classMap: Uint8Array, faceIds: ReadonlySet<number>): number {
  let n = 0;
  for (const v of classMap) if (faceIds.has(v)) n++;
  return classMap.length ? n / classMap.length : 0;
}

/** Standard deviation of the photo's luma (Rec. 601 weights), 0-255. */
export function contrast(img: RgbImage): number {
  const n = img.width * img.height;
  let sum = 0, sq = 0;
  for (let p = 0; p < n; p++) {
    const y = 0.299 * img.rgb[p * 3] + 0.587 * img.rgb[p * 3 + 1] + 0.114 * img.rgb[p * 3 + 2];
    sum += y;
    sq += y * y;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

/**
 * Why the photo does not count as a face, in a sentence, or null when it does. A pack whose
 * classes name no face parts cannot be checked by the parser; then only contrast counts.
 */
export function faceProblem(photo: RgbImage, classMap: Uint8Array | null, faceIds: ReadonlySet<number>): string | null {
  const c = contrast(photo);
  if (c < MIN_CONTRAST) return `No face found: the picture is almost one flat colour (contrast ${c.toFixed(1)}, a photo has at least ${MIN_CONTRAST}).`;
  if (!classMap || faceIds.size === 0) return null;
  const share = faceShare(classMap, faceIds);
  if (share < MIN_FACE_SHARE) {
    return `No face found: only ${Math.round(share * 100)} % of the picture looks like skin or face parts (a portrait has at least ${Math.round(MIN_FACE_SHARE * 100)} %). Use a photo where the face fills most of the square.`;
  }
  return null;
}

/**
 * Why a drawn layout (mask or scribble class ids) has no face in it, or null: all one class
 * (background, say), or none of the face parts. The networks still paint something, so this is a
 * warning, not a refusal. A pack without face-part names cannot be checked.
 */
export function drawnFaceProblem(classIds: Uint8Array, faceIds: ReadonlySet<number>): string | null {
  if (faceIds.size === 0 || classIds.length === 0) return null;
  for (const v of classIds) if (faceIds.has(v)) return null;
  const one = classIds.every((v) => v === classIds[0]);
  return one
    ? "No face was drawn: the whole layout is one class (usually background), so the result is a face placed by chance. Draw skin, eyes, nose and mouth shapes in the frame."
    : "No face was drawn: the layout has no skin or face parts (eyes, brows, nose, mouth, lips), so the result is a face placed by chance. Draw a skin shape with its parts.";
}
