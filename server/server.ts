// Starts the whole server: engine (packs, sessions, queue), HTTP routes and the WebSocket,
// on one Node HTTP server. Used by the CLI, the tests and the benchmark.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { DecoderOptions } from "./decoder.ts";
import { createEngine, type Engine, type RemoteEngineOptions } from "./engine.ts";
import { createHttpApp } from "./http.ts";
import { createLogger, type Logger } from "./log.ts";
import type { ProviderPreference, SessionSettings } from "./pipeline/runtime.ts";
import { DEFAULT_HOST, DEFAULT_PORT, WS_PATH } from "../protocol/index.ts";
import type { QueueOptions } from "./queue.ts";
import { loadOrCreateSecret } from "./secret.ts";
import { AccessGate, bindProblem, hostNamesFor } from "./security.ts";
import { SERVER_VERSION } from "./version.ts";
import { attachWebSocket, type WsEndpoint } from "./ws/index.ts";

export const DEFAULT_PACKS_DIR = "models/packs";

export interface ServeOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** The secret every request must carry; default: the per-install one in `configDir`. */
  token?: string;
  /** Folder of the per-install secret (default: secret.ts's configDir()). Tests pass a temporary one. */
  configDir?: string;
  packsDir?: string;
  defaultPack?: string;
  provider?: ProviderPreference;
  queue?: Partial<QueueOptions>;
  session?: Partial<SessionSettings>;
  heartbeatMs?: number;
  decoder?: DecoderOptions;
  /** Run each pack once before listening (default true). */
  warmup?: boolean;
  /** Run the networks on a serving engine (serve --engine URL) instead of in-process sessions. */
  remote?: RemoteEngineOptions;
  log?: Logger;
}

export interface RunningServer {
  url: string;
  wsUrl: string;
  port: number;
  host: string;
  /** The pairing code (secret) requests must carry. */
  secret: string;
  /** Where the secret is stored; absent when it came from `token`. */
  secretFile?: string;
  engine: Engine;
  http: Server;
  ws: WsEndpoint;
  close(): Promise<void>;
}

export class ConfigError extends Error {}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const problem = bindProblem(host, options.token);
  if (problem) throw new ConfigError(problem);
  const log = options.log ?? createLogger();
  const stored = options.token ? null : loadOrCreateSecret(options.configDir);
  if (stored?.note) log.warn(stored.note);
  const secret = options.token ?? stored!.code;
  const engine = await createEngine({
    packsDir: options.packsDir ?? DEFAULT_PACKS_DIR,
    defaultPack: options.defaultPack,
    provider: options.provider,
    queue: options.queue,
    session: options.session,
    warmup: options.warmup,
    decoder: options.decoder,
    remote: options.remote,
    log,
  });

  let clients = 0;
  const nextClientId = (prefix: string) => `${prefix}-${++clients}`;
  let listeningPort = 0;
  const shared = { engine, gate: new AccessGate(secret, undefined, (line) => log.warn(line)), hostNames: hostNamesFor(host), port: () => listeningPort, version: SERVER_VERSION, log, nextClientId };
  const app = createHttpApp({ ...shared, startedAt: Date.now() });
  const http = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  const ws = attachWebSocket(http, { ...shared, heartbeatMs: options.heartbeatMs });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(options.port ?? DEFAULT_PORT, host, () => {
        http.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    ws.close();
    await engine.close();
    throw new ConfigError(`Cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${(e as Error).message}`);
  }
  const port = (listeningPort = (http.address() as AddressInfo).port);
  const shown = host.includes(":") ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  const wsUrl = `ws://${shown}:${port}${WS_PATH}`;
  log.info(`listening on ${url} (WebSocket ${wsUrl}); every request needs the pairing code`);
  if (stored) log.info(`pairing code for the Figma plugin: ${stored.code} (kept in ${stored.file}${stored.created ? ", made now" : ""}; \`npx phototype pair\` shows it again)`);

  return {
    url,
    wsUrl,
    port,
    host,
    secret,
    secretFile: stored?.file,
    engine,
    http,
    ws,
    async close() {
      ws.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await engine.close();
    },
  };
}
