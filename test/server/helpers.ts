// Shared by the server tests and the benchmark: a face layout drawn by class name, the packs
// under models/packs found through the registry, and small WebSocket helpers.
import { resolve } from "node:path";
import { WebSocket } from "ws";
import { chooseDefaultPack, loadPacks, type LoadedPack } from "../../server/pack/registry.ts";
import { parseServerMessage, type ErrorMessage, type ImageResult, type ServerMessage } from "../../protocol/index.ts";
import type { PackClass } from "../../server/pack/schema.ts";

export const PACKS_DIR = resolve(import.meta.dirname, "../../models/packs");

/** The pack the server would serve by default (faces-128 when present), found like the server finds it. */
export function defaultTestPack(): LoadedPack {
  const registry = loadPacks(PACKS_DIR, { log: () => {} });
  const name = chooseDefaultPack(registry.packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name;
  if (!name) throw new Error(`no usable pack under ${PACKS_DIR}`);
  return registry.packs.get(name)!;
}

/** Where a drawn face sits: centre (0..1), size factor, and hair size factor. */
export interface FacePose {
  cx: number;
  cy: number;
  s: number;
  hair: number;
}

export const CENTRED_FACE: FacePose = { cx: 0.5, cy: 0.5, s: 1, hair: 1 };

/**
 * A frontal face drawn with the pack's class ids (looked up by name; parts the pack lacks are
 * skipped), resolution x resolution, one byte a pixel, placed and sized by `pose`.
 */
export function faceLayout(classes: readonly PackClass[], size: number, pose: FacePose = CENTRED_FACE): Uint8Array<ArrayBuffer> {
  const id = (name: string) => classes.find((c) => c.name === name)?.id;
  const mask = new Uint8Array(size * size).fill(id("background") ?? classes[0].id);
  const paint = (name: string, inside: (x: number, y: number) => boolean) => {
    const v = id(name);
    if (v === undefined) return;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (inside((x + 0.5) / size, (y + 0.5) / size)) mask[y * size + x] = v;
  };
  const { cx, cy, s, hair } = pose;
  const X = (u: number) => cx + (u - 0.5) * s;
  const Y = (v: number) => cy + (v - 0.5) * s;
  const ellipse = (u: number, v: number, rx: number, ry: number) => (x: number, y: number) =>
    ((x - X(u)) / (rx * s)) ** 2 + ((y - Y(v)) / (ry * s)) ** 2 <= 1;
  paint("cloth", (x, y) => y > Y(0.85));
  paint("neck", (x, y) => y > Y(0.65) && y <= Y(0.88) && Math.abs(x - X(0.5)) < 0.13 * s);
  paint("hair", ellipse(0.5, 0.42, 0.36 * hair, 0.38 * hair));
  paint("skin", ellipse(0.5, 0.5, 0.26, 0.32));
  paint("l_brow", ellipse(0.62, 0.4, 0.07, 0.02));
  paint("r_brow", ellipse(0.38, 0.4, 0.07, 0.02));
  paint("l_eye", ellipse(0.61, 0.45, 0.05, 0.025));
  paint("r_eye", ellipse(0.39, 0.45, 0.05, 0.025));
  paint("nose", ellipse(0.5, 0.55, 0.04, 0.06));
  paint("u_lip", ellipse(0.5, 0.65, 0.09, 0.02));
  paint("l_lip", ellipse(0.5, 0.69, 0.09, 0.025));
  return mask;
}

/** The layout painted in the pack's palette colours, as RGBA. */
export function paletteImage(classes: readonly PackClass[], mask: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(mask.length * 4);
  const byId = new Map(classes.map((c) => [c.id, Number.parseInt(c.color.slice(1), 16)]));
  mask.forEach((v, i) => {
    const c = byId.get(v)!;
    rgba.set([(c >> 16) & 255, (c >> 8) & 255, c & 255, 255], i * 4);
  });
  return rgba;
}

/** What a test needs to reach a running server: its addresses and pairing code. */
/** The images among a request's messages, in order. */
export const images = (msgs: ServerMessage[]) => msgs.filter((x): x is ImageResult => x.type === "image");
/** A request's error message, if it ended in one. */
export const errorOf = (msgs: ServerMessage[]) => msgs.find((x): x is ErrorMessage => x.type === "error");

export interface Reachable {
  url: string;
  wsUrl: string;
  secret: string;
}

/** The header every request to `server` needs. */
export function authHeader(server: Pick<Reachable, "secret">): Record<string, string> {
  return { authorization: `Bearer ${server.secret}` };
}

/** fetch `path` on `server` with its pairing code (headers in `init` come on top). */
export function authFetch(server: Reachable, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { ...authHeader(server), ...(init.headers as Record<string, string> | undefined) } });
}

/** A WebSocket client on `server`, paired (its code in the Authorization header). */
export function openClient(server: Reachable, headers: Record<string, string> = {}): Promise<TestClient> {
  return TestClient.open(server.wsUrl, { ...authHeader(server), ...headers });
}

/** A WebSocket client that collects parsed server messages. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  private waiters: { test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void }[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) throw new Error(`server sent an invalid message: ${parsed.message}`);
      this.messages.push(parsed.value);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(parsed.value)) return true;
        w.resolve(parsed.value);
        return false;
      });
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters) w.reject(new Error(`socket closed (${code}) while waiting`));
      this.waiters = [];
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new TestClient(ws);
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The first message (already received or coming) that passes `test`. */
  next<T extends ServerMessage>(test: (m: ServerMessage) => boolean, timeoutMs = 30_000): Promise<T> {
    const seen = this.messages.find(test);
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1);
      return Promise.resolve(seen as T);
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a message")), timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Every message for request `id` up to and including its done or error. */
  async result(id: string, timeoutMs = 60_000): Promise<ServerMessage[]> {
    const end = await this.next((m) => "id" in m && m.id === id && (m.type === "done" || m.type === "error"), timeoutMs);
    const mine = this.messages.filter((m) => "id" in m && m.id === id);
    for (const m of mine) this.messages.splice(this.messages.indexOf(m), 1);
    return [...mine, end];
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}
