// The condition the picker asks for, built from what the main thread read: shapes -> a class-id
// mask, dark pen strokes -> a sketch, coloured strokes -> a scribble, a photo -> its edges. Pure
// apart from the canvas the rasterizers draw on; says in a sentence why it cannot when it cannot.
import { bytesToBase64, NO_STROKE, type Condition, type PackInfo } from "../../protocol/index.ts";
import type { FrameInfo, FrameRead, PhotoExport, PhotoRead, StrokesRead, StrokesSnapshot } from "../../plugin/messages.ts";
import { backgroundClassId, classificationProblem, classifyShapes, classifyStrokes, darkStrokes } from "../lib/classify.ts";
import { rasterizeMask } from "../lib/rasterize.ts";
import { rasterizeStrokes, strokeWidth } from "../lib/strokes.ts";
import type { LayoutSummary } from "./state.ts";

export type ConditionRead =
  | {
      ok: true;
      condition: Condition;
      frame: FrameInfo | null;
      photo: PhotoExport | null;
      layout: LayoutSummary | null;
      /** Classes of the selected shapes (what a restyle changes); empty for strokes and photos. */
      selectedClasses: number[];
    }
  | { ok: false; text: string; problem?: string };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A drawn condition (one byte a pixel at the pack's resolution) with its small picture and caption. */
function drawn(kind: "mask" | "sketch" | "scribble", pack: PackInfo, frame: FrameInfo, map: Uint8Array, caption: string, selectedClasses: number[] = []): ConditionRead {
  const R = pack.resolution;
  return {
    ok: true,
    condition: { kind, width: R, height: R, data: bytesToBase64(map) },
    frame,
    photo: null,
    layout: { kind, mask: map, caption, frame, resolution: R, packName: pack.name },
    selectedClasses,
  };
}

/** Shapes -> class ids by colour (then layer name), painted in order; `packs` lets a colour of another pack be named. */
export function maskCondition(read: FrameRead, pack: PackInfo, packs: readonly PackInfo[]): ConditionRead {
  if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
  const { snapshot } = read;
  const classes = classifyShapes(snapshot.shapes, pack, packs);
  const problem = classificationProblem(classes, pack.title);
  if (problem) return { ok: false, text: problem };
  const background = backgroundClassId(pack);
  const { mask, uncovered } = rasterizeMask(
    classes.shapes.map((c) => ({ classId: c.classId, paths: c.shape.paths, toUnit: c.shape.toUnit })),
    pack.resolution,
    background,
  );
  if (uncovered > 0 && background === null) {
    return { ok: false, text: `${pack.title} has no background class, so every pixel needs a shape: ${uncovered} of ${mask.length} are empty. Cover the frame's centre square with shapes.` };
  }
  const byColour = classes.shapes.filter((c) => c.by === "colour").length;
  const n = classes.shapes.length;
  const sk = snapshot.skipped;
  const skipped = [sk.text ? `${sk.text} text` : "", sk.noFill ? `${sk.noFill} unfilled` : "", sk.masks ? `${sk.masks} mask` : ""].filter(Boolean);
  const caption = `What the model sees: ${plural(n, "shape")} (${byColour} by colour, ${n - byColour} by name)${skipped.length ? ` · skipped ${skipped.join(", ")}` : ""}`;
  const selected = new Set(snapshot.selectedIds ?? []);
  const selectedClasses = [...new Set(classes.shapes.filter((c) => selected.has(c.shape.id)).map((c) => c.classId))];
  return drawn("mask", pack, snapshot.frame, mask, caption, selectedClasses);
}

/** Dark pen strokes -> 1 where drawn, 0 elsewhere; coloured strokes are left to Scribble. */
function sketchCondition(snapshot: StrokesSnapshot, pack: PackInfo): ConditionRead {
  const R = pack.resolution;
  const { dark, light } = darkStrokes(snapshot.strokes);
  if (dark.length === 0) {
    return { ok: false, text: `No dark strokes found in “${snapshot.frame.name}”: Sketch reads black pen lines; ${plural(light.length, "coloured stroke was", "coloured strokes were")} skipped. Pick Scribble for coloured strokes.`, problem: "no_strokes" };
  }
  const { map } = rasterizeStrokes(dark.map((s) => ({ value: 1, paths: s.paths, toUnit: s.toUnit })), R, strokeWidth("sketch", R), 0);
  const caption = `What the model sees: ${plural(dark.length, "pen stroke")}${light.length ? ` · skipped ${light.length} coloured` : ""}`;
  return drawn("sketch", pack, snapshot.frame, map, caption);
}

/** Coloured strokes -> their class id where drawn, NO_STROKE elsewhere. */
function scribbleCondition(snapshot: StrokesSnapshot, pack: PackInfo, packs: readonly PackInfo[]): ConditionRead {
  const R = pack.resolution;
  const classes = classifyStrokes(snapshot.strokes, pack, packs);
  const problem = classificationProblem(classes, pack.title, "stroke");
  if (problem) return { ok: false, text: problem };
  const { map } = rasterizeStrokes(classes.shapes.map((c) => ({ value: c.classId, paths: snapshot.strokes.find((s) => s.id === c.shape.id)!.paths, toUnit: c.shape.toUnit })), R, strokeWidth("scribble", R), NO_STROKE);
  const parts = new Set(classes.shapes.map((c) => c.classId)).size;
  const caption = `What the model sees: ${plural(classes.shapes.length, "stroke")} of ${plural(parts, "part")}`;
  return drawn("scribble", pack, snapshot.frame, map, caption);
}

/** The frame's strokes as a sketch or a scribble. */
export function strokeCondition(kind: "sketch" | "scribble", read: StrokesRead, pack: PackInfo, packs: readonly PackInfo[]): ConditionRead {
  if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
  return kind === "sketch" ? sketchCondition(read.snapshot, pack) : scribbleCondition(read.snapshot, pack, packs);
}

/** The selected photo, whose edge map the server computes. */
export function edgesCondition(read: PhotoRead): ConditionRead {
  if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
  return { ok: true, condition: { kind: "edges", photo: bytesToBase64(read.photo.png) }, frame: null, photo: read.photo, layout: null, selectedClasses: [] };
}

