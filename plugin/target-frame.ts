// Which frame the user means: the selected frame, or the frame around the selected shapes.
import type { FrameProblem } from "./messages.ts";

export type TargetFrame = FrameNode | ComponentNode;

function isFrameLike(node: BaseNode): node is TargetFrame {
  return node.type === "FRAME" || node.type === "COMPONENT";
}

/**
 * The innermost frame containing `node` (or `node` itself) that we may add layers to.
 * Frames inside an instance belong to its main component and cannot take new children,
 * so a frame found below an INSTANCE is dropped and the search goes on above it.
 */
export function frameAround(node: BaseNode): TargetFrame | null {
  let found: TargetFrame | null = null;
  for (let n: BaseNode | null = node; n && n.type !== "PAGE" && n.type !== "DOCUMENT"; n = n.parent) {
    if (n.type === "INSTANCE") found = null;
    else if (!found && isFrameLike(n)) found = n;
  }
  return found;
}

export type TargetResult = { frame: TargetFrame; problem: null } | { frame: null; problem: FrameProblem };

export function resolveTarget(selection: readonly SceneNode[]): TargetResult {
  if (selection.length === 0) {
    return { frame: null, problem: { code: "no_selection", message: "Select a frame with face shapes in it (or any shape inside one)." } };
  }
  const frames = new Map<string, TargetFrame>();
  for (const node of selection) {
    const frame = frameAround(node);
    if (!frame) {
      return {
        frame: null,
        problem: { code: "not_in_frame", message: `“${node.name}” is not inside a frame. Put the face shapes in a frame (select them and press ⌥⌘G) and select it.` },
      };
    }
    frames.set(frame.id, frame);
  }
  if (frames.size > 1) {
    return { frame: null, problem: { code: "several_frames", message: "The selection spans several frames. Select one frame, or shapes inside one frame." } };
  }
  return { frame: [...frames.values()][0], problem: null };
}

/** Selected nodes that are shapes inside `frame` (not the frame itself): what a palette click recolours. */
export function selectedShapesIn(frame: TargetFrame, selection: readonly SceneNode[]): SceneNode[] {
  return selection.filter((n) => n.id !== frame.id && frameAround(n)?.id === frame.id && "fills" in n);
}
