// POST /generate input: raw class-id bytes, JSON, or a PNG, plus query parameters, read into
// one engine request. Never rejects: every problem comes back as a protocol error. A PNG mask is
// decoded by the engine's decode worker (header budget first), never on the event loop.
import { randomInt } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { imageFormat, otherImageKind } from "./pipeline/image-header.ts";
import { base64ToBytes, HttpGenerateBody, jsonShapeProblem, MAX_FIT, MAX_SEED, MAX_VARIATIONS, type ErrorCode } from "../protocol/index.ts";
import type { Engine } from "./engine.ts";
import type { JobRequest } from "./jobs.ts";

export interface HttpGenerateInput {
  request: JobRequest;
  format: "png" | "json";
  note?: string;
  /** A PNG mask that looks like a photo (mask.ts), said with the answer. */
  warning?: string;
}

type Result = { ok: true; value: HttpGenerateInput } | { ok: false; code: ErrorCode; message: string };

const bad = (code: ErrorCode, message: string): Result => ({ ok: false, code, message });

/** A query parameter as an integer in [min, max]; undefined when absent; an error sentence when wrong. */
function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined | string {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) return `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 20))}.`;
  return Number(v);
}

function numParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined | string {
  const v = query.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) return `${name} must be a number from ${min} to ${max}.`;
  return n;
}

/** The query parameters POST /generate reads; any other is refused, so a typo (`?n=4`) is not silently ignored. */
export const GENERATE_PARAMS = ["seed", "variations", "truncation", "fit", "width", "height", "format", "pack"];

export async function readGenerateInput(engine: Engine, body: Uint8Array, contentType: string, query: URLSearchParams, requestId: string): Promise<Result> {
  const unknown = [...new Set(query.keys())].filter((k) => !GENERATE_PARAMS.includes(k));
  if (unknown.length) {
    const hint = unknown.includes("n") ? " (the number of images is variations)" : "";
    return bad("bad_message", `Unknown query parameter ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}${hint}; POST /generate takes ${GENERATE_PARAMS.join(", ")}.`);
  }
  if (body.length === 0) return bad("bad_message", "The request body is empty; send the mask as a PNG, as raw class-id bytes, or as JSON.");
  const other = otherImageKind(body);
  if (other) return bad("bad_image", `The mask is ${other}; send it as PNG (the plugin exports PNG), or as raw class-id bytes.`);
  const params = {
    seed: intParam(query, "seed", 0, MAX_SEED),
    variations: intParam(query, "variations", 1, MAX_VARIATIONS),
    truncation: numParam(query, "truncation", 0, 1),
    fit: intParam(query, "fit", 1, MAX_FIT),
    width: intParam(query, "width", 1, 4096),
    height: intParam(query, "height", 1, 4096),
  };
  for (const v of Object.values(params)) if (typeof v === "string") return bad("bad_message", v);
  const num = (v: number | string | undefined) => v as number | undefined;
  const queryFormat = query.get("format");
  if (queryFormat !== null && queryFormat !== "png" && queryFormat !== "json") return bad("bad_message", "format must be png or json.");

  let json: HttpGenerateBody = {};
  // A JPEG body goes the image way too: refused by its header (size, then format), never as raw bytes.
  const isImage = imageFormat(body) !== null;
  if (!isImage && /json/i.test(contentType)) {
    const text = new TextDecoder().decode(body);
    // A JSON mask is one number a pixel (at most 4096 x 4096, within the 2 MiB body), nested 2 deep.
    const shape = jsonShapeProblem(text, { maxDepth: 8, maxItems: body.length });
    if (shape) return bad("bad_json", `The JSON body is refused unread: ${shape}.`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return bad("bad_json", "The request body is not valid JSON.");
    }
    if (!Value.Check(HttpGenerateBody, raw)) {
      const e = Value.Errors(HttpGenerateBody, raw).First();
      return bad("bad_message", `The JSON body is malformed: ${e ? `${e.path || "(body)"}: ${e.message}` : "unknown field"}.`);
    }
    json = raw as HttpGenerateBody;
    const given = [json.mask, json.condition, json.png].filter((x) => x !== undefined).length;
    if (given !== 1) return bad("bad_message", "The JSON body needs exactly one of mask, condition or png.");
  }

  const packName = json.pack ?? query.get("pack") ?? engine.defaultPack ?? undefined;
  const rt = packName ? engine.runtimes.get(packName) : undefined;
  if (!packName || !rt) {
    return bad("unknown_pack", `There is no pack named ${JSON.stringify(packName ?? "")} on this server (packs: ${[...engine.runtimes.keys()].join(", ") || "none"}).`);
  }
  const R = rt.pack.manifest.resolution;

  let mask: Uint8Array | undefined;
  let condition: JobRequest["condition"] | undefined;
  let width = R, height = R;
  let note: string | undefined;
  let warning: string | undefined;
  const pngBytes = isImage ? body : json.png !== undefined ? base64ToBytes(json.png) : undefined;
  if (pngBytes) {
    const read = await engine.decoder.mask(pngBytes, rt.pack.manifest.classes, R);
    if (!read.ok) return bad(read.code, read.message);
    mask = read.value.mask;
    note = read.value.note;
    warning = read.value.warning;
  } else if (json.condition) {
    const c = json.condition;
    condition =
      c.kind === "edges" || c.kind === "exemplar" ? { kind: c.kind, photo: base64ToBytes(c.photo) } as JobRequest["condition"] : { kind: c.kind, width: c.width, height: c.height, data: base64ToBytes(c.data) };
  } else if (json.mask) {
    const rows = json.mask;
    const flat = rows.length > 0 && Array.isArray(rows[0]) ? (rows as number[][]).flat() : (rows as number[]);
    if (rows.length > 0 && Array.isArray(rows[0])) {
      height = rows.length;
      width = (rows[0] as number[]).length;
      if ((rows as number[][]).some((r) => !Array.isArray(r) || r.length !== width)) return bad("bad_mask_size", "Every row of the mask must have the same length.");
    } else {
      width = height = Math.round(Math.sqrt(flat.length));
    }
    mask = Uint8Array.from(flat);
  } else if (/json/i.test(contentType)) {
    return bad("bad_message", "The JSON body needs exactly one of mask, condition or png.");
  } else {
    // Raw class-id bytes, square unless width/height say otherwise.
    mask = body;
    width = num(params.width) ?? Math.round(Math.sqrt(body.length));
    height = num(params.height) ?? Math.round(body.length / Math.max(1, width));
  }

  return {
    ok: true,
    value: {
      request: {
        requestId,
        pack: packName,
        condition: condition ?? { kind: "mask", width, height, data: mask! },
        source: json.source ? base64ToBytes(json.source.photo) : undefined,
        restyle: json.restyle,
        seed: json.seed ?? num(params.seed) ?? randomInt(0, MAX_SEED + 1),
        variations: json.variations ?? num(params.variations) ?? 1,
        truncation: json.truncation ?? num(params.truncation),
        fit: json.fit ?? num(params.fit),
      },
      format: json.format ?? (queryFormat as "png" | "json" | null) ?? "png",
      note,
      warning,
    },
  };
}
