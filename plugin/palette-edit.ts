// A palette click: recolour the selected shapes with the class's colour (the user asked for that
// change), or, with no shapes selected, add a new shape of that class to the frame.
import { RESULT_MARK_KEY, RESULT_MARK_VALUE } from "./messages.ts";
import { centreSquare } from "./lib/fit.ts";
import type { TargetFrame } from "./target-frame.ts";
import { frameAround } from "./target-frame.ts";

export function hexToRgb(hex: string): RGB {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`not a #RRGGBB colour: ${hex}`);
  const n = parseInt(m[1], 16);
  return { r: ((n >> 16) & 255) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255 };
}

type Paintable = SceneNode & MinimalFillsMixin;

/** Shapes a palette click recolours: selected shapes in the frame, and the shapes inside selected groups. */
export function recolourTargets(frame: TargetFrame, selection: readonly SceneNode[]): Paintable[] {
  const out: Paintable[] = [];
  const seen = new Set<string>();
  const add = (n: SceneNode): void => {
    if (seen.has(n.id) || n.getPluginData(RESULT_MARK_KEY) === RESULT_MARK_VALUE) return;
    if (n.type === "GROUP" || n.type === "BOOLEAN_OPERATION") {
      if (n.type === "BOOLEAN_OPERATION") {
        seen.add(n.id);
        out.push(n);
      } else for (const c of n.children) add(c);
      return;
    }
    if (n.type === "TEXT" || n.type === "FRAME" || n.type === "COMPONENT" || n.type === "INSTANCE" || n.type === "SECTION") return;
    if ("fills" in n) {
      seen.add(n.id);
      out.push(n as Paintable);
    }
  };
  for (const n of selection) if (n.id !== frame.id && frameAround(n)?.id === frame.id) add(n);
  return out;
}

/** Sets the selected shapes' fill (shapes) or stroke (scribble strokes) to the class colour; one undo step. */
export function recolour(shapes: readonly Paintable[], color: string, paint: "fill" | "stroke" = "fill"): void {
  const rgb = hexToRgb(color);
  for (const s of shapes) {
    if (paint === "stroke" && "strokes" in s) (s as Paintable & MinimalStrokesMixin).strokes = [{ type: "SOLID", color: rgb }];
    else s.fills = [{ type: "SOLID", color: rgb }];
  }
  figma.commitUndo();
}

/** A new ellipse of the class, named after it, in the middle of the frame's crop square; selected so it can be moved. */
export function addClassShape(frame: TargetFrame, label: string, color: string): EllipseNode {
  const crop = centreSquare(frame.width, frame.height);
  const size = Math.max(4, Math.round(crop.side / 4));
  const shape = figma.createEllipse();
  shape.name = label;
  shape.resize(size, size);
  shape.fills = [{ type: "SOLID", color: hexToRgb(color) }];
  frame.appendChild(shape);
  if (frame.layoutMode !== "NONE") shape.layoutPositioning = "ABSOLUTE";
  shape.x = crop.x + (crop.side - size) / 2;
  shape.y = crop.y + (crop.side - size) / 2;
  figma.currentPage.selection = [shape];
  figma.commitUndo();
  return shape;
}
