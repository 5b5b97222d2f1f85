// Which photo the photo actions mean, and its pixels. A photo is any layer with a visible IMAGE
// fill: the selected one, else the selected frame's own image fill, else the one image in the
// frame. Phototype's own results count only when selected on purpose.
import type { PhotoProblem, PhotoRead } from "./messages.ts";
import { exportScale } from "./lib/photo-export.ts";
import { isPhototypeResult } from "./frame-info.ts";
import { frameAround, type TargetFrame } from "./target-frame.ts";

type Filled = SceneNode & MinimalFillsMixin;

/** The node's top-most visible image fill, or null. */
export function imageFill(node: BaseNode): ImagePaint | null {
  if (!("fills" in node)) return null;
  const fills = (node as Filled).fills;
  if (!Array.isArray(fills)) return null;
  for (let i = fills.length - 1; i >= 0; i--) {
    const p = fills[i] as Paint;
    if (p.visible === false || p.opacity === 0) continue;
    return p.type === "IMAGE" && p.imageHash ? p : null;
  }
  return null;
}

const problem = (code: PhotoProblem["code"], message: string): { node: null; problem: PhotoProblem } => ({ node: null, problem: { code, message } });

/** The photo meant by the selection (or the target frame), or a sentence saying what to select. */
export function findPhoto(selection: readonly SceneNode[], target: TargetFrame | null): { node: SceneNode; problem: null } | { node: null; problem: PhotoProblem } {
  const selected = selection.filter((n) => imageFill(n));
  if (selected.length === 1) return { node: selected[0], problem: null };
  if (selected.length > 1) return problem("several_images", `${selected.length} images are selected. Select the one photo to use.`);
  const frame = selection.length > 0 ? (selection.map((n) => frameAround(n)).find((f) => f) ?? target) : target;
  if (frame && imageFill(frame)) return { node: frame, problem: null };
  if (frame) {
    const inside = frame.findAll((n) => n.visible && !isPhototypeResult(n) && imageFill(n) !== null);
    if (inside.length === 1) return { node: inside[0], problem: null };
    if (inside.length > 1) return problem("several_images", `“${frame.name}” holds ${inside.length} images. Select the photo to use.`);
  }
  return problem("no_image", "No image selected. Place a photo in Figma (drag a PNG or JPEG onto the canvas), select it, and try again.");
}

/** Exports the photo as PNG at its own resolution, capped at `maxSide`. */
export async function exportPhoto(node: SceneNode, maxSide: number): Promise<PhotoRead> {
  const paint = imageFill(node);
  let source: { width: number; height: number } | null = null;
  if (paint?.imageHash) {
    try {
      source = (await figma.getImageByHash(paint.imageHash)?.getSizeAsync()) ?? null;
    } catch {
      source = null; // unknown: export at the node's size
    }
  }
  const scale = exportScale({ width: node.width, height: node.height }, source, maxSide);
  try {
    const png = await node.exportAsync({ format: "PNG", constraint: { type: "SCALE", value: scale }, colorProfile: "SRGB" });
    return { ok: true, photo: { nodeId: node.id, name: node.name, png } };
  } catch (err) {
    return { ok: false, problem: { code: "export_failed", message: `Figma could not export “${node.name}” (${err instanceof Error ? err.message : String(err)}).` } };
  }
}
