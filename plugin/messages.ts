// Messages between the plugin's main thread (plugin/) and its UI iframe (ui/), in the style of
// create-figma-plugin's typed emit/on: one union a direction, discriminated by `type`.
// Types only, so both bundles import it for free.
import type { Affine } from "./lib/transform.ts";
import type { SquareCrop } from "./lib/fit.ts";

/** Figma colour channels, 0..1. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** The top-most visible fill of a shape, which is what the designer sees. */
export type ShapeFill = { kind: "solid"; color: Rgb; opacity: number } | { kind: "other"; paint: string };

export interface ShapePath {
  /** SVG path data in the shape's own coordinates (Figma's `fillGeometry`). */
  data: string;
  windingRule: "NONZERO" | "EVENODD";
}

export interface ShapeSnapshot {
  id: string;
  name: string;
  type: string;
  fill: ShapeFill;
  paths: ShapePath[];
  /** Shape-local coordinates → the unit square of the frame's crop. */
  toUnit: Affine;
}

/** The photo an "Edit · …" frame was made from (pluginData on the frame Phototype created). */
export interface PhotoLink {
  nodeId: string;
  name: string;
  /** False when the photo was deleted since: generation falls back to seeds. */
  present: boolean;
}

export interface FrameInfo {
  id: string;
  name: string;
  width: number;
  height: number;
  /** The square of the frame the networks see (centre crop), in frame coordinates. */
  crop: SquareCrop;
  /** Set on frames made by "Edit this photo": Generate uses that photo's identity. */
  source?: PhotoLink | null;
  /** Seed of the top-most Phototype result in the frame: what "Restyle this region" changes. */
  lastSeed?: number | null;
}

export interface SkippedCounts {
  /** Text layers are notes, not face parts. */
  text: number;
  /** Shapes with no visible fill (outlines only) cover no area. */
  noFill: number;
  /** Masks clip other layers; they are not parts themselves. */
  masks: number;
}

export interface FrameSnapshot {
  frame: FrameInfo;
  /** In paint order: later shapes cover earlier ones. */
  shapes: ShapeSnapshot[];
  skipped: SkippedCounts;
  /** Ids of the shapes selected in the frame (a restyle takes their classes). */
  selectedIds?: string[];
}

/** A centre line to draw as a stroke: SVG path data in the shape's own coordinates (open or closed). */
export interface StrokePath {
  data: string;
}

/** A shape's visible stroke: what Sketch (dark strokes) and Scribble (palette-coloured strokes) read. */
export interface StrokeSnapshot {
  id: string;
  name: string;
  type: string;
  /** The top-most visible stroke paint, as `ShapeFill` describes fills. */
  paint: ShapeFill;
  paths: StrokePath[];
  /** Shape-local coordinates → the unit square of the frame's crop. */
  toUnit: Affine;
}

export interface StrokeSkipped {
  text: number;
  /** Shapes with a fill but no visible stroke: not pen lines. */
  noStroke: number;
}

export interface StrokesSnapshot {
  frame: FrameInfo;
  /** In paint order. */
  strokes: StrokeSnapshot[];
  skipped: StrokeSkipped;
}

export type StrokesRead = { ok: true; snapshot: StrokesSnapshot } | { ok: false; problem: FrameProblem };

export type PhotoProblemCode = "no_image" | "several_images" | "photo_gone" | "export_failed";

export interface PhotoProblem {
  code: PhotoProblemCode;
  message: string;
}

export interface PhotoExport {
  nodeId: string;
  name: string;
  /** PNG, at most `maxSide` px a side, never larger than the placed image's own pixels. */
  png: Uint8Array;
}

export type PhotoRead = { ok: true; photo: PhotoExport } | { ok: false; problem: PhotoProblem };

/** One region of a photo's layout, in pixels of `resolution` (the server's `layout` polygons). */
export interface LayoutShape {
  classId: number;
  points: number[];
}

export type FrameProblemCode =
  | "no_selection"
  | "no_strokes"
  | "not_in_frame"
  | "several_frames"
  | "frame_gone"
  | "empty_frame"
  | "too_many_shapes"
  | "frame_too_large"
  | "frame_too_small";

export interface FrameProblem {
  code: FrameProblemCode;
  message: string;
}

export type FrameRead = { ok: true; snapshot: FrameSnapshot } | { ok: false; problem: FrameProblem };

export interface InsertImage {
  png: Uint8Array;
  seed: number;
  /** Replaces "seed N" in the layer name ("seed 5 · Hair from seed 301", "identity of “Portrait”"). */
  label?: string;
}

/** Where results land: over a frame's crop square (then to its right), or in a row beside a node. */
export type InsertTarget = { kind: "frame"; id: string } | { kind: "beside"; id: string };

export type StorageKey = "settings" | "history";

// ------------------------------------------------------------------ UI → main thread

export type UiToMain =
  | { type: "ui-ready" }
  | { type: "read-frame"; token: number }
  | { type: "read-strokes"; token: number }
  /** The selected photo, or the one with id `nodeId` (an edit frame's photo), as PNG up to `maxSide` px. */
  | { type: "read-photo"; token: number; nodeId?: string; maxSide: number }
  | { type: "live"; on: boolean }
  | { type: "insert"; requestId: string; frameId: string | null; target?: InsertTarget; pack: string; images: InsertImage[] }
  | {
      type: "create-layout";
      requestId: string;
      photoNodeId: string;
      resolution: number;
      shapes: LayoutShape[];
      classes: { id: number; label: string; color: string }[];
      /** Fill of the new frame: the pack's background colour, so uncovered area reads as background. */
      background: string | null;
    }
  /** A palette click; `paint: "stroke"` (Scribble) recolours the selected strokes instead of fills. */
  | { type: "apply-class"; className: string; label: string; color: string; paint?: "fill" | "stroke" }
  | { type: "load"; key: StorageKey }
  | { type: "save"; key: StorageKey; value: unknown };

// ------------------------------------------------------------------ main thread → UI

export type MainToUi =
  | { type: "selection"; frame: FrameInfo | null; problem: FrameProblem | null; selectedShapes: number }
  | { type: "frame-read"; token: number; result: FrameRead }
  | { type: "strokes-read"; token: number; result: StrokesRead }
  | { type: "photo-read"; token: number; result: PhotoRead }
  | { type: "layout-created"; requestId: string; frameId: string; name: string; shapes: number }
  | { type: "layout-failed"; requestId: string; message: string }
  | { type: "frame-changed" }
  | { type: "inserted"; requestId: string; count: number; names: string[]; placement?: "frame" | "beside" }
  | { type: "insert-failed"; requestId: string; message: string }
  | { type: "class-applied"; action: "added" | "recoloured"; count: number; label: string }
  | { type: "class-failed"; message: string }
  | { type: "loaded"; key: StorageKey; value: unknown };

export type MessageOf<Union extends { type: string }, T extends Union["type"]> = Extract<Union, { type: T }>;

/** Name and pluginData key of the layers Phototype creates; readers skip them, watchers ignore them. */
export const RESULT_MARK_KEY = "phototype";
export const RESULT_MARK_VALUE = "result";
/** pluginData on a result: its seed (a restyle of the frame starts from the top-most one). */
export const RESULT_SEED_KEY = "phototype-seed";
/**
 * pluginData on a frame Phototype made with "Edit this photo": the photo's node id. Only ever set
 * on frames the plugin created, never on a user's own nodes.
 */
export const PHOTO_LINK_KEY = "phototype-photo";
/** pluginData beside PHOTO_LINK_KEY: the photo's name when the frame was made, for messages. */
export const PHOTO_NAME_KEY = "phototype-photo-name";
