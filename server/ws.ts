// The WebSocket endpoint: typed JSON messages (protocol.ts) in, progress / image / done / error out.
// Attached to the HTTP server's `upgrade` event, so origin and token checks happen before the handshake.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { Engine, JobResult } from "./engine.ts";
import type { Logger } from "./log.ts";
import {
  base64ToBytes,
  bytesToBase64,
  CLOSE_SLOW_CONSUMER,
  MAX_MESSAGE_BYTES,
  parseClientMessage,
  PROTOCOL_VERSION,
  WS_PATH,
  type CancelRequest,
  type ErrorCode,
  type GenerateRequest,
  type ServerMessage,
} from "./protocol.ts";
import { isAllowedOrigin, tokenFrom, tokenMatches } from "./security.ts";

export interface WsContext {
  engine: Engine;
  token?: string;
  version: string;
  log: Logger;
  nextClientId(prefix: string): string;
  /** Ping interval; a client that misses a pong until the next ping is dropped. */
  heartbeatMs?: number;
}

/** A client that stops reading gets dropped before its unsent answers use this much memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" }[status] ?? "Bad Request";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  socket.destroy();
}

function rawToText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

export interface WsEndpoint {
  wss: WebSocketServer;
  clients(): number;
  close(): void;
}

export function attachWebSocket(server: Server, ctx: WsContext): WsEndpoint {
  const { engine, log } = ctx;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, `No WebSocket at ${path}; use ${WS_PATH}.`);
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin)) {
      log.warn(`ws upgrade refused: origin ${origin}`);
      return refuseUpgrade(socket, 403, "This origin may not connect.");
    }
    if (!tokenMatches(ctx.token, tokenFrom(req.headers.authorization, req.url ?? "/"))) {
      log.warn("ws upgrade refused: missing or wrong token");
      return refuseUpgrade(socket, 401, "A token is required: connect to /ws?token=TOKEN.");
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const clientId = ctx.nextClientId("ws");
    let received = 0;
    let refused = 0;
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    log.info(`${clientId} connected (origin ${req.headers.origin ?? "none"})`);

    const send = (msg: ServerMessage) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        log.warn(`${clientId} stopped reading; closing`);
        ws.close(CLOSE_SLOW_CONSUMER, "slow_consumer");
        ws.terminate();
        return;
      }
      ws.send(JSON.stringify(msg));
    };
    const sendError = (code: ErrorCode, message: string, id?: string) => {
      refused++;
      send(id === undefined ? { type: "error", code, message } : { type: "error", id, code, message });
    };

    send({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      server: ctx.version,
      provider: engine.provider.provider,
      defaultPack: engine.defaultPack,
      packs: engine.packInfos(),
    });

    const onGenerate = (req: GenerateRequest) => {
      const rt = engine.runtimes.get(req.pack);
      if (rt && !rt.pack.manifest.conditions.some((c) => c.kind === req.condition.kind)) {
        return sendError("unsupported_condition", `Pack ${req.pack} does not accept ${req.condition.kind} conditions.`, req.id);
      }
      const mask = base64ToBytes(req.condition.data);
      const prepared = engine.prepare({
        requestId: req.id,
        pack: req.pack,
        width: req.condition.width,
        height: req.condition.height,
        mask,
        seed: req.seed,
        variations: req.variations,
        truncation: req.truncation,
      });
      if (!prepared.ok) return sendError(prepared.code, prepared.message, req.id);

      const { id, variations: total, mode } = req;
      const receivedAt = performance.now();
      let startedAt = receivedAt;
      let settled = false;
      let submitting = true;
      const job = prepared.value;
      job.onStage = (stage) => {
        if (!settled) send({ type: "progress", id, stage, done: 0, total });
      };
      const result = engine.queue.submit(
        { clientId, requestId: id, mode, payload: job },
        {
          position: (position) => {
            if (!submitting && !settled) send({ type: "progress", id, stage: "queued", done: 0, total, position });
          },
          started: () => (startedAt = performance.now()),
          settled: (outcome) => {
            settled = true;
            if (!outcome.ok) return sendError(outcome.code, outcome.message, id);
            sendImages(id, mode, outcome.result, startedAt - receivedAt);
            send({ type: "done", id, totalMs: Math.round((performance.now() - receivedAt) * 10) / 10 });
          },
        },
      );
      submitting = false;
      if (!result.ok) return sendError(result.code, result.message, id);
      if (!settled) send({ type: "progress", id, stage: "queued", done: 0, total, position: result.position });
    };

    const sendImages = (id: string, mode: GenerateRequest["mode"], result: JobResult, queueMs: number) => {
      const timings = { queue: Math.round(queueMs * 100) / 100, ...result.timings };
      result.images.forEach((img, index) =>
        send({
          type: "image",
          id,
          index,
          total: result.images.length,
          seed: img.seed,
          pack: result.pack,
          width: img.width,
          height: img.height,
          mode,
          png: bytesToBase64(img.png),
          timings,
        }),
      );
    };

    const onCancel = (req: CancelRequest) => {
      if (engine.queue.cancel(clientId, req.id) === null) {
        sendError("unknown_request", `There is no waiting or running request with id ${req.id}.`, req.id);
      }
    };

    ws.on("message", (data: RawData, isBinary: boolean) => {
      received++;
      if (isBinary) return sendError("bad_message", "Send JSON text frames; binary frames are not part of the protocol.");
      const parsed = parseClientMessage(rawToText(data));
      if (!parsed.ok) return sendError(parsed.code, parsed.message, parsed.id);
      try {
        if (parsed.value.type === "generate") onGenerate(parsed.value);
        else onCancel(parsed.value);
      } catch (e) {
        log.error(`${clientId} message failed: ${(e as Error).message}`);
        sendError("internal", "The server failed on this message; see its log.", parsed.value.id);
      }
    });

    ws.on("error", (err: Error & { code?: string }) => {
      // ws closes the socket itself (1009 for frames over MAX_MESSAGE_BYTES); we only log.
      log.warn(`${clientId} socket error: ${err.code ?? err.message}`);
    });

    ws.on("close", (code: number) => {
      const dropped = engine.queue.dropClient(clientId);
      log.info(`${clientId} closed (code ${code}) after ${received} messages, ${refused} refused${dropped ? `, ${dropped} requests dropped` : ""}`);
    });
  });

  // Clients that vanish without a FIN (sleeping laptops, killed tabs) are found by missed pongs.
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, ctx.heartbeatMs ?? 30_000);
  (heartbeat as unknown as NodeJS.Timeout).unref(); // the DOM lib types setInterval as a number

  return {
    wss,
    clients: () => wss.clients.size,
    close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
