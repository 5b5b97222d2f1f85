// The UI's share of a generation, for scripts/bench-plugin.ts: classify the shapes, rasterize
// the mask, build the generate message; and decode a returned PNG for the insert message.
import { base64ToBytes, bytesToBase64, type PackInfo } from "../../../protocol/index.ts";
import type { FrameSnapshot } from "../../../plugin/messages.ts";
import { backgroundClassId, classifyShapes } from "../../../ui/lib/classify.ts";
import { rasterizeMask } from "../../../ui/lib/rasterize.ts";

function layoutToMessage(snapshot: FrameSnapshot, pack: PackInfo): string {
  const classes = classifyShapes(snapshot.shapes, pack);
  if (classes.unknown.length) throw new Error(`unknown shapes: ${classes.unknown.map((u) => u.name)}`);
  const { mask } = rasterizeMask(
    classes.shapes.map((c) => ({ classId: c.classId, paths: c.shape.paths, toUnit: c.shape.toUnit })),
    pack.resolution,
    backgroundClassId(pack),
  );
  return JSON.stringify({
    type: "generate",
    id: "bench",
    pack: pack.name,
    condition: { kind: "mask", width: pack.resolution, height: pack.resolution, data: bytesToBase64(mask) },
    seed: 1,
    variations: 1,
    mode: "final",
  });
}

function pngToInsert(b64: string[]): number {
  return b64.map((s) => base64ToBytes(s)).reduce((n, b) => n + b.length, 0);
}

Object.assign(globalThis, { layoutToMessage, pngToInsert });
