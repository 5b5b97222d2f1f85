// Serves the Figma stand-in page, its script and the built dist/ui.html on loopback, and opens
// it in Chromium. Shared by the UI tests and scripts/screenshots.ts.
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Browser, Frame, Page } from "playwright-core";
import type { ClientMessage } from "../../../protocol/index.ts";
import { bundleForBrowser } from "./chromium.ts";

export interface Harness {
  url: string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Phototype harness</title>
<style>body{margin:0;padding:8px;background:#f0f0f0;font-family:system-ui}</style></head>
<body><script src="/harness.js"></script></body></html>`;

export async function startHarness(uiHtmlPath = "dist/ui.html"): Promise<Harness> {
  const script = await bundleForBrowser("test/ui/harness/harness-entry.ts");
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else if (path === "/harness.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else if (path === "/ui.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(await readFile(uiHtmlPath));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Runs in the UI iframe only. Records what the UI sends on its sockets, and can hold incoming
 * frames and release them grouped by request id in a chosen order: the network reordering
 * answers, which a real loopback server never does on its own.
 */
const SOCKET_SPY = `(() => {
  if (!location.pathname.endsWith("/ui.html")) return;
  const Native = WebSocket;
  const nativeOnMessage = Object.getOwnPropertyDescriptor(Native.prototype, "onmessage");
  const sockets = [];
  const sent = [];
  const held = [];
  const now = () => performance.timeOrigin + performance.now();
  const sentAt = [];
  const received = [];
  const spy = { sockets, sent, sentAt, received, hold: false, heldCount: () => held.length };
  class SpyWebSocket extends Native {
    constructor(url, protocols) { super(url, protocols); sockets.push(this); }
    send(data) { sent.push(data); sentAt.push(now()); return super.send(data); }
    get onmessage() { return this.__handler ?? null; }
    set onmessage(fn) {
      this.__handler = fn;
      nativeOnMessage.set.call(this, fn ? (ev) => { received.push({ at: now(), data: ev.data }); if (spy.hold) held.push({ socket: this, data: ev.data }); else fn.call(this, ev); } : null);
    }
  }
  // Delivers held frames grouped by request id in \`order\`; only those of \`types\` and at most \`limit\` when given.
  spy.release = (order, types, limit) => {
    const typeOf = (item) => { try { return JSON.parse(item.data).type; } catch { return null; } };
    const items = [];
    for (let i = 0; i < held.length; ) {
      if ((!types || types.includes(typeOf(held[i]))) && !(items.length >= (limit ?? Infinity))) items.push(...held.splice(i, 1));
      else i++;
    }
    const idOf = (item) => { try { return JSON.parse(item.data).id ?? null; } catch { return null; } };
    const rank = (item) => { const i = order.indexOf(idOf(item)); return i < 0 ? order.length : i; };
    items.sort((a, b) => rank(a) - rank(b));
    for (const item of items) item.socket.__handler?.call(item.socket, new MessageEvent("message", { data: item.data }));
  };
  window.WebSocket = SpyWebSocket;
  window.__ws = spy;
})();`;

export interface OpenPlugin {
  page: Page;
  ui: Frame;
}

export async function openPlugin(browser: Browser, harness: Harness, settings: Record<string, unknown>, viewport = { width: 420, height: 720 }): Promise<OpenPlugin> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript(SOCKET_SPY);
  await page.goto(`${harness.url}?settings=${encodeURIComponent(JSON.stringify(settings))}`);
  await page.waitForSelector("#plugin-ui");
  let ui: Frame | undefined;
  for (let i = 0; i < 100 && !ui; i++) {
    ui = page.frames().find((f) => f.url().endsWith("/ui.html"));
    if (!ui) await page.waitForTimeout(50);
  }
  if (!ui) throw new Error("the plugin UI iframe did not load");
  await ui.waitForSelector(".app");
  return { page, ui };
}

/**
 * Runs `fn(window.harness, arg)` in the harness page. `fn` travels as source text, so it may use
 * only its arguments. H is the caller's view of the harness (harness-entry.ts).
 */
export function onCanvas<H, T, A>(p: OpenPlugin, fn: (h: H, arg: A) => T, arg: A): Promise<Awaited<T>> {
  return p.page.evaluate(
    ([src, a]) => {
      const h = (window as unknown as { harness: unknown }).harness;
      return new Function("h", "a", `return (${src})(h, a)`)(h, a);
    },
    [fn.toString(), arg] as const,
  ) as Promise<Awaited<T>>;
}

/** Every message the UI has sent on its (spied) WebSocket, parsed. */
export async function sentMessages(ui: Frame): Promise<ClientMessage[]> {
  const frames = await ui.evaluate(() => (window as unknown as { __ws: { sent: string[] } }).__ws.sent);
  return frames.map((s) => JSON.parse(s) as ClientMessage);
}
