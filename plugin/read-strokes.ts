// A frame's pen strokes, in paint order, as plain data the UI can rasterize: each visible stroke's
// centre line (the path the pen drew: vector paths, a line's segment, a shape's outline), its
// stroke paint and the transform into the frame's crop square. The UI draws every line at the
// same 1-2 px width at the pack's resolution, as the sketch and scribble mappers were trained;
// the designer's stroke weight in frame pixels would be a fraction of a pixel there, or many.
import type { StrokePath, StrokeSkipped, StrokeSnapshot, StrokesRead } from "./messages.ts";
import { checkFrameSize } from "./lib/fit.ts";
import { frameInfo } from "./frame-info.ts";
import type { TargetFrame } from "./target-frame.ts";
import { MAX_SHAPES, toCropSquare, walkFrame } from "./walk-frame.ts";

type Stroked = SceneNode & MinimalStrokesMixin;

/** The top-most visible stroke paint, or null when the node draws no line. */
export function visibleStroke(node: SceneNode): StrokeSnapshot["paint"] | null {
  if (!("strokes" in node)) return null;
  const weight = (node as Stroked).strokeWeight;
  if (typeof weight === "number" && weight <= 0) return null;
  const strokes = (node as Stroked).strokes;
  for (let i = strokes.length - 1; i >= 0; i--) {
    const paint = strokes[i];
    if (paint.visible === false || paint.opacity === 0) continue;
    if (paint.type === "SOLID") return { kind: "solid", color: { r: paint.color.r, g: paint.color.g, b: paint.color.b }, opacity: paint.opacity ?? 1 };
    return { kind: "other", paint: paint.type };
  }
  return null;
}

/** The line the pen drew, in the node's own coordinates. */
export function centreLines(node: SceneNode): StrokePath[] {
  if (node.type === "LINE") return [{ data: `M 0 0 L ${node.width} 0` }];
  if (node.type === "VECTOR") return node.vectorPaths.map((p) => ({ data: p.data }));
  if ("fillGeometry" in node) return node.fillGeometry.map((p) => ({ data: p.data }));
  return [];
}

export function readStrokes(frame: TargetFrame): StrokesRead {
  const sizeProblem = checkFrameSize(frame.width, frame.height);
  if (sizeProblem) return { ok: false, problem: sizeProblem };
  const info = frameInfo(frame);
  const skipped: StrokeSkipped = { text: 0, noStroke: 0 };
  const found: { node: SceneNode; paint: StrokeSnapshot["paint"] }[] = [];
  const overflow = walkFrame(frame, {
    text: () => void skipped.text++,
    mask: () => {}, // a mask layer's outline is not a pen line
    drawable: (node) => {
      const paint = visibleStroke(node);
      if (paint) found.push({ node, paint });
      else skipped.noStroke++;
      return found.length > MAX_SHAPES;
    },
  });
  if (overflow) {
    return {
      ok: false,
      problem: { code: "too_many_shapes", message: `“${frame.name}” has more than ${MAX_SHAPES.toLocaleString("en-US")} strokes. Phototype reads at most ${MAX_SHAPES.toLocaleString("en-US")}; a sketch needs a few dozen lines.` },
    };
  }

  const placed = toCropSquare(frame, info.crop);
  const strokes: StrokeSnapshot[] = [];
  for (const { node, paint } of found) {
    const paths = centreLines(node).filter((p) => p.data.trim().length > 0);
    if (paths.length === 0) continue;
    const toUnit = placed(node);
    if (!toUnit) continue;
    strokes.push({ id: node.id, name: node.name, type: node.type, paint, paths, toUnit });
  }
  if (strokes.length === 0) {
    const filled = skipped.noStroke ? ` (${skipped.noStroke} shape${skipped.noStroke === 1 ? " has" : "s have"} a fill but no stroke)` : "";
    return {
      ok: false,
      problem: { code: "no_strokes", message: `No strokes found in “${frame.name}”${filled}. Draw lines with the pen (P) or pencil (Shift+P) tool, or pick Shapes.` },
    };
  }
  return { ok: true, snapshot: { frame: info, strokes, skipped } };
}
