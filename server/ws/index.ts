// The WebSocket endpoint: typed JSON messages (protocol/) in, progress / image / done / error out.
// Attached to the HTTP server's `upgrade` event, so origin and token checks happen before the
// handshake (upgrade.ts); each accepted socket is a WsClient (client.ts) whose messages go to one
// named handler per type (handlers.ts), the table given to it here.
import type { IncomingMessage, Server } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from "../../protocol/index.ts";
import type { Engine } from "../engine.ts";
import type { Logger } from "../log.ts";
import type { AccessGate } from "../security.ts";
import { WsClient } from "./client.ts";
import { MESSAGE_HANDLERS } from "./handlers.ts";
import { upgradeHandler } from "./upgrade.ts";

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

export interface WsEndpoint {
  wss: WebSocketServer;
  clients(): number;
  close(): void;
}

export function attachWebSocket(server: Server, ctx: WsContext): WsEndpoint {
  const { engine, log } = ctx;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  server.on("upgrade", upgradeHandler(wss, ctx));

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const client = new WsClient(ws, ctx.nextClientId("ws"), engine, log, MESSAGE_HANDLERS);
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    log.info(`${client.id} connected (origin ${req.headers.origin ?? "none"})`);
    client.send({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      server: ctx.version,
      provider: engine.provider.provider,
      defaultPack: engine.defaultPack,
      packs: engine.packInfos(),
    });
    ws.on("message", (data, isBinary) => client.onMessage(data, isBinary));
    ws.on("error", (err) => client.onError(err));
    ws.on("close", (code) => client.onClose(code));
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
