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

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Seed = Type.Integer({ minimum: 0, maximum: MAX_SEED });
const Base64 = (maxLength: number) => Type.String({ maxLength, pattern: "^[A-Za-z0-9+/]*={0,2}$" });

// ---------------------------------------------------------------- conditions

/** A class-id mask: one byte a pixel, row-major, width x height = the pack's resolution. */
export const MaskCondition = Type.Object(
  {
    kind: Type.Literal("mask"),
    width: Type.Integer({ minimum: 1, maximum: 4096 }),
    height: Type.Integer({ minimum: 1, maximum: 4096 }),
    data: Base64(MAX_MESSAGE_BYTES),
  },
  { additionalProperties: false },
);
export type MaskCondition = Static<typeof MaskCondition>;

export const Condition = Type.Union([MaskCondition]);
export type Condition = Static<typeof Condition>;

// ---------------------------------------------------------------- client -> server

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
  },
  { additionalProperties: false },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

export const CancelRequest = Type.Object({ type: Type.Literal("cancel"), id: Id }, { additionalProperties: false });
export type CancelRequest = Static<typeof CancelRequest>;

export const ClientMessage = Type.Union([GenerateRequest, CancelRequest]);
export type ClientMessage = Static<typeof ClientMessage>;

// ---------------------------------------------------------------- server -> client

export const PackClassInfo = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  label: Type.String(),
  color: Type.String(),
});
export type PackClassInfo = Static<typeof PackClassInfo>;

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
  Type.Literal("mapping"),
  Type.Literal("generating"),
  Type.Literal("encoding"),
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
});
export type ImageResult = Static<typeof ImageResult>;

export const Done = Type.Object({ type: Type.Literal("done"), id: Id, totalMs: Type.Number() });
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

export const ServerMessage = Type.Union([Welcome, Progress, ImageResult, Done, ErrorMessage]);
export type ServerMessage = Static<typeof ServerMessage>;

// ---------------------------------------------------------------- parsing

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; id?: string };

function firstError(schema: TSchema, value: unknown): string {
  const e = Value.Errors(schema, value).First();
  return e ? `${e.path || "(message)"}: ${e.message}` : "does not match the protocol";
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
      return { ok: false, code: "bad_message", id, message: `Generate request is malformed: ${firstError(GenerateRequest, raw)}.` };
    }
    return { ok: true, value: raw as GenerateRequest };
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

export function bytesToBase64(bytes: Uint8Array): string {
  if (typeof Buffer !== "undefined") return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(b64, "base64"));
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
