// The wire protocol between the plugin UI and the server: one module, imported by both.
// JSON text frames; binary payloads (masks, PNGs) travel as base64 strings (see docs/ARCHITECTURE.md
// for the measurement behind that choice). Every request carries an id that its answers repeat.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 8787;
/** Largest text frame the server reads (a 1024 px mask in base64 is ~1.4 MB). */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
export const MAX_VARIATIONS = 8;
export const MAX_SEED = 0xffffffff;
export const DEFAULT_HOST = "127.0.0.1";
/** Path of the WebSocket endpoint; a browser passes the pairing code as `?token=CODE`. */
export const WS_PATH = "/ws";
/**
 * Close code for a frame over MAX_MESSAGE_BYTES: the server cannot read past the limit, so it
 * closes the socket (reason "message_too_large: ...") instead of answering; reconnect and resend smaller.
 */
export const CLOSE_MESSAGE_TOO_LARGE = 1009;
/** Close code when the client stopped reading and the server's send buffer overflowed. */
export const CLOSE_SLOW_CONSUMER = 1013;
/**
 * Close code after a WebSocket with a missing or wrong pairing code: the server accepts the
 * upgrade, sends one `error` ("unauthorized", or "rate_limited" while too many wrong codes were
 * tried) so a browser, which cannot read a refused handshake's status, can tell the person, then
 * closes with this code.
 */
export const CLOSE_UNAUTHORIZED = 4401;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Seed = Type.Integer({ minimum: 0, maximum: MAX_SEED });
const Base64 = (maxLength: number) => Type.String({ maxLength, pattern: "^[A-Za-z0-9+/]*={0,2}$" });

// ---------------------------------------------------------------- conditions

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

/** A photo (base64 PNG, any size at least the pack's resolution; its centre square is used). */
const Photo = Base64(MAX_MESSAGE_BYTES);

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

// ---------------------------------------------------------------- client -> server

/** Use this photo's features and style instead of a seed's: the same person in the new layout. */
export const PhotoSource = Type.Object({ kind: Type.Literal("photo"), photo: Photo }, { additionalProperties: false });
export type PhotoSource = Static<typeof PhotoSource>;

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

// ---------------------------------------------------------------- server -> client

export const PackClassInfo = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  label: Type.String(),
  color: Type.String(),
});
export type PackClassInfo = Static<typeof PackClassInfo>;

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

/** Known warning codes: `no_face_drawn` (a mask or scribble with no skin or face parts). */
export type WarningCode = "no_face_drawn";

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

// ---------------------------------------------------------------- HTTP (scripts, health checks)

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
 * (seed, variations, pack, truncation, format) apply when the body omits them.
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
    format: Type.Optional(Type.Union([Type.Literal("png"), Type.Literal("json")])),
  },
  { additionalProperties: false },
);
export type HttpGenerateBody = Static<typeof HttpGenerateBody>;

/**
 * POST /generate answer with format=json (or Accept: application/json). With format=png (the
 * default) the body is one PNG: the variations side by side, left to right, seeds in the
 * X-Phototype-Seeds header and stage timings (JSON) in X-Phototype-Timings.
 */
export const HttpGenerateResponse = Type.Object({
  pack: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  images: Type.Array(Type.Object({ seed: Seed, png: Type.String() })),
  timings: Timings,
  note: Type.Optional(Type.String()),
  warnings: Type.Optional(Type.Array(Warning)),
});
export type HttpGenerateResponse = Static<typeof HttpGenerateResponse>;

// ---------------------------------------------------------------- parsing

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; id?: string };

// Fields people get wrong most, said the way a person would say them.
const FIELD_RULES: Record<string, string> = {
  "/seed": `seed must be an integer from 0 to ${MAX_SEED}`,
  "/variations": `variations must be an integer from 1 to ${MAX_VARIATIONS}`,
  "/mode": 'mode must be "preview" or "final"',
  "/truncation": "truncation must be a number from 0 to 1",
  "/id": "id must be a string of 1 to 64 characters",
  "/condition/data": "condition.data must be the condition's bytes in base64",
  "/condition/photo": "condition.photo must be a PNG in base64",
  "/photo": "photo must be a PNG in base64",
  "/source/photo": "source.photo must be a PNG in base64",
  "/restyle/classes": "restyle.classes must be 1 to 64 class ids",
  "/restyle/seed": `restyle.seed must be an integer from 0 to ${MAX_SEED}`,
};

function firstError(schema: TSchema, value: unknown): string {
  const e = Value.Errors(schema, value).First();
  if (!e) return "does not match the protocol";
  return FIELD_RULES[e.path] ?? `${e.path || "(message)"}: ${e.message}`;
}

const CONDITION_SCHEMAS: Record<string, TSchema> = {
  mask: MaskCondition,
  sketch: SketchCondition,
  scribble: ScribbleCondition,
  edges: EdgesCondition,
  exemplar: ExemplarCondition,
};

/** A union's error says only "expected union value"; name the field of the condition kind given instead. */
function conditionError(condition: unknown): string | null {
  if (typeof condition !== "object" || condition === null) return null;
  const kind = (condition as { kind?: unknown }).kind;
  if (typeof kind !== "string" || !CONDITION_SCHEMAS[kind]) {
    return `condition.kind must be one of ${Object.keys(CONDITION_SCHEMAS).join(", ")}`;
  }
  const schema = CONDITION_SCHEMAS[kind];
  const e = Value.Errors(schema, condition).First();
  if (!e) return null;
  return FIELD_RULES[`/condition${e.path}`] ?? `/condition${e.path}: ${e.message}`;
}

/** Reads one client frame; never throws. Errors name what is wrong in words a person can act on. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  if (text.length > MAX_MESSAGE_BYTES) {
    return { ok: false, code: "message_too_large", message: `Message is larger than ${MAX_MESSAGE_BYTES} bytes.` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: "bad_json", message: "Message is not valid JSON." };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, code: "bad_message", message: "Message must be a JSON object with a type." };
  }
  const obj = raw as Record<string, unknown>;
  const id = typeof obj.id === "string" && obj.id.length <= 64 ? obj.id : undefined;
  if (obj.type === "generate") {
    if (!Value.Check(GenerateRequest, raw)) {
      return { ok: false, code: "bad_message", id, message: `Generate request is malformed: ${conditionError(obj.condition) ?? firstError(GenerateRequest, raw)}.` };
    }
    return { ok: true, value: raw as GenerateRequest };
  }
  if (obj.type === "invert") {
    if (!Value.Check(InvertRequest, raw)) {
      return { ok: false, code: "bad_message", id, message: `Invert request is malformed: ${firstError(InvertRequest, raw)}.` };
    }
    return { ok: true, value: raw as InvertRequest };
  }
  if (obj.type === "cancel") {
    if (!Value.Check(CancelRequest, raw)) {
      return { ok: false, code: "bad_message", id, message: `Cancel request is malformed: ${firstError(CancelRequest, raw)}.` };
    }
    return { ok: true, value: raw as CancelRequest };
  }
  return { ok: false, code: "unknown_type", id, message: `Unknown message type ${JSON.stringify(obj.type ?? null).slice(0, 40)}.` };
}

/** Reads one server frame (the UI's side); never throws. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: "bad_json", message: "Server sent something that is not JSON." };
  }
  if (!Value.Check(ServerMessage, raw)) {
    return { ok: false, code: "bad_message", message: `Server message is malformed: ${firstError(ServerMessage, raw)}.` };
  }
  return { ok: true, value: raw as ServerMessage };
}

// ---------------------------------------------------------------- base64 (browser and Node alike)
// Node uses Buffer; the browser uses the table-driven code below, which is faster than
// btoa/atob over binary strings and needs no string-of-chars copy (see the bench numbers in
// docs/ARCHITECTURE.md).

const B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = new Uint8Array(B64_CHARS.split("").map((c) => c.charCodeAt(0)));
const B64_VALUES = (() => {
  const v = new Uint8Array(128).fill(255);
  for (let i = 0; i < 64; i++) v[B64_CHARS.charCodeAt(i)] = i;
  return v;
})();

export function bytesToBase64Portable(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const x = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = B64_CODES[x >> 18];
    out[o++] = B64_CODES[(x >> 12) & 63];
    out[o++] = B64_CODES[(x >> 6) & 63];
    out[o++] = B64_CODES[x & 63];
  }
  if (i < n) {
    const x = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out[o++] = B64_CODES[x >> 18];
    out[o++] = B64_CODES[(x >> 12) & 63];
    out[o++] = i + 1 < n ? B64_CODES[(x >> 6) & 63] : 61; // "="
    out[o++] = 61;
  }
  return new TextDecoder().decode(out);
}

/** Throws RangeError on a character outside the base64 alphabet. */
export function base64ToBytesPortable(b64: string): Uint8Array {
  let len = b64.length;
  while (len > 0 && b64.charCodeAt(len - 1) === 61) len--; // "=" padding
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  const T = B64_VALUES;
  let bad = 0; // any 255 (not in the alphabet) sets bit 7
  let o = 0;
  let i = 0;
  for (; i + 3 < len; i += 4) {
    const a = T[b64.charCodeAt(i) & 127] | (b64.charCodeAt(i) & 128);
    const b = T[b64.charCodeAt(i + 1) & 127] | (b64.charCodeAt(i + 1) & 128);
    const c = T[b64.charCodeAt(i + 2) & 127] | (b64.charCodeAt(i + 2) & 128);
    const d = T[b64.charCodeAt(i + 3) & 127] | (b64.charCodeAt(i + 3) & 128);
    bad |= a | b | c | d;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | (d & 63);
  }
  const rest = len - i;
  if (rest === 1) bad |= 128; // one leftover character carries no whole byte
  if (rest >= 2) {
    const a = T[b64.charCodeAt(i) & 127] | (b64.charCodeAt(i) & 128);
    const b = T[b64.charCodeAt(i + 1) & 127] | (b64.charCodeAt(i + 1) & 128);
    const c = rest === 3 ? T[b64.charCodeAt(i + 2) & 127] | (b64.charCodeAt(i + 2) & 128) : 0;
    bad |= a | b | c;
    out[o++] = (a << 2) | (b >> 4);
    if (rest === 3) out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  if (bad & 128) throw new RangeError("invalid base64");
  return o === out.length ? out : out.subarray(0, o);
}

export function bytesToBase64(bytes: Uint8Array): string {
  if (typeof Buffer !== "undefined") return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return bytesToBase64Portable(bytes);
}

export function base64ToBytes(b64: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(b64, "base64"));
  return base64ToBytesPortable(b64);
}
