// Shapes → an exact class-id mask at the pack's resolution, drawn with canvas Path2D.
//
// Why not Figma's exportAsync: it antialiases edges into colours that are no class, and it can
// only show the user's colours, not classes found by layer name. Here each run of same-class
// shapes (in paint order) is filled white on a clear scratch canvas; a pixel whose coverage
// reaches half (alpha ≥ 128) takes that class, overwriting what earlier runs wrote. Edges are
// thus decided per pixel, classes never blend, and later shapes cover earlier ones as in Figma.
import type { ShapePath } from "../../plugin/messages.ts";
import { scaleTranslate, multiply, toCanvasArgs, type Affine } from "../../plugin/lib/transform.ts";
import { scratchContext } from "./canvas.ts";

export interface MaskShape {
  classId: number;
  paths: readonly ShapePath[];
  /** Shape-local coordinates → unit square. */
  toUnit: Affine;
}

/** Value of a pixel no shape covered, when there is no background class to give it. */
export const UNCOVERED = 255;
const COVERAGE_THRESHOLD = 128;

export interface RasterizedMask {
  mask: Uint8Array;
  /** Pixels no shape covered (they got the background class, when there is one). */
  uncovered: number;
}

export function rasterizeMask(shapes: readonly MaskShape[], resolution: number, backgroundId: number | null): RasterizedMask {
  const size = resolution;
  const mask = new Uint8Array(size * size).fill(UNCOVERED);
  const ctx = scratchContext(size);
  ctx.fillStyle = "#fff";
  const toPixels = scaleTranslate(size, 0, 0);

  for (let start = 0; start < shapes.length; ) {
    const classId = shapes[start].classId;
    let end = start;
    while (end < shapes.length && shapes[end].classId === classId) end++;

    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, size, size);
    for (let i = start; i < end; i++) {
      ctx.setTransform(...toCanvasArgs(multiply(toPixels, shapes[i].toUnit)));
      for (const p of shapes[i].paths) ctx.fill(new Path2D(p.data), p.windingRule === "EVENODD" ? "evenodd" : "nonzero");
    }
    const alpha = ctx.getImageData(0, 0, size, size).data;
    for (let px = 0, a = 3; px < mask.length; px++, a += 4) if (alpha[a] >= COVERAGE_THRESHOLD) mask[px] = classId;
    start = end;
  }

  let uncovered = 0;
  for (let px = 0; px < mask.length; px++) {
    if (mask[px] !== UNCOVERED) continue;
    uncovered++;
    if (backgroundId !== null) mask[px] = backgroundId;
  }
  return { mask, uncovered };
}
