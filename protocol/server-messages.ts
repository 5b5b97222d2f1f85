// Server -> client: welcome (packs), progress, image, layout, done, error.
import { Type, type Static } from "@sinclair/typebox";
import { Id, Seed } from "./fields.ts";
import { PROTOCOL_VERSION } from "./limits.ts";

export const PackClassInfo = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  label: Type.String(),
  color: Type.String(),
});
export type PackClassInfo = Static<typeof PackClassInfo>;

/**
 * One face part in two classes, one a side (eyes, brows, ears): the palette shows it once, as
 * `label`, and the server gives each drawn one the class of the side of the face it lies on.
 */
export const SidePairInfo = Type.Object({
  label: Type.String(),
  /** Class id of the part on the image's left. */
  imageLeft: Type.Integer(),
  /** Class id of the part on the image's right. */
  imageRight: Type.Integer(),
});
export type SidePairInfo = Static<typeof SidePairInfo>;

/** What a pack can do besides its conditions: `exemplar` (it has an encoder), `edit` (encoder and parser: invert, photo source), `restyle`. */
export const Capability = Type.Union([Type.Literal("exemplar"), Type.Literal("edit"), Type.Literal("restyle")]);
export type Capability = Static<typeof Capability>;

export const PackInfo = Type.Object({
  name: Type.String(),
  title: Type.String(),
  version: Type.String(),
  quality: Type.String(),
  license: Type.String(),
  resolution: Type.Integer(),
  conditions: Type.Array(Type.String()),
  classes: Type.Array(PackClassInfo),
  truncation: Type.Number(),
  // Optional on the wire so a newer plugin still reads an older server's welcome.
  /** Class id of uncovered area, null when the pack has no background class. */
  backgroundClass: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  /** False for every pack trained on CelebAMask-HQ: results are for non-commercial use only. */
  commercialUse: Type.Optional(Type.Boolean()),
  capabilities: Type.Optional(Type.Array(Capability)),
  sidePairs: Type.Optional(Type.Array(SidePairInfo)),
});
export type PackInfo = Static<typeof PackInfo>;

export const Welcome = Type.Object({
  type: Type.Literal("welcome"),
  protocol: Type.Literal(PROTOCOL_VERSION),
  server: Type.String(),
  provider: Type.String(),
  defaultPack: Type.Union([Type.String(), Type.Null()]),
  packs: Type.Array(PackInfo),
});
export type Welcome = Static<typeof Welcome>;

export const Stage = Type.Union([
  Type.Literal("queued"),
  /** Reading a photo: encoder and face parser. */
  Type.Literal("reading"),
  Type.Literal("mapping"),
  Type.Literal("generating"),
  Type.Literal("encoding"),
  /** Turning a photo's layout into shapes (invert). */
  Type.Literal("tracing"),
]);
export type Stage = Static<typeof Stage>;

export const Progress = Type.Object({
  type: Type.Literal("progress"),
  id: Id,
  stage: Stage,
  /** Images finished so far, of `total`. */
  done: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 1 }),
  /** Requests ahead of this one (stage "queued" only). */
  position: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Progress = Static<typeof Progress>;

export const Timings = Type.Record(Type.String(), Type.Number());
export type Timings = Static<typeof Timings>;

export const ImageResult = Type.Object({
  type: Type.Literal("image"),
  id: Id,
  index: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 1 }),
  seed: Seed,
  pack: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  mode: Type.Union([Type.Literal("preview"), Type.Literal("final")]),
  png: Type.String(),
  /** Milliseconds per pipeline stage for the batch this image came from. */
  timings: Timings,
  /** Restyle requests: the seed the restyled region came from. */
  restyleSeed: Type.Optional(Seed),
  /** Fit requests: the pack parser's layout mIoU (0..1) of this image against the drawn mask. */
  fitScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});
export type ImageResult = Static<typeof ImageResult>;

/** One region of a layout: a closed ring x0, y0, x1, y1, … in pixels of the pack's resolution. */
export const LayoutPolygon = Type.Object({ classId: Type.Integer(), points: Type.Array(Type.Number()) });
export type LayoutPolygon = Static<typeof LayoutPolygon>;

/**
 * Answer to `invert`: the photo's classes (one byte a pixel, base64) and the same layout as
 * polygons, largest first, holes dropped: painted in order they rebuild the map. The pack's
 * background class has no polygons (uncovered area is background).
 */
export const LayoutResult = Type.Object({
  type: Type.Literal("layout"),
  id: Id,
  pack: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  data: Type.String(),
  polygons: Type.Array(LayoutPolygon),
  timings: Timings,
});
export type LayoutResult = Static<typeof LayoutResult>;

/** Known warning codes: `no_face_drawn` (a mask or scribble with no skin or face parts), `fit_not_applied` (fit asked for a condition without a class map). */
export type WarningCode = "no_face_drawn" | "seeds_wrapped" | "looks_like_photo" | "fit_not_applied";

/**
 * Something worth telling the person about a request that still ran. The code is a plain string
 * on the wire, so a newer server's codes do not break an older reader.
 */
export const Warning = Type.Object({ code: Type.String(), message: Type.String() });
export type Warning = Static<typeof Warning> & { code: WarningCode | (string & {}) };

export const Done = Type.Object({
  type: Type.Literal("done"),
  id: Id,
  totalMs: Type.Number(),
  /** Non-fatal: the images were made, but the person should know (see WarningCode). */
  warnings: Type.Optional(Type.Array(Warning)),
});
export type Done = Static<typeof Done>;

export const ErrorCode = Type.Union([
  Type.Literal("bad_json"),
  Type.Literal("bad_message"),
  Type.Literal("unknown_type"),
  Type.Literal("message_too_large"),
  Type.Literal("unknown_pack"),
  Type.Literal("unsupported_condition"),
  Type.Literal("bad_mask_size"),
  Type.Literal("bad_class_id"),
  Type.Literal("queue_full"),
  Type.Literal("rate_limited"),
  Type.Literal("replaced"),
  Type.Literal("cancelled"),
  Type.Literal("timeout"),
  Type.Literal("duplicate_id"),
  Type.Literal("unknown_request"),
  Type.Literal("internal"),
  /** A photo that is not a readable PNG. */
  Type.Literal("bad_image"),
  /** A photo smaller than the pack's resolution. */
  Type.Literal("image_too_small"),
  /** An image whose header declares more pixels than the server decodes (refused unread). */
  Type.Literal("image_too_large"),
  /** A photo without a face the parser can find (or a flat picture). */
  Type.Literal("no_face"),
  /** A sketch or scribble with nothing drawn. */
  Type.Literal("empty_condition"),
  /** A restyle whose classes are nowhere in the layout. */
  Type.Literal("empty_region"),
  /** The pack lacks the network a request needs (an encoder, a parser). */
  Type.Literal("unsupported_feature"),
  /** serve --engine: the engine that runs the networks did not answer (down, restarting, refused). */
  Type.Literal("engine_unavailable"),
  /** serve --engine: the engine took longer than --engine-timeout for one network run. */
  Type.Literal("engine_timeout"),
  /** A wrong or missing pairing code (secret): WebSocket error before closing with CLOSE_UNAUTHORIZED; HTTP 401. */
  Type.Literal("unauthorized"),
  // HTTP only (refused requests); the WebSocket never sends these.
  Type.Literal("forbidden_origin"),
  /** A Host header that is not the server's own address (DNS rebinding). */
  Type.Literal("forbidden_host"),
  Type.Literal("not_found"),
]);
export type ErrorCode = Static<typeof ErrorCode>;

export const ErrorMessage = Type.Object({
  type: Type.Literal("error"),
  /** Absent when the message that failed had no readable id. */
  id: Type.Optional(Type.String()),
  code: ErrorCode,
  message: Type.String(),
});
export type ErrorMessage = Static<typeof ErrorMessage>;

export const ServerMessage = Type.Union([Welcome, Progress, ImageResult, LayoutResult, Done, ErrorMessage]);
export type ServerMessage = Static<typeof ServerMessage>;
