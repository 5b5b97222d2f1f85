// Client -> server: generate, invert, cancel.
import { Type, type Static } from "@sinclair/typebox";
import { Condition } from "./conditions.ts";
import { Id, Photo, Seed } from "./fields.ts";
import { MAX_FIT, MAX_VARIATIONS } from "./limits.ts";

/** Use this photo's features and style instead of a seed's: the same person in the new layout. */
export const PhotoSource = Type.Object({ kind: Type.Literal("photo"), photo: Photo }, { additionalProperties: false });
export type PhotoSource = Static<typeof PhotoSource>;

/**
 * Fit the layout: make this many candidates per kept image (seeds seed..seed + fit * variations - 1)
 * and keep the `variations` whose layout the pack's parser finds closest to the drawn mask, best
 * first; each image says its own seed. 1 is off. Only a mask condition has a class map to compare
 * with: for any other the request runs without it and `done` carries a `fit_not_applied` warning.
 */
export const Fit = Type.Integer({ minimum: 1, maximum: MAX_FIT });

/**
 * Resample the region of these classes from another seed, rearranged into the same layout; the
 * rest of the image and the style stay. Variation i uses seed + i for the region, the request's
 * seed (or source photo) for the rest.
 */
export const Restyle = Type.Object(
  {
    classes: Type.Array(Type.Integer({ minimum: 0, maximum: 254 }), { minItems: 1, maxItems: 64 }),
    seed: Seed,
  },
  { additionalProperties: false },
);
export type Restyle = Static<typeof Restyle>;

export const GenerateRequest = Type.Object(
  {
    type: Type.Literal("generate"),
    id: Id,
    pack: Type.String({ minLength: 1, maxLength: 64 }),
    condition: Condition,
    /** First seed; variation i uses seed + i (mod 2^32). */
    seed: Seed,
    variations: Type.Integer({ minimum: 1, maximum: MAX_VARIATIONS }),
    /** preview: may be replaced by a newer preview from the same client while waiting. */
    mode: Type.Union([Type.Literal("preview"), Type.Literal("final")]),
    truncation: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    source: Type.Optional(PhotoSource),
    restyle: Type.Optional(Restyle),
    fit: Type.Optional(Fit),
  },
  { additionalProperties: false },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

/** A photo's semantic layout: answered by one `layout` message (or an error). */
export const InvertRequest = Type.Object(
  { type: Type.Literal("invert"), id: Id, pack: Type.String({ minLength: 1, maxLength: 64 }), photo: Photo },
  { additionalProperties: false },
);
export type InvertRequest = Static<typeof InvertRequest>;

export const CancelRequest = Type.Object({ type: Type.Literal("cancel"), id: Id }, { additionalProperties: false });
export type CancelRequest = Static<typeof CancelRequest>;

export const ClientMessage = Type.Union([GenerateRequest, InvertRequest, CancelRequest]);
export type ClientMessage = Static<typeof ClientMessage>;
