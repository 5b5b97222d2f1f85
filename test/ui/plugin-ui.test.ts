// The built UI (dist/ui.html) in headless Chromium, in a sandboxed iframe like Figma's, driven by
// the real main-thread code on a fake canvas, talking to a real server on loopback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Frame } from "playwright-core";
import { startServer, type RunningServer } from "../../server/server.ts";
import { silentLogger } from "../../server/log.ts";
import type { GenerateRequest, PackInfo } from "../../protocol/index.ts";
import { buildUiHtml, defaultServerUrl, readManifest } from "../../scripts/build-plugin.mjs";
import { chromiumAvailable, launchChromium } from "./harness/chromium.ts";
import { onCanvas, openPlugin, sentMessages, startHarness, type Harness, type OpenPlugin } from "./harness/serve.ts";

let server: RunningServer;
let harness: Harness;
let browser: Browser;
let pack: PackInfo;
let colours: Record<string, string>;
const classId = (name: string) => pack.classes.find((c) => c.name === name)!.id;

function startTestServer(port = 0): Promise<RunningServer> {
  return startServer({ port, provider: "cpu", session: { intraOpNumThreads: 1 }, log: silentLogger });
}

// ------------------------------------------------------------------ page helpers (run in the iframe / harness page)

type H = {
  drawFace(c: Record<string, string>, o?: { name?: string; width?: number; height?: number; x?: number }): { frameId: string; shapeIds: string[]; names: string[] };
  addShape(frameId: string, name: string, hex: string, x: number, y: number, w: number, h: number): string;
  select(ids: string[]): void;
  move(id: string, dx: number, dy: number): void;
  results(): { id: string; name: string; parent: string | null; x: number; y: number; width: number }[];
  snapshot(ids: string[]): unknown[];
  fills(id: string): { color: { r: number; g: number; b: number } }[];
  children(id: string): { id: string; name: string; type: string }[];
  commits(): number;
  uncommitted(): number;
  storage(key: string): Promise<unknown>;
};

const canvas = <T, A>(p: OpenPlugin, fn: (h: H, arg: A) => T, arg: A) => onCanvas(p, fn, arg);

async function sentGenerates(ui: Frame): Promise<GenerateRequest[]> {
  return (await sentMessages(ui)).filter((m): m is GenerateRequest => m.type === "generate");
}

function decodeMask(req: GenerateRequest): Uint8Array {
  if (!("data" in req.condition)) throw new Error(`a ${req.condition.kind} condition has no drawn data`);
  return new Uint8Array(Buffer.from(req.condition.data, "base64"));
}

function centroidX(mask: Uint8Array, size: number, id: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === id) (sum += i % size), n++;
  return n ? sum / n : NaN;
}

async function shownRequestId(ui: Frame): Promise<string | null> {
  return ui.evaluate(() => document.querySelector("img.result")?.getAttribute("data-request-id") ?? null);
}

async function open(settings: Record<string, unknown> = {}, srv: RunningServer = server): Promise<OpenPlugin> {
  const p = await openPlugin(browser, harness, { serverUrl: srv.wsUrl, token: srv.secret, seed: 1234, ...settings });
  await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
  return p;
}

async function drawAndSelect(p: OpenPlugin, options: { name?: string; width?: number; height?: number } = {}) {
  const face = await canvas(p, (h, a) => h.drawFace(a.colours, a.options), { colours, options });
  await canvas(p, (h, id) => h.select([id]), face.frameId);
  await p.ui.waitForSelector(`.frame-line[data-frame-id="${face.frameId}"]`);
  return face;
}

describe.skipIf(!chromiumAvailable())("plugin UI in Chromium against a real server", () => {
  beforeAll(async () => {
    await buildUiHtml({ serverUrl: defaultServerUrl(await readManifest()) }); // same default address as `npm run build`
    server = await startTestServer();
    harness = await startHarness();
    browser = await launchChromium();
    const packs = server.engine.packInfos();
    pack = packs.find((p) => p.name === server.engine.defaultPack) ?? packs[0];
    colours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await server?.close();
  });

  it("connects from an opaque-origin iframe and shows the pack's palette from the welcome", async () => {
    const p = await open();
    const status = await p.ui.textContent(".connection");
    expect(status).toContain(pack.title);
    const swatches = await p.ui.$$eval(".swatch", (els) => els.map((e) => ({ name: e.getAttribute("data-class"), label: e.querySelector(".swatch-label")!.textContent })));
    // One swatch a face part: both eyes are one Eye (the server places each by its side).
    expect(swatches.map((s) => s.name)).toEqual(pack.classes.map((c) => c.name).filter((n) => !["r_eye", "r_brow", "r_ear"].includes(n)));
    for (const part of ["Eye", "Brow", "Ear"]) expect(swatches.filter((s) => s.label === part), part).toHaveLength(1);
    expect(swatches.filter((s) => /left|right/i.test(s.label ?? ""))).toEqual([]);
    expect(await p.ui.textContent(".frame-line")).toMatch(/Select a frame/);
    expect(await p.ui.isDisabled("button.generate")).toBe(true);
    await p.page.close();
  });

  it("draw → Generate → an image arrives, shows, and lands as one new layer in one undo step", async () => {
    const p = await open();
    const face = await drawAndSelect(p);
    const before = await canvas(p, (h, ids) => h.snapshot(ids), [face.frameId, ...face.shapeIds]);
    const commits = await canvas(p, (h) => h.commits(), null);

    await p.ui.click("button.generate");
    await p.ui.waitForSelector('img.result[data-mode="final"]', { timeout: 30_000 });
    await p.ui.waitForSelector('.notice[data-tone="success"]', { timeout: 10_000 });

    const [req] = await sentGenerates(p.ui);
    expect(req).toMatchObject({ mode: "final", pack: pack.name, seed: 1234, variations: 1, condition: { kind: "mask", width: pack.resolution, height: pack.resolution } });
    const mask = decodeMask(req);
    const R = pack.resolution;
    expect(mask.length).toBe(R * R);
    expect(mask[0]).toBe(classId("background"));
    expect(mask[Math.floor(0.3 * R) * R + R / 2]).toBe(classId("skin"));
    expect(mask[Math.floor(0.55 * R) * R + R / 2]).toBe(classId("nose"));

    const results = await canvas(p, (h) => h.results(), null);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: "Phototype · seed 1234", parent: face.frameId, x: 0, y: 0, width: 256 });
    expect(await p.ui.getAttribute("img.result", "data-request-id")).toBe(req.id);
    expect(await canvas(p, (h, ids) => h.snapshot(ids), [face.frameId, ...face.shapeIds])).toEqual(before);
    expect(await canvas(p, (h) => h.commits(), null)).toBe(commits + 1);
    expect(await canvas(p, (h) => h.uncommitted(), null)).toBe(0);

    // History remembers it (clientStorage, through the main thread) and can put it back.
    await p.ui.waitForSelector(".history .thumb");
    const stored = (await canvas(p, (h) => h.storage("history"), null)) as { seed: number; pack: string }[];
    expect(stored.map((e) => [e.seed, e.pack])).toEqual([[1234, pack.name]]);
    // The seed was not locked, so the next one is new.
    const seedNow = Number(await p.ui.inputValue('input[aria-label="Seed"]'));
    expect(seedNow).not.toBe(1234);
    await p.ui.click(".history .thumb");
    await p.ui.waitForFunction(() => document.querySelectorAll('.notice[data-tone="success"]').length === 1);
    await expect.poll(() => canvas(p, (h) => h.results().length, null)).toBe(2);
    expect((await canvas(p, (h) => h.results(), null))[1].name).toBe("Phototype · seed 1234");
    await p.page.close();
  });

  it("lands variations as a row: the first over the frame, the rest to its right", async () => {
    const p = await open({ variations: 3, seedLocked: true, seed: 77 });
    const face = await drawAndSelect(p, { width: 320, height: 256 });
    await p.ui.click("button.generate");
    await p.ui.waitForSelector('.notice[data-tone="success"]', { timeout: 30_000 });
    const results = await canvas(p, (h) => h.results(), null);
    expect(results.map((r) => r.name)).toEqual(["Phototype · seed 77", "Phototype · seed 78", "Phototype · seed 79"]);
    expect(results[0]).toMatchObject({ parent: face.frameId, x: 32, y: 0, width: 256 });
    expect(results[1].x).toBeGreaterThan(320);
    expect(results[2].x).toBeGreaterThan(results[1].x + 256);
    expect(Number(await p.ui.inputValue('input[aria-label="Seed"]'))).toBe(77); // locked
    await p.page.close();
  });

  it("Fit layout: the stored choice goes with Generate for shapes; layers name the seeds the server kept; Off sends none; a sketch disables it", async () => {
    const p = await open({ fit: 4, seedLocked: true, seed: 500, variations: 2 });
    const select = 'select[aria-label="Fit layout"]';
    expect(await p.ui.inputValue(select)).toBe("4");
    await drawAndSelect(p);
    await p.ui.click("button.generate");
    await p.ui.waitForSelector('.notice[data-tone="success"]', { timeout: 60_000 });
    const [req] = await sentGenerates(p.ui);
    expect(req).toMatchObject({ mode: "final", seed: 500, variations: 2, fit: 4, condition: { kind: "mask" } });
    const names = (await canvas(p, (h) => h.results(), null)).map((r) => r.name);
    expect(names).toHaveLength(2);
    const seeds = names.map((n) => Number(/^Phototype · seed (\d+) · best of 4 for the layout$/.exec(n)?.[1]));
    expect(seeds.every((s) => s >= 500 && s < 508)).toBe(true);
    expect(new Set(seeds).size).toBe(2);

    // Off, chosen in the panel: stored, and Generate sends no fit.
    await p.ui.selectOption(select, "1");
    await expect.poll(async () => ((await canvas(p, (h) => h.storage("settings"), null)) as { fit?: number }).fit).toBe(1);
    await p.ui.click("button.generate");
    await expect.poll(async () => (await sentGenerates(p.ui)).length, { timeout: 60_000 }).toBe(2);
    expect((await sentGenerates(p.ui))[1].fit).toBeUndefined();

    // A sketch has no drawn classes to compare with: the control is disabled and says why.
    await p.ui.selectOption(select, "8");
    await p.ui.click('.condition-picker [data-kind="sketch"]');
    expect(await p.ui.isDisabled(select)).toBe(true);
    expect(await p.ui.getAttribute("label.fit", "title")).toMatch(/pick Shapes/);
    await p.page.close();
  });

  it("live preview follows edits, drops stale previews and inserts nothing", async () => {
    const p = await open();
    const face = await drawAndSelect(p);
    const noseId = face.shapeIds[face.names.indexOf("Nose")];
    await p.ui.check('input[aria-label="Live preview"]');
    await p.ui.waitForSelector('img.result[data-mode="preview"]', { timeout: 30_000 });
    const first = await sentGenerates(p.ui);
    expect(first.every((r) => r.mode === "preview")).toBe(true);

    // A quick drag: six moves inside the debounce window make one request, not six.
    for (let i = 0; i < 6; i++) {
      await canvas(p, (h, id) => h.move(id, 8, 0), noseId);
      await p.page.waitForTimeout(30);
    }
    await expect.poll(async () => (await sentGenerates(p.ui)).length, { timeout: 10_000 }).toBeGreaterThan(first.length);
    await p.page.waitForTimeout(600);
    const afterDrag = await sentGenerates(p.ui);
    expect(afterDrag.length - first.length).toBeLessThan(6);
    const R = pack.resolution;
    const moved = centroidX(decodeMask(afterDrag.at(-1)!), R, classId("nose")) - centroidX(decodeMask(first[0]), R, classId("nose"));
    expect(moved).toBeCloseTo((48 / 256) * R, 0);

    // Slower edits, each past the debounce, overlap on the server; only the newest is shown.
    for (let i = 0; i < 4; i++) {
      await canvas(p, (h, id) => h.move(id, 0, 4), noseId);
      await p.page.waitForTimeout(320);
    }
    await p.page.waitForTimeout(400);
    const all = await sentGenerates(p.ui);
    const newest = all.at(-1)!.id;
    await expect.poll(() => shownRequestId(p.ui), { timeout: 20_000 }).toBe(newest);
    expect(await p.ui.$('.notice[data-tone="error"]')).toBeNull();

    // Answers that arrive out of order: the older preview's image comes after the newer one's.
    await p.ui.evaluate(() => ((window as unknown as { __ws: { hold: boolean } }).__ws.hold = true));
    const beforeHold = (await sentGenerates(p.ui)).length;
    await canvas(p, (h, id) => h.move(id, 0, -8), noseId);
    await expect.poll(async () => (await sentGenerates(p.ui)).length, { timeout: 10_000 }).toBe(beforeHold + 1);
    await canvas(p, (h, id) => h.move(id, 0, -8), noseId);
    await expect.poll(async () => (await sentGenerates(p.ui)).length, { timeout: 10_000 }).toBe(beforeHold + 2);
    const [older, newer] = (await sentGenerates(p.ui)).slice(-2).map((r) => r.id);
    // Both answered by the server (each ends with done, or "replaced" for the older one), still held.
    await p.ui.waitForFunction(
      ([a, b]) => {
        const spy = (window as unknown as { __ws: { heldCount(): number } }).__ws;
        return spy.heldCount() >= 2 && a !== b;
      },
      [older, newer] as const,
    );
    await p.page.waitForTimeout(1500);
    await p.ui.evaluate(
      ([a, b]) => {
        const spy = (window as unknown as { __ws: { hold: boolean; release(order: string[]): void } }).__ws;
        spy.hold = false;
        spy.release([b, a]);
      },
      [older, newer] as const,
    );
    await expect.poll(() => shownRequestId(p.ui), { timeout: 10_000 }).toBe(newer);
    await p.page.waitForTimeout(200);
    expect(await shownRequestId(p.ui)).toBe(newer);
    expect(await p.ui.$('.notice[data-tone="error"]')).toBeNull();
    expect(await canvas(p, (h) => h.results().length, null)).toBe(0);
    await p.page.close();
  });

  it("explains bad layouts in words and changes nothing on the canvas", async () => {
    const p = await open();
    const face = await drawAndSelect(p);
    await canvas(p, (h, a) => h.addShape(a.frameId, "Sticker", "#00FF00", 10, 10, 30, 30), { frameId: face.frameId });
    await p.ui.click("button.generate");
    await p.ui.waitForSelector('.notice[data-tone="error"]');
    const text = await p.ui.textContent(".notice");
    expect(text).toContain("“Sticker” (#00FF00)");
    expect(text).toMatch(/not in the palette/);
    expect(await sentGenerates(p.ui)).toEqual([]);

    const empty = await canvas(p, (h, a) => h.drawFace({}, { name: "Empty", x: 1000 }), null);
    await canvas(p, (h, id) => h.select([id]), empty.frameId);
    await p.ui.waitForSelector(`.frame-line[data-frame-id="${empty.frameId}"]`);
    await p.ui.click("button.generate");
    await p.ui.waitForFunction(() => /no filled shapes/.test(document.querySelector(".notice")?.textContent ?? ""));

    const huge = await canvas(p, (h) => h.drawFace({ skin: "#F5CBA7" }, { name: "Huge", width: 5000, height: 3000, x: 3000 }), null);
    await canvas(p, (h, id) => h.select([id]), huge.frameId);
    await p.ui.waitForSelector(`.frame-line[data-frame-id="${huge.frameId}"]`);
    await p.ui.click("button.generate");
    await p.ui.waitForFunction(() => /up to 4096 px/.test(document.querySelector(".notice")?.textContent ?? ""));

    await canvas(p, (h) => h.select([]), null);
    expect(await sentGenerates(p.ui)).toEqual([]);
    expect(await canvas(p, (h) => h.results().length, null)).toBe(0);
    await p.page.close();
  });

  it("a layout with no face parts is still made, with the server's warning beside the added note", async () => {
    const p = await open();
    const hairOnly = await canvas(p, (h, c) => h.drawFace({ hair: c.hair, cloth: c.cloth }, { name: "No face" }), colours);
    await canvas(p, (h, id) => h.select([id]), hairOnly.frameId);
    await p.ui.waitForSelector(`.frame-line[data-frame-id="${hairOnly.frameId}"]`);
    await p.ui.click("button.generate");
    await p.ui.waitForSelector('.notice[data-tone="warning"]', { timeout: 30_000 });
    expect(await p.ui.textContent(".notice")).toMatch(/Added .* No face was drawn/);
    expect(await canvas(p, (h) => h.results().length, null)).toBe(1);
    await p.page.close();
  });

  it("palette clicks recolour the selected shape, or add a named shape", async () => {
    const p = await open();
    const face = await drawAndSelect(p);
    const hairId = face.shapeIds[face.names.indexOf("Hair")];
    await canvas(p, (h, id) => h.select([id]), hairId);
    await p.ui.waitForFunction(() => /recolour the 1 selected shape/.test(document.querySelector(".palette .hint")?.textContent ?? ""));
    await p.ui.click('.swatch[data-class="hat"]');
    await p.ui.waitForSelector('.notice[data-tone="info"]');
    const fill = (await canvas(p, (h, id) => h.fills(id), hairId))[0].color;
    const hat = parseInt(colours.hat.slice(1), 16);
    expect([fill.r, fill.g, fill.b].map((v) => Math.round(v * 255))).toEqual([(hat >> 16) & 255, (hat >> 8) & 255, hat & 255]);

    await canvas(p, (h, id) => h.select([id]), face.frameId);
    await p.ui.waitForFunction(() => /add a shape/.test(document.querySelector(".palette .hint")?.textContent ?? ""));
    await p.ui.click('.swatch[data-class="ear_r"]');
    await expect.poll(async () => (await canvas(p, (h, id) => h.children(id), face.frameId)).at(-1)?.name).toBe(pack.classes.find((c) => c.name === "ear_r")!.label);
    // The one Eye swatch adds a shape called Eye, in the Eye swatch's colour.
    await canvas(p, (h, id) => h.select([id]), face.frameId);
    await p.ui.waitForFunction(() => /add a shape/.test(document.querySelector(".palette .hint")?.textContent ?? ""));
    await p.ui.click('.swatch-label >> text="Eye"');
    await expect.poll(async () => (await canvas(p, (h, id) => h.children(id), face.frameId)).at(-1)?.name).toBe("Eye");
    const eyeId = (await canvas(p, (h, id) => h.children(id), face.frameId)).at(-1)!.id;
    const eyeFill = (await canvas(p, (h, id) => h.fills(id), eyeId))[0].color;
    expect(eyeFill.b).toBeCloseTo(parseInt(colours.l_eye.slice(5, 7), 16) / 255, 2);
    await p.page.close();
  });

  it("pairing: asks once for the code, keeps it in clientStorage (via the main thread) and sends it", async () => {
    // A fresh plugin: no code stored. The server refuses it, and the panel asks for the code.
    const p = await openPlugin(browser, harness, { serverUrl: server.wsUrl });
    await p.ui.waitForSelector(".pairing", { timeout: 15_000 });
    expect(await p.ui.textContent(".pairing")).toMatch(/needs its pairing code.*npx phototype pair/s);
    expect(await p.ui.isDisabled("button.generate")).toBe(true);
    const socketUrls = () => p.ui.evaluate(() => (window as unknown as { __ws: { sockets: WebSocket[] } }).__ws.sockets.map((s) => s.url));
    expect(await socketUrls()).toHaveLength(1); // refused once, then it waits for the person
    expect((await socketUrls())[0]).not.toMatch(/token=/);

    // A wrong code: still asked, told it is not this server's.
    await p.ui.locator(".pairing input.code").fill("WRNG-CODE-0000");
    await p.ui.click(".pairing button.pair");
    await p.ui.waitForFunction(() => /not this server's/.test(document.querySelector(".pairing .reason")?.textContent ?? ""), null, { timeout: 15_000 });

    // The right one, typed loosely (lower case, spaces): connected, stored, sent on the socket.
    const typed = server.secret.toLowerCase().replace(/-/g, " ");
    await p.ui.locator(".pairing input.code").fill(typed);
    await p.ui.press(".pairing input.code", "Enter");
    await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
    expect(await p.ui.$(".pairing")).toBeNull();
    const stored = (await canvas(p, (h) => h.storage("settings"), null)) as { token: string; serverUrl: string };
    expect(stored).toMatchObject({ token: typed, serverUrl: server.wsUrl });
    expect((await socketUrls()).at(-1)).toBe(`${server.wsUrl}?token=${encodeURIComponent(typed)}`);
    await p.page.close();

    // Opened again with what was stored: it connects without asking.
    const again = await openPlugin(browser, harness, stored);
    await again.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
    expect(await again.ui.$(".pairing")).toBeNull();
    await again.page.close();
  });

  it("pairing: a saved wrong code refused as rate_limited (something guessing codes) shows the pairing panel, and the right code gets in", async () => {
    for (let i = 0; i < 25; i++) await (await fetch(`${server.url}/health`, { headers: { authorization: `Bearer GUESS-${i}` } })).arrayBuffer();
    const p = await openPlugin(browser, harness, { serverUrl: server.wsUrl, token: "WRNG-CODE-0000" });
    await p.ui.waitForFunction(() => /not this server's.*trying many wrong codes/s.test(document.querySelector(".pairing .reason")?.textContent ?? ""), null, { timeout: 15_000 });
    const sockets = () => p.ui.evaluate(() => (window as unknown as { __ws: { sockets: WebSocket[] } }).__ws.sockets.length);
    expect(await sockets()).toBe(1); // not retried: waiting would never connect
    await p.ui.locator(".pairing input.code").fill(server.secret);
    await p.ui.press(".pairing input.code", "Enter");
    await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
    await p.page.close();
  });

  it("settings: explains a bad address", async () => {
    const p = await open();
    await p.ui.click('button[aria-label="Settings"]');
    const address = p.ui.locator(".settings input[type=text]");
    await address.fill("http://localhost:8787");
    await p.ui.click(".settings button.save");
    expect(await p.ui.textContent(".notice")).toMatch(/must start with ws:\/\//);
    await p.page.close();
  });

  it("survives the server dropping mid-request and restarting: says so, adds nothing, reconnects", async () => {
    const own = await startTestServer();
    const port = own.port;
    let restarted: RunningServer | null = null;
    try {
      const p = await open({}, own);
      await drawAndSelect(p);
      // The server process dies the moment the final request arrives.
      for (const ws of own.ws.wss.clients) {
        ws.on("message", (data) => {
          if (String(data).includes('"mode":"final"')) ws.terminate();
        });
      }
      await p.ui.click("button.generate");
      await p.ui.waitForFunction(() => /dropped while making your image/.test(document.querySelector('.notice[data-tone="error"]')?.textContent ?? ""), null, { timeout: 15_000 });
      expect(await canvas(p, (h) => h.results().length, null)).toBe(0);
      expect(await p.ui.$(".progress")).toBeNull();
      await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });

      // Now the server goes away for real: the UI says so and keeps trying.
      await own.close();
      await p.ui.waitForSelector('.connection[data-status="waiting"]', { timeout: 10_000 });
      expect(await p.ui.textContent(".connection")).toMatch(/retrying/);
      expect(await p.ui.isDisabled("button.generate")).toBe(true);

      restarted = await startTestServer(port);
      await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 30_000 });
      await p.ui.click("button.generate");
      await p.ui.waitForSelector('.notice[data-tone="success"]', { timeout: 30_000 });
      expect(await canvas(p, (h) => h.results().length, null)).toBe(1);
      await p.page.close();
    } finally {
      await own.close().catch(() => {});
      await restarted?.close();
    }
  });
});
