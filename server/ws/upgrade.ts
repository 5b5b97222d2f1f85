// Before the handshake: the path, the Host and Origin headers and the pairing code. A wrong path,
// host or origin is refused with a plain HTTP answer; a wrong pairing code is told over an opened
// socket (browsers cannot read a refused handshake's status).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { CLOSE_UNAUTHORIZED, WS_PATH, type ServerMessage } from "../../protocol/index.ts";
import type { Logger } from "../log.ts";
import { isAllowedHost, isAllowedOrigin, tokenFrom, type AccessGate } from "../security.ts";

export interface UpgradeRules {
  gate: AccessGate;
  hostNames: ReadonlySet<string>;
  port(): number;
  log: Logger;
}

export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const reason = { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" }[status] ?? "Bad Request";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  socket.destroy();
}

/** The HTTP server's `upgrade` listener: checks, then hands accepted sockets to `wss` as "connection". */
export function upgradeHandler(wss: WebSocketServer, rules: UpgradeRules) {
  const { log } = rules;
  return function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, `No WebSocket at ${path}; use ${WS_PATH}.`);
    if (!isAllowedHost(req.headers.host, rules.hostNames, rules.port())) {
      log.warn(`ws upgrade refused: host ${req.headers.host}`);
      return refuseUpgrade(socket, 403, "This server answers only at its own address.");
    }
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin)) {
      log.warn(`ws upgrade refused: origin ${origin}`);
      return refuseUpgrade(socket, 403, "This origin may not connect.");
    }
    const verdict = rules.gate.check(tokenFrom(req.headers.authorization, req.url ?? "/"));
    if (!verdict.ok) {
      // A browser cannot read a refused handshake's status (the page only sees a close, 1006), so
      // the socket is opened, told why in one error message, and closed with CLOSE_UNAUTHORIZED.
      // Nothing else is read from it.
      if (verdict.code === "unauthorized") log.warn("ws refused: missing or wrong pairing code"); // while limited the gate has warned once
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const refusal: ServerMessage = { type: "error", code: verdict.code, message: verdict.message };
        ws.send(JSON.stringify(refusal), () => ws.close(CLOSE_UNAUTHORIZED, verdict.code));
        ws.on("error", () => ws.terminate());
      });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  };
}
