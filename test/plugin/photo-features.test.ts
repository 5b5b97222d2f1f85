// The main thread's side of sketch / scribble strokes, photos, "Edit this photo" and photo-action
// results, on the fake `figma`: what it reads, what it creates, that user layers stay as they
// were and that each action is one undo step.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { encode } from "fast-png";
import { apply } from "../../plugin/lib/transform.ts";
import { exportScale } from "../../plugin/lib/photo-export.ts";
import { besidePlacements } from "../../plugin/lib/fit.ts";
import { ringPath } from "../../plugin/layout-frame.ts";
import { PHOTO_LINK_KEY, RESULT_SEED_KEY, type PhotoRead, type StrokesRead } from "../../plugin/messages.ts";
import type { FakeNode } from "./fake-figma.ts";
import { drawFace, frame, rgb01, runPlugin, shape, snapshotNodes } from "./scene.ts";

const pack = JSON.parse(readFileSync("models/packs/faces-64/pack.json", "utf8")) as { classes: { id: number; name: string; label: string; color: string }[] };
const colours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));

function png(width: number, height = width, shade = 128): Uint8Array {
  return encode({ width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(shade) });
}

type P = ReturnType<typeof runPlugin>;

async function select(p: P, nodes: FakeNode[]): Promise<void> {
  p.figma.currentPage.selection = nodes;
  await p.settle();
}

async function readStrokes(p: P): Promise<StrokesRead> {
  const token = Math.floor(Math.random() * 1e9);
  await p.send({ type: "read-strokes", token });
  return p.messages("strokes-read").find((m) => m.token === token)!.result;
}

async function readPhoto(p: P, nodeId?: string, maxSide = 512): Promise<PhotoRead> {
  const token = Math.floor(Math.random() * 1e9);
  await p.send({ type: "read-photo", token, nodeId, maxSide });
  return p.messages("photo-read").find((m) => m.token === token)!.result;
}

/** A pen line: a VECTOR with an open path and a stroke. */
function penLine(p: P, parent: FakeNode, hex: string, data: string, x: number, y: number): FakeNode {
  const v = p.figma.createVector();
  parent.appendChild(v);
  v.vectorPaths = [{ windingRule: "NONE", data }];
  v.strokes = [{ type: "SOLID", color: rgb01(hex) }];
  v.x = x;
  v.y = y;
  return v;
}

/** A rectangle showing a photo (image fill). */
function photoNode(p: P, parent: FakeNode, name: string, bytes: Uint8Array, x: number, y: number, w: number, h: number): FakeNode {
  const r = p.figma.createRectangle();
  r.name = name;
  r.resize(w, h);
  r.fills = [{ type: "IMAGE", scaleMode: "FILL", imageHash: p.figma.createImage(bytes).hash }];
  parent.appendChild(r);
  r.x = x;
  r.y = y;
  return r;
}

describe("reading strokes (sketch, scribble)", () => {
  it("returns pen lines, lines and outlined shapes with their centre lines, stroke paint and transform", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Sketch", 0, 0, 256, 256);
    const pen = penLine(p, f, "#000000", "M 0 0 L 64 32 L 128 0", 64, 100);
    const oval = shape(p.figma, f, "ELLIPSE", "Face outline", "#FFFFFF", 64, 32, 128, 160);
    oval.fills = [];
    oval.strokes = [{ type: "SOLID", color: rgb01(colours.hair) }];
    const filled = shape(p.figma, f, "RECTANGLE", "Filled", colours.skin, 0, 0, 10, 10);
    const text = p.figma.createText();
    f.appendChild(text);
    await select(p, [f]);
    const read = await readStrokes(p);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const { strokes, skipped } = read.snapshot;
    expect(strokes.map((s) => s.id)).toEqual([pen.id, oval.id]);
    expect(skipped).toEqual({ text: 1, noStroke: 1 });
    expect(strokes[0].paths[0].data).toBe("M 0 0 L 64 32 L 128 0");
    expect(strokes[0].paint).toEqual({ kind: "solid", color: { r: 0, g: 0, b: 0 }, opacity: 1 });
    // Path point (64, 32) of the pen line sits at frame (128, 132): unit (0.5, 132/256).
    const [ux, uy] = apply(strokes[0].toUnit, 64, 32);
    expect(ux).toBeCloseTo(0.5, 9);
    expect(uy).toBeCloseTo(132 / 256, 9);
    expect(strokes[1].paint).toMatchObject({ kind: "solid", color: rgb01(colours.hair) });
    expect(strokes[1].paths[0].data).toMatch(/^M /);
    expect(filled.strokes).toEqual([]);
  });

  it("says there are no strokes when the frame holds only filled shapes", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Shapes", 0, 0, 128, 128);
    drawFace(p.figma, f, colours);
    await select(p, [f]);
    const read = await readStrokes(p);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.problem.code).toBe("no_strokes");
    expect(read.problem.message).toMatch(/No strokes found in “Shapes” \(9 shapes have a fill but no stroke\)/);
  });

  it("skips hidden strokes, zero weights and Phototype's results", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "S", 0, 0, 128, 128);
    const hidden = penLine(p, f, "#000000", "M 0 0 L 10 10", 0, 0);
    hidden.strokes = [{ type: "SOLID", color: { r: 0, g: 0, b: 0 }, visible: false }];
    const thin = penLine(p, f, "#000000", "M 0 0 L 10 10", 0, 0);
    thin.strokeWeight = 0;
    const kept = penLine(p, f, "#000000", "M 0 0 L 10 10", 0, 0);
    await select(p, [f]);
    await p.send({ type: "insert", requestId: "r", frameId: f.id, pack: "x", images: [{ png: png(32), seed: 3 }] });
    const read = await readStrokes(p);
    expect(read.ok && read.snapshot.strokes.map((s) => s.id)).toEqual([kept.id]);
  });
});

describe("finding and exporting the photo", () => {
  it("exports the selected image at its own resolution, capped", async () => {
    const p = runPlugin();
    const holder = frame(p.figma, "Board", 0, 0, 800, 800);
    const photo = photoNode(p, holder, "Portrait", png(100, 80), 10, 10, 400, 320);
    await select(p, [photo]);
    const read = await readPhoto(p);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.photo).toMatchObject({ nodeId: photo.id, name: "Portrait" });
    // Source 100x80 shown at 400x320: exported at scale 80/320, the image's own pixels.
    expect(p.figma.lastExport).toEqual({ id: photo.id, settings: { format: "PNG", constraint: { type: "SCALE", value: 0.25 }, colorProfile: "SRGB" } });
    expect(read.photo.png.length).toBeGreaterThan(20);
  });

  it("takes the frame's one image when the frame is selected, and asks when there are several or none", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Holder", 0, 0, 300, 300);
    await select(p, [f]);
    let read = await readPhoto(p);
    expect(!read.ok && read.problem.code).toBe("no_image");
    expect(!read.ok && read.problem.message).toMatch(/No image selected/);
    const one = photoNode(p, f, "One", png(64), 0, 0, 100, 100);
    read = await readPhoto(p);
    expect(read.ok && read.photo.nodeId).toBe(one.id);
    photoNode(p, f, "Two", png(64), 150, 0, 100, 100);
    read = await readPhoto(p);
    expect(!read.ok && read.problem.code).toBe("several_images");
    // Phototype's results in the frame are not candidates unless selected.
    await p.send({ type: "insert", requestId: "r", frameId: f.id, pack: "x", images: [{ png: png(32), seed: 1 }] });
    f.children.find((c) => c.name === "Two")!.remove();
    read = await readPhoto(p);
    expect(read.ok && read.photo.nodeId).toBe(one.id);
  });

  it("reads an edit frame's linked photo by id, and says when it is gone", async () => {
    const p = runPlugin();
    const photo = photoNode(p, p.figma.currentPage, "Gone soon", png(64), 0, 0, 64, 64);
    let read = await readPhoto(p, photo.id);
    expect(read.ok).toBe(true);
    photo.remove();
    read = await readPhoto(p, photo.id);
    expect(!read.ok && read.problem.code).toBe("photo_gone");
  });

  it("scales exports by the image's own pixels, never up past them, at most maxSide", () => {
    expect(exportScale({ width: 400, height: 320 }, { width: 100, height: 80 }, 512)).toBe(0.25);
    expect(exportScale({ width: 100, height: 100 }, { width: 2000, height: 2000 }, 512)).toBe(5.12);
    expect(exportScale({ width: 200, height: 100 }, null, 512)).toBe(1);
    expect(exportScale({ width: 2000, height: 1000 }, null, 512)).toBe(0.256);
  });
});

describe("Edit this photo: the layout frame", () => {
  const classes = pack.classes.map((c) => ({ id: c.id, label: c.label, color: c.color }));
  const id = (name: string) => pack.classes.find((c) => c.name === name)!.id;
  // Two regions in a 32 px layout: a big skin square and a hair bar inside it, largest first.
  const shapes = [
    { classId: id("skin"), points: [4, 4, 28, 4, 28, 28, 4, 28] },
    { classId: id("hair"), points: [8, 2, 24, 2, 24, 8, 8, 8] },
  ];

  it("adds a frame of named, palette-coloured vectors beside the photo, linked to it, in one undo step", async () => {
    const p = runPlugin();
    const photo = photoNode(p, p.figma.currentPage, "Portrait", png(64), 100, 50, 256, 200);
    const before = snapshotNodes([photo]);
    await select(p, [photo]);
    const commits = p.figma.commits();
    await p.send({ type: "create-layout", requestId: "e1", photoNodeId: photo.id, resolution: 32, shapes, classes, background: colours.background });
    const done = p.messages("layout-created").at(-1)!;
    expect(done).toMatchObject({ requestId: "e1", name: "Edit · Portrait", shapes: 2 });
    const f = (await p.figma.getNodeByIdAsync(done.frameId))!;
    expect(f.type).toBe("FRAME");
    // Beside the photo, a square of its shorter side.
    const [place] = besidePlacements({ x: 100, y: 50, width: 256, height: 200 }, 1);
    expect([f.x, f.y, f.width, f.height]).toEqual([place.x, place.y, 200, 200]);
    expect(f.fills).toMatchObject([{ type: "SOLID", color: rgb01(colours.background) }]);
    expect(f.children.map((c) => [c.type, c.name])).toEqual([
      ["VECTOR", "Skin"],
      ["VECTOR", "Hair"],
    ]);
    const [skin, hair] = f.children;
    const scale = 200 / 32;
    expect([skin.x, skin.y, skin.width, skin.height]).toEqual([4 * scale, 4 * scale, 24 * scale, 24 * scale]);
    expect([hair.x, hair.y]).toEqual([8 * scale, 2 * scale]);
    expect(hair.fills).toMatchObject([{ type: "SOLID", color: rgb01(colours.hair) }]);
    expect(hair.vectorPaths[0].data).toBe(ringPath(shapes[1].points, scale).data);
    expect(f.getPluginData(PHOTO_LINK_KEY)).toBe(photo.id);
    // The user's photo is untouched: no pluginData, no move.
    expect(snapshotNodes([photo])).toEqual(before);
    expect(photo.getPluginDataKeys()).toEqual([]);
    expect(p.figma.commits()).toBe(commits + 1);
    expect(p.figma.uncommittedChanges()).toBe(0);
    // The new frame is selected and reported as linked to a present photo.
    await p.settle();
    const sel = p.messages("selection").at(-1)!;
    expect(sel.frame?.id).toBe(f.id);
    expect(sel.frame?.source).toEqual({ nodeId: photo.id, name: "Portrait", present: true });
    // The layout reads back as shapes, classified by colour like any drawing.
    await p.send({ type: "read-frame", token: 9 });
    const read = p.messages("frame-read").find((m) => m.token === 9)!.result;
    expect(read.ok && read.snapshot.shapes.map((s) => s.name)).toEqual(["Skin", "Hair"]);
    expect(read.ok && read.snapshot.frame.source?.present).toBe(true);
    photo.remove();
    await select(p, [f]);
    expect(p.messages("selection").at(-1)!.frame?.source?.present).toBe(false);
  });

  it("adds nothing when the photo is gone", async () => {
    const p = runPlugin();
    const photo = photoNode(p, p.figma.currentPage, "P", png(64), 0, 0, 64, 64);
    photo.remove();
    const pageBefore = p.figma.currentPage.children.length;
    await p.send({ type: "create-layout", requestId: "e2", photoNodeId: photo.id, resolution: 32, shapes, classes, background: null });
    expect(p.messages("layout-failed").at(-1)).toMatchObject({ requestId: "e2" });
    expect(p.figma.currentPage.children.length).toBe(pageBefore);
  });
});

describe("photo-action results", () => {
  it("land in a row beside the photo with their labels and seeds, one undo step, photo untouched", async () => {
    const p = runPlugin();
    const holder = frame(p.figma, "Board", 0, 0, 600, 600);
    const photo = photoNode(p, holder, "Portrait", png(64), 40, 40, 200, 100);
    const before = snapshotNodes([holder, photo]);
    const commits = p.figma.commits();
    await p.send({
      type: "insert",
      requestId: "x1",
      frameId: null,
      target: { kind: "beside", id: photo.id },
      pack: "faces-64",
      images: [
        { png: png(32), seed: 10 },
        { png: png(32, 32, 9), seed: 11, label: "seed 11 · layout of “Portrait”" },
      ],
    });
    expect(p.messages("inserted").at(-1)).toMatchObject({ count: 2, names: ["Phototype · seed 10", "Phototype · seed 11 · layout of “Portrait”"], placement: "beside" });
    const results = p.figma.currentPage.children.filter((n) => n.name.startsWith("Phototype"));
    const places = besidePlacements({ x: 40, y: 40, width: 200, height: 100 }, 2);
    expect(results.map((r) => [r.x, r.y, r.width])).toEqual(places.map((q) => [q.x, q.y, q.size]));
    expect(results.map((r) => r.getPluginData(RESULT_SEED_KEY))).toEqual(["10", "11"]);
    expect(snapshotNodes([holder, photo])).toEqual(before);
    expect(p.figma.commits()).toBe(commits + 1);
    expect(p.figma.uncommittedChanges()).toBe(0);
  });

  it("reports the top-most result's seed of a frame (what a restyle starts from)", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 128, 128);
    drawFace(p.figma, f, colours);
    await select(p, [f]);
    expect(p.messages("selection").at(-1)!.frame?.lastSeed).toBeNull();
    await p.send({ type: "insert", requestId: "a", frameId: f.id, pack: "x", images: [{ png: png(32), seed: 77 }] });
    await p.send({ type: "insert", requestId: "b", frameId: f.id, pack: "x", images: [{ png: png(32), seed: 78, label: "seed 78 · Hair from seed 5" }] });
    await select(p, []);
    await select(p, [f]);
    expect(p.messages("selection").at(-1)!.frame?.lastSeed).toBe(78);
    expect(f.children.at(-1)!.name).toBe("Phototype · seed 78 · Hair from seed 5");
  });
});

describe("palette clicks in Scribble", () => {
  it("colour the selected strokes (not their fills), and ask for a stroke when none is selected", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Scribble", 0, 0, 128, 128);
    const line = penLine(p, f, "#000000", "M 0 0 L 40 0", 10, 10);
    await select(p, [f]);
    await p.send({ type: "apply-class", className: "hair", label: "Hair", color: colours.hair, paint: "stroke" });
    expect(p.messages("class-failed").at(-1)?.message).toMatch(/Draw a stroke in the frame with the pen/);
    expect(f.children).toHaveLength(1);
    await select(p, [line]);
    const commits = p.figma.commits();
    await p.send({ type: "apply-class", className: "hair", label: "Hair", color: colours.hair, paint: "stroke" });
    expect(line.strokes).toMatchObject([{ type: "SOLID", color: rgb01(colours.hair) }]);
    expect(line.fills).toEqual([]);
    expect(p.figma.commits()).toBe(commits + 1);
  });
});
