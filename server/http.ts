// HTTP routes (Hono): GET /health, GET /packs, POST /generate. The WebSocket lives in ws/.
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Engine } from "./engine.ts";
import type { JobResult } from "./jobs.ts";
import { readGenerateInput } from "./http-input.ts";
import { encodeRgbaPng, rgbaOfPng } from "./pipeline/image.ts";
import type { Logger } from "./log.ts";
import {
  bytesToBase64,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  WS_PATH,
  type ErrorCode,
  type ErrorMessage,
  type HealthResponse,
  type HttpGenerateResponse,
  type PacksResponse,
} from "../protocol/index.ts";
import type { Outcome } from "./queue.ts";
import { isAllowedHost, isAllowedOrigin, tokenFrom, WHERE_THE_CODE_IS, type AccessGate } from "./security.ts";

export interface HttpContext {
  engine: Engine;
  /** Checks the pairing code (secret) of every request. */
  gate: AccessGate;
  /** Names the Host header may use, and the port it must name (known once listening). */
  hostNames: ReadonlySet<string>;
  port(): number;
  version: string;
  startedAt: number;
  log: Logger;
  nextClientId(prefix: string): string;
}

export const STATUS_FOR: Record<ErrorCode, ContentfulStatusCode> = {
  bad_json: 400,
  bad_message: 400,
  unknown_type: 400,
  message_too_large: 413,
  unknown_pack: 404,
  unsupported_condition: 400,
  bad_mask_size: 400,
  bad_class_id: 400,
  bad_image: 400,
  image_too_small: 400,
  image_too_large: 413,
  no_face: 422,
  empty_condition: 400,
  empty_region: 422,
  unsupported_feature: 400,
  queue_full: 503,
  rate_limited: 429,
  replaced: 409,
  cancelled: 409,
  timeout: 504,
  engine_unavailable: 503,
  engine_timeout: 504,
  duplicate_id: 409,
  unknown_request: 404,
  internal: 500,
  unauthorized: 401,
  forbidden_origin: 403,
  forbidden_host: 403,
  not_found: 404,
};

function errorJson(c: Context, code: ErrorCode, message: string): Response {
  return c.json<ErrorMessage>({ type: "error", code, message }, STATUS_FOR[code]);
}

/** A Host that is not this server's address: a DNS-rebinding page names its own domain. */
const hostGuard = (names: ReadonlySet<string>, port: () => number): MiddlewareHandler => async (c, next) => {
  const host = c.req.header("host");
  if (!isAllowedHost(host, names, port())) {
    return errorJson(c, "forbidden_host", `This server answers only at its own address (port ${port()}), not at ${JSON.stringify(host ?? "")}.`);
  }
  await next();
};

/** Web pages from other origins are refused outright; CORS (below) only ever echoes allowed ones. */
const originGuard: MiddlewareHandler = async (c, next) => {
  const origin = c.req.header("origin");
  if (!isAllowedOrigin(origin)) return errorJson(c, "forbidden_origin", `Requests from ${origin} are not allowed; only the Figma plugin and local pages may call this server.`);
  await next();
};

/**
 * The pairing code on every request: `Authorization: Bearer CODE`, typed any way a person types
 * it (spaces, case, dashes: security.ts normalises). Not hono's bearerAuth, whose token syntax
 * refuses a spaced code; the WebSocket upgrade reads the header with the same tokenFrom.
 */
const pairingCode = (gate: AccessGate): MiddlewareHandler => async (c, next) => {
  const header = c.req.header("authorization");
  if (header !== undefined && !/^Bearer\s+\S/i.test(header)) {
    return errorJson(c, "unauthorized", `Send the code as Authorization: Bearer CODE. ${WHERE_THE_CODE_IS}`);
  }
  const verdict = gate.check(header === undefined ? undefined : tokenFrom(header, "/"));
  if (!verdict.ok) {
    if (verdict.code === "unauthorized") c.header("WWW-Authenticate", 'Bearer realm="phototype"');
    return errorJson(c, verdict.code, verdict.message);
  }
  await next();
};

type GenerateResult = Extract<JobResult, { kind: "generate" }>;

/** The variations side by side in one PNG, for scripts that want a single file. */
function stripPng(result: GenerateResult): Uint8Array {
  if (result.images.length === 1) return result.images[0].png;
  const { width: w, height: h } = result.images[0];
  const n = result.images.length;
  const out = new Uint8Array(w * n * h * 4);
  result.images.forEach((img, i) => {
    const rgba = rgbaOfPng(img.png, w, h);
    for (let y = 0; y < h; y++) out.set(rgba.subarray(y * w * 4, (y + 1) * w * 4), (y * w * n + i * w) * 4);
  });
  return encodeRgbaPng(out, w * n, h);
}

export function createHttpApp(ctx: HttpContext): Hono {
  const { engine } = ctx;
  const app = new Hono();
  app.use(
    "*",
    hostGuard(ctx.hostNames, ctx.port),
    originGuard,
    cors({
      origin: (origin) => (origin && isAllowedOrigin(origin) ? origin : null),
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["X-Phototype-Seeds", "X-Phototype-Fit-Scores", "X-Phototype-Timings", "X-Phototype-Note", "X-Phototype-Warning"],
      maxAge: 600,
    }),
    pairingCode(ctx.gate),
  );

  app.get("/health", async (c) => {
    // The server is up either way; with --engine, whether the engine answers is said beside it.
    const remote = engine.remote ? await engine.remote.status() : undefined;
    const q = engine.queue.stats();
    return c.json<HealthResponse>({
      status: "ok",
      server: ctx.version,
      protocol: PROTOCOL_VERSION,
      provider: remote ? "engine" : engine.provider.provider,
      defaultPack: engine.defaultPack,
      packs: [...engine.runtimes.keys()],
      refused: engine.registry.refused.map((r) => ({ folder: r.folder, reason: r.reason })),
      queue: { waiting: q.waiting, running: q.running, concurrency: engine.queue.options.concurrency, maxWaiting: engine.queue.options.maxWaiting },
      uptimeS: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
      ...(remote ? { engine: remote } : {}),
    });
  });

  app.get("/packs", (c) => c.json<PacksResponse>({ defaultPack: engine.defaultPack, packs: engine.packInfos() }));

  app.get(WS_PATH, (c) => errorJson(c, "bad_message", `${WS_PATH} is the WebSocket endpoint; connect with a WebSocket client.`));

  app.post(
    "/generate",
    bodyLimit({
      maxSize: MAX_MESSAGE_BYTES,
      onError: (c) => {
        // The rest of the body is never read, so this connection cannot carry another request.
        c.header("Connection", "close");
        return errorJson(c, "message_too_large", `The request body is larger than ${MAX_MESSAGE_BYTES} bytes.`);
      },
    }),
    async (c) => {
      const clientId = ctx.nextClientId("http");
      const body = new Uint8Array(await c.req.arrayBuffer());
      const query = new URL(c.req.url).searchParams;
      const input = await readGenerateInput(engine, body, c.req.header("content-type") ?? "", query, clientId);
      if (!input.ok) return errorJson(c, input.code, input.message);
      const prepared = await engine.prepare(input.value.request);
      if (!prepared.ok) return errorJson(c, prepared.code, prepared.message);

      // A script that gives up should not keep the CPU busy.
      const signal = c.req.raw.signal;
      const onAbort = () => engine.queue.cancel(clientId, clientId);
      const outcome = await new Promise<Outcome<JobResult> | { ok: false; code: ErrorCode; message: string }>((resolve) => {
        const submitted = engine.queue.submit({ clientId, requestId: clientId, mode: "final", payload: prepared.value }, { settled: resolve });
        if (!submitted.ok) resolve(submitted);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      signal.removeEventListener("abort", onAbort);
      if (!outcome.ok) return errorJson(c, outcome.code, outcome.message);
      if (outcome.result.kind !== "generate") throw new Error("POST /generate ran a job that is not a generation");
      const result = outcome.result;
      const note = input.value.note;
      const fromImage = input.value.warning ? [{ code: "looks_like_photo", message: input.value.warning }] : [];
      const warnings = [...fromImage, ...(prepared.value.warnings ?? [])];
      const wantsJson = input.value.format === "json" || (!new URL(c.req.url).searchParams.has("format") && /application\/json/.test(c.req.header("accept") ?? ""));
      if (wantsJson) {
        return c.json<HttpGenerateResponse>({
          pack: result.pack,
          width: result.images[0].width,
          height: result.images[0].height,
          images: result.images.map((i) => ({ seed: i.seed, png: bytesToBase64(i.png), ...(i.fitScore !== undefined ? { fitScore: i.fitScore } : {}) })),
          timings: result.timings,
          ...(note ? { note } : {}),
          ...(warnings.length ? { warnings } : {}),
        });
      }
      c.header("Content-Type", "image/png");
      c.header("X-Phototype-Seeds", result.images.map((i) => i.seed).join(","));
      if (result.images.some((i) => i.fitScore !== undefined)) c.header("X-Phototype-Fit-Scores", result.images.map((i) => i.fitScore).join(","));
      c.header("X-Phototype-Timings", JSON.stringify(result.timings));
      if (note) c.header("X-Phototype-Note", note);
      if (warnings.length) c.header("X-Phototype-Warning", warnings.map((w) => `${w.code}: ${w.message}`).join(" | "));
      const png = stripPng(result);
      return c.body(png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer, 200);
    },
  );

  app.notFound((c) => errorJson(c, "not_found", `No route ${c.req.method} ${new URL(c.req.url).pathname}; try GET /health, GET /packs or POST /generate.`));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    ctx.log.error(`http ${c.req.method} ${new URL(c.req.url).pathname} failed: ${err.message}`);
    return errorJson(c, "internal", "The server failed on this request; see its log.");
  });
  return app;
}
