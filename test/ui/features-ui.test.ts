// Each new feature from the built plugin UI (dist/ui.html in a sandboxed iframe, real main-thread
// code on the fake canvas) against a real server with real ONNX sessions: the condition picker
// (sketch, scribble, photo edges), exemplar layouts, editing a photo, per-region restyle, and
// their errors. Every action must add only new layers, in one undo step, and leave the user's
// layers as they were.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Frame } from "playwright-core";
import { decode } from "fast-png";
import { startServer, type RunningServer } from "../../server/server.ts";
import { silentLogger } from "../../server/log.ts";
import { generate } from "../../server/pipeline/generate.ts";
import { base64ToBytes, NO_STROKE, type GenerateRequest, type InvertRequest, type PackInfo } from "../../protocol/index.ts";
import { buildUiHtml, defaultServerUrl, readManifest } from "../../scripts/build-plugin.mjs";
import { swatchesOf } from "../../ui/lib/swatches.ts";
import { faceLayout } from "../server/helpers.ts";
import { flatRgb, rgbPng } from "../server/images.ts";
import { chromiumAvailable, launchChromium } from "./harness/chromium.ts";
import { onCanvas, openPlugin, sentMessages, startHarness, type Harness, type OpenPlugin } from "./harness/serve.ts";

let server: RunningServer;
let harness: Harness;
let browser: Browser;
let pack: PackInfo;
let colours: Record<string, string>;
/** A face the pack generated, as a PNG (base64): the "photo" placed in Figma. */
let facePng: string;
const classId = (name: string) => pack.classes.find((c) => c.name === name)!.id;

interface NodeView {
  id: string;
  name: string;
  type: string;
  parent: string | null;
  x: number;
  y: number;
  width: number;
  height: number;
  children: string[];
  pluginData: Record<string, string>;
  fill: { type: string; color?: { r: number; g: number; b: number } } | null;
}

type H = {
  drawFace(c: Record<string, string>, o?: { name?: string; width?: number; height?: number; x?: number }): { frameId: string; shapeIds: string[]; names: string[] };
  addShape(frameId: string, name: string, hex: string, x: number, y: number, w: number, h: number): string;
  addPhoto(png: string, name: string, x: number, y: number, w: number, h: number, frameId?: string): string;
  addStroke(frameId: string, name: string, hex: string, data: string, x: number, y: number): string;
  select(ids: string[]): void;
  move(id: string, dx: number, dy: number): void;
  results(): { id: string; name: string; parent: string | null; x: number; y: number; width: number }[];
  snapshot(ids: string[]): unknown[];
  node(id: string): NodeView;
  findByName(name: string): string[];
  commits(): number;
  uncommitted(): number;
};

const canvas = <T, A>(p: OpenPlugin, fn: (h: H, arg: A) => T, arg: A) => onCanvas(p, fn, arg);

const generates = async (ui: Frame) => (await sentMessages(ui)).filter((m): m is GenerateRequest => m.type === "generate");

async function open(settings: Record<string, unknown> = {}): Promise<OpenPlugin> {
  const p = await openPlugin(browser, harness, { serverUrl: server.wsUrl, token: server.secret, seed: 1234, seedLocked: true, ...settings });
  await p.ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
  return p;
}

async function selectAndWait(p: OpenPlugin, ids: string[], frameId?: string): Promise<void> {
  await canvas(p, (h, a) => h.select(a), ids);
  if (frameId) await p.ui.waitForSelector(`.frame-line[data-frame-id="${frameId}"]`);
  else await p.page.waitForTimeout(100);
}

async function success(p: OpenPlugin): Promise<string> {
  await p.ui.waitForSelector('.notice[data-tone="success"]', { timeout: 30_000 });
  return (await p.ui.textContent(".notice")) ?? "";
}

async function errorText(p: OpenPlugin): Promise<string> {
  await p.ui.waitForSelector('.notice[data-tone="error"], .notice[data-tone="warning"]', { timeout: 30_000 });
  return (await p.ui.textContent(".notice")) ?? "";
}

function drawn(req: GenerateRequest): Uint8Array {
  if (!("data" in req.condition)) throw new Error("no drawn data");
  return new Uint8Array(Buffer.from(req.condition.data, "base64"));
}

/** A face outline drawn as pen strokes in a 256 frame: oval, eyes, nose, mouth, hair line. */
const SKETCH = [
  ["Face", "M 0 80 C 0 20 128 20 128 80 C 128 150 0 150 0 80 Z", 64, 48],
  ["Left eye", "M 0 0 L 24 0", 146, 112],
  ["Right eye", "M 0 0 L 24 0", 86, 112],
  ["Nose", "M 0 0 L 6 30 L 0 34", 124, 122],
  ["Mouth", "M 0 0 C 16 8 32 8 48 0", 104, 168],
  ["Hair", "M 0 60 C 10 0 150 0 160 60", 48, 20],
] as const;

describe.skipIf(!chromiumAvailable())("new features from the plugin UI against a real server", () => {
  beforeAll(async () => {
    await buildUiHtml({ serverUrl: defaultServerUrl(await readManifest()) });
    server = await startServer({ port: 0, provider: "cpu", session: { intraOpNumThreads: 1 }, log: silentLogger });
    harness = await startHarness();
    browser = await launchChromium();
    const packs = server.engine.packInfos();
    pack = packs.find((p) => p.name === server.engine.defaultPack) ?? packs[0];
    colours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));
    const rt = server.engine.runtimes.get(pack.name)!;
    const out = await generate(rt, { mask: faceLayout(rt.pack.manifest.classes, pack.resolution), seed: 21, variations: 1 });
    facePng = Buffer.from(out.images[0].png).toString("base64");
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await server?.close();
  });

  it("shows the condition picker with the pack's kinds, and the non-commercial note", async () => {
    const p = await open();
    const kinds = await p.ui.$$eval(".condition-picker [role=radio]", (els) => els.map((e) => e.getAttribute("data-kind")));
    expect(kinds).toEqual(["mask", "sketch", "scribble", "edges"].filter((k) => pack.conditions.includes(k)));
    expect(await p.ui.getAttribute('.condition-picker [data-kind="mask"]', "aria-checked")).toBe("true");
    expect(await p.ui.textContent(".licence-note")).toMatch(/Non-commercial use only/);
    await p.page.close();
  });

  it("Sketch: black pen strokes → a sketch condition → an image lands in the frame in one undo step", async () => {
    const p = await open();
    const face = await canvas(p, (h) => h.drawFace({}, { name: "Sketch" }), null);
    const strokeIds: string[] = [];
    for (const [name, data, x, y] of SKETCH) strokeIds.push(await canvas(p, (h, a) => h.addStroke(a.f, a.name, "#111111", a.data, a.x, a.y), { f: face.frameId, name, data, x, y }));
    const coloured = await canvas(p, (h, a) => h.addStroke(a, "Pink note", "#FF00FF", "M 0 0 L 30 30", 10, 10), face.frameId);
    await selectAndWait(p, [face.frameId], face.frameId);
    await p.ui.click('.condition-picker [data-kind="sketch"]');
    const before = await canvas(p, (h, ids) => h.snapshot(ids), [face.frameId, ...strokeIds, coloured]);
    const commits = await canvas(p, (h) => h.commits(), null);
    await p.ui.click("button.generate");
    expect(await success(p)).toMatch(/over the frame/);
    const [req] = await generates(p.ui);
    expect(req.condition).toMatchObject({ kind: "sketch", width: pack.resolution, height: pack.resolution });
    const map = drawn(req);
    const inked = map.filter((v) => v === 1).length;
    // Lines, not areas: some pixels, far from all; only 0 and 1.
    expect(inked).toBeGreaterThan(pack.resolution);
    expect(inked).toBeLessThan(map.length / 3);
    expect(map.every((v) => v === 0 || v === 1)).toBe(true);
    expect(await p.ui.getAttribute("canvas.mask", "data-kind")).toBe("sketch");
    expect(await p.ui.textContent(".layout-note")).toMatch(/6 pen strokes · skipped 1 coloured/);
    const results = await canvas(p, (h) => h.results(), null);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: "Phototype · seed 1234", parent: face.frameId });
    expect(await canvas(p, (h, ids) => h.snapshot(ids), [face.frameId, ...strokeIds, coloured])).toEqual(before);
    expect(await canvas(p, (h) => h.commits(), null)).toBe(commits + 1);
    expect(await canvas(p, (h) => h.uncommitted(), null)).toBe(0);
    // The choice is remembered.
    expect(await p.ui.getAttribute('.condition-picker [data-kind="sketch"]', "aria-checked")).toBe("true");
    await p.page.close();
  });

  it("Sketch on a frame of filled shapes says no strokes were found and sends nothing", async () => {
    const p = await open({ condition: "sketch" });
    const face = await canvas(p, (h, c) => h.drawFace(c), colours);
    await selectAndWait(p, [face.frameId], face.frameId);
    await p.ui.click("button.generate");
    expect(await errorText(p)).toMatch(/No strokes found in “Face” \(9 shapes have a fill but no stroke\)/);
    expect(await generates(p.ui)).toEqual([]);
    expect(await canvas(p, (h) => h.results().length, null)).toBe(0);
    await p.page.close();
  });

  it("Scribble: strokes in palette colours → class ids where drawn, nothing elsewhere → an image", async () => {
    const p = await open({ condition: "scribble" });
    const face = await canvas(p, (h) => h.drawFace({}, { name: "Scribble" }), null);
    const strokes: [string, string, string, number, number][] = [
      ["hair", "Hair", "M 0 20 C 40 0 120 0 160 20", 48, 20],
      ["skin", "Skin", "M 0 0 L 80 60 L 0 100", 90, 80],
      ["l_eye", "Eye", "M 0 0 L 16 0", 150, 112],
      ["nose", "Nose", "M 0 0 L 0 28", 128, 122],
      ["u_lip", "Lips", "M 0 0 L 40 0", 108, 170],
      ["background", "Bg", "M 0 0 L 0 200", 10, 20],
    ];
    for (const [cls, name, data, x, y] of strokes) await canvas(p, (h, a) => h.addStroke(a.f, a.name, a.hex, a.data, a.x, a.y), { f: face.frameId, name, hex: colours[cls], data, x, y });
    await selectAndWait(p, [face.frameId], face.frameId);
    await p.ui.click("button.generate");
    await success(p);
    const [req] = await generates(p.ui);
    expect(req.condition.kind).toBe("scribble");
    const map = drawn(req);
    const used = new Set(map);
    for (const cls of ["hair", "skin", "l_eye", "nose", "u_lip", "background"]) expect(used.has(classId(cls)), cls).toBe(true);
    expect(map.filter((v) => v === NO_STROKE).length).toBeGreaterThan(map.length / 2);
    expect(await canvas(p, (h) => h.results().length, null)).toBe(1);
    await p.page.close();
  });

  it("Photo edges: the selected photo's edges make the layout; results land beside the photo", async () => {
    const p = await open({ condition: "edges", variations: 2 });
    const photo = await canvas(p, (h, a) => h.addPhoto(a, "Portrait", 600, 100, 200, 200), facePng);
    await selectAndWait(p, [photo]);
    const before = await canvas(p, (h, ids) => h.snapshot(ids), [photo]);
    const commits = await canvas(p, (h) => h.commits(), null);
    await p.ui.click("button.generate");
    expect(await success(p)).toMatch(/beside the photo/);
    const [req] = await generates(p.ui);
    expect(req.condition.kind).toBe("edges");
    expect("photo" in req.condition && base64ToBytes(req.condition.photo).length).toBeGreaterThan(50);
    const results = await canvas(p, (h) => h.results(), null);
    expect(results.map((r) => r.name)).toEqual(["Phototype · seed 1234 · edges of “Portrait”", "Phototype · seed 1235 · edges of “Portrait”"]);
    expect(results[0].x).toBeGreaterThan(800);
    expect(results.every((r) => r.width === 200)).toBe(true);
    expect(await canvas(p, (h, ids) => h.snapshot(ids), [photo])).toEqual(before);
    expect(await canvas(p, (h) => h.commits(), null)).toBe(commits + 1);
    await p.page.close();
  });

  it("Use selected image as exemplar: new seeds in the photo's layout, beside it; errors say what to select", async () => {
    const p = await open({ variations: 3 });
    await p.ui.click('button[data-action="exemplar"]');
    expect(await errorText(p)).toMatch(/No image selected/);
    const photo = await canvas(p, (h, a) => h.addPhoto(a, "Model", 0, 400, 128, 128), facePng);
    await selectAndWait(p, [photo]);
    await p.ui.click('button[data-action="exemplar"]');
    expect(await success(p)).toMatch(/3 images in a row beside the photo/);
    const [req] = await generates(p.ui);
    expect(req).toMatchObject({ condition: { kind: "exemplar" }, seed: 1234, variations: 3, mode: "final" });
    const results = await canvas(p, (h) => h.results(), null);
    expect(results.map((r) => r.name)).toEqual([1234, 1235, 1236].map((s) => `Phototype · seed ${s} · layout of “Model”`));
    expect(results.every((r) => r.parent !== null && r.x > 128)).toBe(true);
    await p.page.close();
  });

  it("Edit this photo: its layout becomes a linked frame of shapes; Generate there keeps the photo's identity", async () => {
    const p = await open();
    const photo = await canvas(p, (h, a) => h.addPhoto(a, "Portrait", 0, 0, 256, 256), facePng);
    await selectAndWait(p, [photo]);
    const before = await canvas(p, (h, ids) => h.snapshot(ids), [photo]);
    const commits = await canvas(p, (h) => h.commits(), null);
    await p.ui.click('button[data-action="edit"]');
    expect(await success(p)).toMatch(/Added “Edit · Portrait” beside the photo with \d+ shapes/);
    const [inv] = (await sentMessages(p.ui)).filter((m): m is InvertRequest => m.type === "invert");
    expect(inv.pack).toBe(pack.name);
    const [frameId] = await canvas(p, (h) => h.findByName("Edit · Portrait"), null);
    const f = await canvas(p, (h, id) => h.node(id), frameId);
    expect(f.type).toBe("FRAME");
    expect(f.pluginData["phototype-photo"]).toBe(photo);
    expect(f.x).toBeGreaterThan(256);
    expect(f.children.length).toBeGreaterThan(0);
    const shapes = await Promise.all(f.children.map((id) => canvas(p, (h, a) => h.node(a), id)));
    // Named after the palette's parts: both eyes are "Eye", never "Left eye (image right)".
    const labels = new Set(swatchesOf(pack).map((w) => w.label.replace(/\s*\(.*\)$/, "")));
    for (const s of shapes) {
      expect(s.type).toBe("VECTOR");
      expect(labels.has(s.name), s.name).toBe(true);
      expect(s.name).not.toMatch(/left|right/i);
      expect(s.fill?.type).toBe("SOLID");
    }
    expect(shapes.map((s) => s.name)).toContain("Eye");
    expect(await canvas(p, (h) => h.commits(), null)).toBe(commits + 1);
    expect(await canvas(p, (h, ids) => h.snapshot(ids), [photo])).toEqual(before);
    // The new frame is selected, and the panel says whose identity Generate uses.
    await p.ui.waitForSelector(`.frame-line[data-frame-id="${frameId}"]`);
    expect(await p.ui.textContent(".identity-line")).toMatch(/Generating with the photo's identity \(“Portrait”\)/);

    // Reshape: move the largest shape, then Generate.
    await canvas(p, (h, id) => h.move(id, 16, 0), f.children[0]);
    await p.ui.click("button.generate");
    expect(await success(p)).toMatch(/over the frame/);
    const req = (await generates(p.ui)).at(-1)!;
    expect(req.condition.kind).toBe("mask");
    expect(req.source?.kind).toBe("photo");
    expect(req.variations).toBe(1);
    const results = await canvas(p, (h) => h.results(), null);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: "Phototype · identity of “Portrait”", parent: frameId });
    expect(await canvas(p, (h) => h.uncommitted(), null)).toBe(0);
    await p.page.close();
  });

  it("Edit this photo refuses a photo too small and one without a face, in words", async () => {
    const p = await open();
    const tiny = Buffer.from(rgbPng(flatRgb(pack.resolution / 2, pack.resolution / 2, 120), pack.resolution / 2, pack.resolution / 2)).toString("base64");
    const small = await canvas(p, (h, a) => h.addPhoto(a, "Tiny", 0, 0, 64, 64), tiny);
    await selectAndWait(p, [small]);
    await p.ui.click('button[data-action="edit"]');
    expect(await errorText(p)).toMatch(/too small/);
    const grey = Buffer.from(rgbPng(flatRgb(pack.resolution * 2, pack.resolution * 2, 128), pack.resolution * 2, pack.resolution * 2)).toString("base64");
    const flat = await canvas(p, (h, a) => h.addPhoto(a, "Wall", 300, 0, 128, 128), grey);
    await selectAndWait(p, [flat]);
    await p.ui.click('button[data-action="edit"]');
    await p.ui.waitForFunction(() => /No face found/.test(document.querySelector('.notice[data-tone="error"]')?.textContent ?? ""), null, { timeout: 30_000 });
    expect(await p.ui.textContent(".notice")).toMatch(/flat colour/);
    expect(await canvas(p, (h) => h.findByName("Edit · Wall").length, null)).toBe(0);
    expect(await canvas(p, (h) => h.results().length, null)).toBe(0);
    await p.page.close();
  });

  it("Restyle this region: the selected part from a new seed, the frame's last seed for the rest", async () => {
    const p = await open({ seed: 77 });
    const face = await canvas(p, (h, c) => h.drawFace(c), colours);
    await selectAndWait(p, [face.frameId], face.frameId);
    await p.ui.click("button.generate");
    await success(p);
    // The settings' seed moves on; the restyle starts from the frame's top result (seed 77).
    await p.ui.click('button[aria-label="Random seed"]');
    const hair = face.shapeIds[face.names.indexOf("Hair")];
    await canvas(p, (h, id) => h.select([id]), hair);
    await p.ui.waitForFunction(() => /recolour the 1 selected shape/.test(document.querySelector(".palette .hint")?.textContent ?? ""));
    await p.ui.click('button[data-action="restyle"]');
    await p.ui.waitForFunction(() => document.querySelectorAll('.notice[data-tone="success"]').length === 1 && /Hair from seed/.test(document.querySelector(".notice")?.textContent ?? ""), null, { timeout: 30_000 });
    const req = (await generates(p.ui)).at(-1)!;
    expect(req.restyle?.classes).toEqual([classId("hair")]);
    expect(req.seed).toBe(77);
    expect(req.condition.kind).toBe("mask");
    const results = await canvas(p, (h) => h.results(), null);
    expect(results).toHaveLength(2);
    expect(results[1].name).toBe(`Phototype · seed 77 · Hair from seed ${req.restyle!.seed}`);
    expect(results[1].parent).toBe(face.frameId);
    await p.page.close();
  });

  it("Restyle without a selected part says what to select", async () => {
    const p = await open();
    const face = await canvas(p, (h, c) => h.drawFace(c), colours);
    await selectAndWait(p, [face.frameId], face.frameId);
    await p.ui.click('button[data-action="restyle"]');
    expect(await errorText(p)).toMatch(/Select the shapes of the face part to restyle/);
    expect(await generates(p.ui)).toEqual([]);
    await p.page.close();
  });
});
