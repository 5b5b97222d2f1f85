// How a frame of any shape becomes the square the networks see, and where results land.
//
// The rule (stated in the UI and docs/USING.md): a non-square frame is centre-cropped to the
// largest square that fits; shapes outside that square are not seen. The first result covers
// exactly that square, inside the frame; further variations form a row to the right of the
// frame on the page, each the same size, separated by a tenth of their side.
import { type Affine, scaleTranslate } from "./transform.ts";

/** Figma's image limit a side; also the largest frame we accept, so results are never stretched past it. */
export const MAX_FRAME_SIDE = 4096;
/** Smaller than this and the layout cannot hold a face part a pixel wide at any pack resolution. */
export const MIN_FRAME_SIDE = 8;

export interface SquareCrop {
  /** Top-left corner in the frame's own coordinates. */
  x: number;
  y: number;
  side: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Placement {
  x: number;
  y: number;
  size: number;
}

export function centreSquare(width: number, height: number): SquareCrop {
  const side = Math.min(width, height);
  return { x: (width - side) / 2, y: (height - side) / 2, side };
}

/** Frame-local coordinates → the unit square [0, 1]² of the crop (the UI scales it to the pack's resolution). */
export function frameToUnitSquare(crop: SquareCrop): Affine {
  return scaleTranslate(1 / crop.side, -crop.x / crop.side, -crop.y / crop.side);
}

export type FrameSizeProblem = { code: "frame_too_large" | "frame_too_small"; message: string };

export function checkFrameSize(width: number, height: number): FrameSizeProblem | null {
  const w = Math.round(width);
  const h = Math.round(height);
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) {
    return {
      code: "frame_too_large",
      message: `This frame is ${w} × ${h} px. Phototype works with frames up to ${MAX_FRAME_SIDE} px a side; scale the frame down (press K and drag) and try again.`,
    };
  }
  if (width < MIN_FRAME_SIDE || height < MIN_FRAME_SIDE) {
    return {
      code: "frame_too_small",
      message: `This frame is ${w} × ${h} px, too small to hold a face. Make it at least ${MIN_FRAME_SIDE} px a side.`,
    };
  }
  return null;
}

export function gapFor(side: number): number {
  return Math.max(8, Math.round(side / 10));
}

/**
 * Where `count` results go. `inFrame` is in the frame's coordinates (the first result);
 * `onPage` are absolute page coordinates for the rest, to the right of the frame's bounding box.
 */
export function resultPlacements(frameBounds: Box, crop: SquareCrop, count: number): { inFrame: Placement; onPage: Placement[] } {
  const gap = gapFor(crop.side);
  const onPage: Placement[] = [];
  for (let i = 1; i < count; i++) {
    onPage.push({
      x: frameBounds.x + frameBounds.width + gap + (i - 1) * (crop.side + gap),
      y: frameBounds.y + crop.y,
      size: crop.side,
    });
  }
  return { inFrame: { x: crop.x, y: crop.y, size: crop.side }, onPage };
}

/**
 * Where `count` results of a photo action go: a row of squares on the page to the right of the
 * photo's bounding box, each as large as the photo's shorter side.
 */
export function besidePlacements(bounds: Box, count: number): Placement[] {
  const side = Math.max(MIN_FRAME_SIDE, Math.min(bounds.width, bounds.height));
  const gap = gapFor(side);
  return Array.from({ length: count }, (_, i) => ({ x: bounds.x + bounds.width + gap + i * (side + gap), y: bounds.y, size: side }));
}

/** Where the frame made by "Edit this photo" goes: to the right of the photo, a square of its shorter side. */
export function layoutFramePlacement(bounds: Box): Placement {
  return besidePlacements(bounds, 1)[0];
}
