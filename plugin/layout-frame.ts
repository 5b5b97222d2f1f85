// "Edit this photo": the photo's layout as a new frame of vector shapes beside it, one shape per
// region, filled with its class's palette colour and named after the class, so the designer can
// move and reshape them like any drawn layout. The frame (which Phototype creates, never a user's
// node) remembers the photo in pluginData; Generate on it then uses the photo's identity.
import { PHOTO_LINK_KEY, PHOTO_NAME_KEY, type LayoutShape } from "./messages.ts";
import { layoutFramePlacement } from "./lib/fit.ts";
import { hexToRgb } from "./palette-edit.ts";
import { nodeBounds } from "./insert-results.ts";

export interface LayoutClass {
  id: number;
  label: string;
  color: string;
}

/** SVG path of a ring given in pack pixels, scaled by `scale` and moved so its bounds start at 0, 0. */
export function ringPath(points: readonly number[], scale: number): { data: string; x: number; y: number } {
  let minX = Infinity, minY = Infinity;
  for (let i = 0; i < points.length; i += 2) {
    minX = Math.min(minX, points[i]);
    minY = Math.min(minY, points[i + 1]);
  }
  const r = (v: number) => Math.round(v * 100) / 100;
  const parts: string[] = [];
  for (let i = 0; i < points.length; i += 2) parts.push(`${i === 0 ? "M" : "L"} ${r((points[i] - minX) * scale)} ${r((points[i + 1] - minY) * scale)}`);
  return { data: `${parts.join(" ")} Z`, x: r(minX * scale), y: r(minY * scale) };
}

export function layoutFrameName(photoName: string): string {
  return `Edit · ${photoName}`;
}

/** Builds the frame and its shapes, links it to the photo, commits one undo step. All or nothing. */
export function createLayoutFrame(
  photo: SceneNode,
  resolution: number,
  shapes: readonly LayoutShape[],
  classes: readonly LayoutClass[],
  background: string | null,
  onCreated: (node: SceneNode) => void,
): FrameNode {
  const byId = new Map(classes.map((c) => [c.id, c]));
  const place = layoutFramePlacement(nodeBounds(photo));
  const side = Math.round(place.size);
  const scale = side / resolution;
  const frame = figma.createFrame();
  try {
    onCreated(frame);
    frame.name = layoutFrameName(photo.name);
    frame.resize(side, side);
    frame.x = place.x;
    frame.y = place.y;
    frame.fills = background ? [{ type: "SOLID", color: hexToRgb(background) }] : [];
    for (const shape of shapes) {
      const cls = byId.get(shape.classId);
      if (!cls || shape.points.length < 6) continue;
      const path = ringPath(shape.points, scale);
      const vector = figma.createVector();
      onCreated(vector);
      frame.appendChild(vector);
      vector.vectorPaths = [{ windingRule: "NONZERO", data: path.data }];
      vector.name = cls.label;
      vector.fills = [{ type: "SOLID", color: hexToRgb(cls.color) }];
      vector.strokes = [];
      vector.x = path.x;
      vector.y = path.y;
    }
    frame.setPluginData(PHOTO_LINK_KEY, photo.id);
    frame.setPluginData(PHOTO_NAME_KEY, photo.name);
  } catch (err) {
    if (!frame.removed) frame.remove();
    throw err;
  }
  figma.currentPage.selection = [frame];
  figma.commitUndo();
  return frame;
}
