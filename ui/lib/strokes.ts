// Pen strokes → the sketch and scribble conditions, drawn like the training conditions
// (models/phototype_train/data/conditions.py): every line the same 1-2 px wide at the pack's resolution, whatever
// the designer's stroke weight, on a clear canvas; a pixel is drawn where coverage reaches half.
// Sketch: 1 = stroke, 0 = paper. Scribble: the stroke's class id, NO_STROKE elsewhere.
import type { StrokePath } from "../../plugin/messages.ts";
import { multiply, scaleTranslate, toCanvasArgs, type Affine } from "../../plugin/lib/transform.ts";
import { scratchContext } from "./canvas.ts";

export interface StrokeShape {
  /** What the stroke's pixels get: 1 for a sketch, the class id for a scribble. */
  value: number;
  paths: readonly StrokePath[];
  /** Shape-local coordinates → unit square. */
  toUnit: Affine;
}

const COVERAGE_THRESHOLD = 128;

/**
 * Line width in pixels of the pack's resolution. Training drew sketches 1-2 px and scribbles 1-3 px
 * wide at 64 px (scaled with the resolution, never under 1 px); 1.5 px (2 px for scribbles) at 64 px
 * always gives a 1-2 (2-3) px line whatever the line's position against the pixel grid.
 */
export function strokeWidth(kind: "sketch" | "scribble", resolution: number): number {
  const scale = Math.max(1, resolution / 64);
  return kind === "sketch" ? 1.5 * scale : Math.max(1.5, (2 * resolution) / 64);
}

export interface RasterizedStrokes {
  map: Uint8Array;
  /** Pixels some stroke drew. */
  drawn: number;
}

/** Draws strokes in paint order (later ones over earlier ones); `empty` where nothing is drawn. */
export function rasterizeStrokes(strokes: readonly StrokeShape[], resolution: number, width: number, empty: number): RasterizedStrokes {
  const size = resolution;
  const map = new Uint8Array(size * size).fill(empty);
  const ctx = scratchContext(size);
  ctx.strokeStyle = "#fff";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = width;
  const toPixels = scaleTranslate(size, 0, 0);
  let drawn = 0;
  for (let start = 0; start < strokes.length; ) {
    const value = strokes[start].value;
    let end = start;
    while (end < strokes.length && strokes[end].value === value) end++;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, size, size);
    for (let i = start; i < end; i++) {
      // The path is moved into pixels first and stroked untransformed, so the width stays in pixels.
      const [a, b, c, d, e, f] = toCanvasArgs(multiply(toPixels, strokes[i].toUnit));
      const path = new Path2D();
      for (const p of strokes[i].paths) path.addPath(new Path2D(p.data), new DOMMatrix([a, b, c, d, e, f]));
      ctx.stroke(path);
    }
    const alpha = ctx.getImageData(0, 0, size, size).data;
    for (let px = 0, o = 3; px < map.length; px++, o += 4) if (alpha[o] >= COVERAGE_THRESHOLD) map[px] = value;
    start = end;
  }
  for (const v of map) if (v !== empty) drawn++;
  return { map, drawn };
}
