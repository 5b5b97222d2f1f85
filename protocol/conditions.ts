// What a generation is conditioned on: drawn maps (mask, sketch, scribble) or photos (edges, exemplar).
import { Type, type Static } from "@sinclair/typebox";
import { Base64, Photo } from "./fields.ts";
import { MAX_MESSAGE_BYTES } from "./limits.ts";

const Side = Type.Integer({ minimum: 1, maximum: 4096 });

/** A class-id mask: one byte a pixel, row-major, width x height = the pack's resolution. */
export const MaskCondition = Type.Object(
  {
    kind: Type.Literal("mask"),
    width: Side,
    height: Side,
    data: Base64(MAX_MESSAGE_BYTES),
  },
  { additionalProperties: false },
);
export type MaskCondition = Static<typeof MaskCondition>;

/** Black pen strokes: one byte a pixel, nonzero = stroke, 0 = paper; the pack's resolution. */
export const SketchCondition = Type.Object(
  { kind: Type.Literal("sketch"), width: Side, height: Side, data: Base64(MAX_MESSAGE_BYTES) },
  { additionalProperties: false },
);
export type SketchCondition = Static<typeof SketchCondition>;

/** A few strokes in class colours: one byte a pixel, the class id where drawn, NO_STROKE elsewhere. */
export const ScribbleCondition = Type.Object(
  { kind: Type.Literal("scribble"), width: Side, height: Side, data: Base64(MAX_MESSAGE_BYTES) },
  { additionalProperties: false },
);
export type ScribbleCondition = Static<typeof ScribbleCondition>;

/** Scribble pixels nobody drew on. */
export const NO_STROKE = 255;

/** A photo whose edge map (Canny, computed by the server) is the condition. */
export const EdgesCondition = Type.Object({ kind: Type.Literal("edges"), photo: Photo }, { additionalProperties: false });
export type EdgesCondition = Static<typeof EdgesCondition>;

/** A photo whose own layout (encoder -> proxy mask) is given to new seeds. */
export const ExemplarCondition = Type.Object({ kind: Type.Literal("exemplar"), photo: Photo }, { additionalProperties: false });
export type ExemplarCondition = Static<typeof ExemplarCondition>;

export const Condition = Type.Union([MaskCondition, SketchCondition, ScribbleCondition, EdgesCondition, ExemplarCondition]);
export type Condition = Static<typeof Condition>;
export type ConditionKind = Condition["kind"];

/** Conditions drawn as one byte a pixel at the pack's resolution. */
export type DrawnCondition = MaskCondition | SketchCondition | ScribbleCondition;
