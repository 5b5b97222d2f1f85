// A frame's shapes, in paint order, as plain data the UI can rasterize: outline paths,
// the transform into the frame's crop square, the visible fill. Reads nothing else.
import type { FrameRead, ShapeFill, ShapePath, ShapeSnapshot, SkippedCounts } from "./messages.ts";
import { checkFrameSize } from "./lib/fit.ts";
import { frameInfo } from "./frame-info.ts";
import type { TargetFrame } from "./target-frame.ts";
import { MAX_SHAPES, toCropSquare, walkFrame } from "./walk-frame.ts";

/** The top-most visible paint; Figma paints the fills array bottom (0) to top (last). */
export function visibleFill(node: SceneNode): ShapeFill | null {
  if (!("fills" in node)) return null;
  const fills = node.fills;
  if (!Array.isArray(fills)) return { kind: "other", paint: "mixed" };
  for (let i = fills.length - 1; i >= 0; i--) {
    const paint = fills[i] as Paint;
    if (paint.visible === false || paint.opacity === 0) continue;
    if (paint.type === "SOLID") return { kind: "solid", color: { r: paint.color.r, g: paint.color.g, b: paint.color.b }, opacity: paint.opacity ?? 1 };
    return { kind: "other", paint: paint.type };
  }
  return null;
}

interface Found {
  node: SceneNode;
  fill: ShapeFill;
}

/** Filled layers in paint order; stops as soon as there are more than MAX_SHAPES, before reading any outline. */
function collect(frame: TargetFrame): { found: Found[]; skipped: SkippedCounts; overflow: boolean } {
  const found: Found[] = [];
  const skipped: SkippedCounts = { text: 0, noFill: 0, masks: 0 };
  const overflow = walkFrame(frame, {
    text: () => void skipped.text++,
    mask: () => void skipped.masks++,
    drawable: (node) => {
      const fill = visibleFill(node);
      if (!fill) skipped.noFill++;
      else found.push({ node, fill });
      return found.length > MAX_SHAPES;
    },
    container: (node) => {
      // A nested frame paints its own fill under its children, like a rectangle would.
      if (node.type === "GROUP" || node.type === "SECTION") return;
      const fill = visibleFill(node);
      if (fill) found.push({ node, fill });
    },
  });
  return { found, skipped, overflow };
}

function pathsOf(node: SceneNode): ShapePath[] {
  if (!("fillGeometry" in node)) return [];
  const paths: ShapePath[] = [];
  for (const p of node.fillGeometry) {
    if (p.windingRule === "NONZERO" || p.windingRule === "EVENODD") paths.push({ data: p.data, windingRule: p.windingRule });
  }
  return paths;
}

export function readFrame(frame: TargetFrame): FrameRead {
  const sizeProblem = checkFrameSize(frame.width, frame.height);
  if (sizeProblem) return { ok: false, problem: sizeProblem };

  const info = frameInfo(frame);
  const { found, skipped, overflow } = collect(frame);
  if (overflow) {
    return {
      ok: false,
      problem: {
        code: "too_many_shapes",
        message: `“${frame.name}” has more than ${MAX_SHAPES.toLocaleString("en-US")} shapes. Phototype reads at most ${MAX_SHAPES.toLocaleString("en-US")}; flatten or remove detail (a face needs a few dozen) and try again.`,
      },
    };
  }

  const placed = toCropSquare(frame, info.crop);
  const shapes: ShapeSnapshot[] = [];
  for (const { node, fill } of found) {
    const paths = pathsOf(node);
    if (paths.length === 0) {
      skipped.noFill++;
      continue;
    }
    const toUnit = placed(node);
    if (!toUnit) continue;
    shapes.push({ id: node.id, name: node.name, type: node.type, fill, paths, toUnit });
  }

  if (shapes.length === 0) {
    const notes: string[] = [];
    if (skipped.text) notes.push(`${skipped.text} text layer${skipped.text === 1 ? "" : "s"}`);
    if (skipped.noFill) notes.push(`${skipped.noFill} shape${skipped.noFill === 1 ? "" : "s"} without a fill`);
    const extra = notes.length ? ` (only ${notes.join(" and ")}, which Phototype skips)` : "";
    return {
      ok: false,
      problem: { code: "empty_frame", message: `“${frame.name}” has no filled shapes${extra}. Click a face part in the palette to add one, or draw shapes in it.` },
    };
  }
  return { ok: true, snapshot: { frame: info, shapes, skipped } };
}
