// The scene walk both readers share (read-shapes.ts: fills, read-strokes.ts: pen lines): a frame's
// visible layers in Figma's paint order, and each layer's transform into the frame's crop square.
import { frameToUnitSquare, type SquareCrop } from "./lib/fit.ts";
import { type Affine, multiply, relativeTo } from "./lib/transform.ts";
import { isPhototypeResult } from "./frame-info.ts";
import type { TargetFrame } from "./target-frame.ts";

/** More shapes than this and we refuse rather than freeze Figma reading their outlines. */
export const MAX_SHAPES = 1000;

const DRAWABLE_TYPES = new Set(["RECTANGLE", "ELLIPSE", "POLYGON", "STAR", "VECTOR", "LINE", "BOOLEAN_OPERATION"]);
const CONTAINER_TYPES = new Set(["GROUP", "FRAME", "COMPONENT", "INSTANCE", "SECTION"]);

/** What a reader does with each kind of layer the walk meets. */
export interface FrameVisitor {
  /** A text layer (never read; readers count them to explain an empty result). */
  text(): void;
  /** A layer used as a mask (never read). */
  mask(): void;
  /** A drawable layer: rectangle, ellipse, polygon, star, vector, line, boolean. True stops the walk (too many). */
  drawable(node: SceneNode): boolean;
  /** A group, frame, component, instance or section, met before its children. */
  container?(node: SceneNode): void;
}

/**
 * Visits the frame's layers depth first, children bottom to top, which is Figma's paint order.
 * Hidden and fully transparent layers and the plugin's own results are passed over with their
 * children. Returns true when a visitor stopped the walk.
 */
export function walkFrame(frame: TargetFrame, visitor: FrameVisitor): boolean {
  let stopped = false;
  const visit = (node: SceneNode): void => {
    if (stopped || !node.visible || isPhototypeResult(node)) return;
    if ("opacity" in node && node.opacity === 0) return;
    if (node.type === "TEXT") return visitor.text();
    if ("isMask" in node && node.isMask) return visitor.mask();
    if (DRAWABLE_TYPES.has(node.type)) {
      stopped = visitor.drawable(node);
      return;
    }
    if (CONTAINER_TYPES.has(node.type) && "children" in node) {
      visitor.container?.(node);
      for (const child of node.children) visit(child);
    }
  };
  for (const child of frame.children) visit(child);
  return stopped;
}

/** Each layer's transform from its own coordinates to the frame's crop square (0..1); null for a zero-scale layer, which covers nothing. */
export function toCropSquare(frame: TargetFrame, crop: SquareCrop): (node: SceneNode) => Affine | null {
  const toUnitFromFrame = frameToUnitSquare(crop);
  const frameAbs = frame.absoluteTransform as Affine;
  return (node) => {
    try {
      return multiply(toUnitFromFrame, relativeTo(frameAbs, node.absoluteTransform as Affine));
    } catch {
      return null;
    }
  };
}
