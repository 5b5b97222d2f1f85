// What the plugin knows about a target frame besides its drawing: its size and crop square, the
// seed of its last result, its link to a photo ("Edit this photo"), and which layers are results.
import type { FrameInfo } from "./messages.ts";
import { PHOTO_LINK_KEY, PHOTO_NAME_KEY, RESULT_MARK_KEY, RESULT_MARK_VALUE, RESULT_SEED_KEY } from "./messages.ts";
import { centreSquare } from "./lib/fit.ts";
import type { TargetFrame } from "./target-frame.ts";

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
