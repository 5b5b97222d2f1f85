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

export interface FrameInfo {
  id: string;
  name: string;
  width: number;
  height: number;
  /** The square of the frame the networks see (centre crop), in frame coordinates. */
  crop: SquareCrop;
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
}

export type FrameProblemCode =
  | "no_selection"
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
}

export type StorageKey = "settings" | "history";

// ------------------------------------------------------------------ UI → main thread

export type UiToMain =
  | { type: "ui-ready" }
  | { type: "read-frame"; token: number }
  | { type: "live"; on: boolean }
  | { type: "insert"; requestId: string; frameId: string | null; pack: string; images: InsertImage[] }
  | { type: "apply-class"; className: string; label: string; color: string }
  | { type: "load"; key: StorageKey }
  | { type: "save"; key: StorageKey; value: unknown };

// ------------------------------------------------------------------ main thread → UI

export type MainToUi =
  | { type: "selection"; frame: FrameInfo | null; problem: FrameProblem | null; selectedShapes: number }
  | { type: "frame-read"; token: number; result: FrameRead }
  | { type: "frame-changed" }
  | { type: "inserted"; requestId: string; count: number; names: string[] }
  | { type: "insert-failed"; requestId: string; message: string }
  | { type: "class-applied"; action: "added" | "recoloured"; count: number; label: string }
  | { type: "class-failed"; message: string }
  | { type: "loaded"; key: StorageKey; value: unknown };

export type MessageOf<Union extends { type: string }, T extends Union["type"]> = Extract<Union, { type: T }>;

/** Name and pluginData key of the layers Phototype creates; readers skip them, watchers ignore them. */
export const RESULT_MARK_KEY = "phototype";
export const RESULT_MARK_VALUE = "result";
