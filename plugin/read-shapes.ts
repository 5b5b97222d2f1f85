// A frame's shapes, in paint order, as plain data the UI can rasterize: outline paths,
// the transform into the frame's crop square, the visible fill. Reads nothing else.
import type { FrameInfo, FrameRead, ShapeFill, ShapePath, ShapeSnapshot, SkippedCounts } from "./messages.ts";
import { PHOTO_LINK_KEY, PHOTO_NAME_KEY, RESULT_MARK_KEY, RESULT_MARK_VALUE, RESULT_SEED_KEY } from "./messages.ts";
import { centreSquare, checkFrameSize, frameToUnitSquare } from "./lib/fit.ts";
import { type Affine, multiply, relativeTo } from "./lib/transform.ts";
import type { TargetFrame } from "./target-frame.ts";

/** More shapes than this and we refuse rather than freeze Figma reading their outlines. */
export const MAX_SHAPES = 1000;

const SHAPE_TYPES = new Set(["RECTANGLE", "ELLIPSE", "POLYGON", "STAR", "VECTOR", "LINE", "BOOLEAN_OPERATION"]);
const CONTAINER_TYPES = new Set(["GROUP", "FRAME", "COMPONENT", "INSTANCE", "SECTION"]);

export function isPhototypeResult(node: BaseNode): boolean {
  return node.getPluginData(RESULT_MARK_KEY) === RESULT_MARK_VALUE;
}

/** Seed of the top-most result layer directly in the frame (null when there is none). */
export function lastResultSeed(frame: TargetFrame): number | null {
  for (let i = frame.children.length - 1; i >= 0; i--) {
    const child = frame.children[i];
    if (!isPhototypeResult(child)) continue;
    const seed = Number(child.getPluginData(RESULT_SEED_KEY));
    if (child.getPluginData(RESULT_SEED_KEY) !== "" && Number.isInteger(seed)) return seed;
  }
  return null;
}

/** The frame's photo link, as stored; whether the photo still exists is checked by the caller (async). */
export function photoLinkOf(frame: TargetFrame): { nodeId: string; name: string } | null {
  const nodeId = frame.getPluginData(PHOTO_LINK_KEY);
  if (!nodeId) return null;
  return { nodeId, name: frame.getPluginData(PHOTO_NAME_KEY) || "the photo" };
}

export function frameInfo(frame: TargetFrame): FrameInfo {
  return {
    id: frame.id,
    name: frame.name,
    width: frame.width,
    height: frame.height,
    crop: centreSquare(frame.width, frame.height),
    lastSeed: lastResultSeed(frame),
  };
}

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

/**
 * Collects shape nodes depth first, children bottom to top, which is Figma's paint order.
 * Stops as soon as there are more than MAX_SHAPES, before reading any outline.
 */
function collect(frame: TargetFrame): { found: Found[]; skipped: SkippedCounts; overflow: boolean } {
  const found: Found[] = [];
  const skipped: SkippedCounts = { text: 0, noFill: 0, masks: 0 };
  let overflow = false;

  const visit = (node: SceneNode): void => {
    if (overflow || !node.visible || isPhototypeResult(node)) return;
    if ("opacity" in node && node.opacity === 0) return;
    if (node.type === "TEXT") {
      skipped.text++;
      return;
    }
    if ("isMask" in node && node.isMask) {
      skipped.masks++;
      return;
    }
    if (SHAPE_TYPES.has(node.type)) {
      const fill = visibleFill(node);
      if (!fill) skipped.noFill++;
      else found.push({ node, fill });
      if (found.length > MAX_SHAPES) overflow = true;
      return;
    }
    if (CONTAINER_TYPES.has(node.type) && "children" in node) {
      // A nested frame paints its own fill under its children, like a rectangle would.
      if (node.type !== "GROUP" && node.type !== "SECTION") {
        const fill = visibleFill(node);
        if (fill) found.push({ node, fill });
      }
      for (const child of node.children) visit(child);
    }
  };
  for (const child of frame.children) visit(child);
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

  const toUnitFromFrame = frameToUnitSquare(info.crop);
  const frameAbs = frame.absoluteTransform as Affine;
  const shapes: ShapeSnapshot[] = [];
  for (const { node, fill } of found) {
    const paths = pathsOf(node);
    if (paths.length === 0) {
      skipped.noFill++;
      continue;
    }
    let local: Affine;
    try {
      local = relativeTo(frameAbs, node.absoluteTransform as Affine);
    } catch {
      continue; // a zero-scale shape covers nothing
    }
    shapes.push({ id: node.id, name: node.name, type: node.type, fill, paths, toUnit: multiply(toUnitFromFrame, local) });
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
