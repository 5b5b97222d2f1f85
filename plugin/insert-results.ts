// Returned PNGs → new image layers: the first over the frame's crop square (top of the frame's
// stack), further variations in a row to the right of the frame; or, for photo actions, a row
// beside the photo. One undo step for all of them.
// User layers are never touched; if anything fails half way, what was added is removed again.
import type { InsertImage } from "./messages.ts";
import { RESULT_MARK_KEY, RESULT_MARK_VALUE, RESULT_SEED_KEY } from "./messages.ts";
import { besidePlacements, centreSquare, resultPlacements, type Box } from "./lib/fit.ts";
import type { TargetFrame } from "./target-frame.ts";

export function resultName(seed: number, label?: string): string {
  return `Phototype · ${label ?? `seed ${seed}`}`;
}

export function nodeBounds(node: SceneNode): Box {
  const box = node.absoluteBoundingBox;
  if (box) return box;
  const t = node.absoluteTransform;
  return { x: t[0][2], y: t[1][2], width: node.width, height: node.height };
}

function imageRectangle(image: InsertImage, size: number): RectangleNode {
  const hash = figma.createImage(image.png).hash;
  const rect = figma.createRectangle();
  rect.name = resultName(image.seed, image.label);
  rect.resize(size, size);
  rect.fills = [{ type: "IMAGE", scaleMode: "FILL", imageHash: hash }];
  rect.setPluginData(RESULT_MARK_KEY, RESULT_MARK_VALUE);
  rect.setPluginData(RESULT_SEED_KEY, String(image.seed));
  return rect;
}

/** Results of a photo action: a row on the page to the right of `node`. One undo step; all or nothing. */
export function insertBeside(node: SceneNode, images: readonly InsertImage[], onCreated: (node: SceneNode) => void): RectangleNode[] {
  if (images.length === 0) return [];
  const places = besidePlacements(nodeBounds(node), images.length);
  const created: RectangleNode[] = [];
  try {
    images.forEach((image, i) => {
      const rect = imageRectangle(image, places[i].size);
      created.push(rect);
      onCreated(rect);
      figma.currentPage.appendChild(rect);
      rect.x = places[i].x;
      rect.y = places[i].y;
    });
  } catch (err) {
    for (const n of created) if (!n.removed) n.remove();
    throw err;
  }
  figma.commitUndo();
  return created;
}

/** Adds the layers and commits one undo step. Returns the new nodes (first = the one in the frame). */
export function insertResults(frame: TargetFrame, images: readonly InsertImage[], onCreated: (node: SceneNode) => void): RectangleNode[] {
  if (images.length === 0) return [];
  const crop = centreSquare(frame.width, frame.height);
  const { inFrame, onPage } = resultPlacements(nodeBounds(frame), crop, images.length);
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
