// Which canvas changes should refresh the live preview: edits to the watched frame's shapes,
// by the user or a palette click, but never the result layers the plugin inserts itself.
import { isPhototypeResult } from "./frame-info.ts";

export interface WatchState {
  frameId: string | null;
  /** Shapes the last read saw: a delete or a move out of the frame only shows up by id. */
  readIds: ReadonlySet<string>;
  /** Layers this plugin created; their CREATE/PROPERTY_CHANGE events are our own doing. */
  ownIds: ReadonlySet<string>;
}

const FRAME_PROPERTIES_THAT_MATTER: ReadonlySet<string> = new Set(["width", "height"]);

function isInside(node: BaseNode, frameId: string): boolean {
  for (let n = node.parent; n; n = n.parent) if (n.id === frameId) return true;
  return false;
}

export function isRelevantChange(change: NodeChange, state: WatchState): boolean {
  const { frameId } = state;
  if (!frameId || state.ownIds.has(change.id)) return false;
  const node = change.node;
  if ("removed" in node && node.removed) return state.readIds.has(change.id);
  const scene = node as SceneNode;
  if (change.id === frameId) {
    return change.type === "PROPERTY_CHANGE" && change.properties.some((p) => FRAME_PROPERTIES_THAT_MATTER.has(p));
  }
  if (isPhototypeResult(scene)) return false;
  if (change.type === "PROPERTY_CHANGE" && change.properties.every((p) => p === "pluginData" || p === "expanded" || p === "locked")) return false;
  return state.readIds.has(change.id) || isInside(scene, frameId);
}
