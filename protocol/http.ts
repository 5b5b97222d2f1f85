// The HTTP bodies (scripts, health checks): GET /health, GET /packs, POST /generate.
import { Type, type Static } from "@sinclair/typebox";
import { Fit, PhotoSource, Restyle } from "./client-messages.ts";
import { Condition } from "./conditions.ts";
import { Base64, Seed } from "./fields.ts";
import { MAX_MESSAGE_BYTES, MAX_VARIATIONS, PROTOCOL_VERSION } from "./limits.ts";
import { PackInfo, Timings, Warning } from "./server-messages.ts";

/** GET /health */
export const HealthResponse = Type.Object({
  status: Type.Literal("ok"),
  server: Type.String(),
  protocol: Type.Literal(PROTOCOL_VERSION),
  provider: Type.String(),
  defaultPack: Type.Union([Type.String(), Type.Null()]),
  packs: Type.Array(Type.String()),
  /** Packs found but refused, with the reason (the server log has the same line). */
  refused: Type.Array(Type.Object({ folder: Type.String(), reason: Type.String() })),
  queue: Type.Object({
    waiting: Type.Integer(),
    running: Type.Integer(),
    concurrency: Type.Integer(),
    maxWaiting: Type.Integer(),
  }),
  uptimeS: Type.Number(),
  /** serve --engine: the engine's URL and whether it answers for every pack (message: why not). */
  engine: Type.Optional(
    Type.Object({
      url: Type.String(),
      reachable: Type.Boolean(),
      message: Type.Optional(Type.String()),
      /** Network calls sent, and how many shared an engine run on average (its @serve.batch). */
      calls: Type.Integer(),
      callsPerRun: Type.Number(),
    }),
  ),
});
export type HealthResponse = Static<typeof HealthResponse>;

/** GET /packs */
export const PacksResponse = Type.Object({
  defaultPack: Type.Union([Type.String(), Type.Null()]),
  packs: Type.Array(PackInfo),
});
export type PacksResponse = Static<typeof PacksResponse>;

/**
 * POST /generate with Content-Type application/json. Exactly one of `mask` (class ids, flat
 * row-major or one array a row), `condition` (as on the WebSocket) or `png` (base64 PNG: 8-bit
 * greyscale class ids, or colours snapped to the palette). Query parameters of the same names
 * (seed, variations, pack, truncation, fit, format) apply when the body omits them.
 */
export const HttpGenerateBody = Type.Object(
  {
    mask: Type.Optional(
      Type.Union([
        Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { maxItems: 4096 * 4096 }),
        Type.Array(Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { maxItems: 4096 }), { maxItems: 4096 }),
      ]),
    ),
    condition: Type.Optional(Condition),
    png: Type.Optional(Base64(MAX_MESSAGE_BYTES)),
    source: Type.Optional(PhotoSource),
    restyle: Type.Optional(Restyle),
    pack: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    seed: Type.Optional(Seed),
    variations: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VARIATIONS })),
    truncation: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    fit: Type.Optional(Fit),
    format: Type.Optional(Type.Union([Type.Literal("png"), Type.Literal("json")])),
  },
  { additionalProperties: false },
);
export type HttpGenerateBody = Static<typeof HttpGenerateBody>;

/**
 * POST /generate answer with format=json (or Accept: application/json). With format=png (the
 * default) the body is one PNG: the variations side by side, left to right, seeds in the
 * X-Phototype-Seeds header and stage timings (JSON) in X-Phototype-Timings. With fit, each kept
 * image's fitScore (the parser's layout mIoU, 0..1) is in X-Phototype-Fit-Scores, in the same order.
 */
export const HttpGenerateResponse = Type.Object({
  pack: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  images: Type.Array(Type.Object({ seed: Seed, png: Type.String(), fitScore: Type.Optional(Type.Number()) })),
  timings: Timings,
  note: Type.Optional(Type.String()),
  warnings: Type.Optional(Type.Array(Warning)),
});
export type HttpGenerateResponse = Static<typeof HttpGenerateResponse>;
