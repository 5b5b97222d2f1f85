// The WebSocket endpoint: typed JSON messages (protocol.ts) in, progress / image / done / error out.
// Attached to the HTTP server's `upgrade` event, so origin and token checks happen before the handshake.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { Engine, Job, JobRequest, JobResult } from "./engine.ts";
import type { Logger } from "./log.ts";
import {
  base64ToBytes,
  bytesToBase64,
  CLOSE_SLOW_CONSUMER,
  CLOSE_UNAUTHORIZED,
  MAX_MESSAGE_BYTES,
  parseClientMessage,
  PROTOCOL_VERSION,
  WS_PATH,
  type CancelRequest,
  type ErrorCode,
  type GenerateRequest,
  type InvertRequest,
  type Parsed,
  type ServerMessage,
} from "./protocol.ts";
import { isAllowedHost, isAllowedOrigin, tokenFrom, type AccessGate } from "./security.ts";

export interface WsContext {
  engine: Engine;
  gate: AccessGate;
  hostNames: ReadonlySet<string>;
  port(): number;
  version: string;
  log: Logger;
  nextClientId(prefix: string): string;
  /** Ping interval; a client that misses a pong until the next ping is dropped. */
  heartbeatMs?: number;
}

/** A client that stops reading gets dropped before its unsent answers use this much memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Photos one connection may have in the decode worker at once; more are answered rate_limited. */
const MAX_DECODING_PER_CLIENT = 2;

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
    if (!isAllowedHost(req.headers.host, ctx.hostNames, ctx.port())) {
      log.warn(`ws upgrade refused: host ${req.headers.host}`);
      return refuseUpgrade(socket, 403, "This server answers only at its own address.");
    }
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin)) {
      log.warn(`ws upgrade refused: origin ${origin}`);
      return refuseUpgrade(socket, 403, "This origin may not connect.");
    }
    const verdict = ctx.gate.check(tokenFrom(req.headers.authorization, req.url ?? "/"));
    if (!verdict.ok) {
      // A browser cannot read a refused handshake's status (the page only sees a close, 1006), so
      // the socket is opened, told why in one error message, and closed with CLOSE_UNAUTHORIZED.
      // Nothing else is read from it.
      log.warn(`ws refused: ${verdict.code === "rate_limited" ? "locked after too many wrong pairing codes" : "missing or wrong pairing code"}`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const refusal: ServerMessage = { type: "error", code: verdict.code, message: verdict.message };
        ws.send(JSON.stringify(refusal), () => ws.close(CLOSE_UNAUTHORIZED, verdict.code));
        ws.on("error", () => ws.terminate());
      });
      return;
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

    // Ids of this client's requests that already finished: a cancel for one of them is too late,
    // not wrong, so it is answered with nothing. Bounded: the oldest are forgotten first.
    const finished = new Set<string>();
    const remember = (id: string) => {
      finished.add(id);
      if (finished.size > 256) finished.delete(finished.values().next().value!);
    };

    // Requests whose photos are being decoded (off the event loop), by id: a cancel marks them.
    const decoding = new Map<string, { cancelled: boolean }>();

    /**
     * Validation, then `go` with the job. Answers without photos come at once; photo requests
     * wait for the decode worker, at most MAX_DECODING_PER_CLIENT at a time per connection.
     */
    const prepared = (id: string, result: Parsed<Job> | Promise<Parsed<Job>>, go: (job: Job) => void) => {
      if (!(result instanceof Promise)) return result.ok ? go(result.value) : sendError(result.code, result.message, id);
      if (decoding.has(id)) {
        return sendError("duplicate_id", `A request with id ${id} is already waiting or running on this connection.`, id);
      }
      if (decoding.size >= MAX_DECODING_PER_CLIENT) {
        void result.catch(() => {}); // it still finishes in the worker; nobody waits for it
        return sendError("rate_limited", `This connection already has ${MAX_DECODING_PER_CLIENT} images being read; wait for their answers.`, id);
      }
      const entry = { cancelled: false };
      decoding.set(id, entry);
      result.then(
        (p) => {
          decoding.delete(id);
          if (entry.cancelled || ws.readyState !== WebSocket.OPEN) return;
          if (!p.ok) return sendError(p.code, p.message, id);
          go(p.value);
        },
        (e: Error) => {
          decoding.delete(id);
          log.error(`${clientId} ${id} failed while reading its image: ${e.message}`);
          sendError("internal", "The server failed on this request; see its log.", id);
        },
      );
    };

    /** Queues a validated job; answers progress while it waits and runs, then `deliver` or an error. */
    const run = (job: Job, mode: GenerateRequest["mode"], total: number, deliver: (result: JobResult, queueMs: number) => void) => {
      const id = job.requestId;
      const receivedAt = performance.now();
      let startedAt = receivedAt;
      let settled = false;
      let submitting = true;
      finished.delete(id);
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
            remember(id);
            if (!outcome.ok) return sendError(outcome.code, outcome.message, id);
            deliver(outcome.result, startedAt - receivedAt);
            const totalMs = Math.round((performance.now() - receivedAt) * 10) / 10;
            send({ type: "done", id, totalMs, ...(job.warnings ? { warnings: job.warnings } : {}) });
          },
        },
      );
      submitting = false;
      if (!result.ok) return sendError(result.code, result.message, id);
      if (!settled) send({ type: "progress", id, stage: "queued", done: 0, total, position: result.position });
    };

    const onGenerate = (req: GenerateRequest) => {
      const c = req.condition;
      const condition: JobRequest["condition"] =
        c.kind === "edges" || c.kind === "exemplar" ? { kind: c.kind, photo: base64ToBytes(c.photo) } as JobRequest["condition"] : { kind: c.kind, width: c.width, height: c.height, data: base64ToBytes(c.data) };
      const result = engine.prepare({
        requestId: req.id,
        pack: req.pack,
        condition,
        seed: req.seed,
        variations: req.variations,
        truncation: req.truncation,
        source: req.source ? base64ToBytes(req.source.photo) : undefined,
        restyle: req.restyle,
      });
      prepared(req.id, result, (job) => run(job, req.mode, req.variations, (r, queueMs) => sendImages(req.id, req.mode, r, queueMs)));
    };

    const onInvert = (req: InvertRequest) => {
      const result = engine.prepareInvert({ requestId: req.id, pack: req.pack, photo: base64ToBytes(req.photo) });
      prepared(req.id, result, (job) => run(job, "final", 1, (result, queueMs) => {
        if (result.kind !== "invert") return;
        send({
          type: "layout",
          id: req.id,
          pack: result.pack,
          width: result.width,
          height: result.height,
          data: bytesToBase64(result.classMap),
          polygons: result.polygons.map((p) => ({ classId: p.classId, points: p.points })),
          timings: { queue: Math.round(queueMs * 100) / 100, ...result.timings },
        });
      }));
    };

    const sendImages = (id: string, mode: GenerateRequest["mode"], result: JobResult, queueMs: number) => {
      if (result.kind !== "generate") return;
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
          ...(img.restyleSeed !== undefined ? { restyleSeed: img.restyleSeed } : {}),
        }),
      );
    };

    const onCancel = (req: CancelRequest) => {
      const reading = decoding.get(req.id);
      if (reading) {
        // Still in the decode worker: it will not be queued; answered like a waiting request.
        reading.cancelled = true;
        decoding.delete(req.id);
        remember(req.id);
        return sendError("cancelled", "Cancelled before it was queued.", req.id);
      }
      if (engine.queue.cancel(clientId, req.id) !== null) return;
      if (finished.has(req.id)) return; // it finished before the cancel arrived: nothing to say
      sendError("unknown_request", `There is no waiting or running request with id ${req.id}.`, req.id);
    };

    ws.on("message", (data: RawData, isBinary: boolean) => {
      received++;
      if (isBinary) return sendError("bad_message", "Send JSON text frames; binary frames are not part of the protocol.");
      const parsed = parseClientMessage(rawToText(data));
      if (!parsed.ok) return sendError(parsed.code, parsed.message, parsed.id);
      try {
        if (parsed.value.type === "generate") onGenerate(parsed.value);
        else if (parsed.value.type === "invert") onInvert(parsed.value);
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
