// How large to export a placed photo (pure, so it is tested without Figma).
//
// The rule: export at the placed image's own resolution, never more (upscaling would hide that a
// photo is too small for the pack, which the server then says plainly), and at most `maxSide`
// px a side, which keeps the WebSocket message well under its 2 MiB limit.

export interface Size {
  width: number;
  height: number;
}

/**
 * exportAsync's SCALE for a node of size `node` showing an image of `source` pixels (null when
 * unknown: then the node's own size). The image's shorter side maps onto the node's shorter side,
 * as Figma's FILL scale mode does.
 */
export function exportScale(node: Size, source: Size | null, maxSide: number): number {
  const nodeShort = Math.min(node.width, node.height);
  const nodeLong = Math.max(node.width, node.height);
  if (!(nodeShort > 0)) return 1;
  let scale = source ? Math.min(source.width, source.height) / nodeShort : 1;
  scale = Math.min(scale, maxSide / nodeLong);
  return Math.max(scale, 0.01);
}
