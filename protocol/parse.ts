// Reading one frame from either side: checked against the schemas, never throws, and errors name
// the field that is wrong in words a person can act on.
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { CancelRequest, ClientMessage, GenerateRequest, InvertRequest } from "./client-messages.ts";
import { EdgesCondition, ExemplarCondition, MaskCondition, ScribbleCondition, SketchCondition } from "./conditions.ts";
import { jsonShapeProblem, MESSAGE_SHAPE } from "./json-shape.ts";
import { MAX_FIT, MAX_MESSAGE_BYTES, MAX_SEED, MAX_VARIATIONS } from "./limits.ts";
import { ServerMessage, type ErrorCode } from "./server-messages.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; id?: string };

// Fields people get wrong most, said the way a person would say them.
const FIELD_RULES: Record<string, string> = {
  "/seed": `seed must be an integer from 0 to ${MAX_SEED}`,
  "/variations": `variations must be an integer from 1 to ${MAX_VARIATIONS}`,
  "/mode": 'mode must be "preview" or "final"',
  "/truncation": "truncation must be a number from 0 to 1",
  "/fit": `fit must be an integer from 1 (off) to ${MAX_FIT}: candidates made per kept image`,
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
  const shape = jsonShapeProblem(text, MESSAGE_SHAPE);
  if (shape) return { ok: false, code: "bad_message", message: `Message is refused unread: ${shape}; no message of the protocol does.` };
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
