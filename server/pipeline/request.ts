// What a generation is asked for and answers with, and the condition a request stands for.
// Its own module so that generate.ts and batch.ts (which generate.ts runs drawn layouts through)
// both use these without importing each other.
import type { StageTimings } from "./hooks.ts";
import type { RgbImage } from "./photo.ts";

/** What the layout comes from. Drawn conditions are R x R bytes; photos are pack-sized RGB squares. */
export type ConditionInput =
  | { kind: "mask" | "sketch" | "scribble"; data: Uint8Array }
  | { kind: "edges"; photo: RgbImage }
  | { kind: "exemplar"; photo: RgbImage };

export interface RestyleInput {
  /** Class ids whose region takes its features from `seed`. */
  classes: readonly number[];
  /** Variation i restyles with seed + i (mod 2^32). */
  seed: number;
}

export interface GenerateInput {
  condition?: ConditionInput;
  /** Shorthand for condition { kind: kind ?? "mask", data: mask } (scripts and the CLI use it). */
  kind?: string;
  mask?: Uint8Array;
  seed: number;
  variations: number;
  /** Defaults to the pack's truncation. */
  truncation?: number;
  /** The photo whose features and style are used instead of a seed's: the same person, new layout. */
  source?: { photo: RgbImage };
  restyle?: RestyleInput;
  /**
   * Fit the layout (fit.ts): k candidates per kept image, the n closest to the drawn mask kept.
   * Mask conditions with new faces from seeds only; absent or 1 is off.
   */
  fit?: number;
}

export interface GeneratedImage {
  seed: number;
  /** The seed the restyled region came from. */
  restyleSeed?: number;
  /** Fit requests: the pack parser's layout mIoU (0..1) against the drawn mask. */
  fitScore?: number;
  width: number;
  height: number;
  png: Uint8Array;
}

export interface GenerateOutput {
  images: GeneratedImage[];
  timings: StageTimings;
}

/** The condition of a request, from `condition` or the `mask` shorthand. */
export function conditionOf(input: GenerateInput): ConditionInput {
  if (input.condition) return input.condition;
  if (!input.mask) throw new Error("generate needs a condition or a mask");
  const kind = (input.kind ?? "mask") as "mask" | "sketch" | "scribble";
  return { kind, data: input.mask };
}
