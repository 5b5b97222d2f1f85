// Returned PNGs → new image layers: the first over the frame's crop square (top of the frame's
// stack), further variations in a row to the right of the frame. One undo step for all of them.
// User layers are never touched; if anything fails half way, what was added is removed again.
import type { InsertImage } from "./messages.ts";
import { RESULT_MARK_KEY, RESULT_MARK_VALUE } from "./messages.ts";
import { centreSquare, resultPlacements, type Box } from "./lib/fit.ts";
import type { TargetFrame } from "./target-frame.ts";

export function resultName(seed: number): string {
  return `Phototype · seed ${seed}`;
}

function frameBounds(frame: TargetFrame): Box {
  const box = frame.absoluteBoundingBox;
  if (box) return box;
  const t = frame.absoluteTransform;
  return { x: t[0][2], y: t[1][2], width: frame.width, height: frame.height };
}

function imageRectangle(image: InsertImage, size: number): RectangleNode {
  const hash = figma.createImage(image.png).hash;
  const rect = figma.createRectangle();
  rect.name = resultName(image.seed);
  rect.resize(size, size);
  rect.fills = [{ type: "IMAGE", scaleMode: "FILL", imageHash: hash }];
  rect.setPluginData(RESULT_MARK_KEY, RESULT_MARK_VALUE);
  return rect;
}

/** Adds the layers and commits one undo step. Returns the new nodes (first = the one in the frame). */
export function insertResults(frame: TargetFrame, images: readonly InsertImage[], onCreated: (node: SceneNode) => void): RectangleNode[] {
  if (images.length === 0) return [];
  const crop = centreSquare(frame.width, frame.height);
  const { inFrame, onPage } = resultPlacements(frameBounds(frame), crop, images.length);
  const created: RectangleNode[] = [];
  try {
    const first = imageRectangle(images[0], inFrame.size);
    created.push(first);
    onCreated(first);
    frame.appendChild(first); // last child = painted on top of the frame's shapes
    if (frame.layoutMode !== "NONE") first.layoutPositioning = "ABSOLUTE"; // keep auto layout from moving it
    first.x = inFrame.x;
    first.y = inFrame.y;
    for (let i = 1; i < images.length; i++) {
      const rect = imageRectangle(images[i], onPage[i - 1].size);
      created.push(rect);
      onCreated(rect);
      figma.currentPage.appendChild(rect);
      rect.x = onPage[i - 1].x;
      rect.y = onPage[i - 1].y;
    }
  } catch (err) {
    for (const node of created) if (!node.removed) node.remove();
    throw err;
  }
  figma.commitUndo();
  return created;
}
