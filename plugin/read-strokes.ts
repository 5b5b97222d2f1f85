// A frame's pen strokes, in paint order, as plain data the UI can rasterize: each visible stroke's
// centre line (the path the pen drew: vector paths, a line's segment, a shape's outline), its
// stroke paint and the transform into the frame's crop square. The UI draws every line at the
// same 1-2 px width at the pack's resolution, as the sketch and scribble mappers were trained;
// the designer's stroke weight in frame pixels would be a fraction of a pixel there, or many.
import type { StrokePath, StrokeSkipped, StrokeSnapshot, StrokesRead } from "./messages.ts";
import { checkFrameSize, frameToUnitSquare } from "./lib/fit.ts";
import { type Affine, multiply, relativeTo } from "./lib/transform.ts";
import { frameInfo, isPhototypeResult, MAX_SHAPES } from "./read-shapes.ts";
import type { TargetFrame } from "./target-frame.ts";

const STROKED_TYPES = new Set(["RECTANGLE", "ELLIPSE", "POLYGON", "STAR", "VECTOR", "LINE", "BOOLEAN_OPERATION"]);
const CONTAINER_TYPES = new Set(["GROUP", "FRAME", "COMPONENT", "INSTANCE", "SECTION"]);

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
  let overflow = false;

  const visit = (node: SceneNode): void => {
    if (overflow || !node.visible || isPhototypeResult(node)) return;
    if ("opacity" in node && node.opacity === 0) return;
    if (node.type === "TEXT") {
      skipped.text++;
      return;
    }
    if ("isMask" in node && node.isMask) return;
    if (STROKED_TYPES.has(node.type)) {
      const paint = visibleStroke(node);
      if (paint) found.push({ node, paint });
      else skipped.noStroke++;
      if (found.length > MAX_SHAPES) overflow = true;
      return;
    }
    if (CONTAINER_TYPES.has(node.type) && "children" in node) for (const child of node.children) visit(child);
  };
  for (const child of frame.children) visit(child);
  if (overflow) {
    return {
      ok: false,
      problem: { code: "too_many_shapes", message: `“${frame.name}” has more than ${MAX_SHAPES.toLocaleString("en-US")} strokes. Phototype reads at most ${MAX_SHAPES.toLocaleString("en-US")}; a sketch needs a few dozen lines.` },
    };
  }

  const toUnitFromFrame = frameToUnitSquare(info.crop);
  const frameAbs = frame.absoluteTransform as Affine;
  const strokes: StrokeSnapshot[] = [];
  for (const { node, paint } of found) {
    const paths = centreLines(node).filter((p) => p.data.trim().length > 0);
    if (paths.length === 0) continue;
    let local: Affine;
    try {
      local = relativeTo(frameAbs, node.absoluteTransform as Affine);
    } catch {
      continue;
    }
    strokes.push({ id: node.id, name: node.name, type: node.type, paint, paths, toUnit: multiply(toUnitFromFrame, local) });
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
