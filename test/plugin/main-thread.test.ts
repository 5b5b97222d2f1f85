// The plugin's main thread against a fake `figma`: what it reads, what it creates, that it never
// alters the user's layers, and that each insert is one undo step.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { encode } from "fast-png";
import { apply } from "../../plugin/lib/transform.ts";
import { MAX_SHAPES } from "../../plugin/walk-frame.ts";
import { RESULT_MARK_KEY, RESULT_MARK_VALUE, type FrameRead } from "../../plugin/messages.ts";
import { createFakeFigma, type FakeNode } from "./fake-figma.ts";
import { drawFace, frame, rgb01, runPlugin, shape, snapshotNodes } from "./scene.ts";

const pack = JSON.parse(readFileSync("models/packs/faces-64/pack.json", "utf8")) as { classes: { name: string; label: string; color: string }[] };
const colours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));

function png(size: number, shade = 128): Uint8Array {
  return encode({ width: size, height: size, channels: 3, data: new Uint8Array(size * size * 3).fill(shade) });
}

async function readFrame(p: ReturnType<typeof runPlugin>): Promise<FrameRead> {
  const token = Math.floor(Math.random() * 1e9);
  await p.send({ type: "read-frame", token });
  const answer = p.messages("frame-read").find((m) => m.token === token);
  if (!answer) throw new Error("no frame-read answer");
  return answer.result;
}

async function select(p: ReturnType<typeof runPlugin>, nodes: FakeNode[]): Promise<void> {
  p.figma.currentPage.selection = nodes;
  await p.settle();
}

describe("finding the frame", () => {
  it("asks for a selection when there is none", async () => {
    const p = runPlugin();
    await p.send({ type: "ui-ready" });
    const sel = p.messages("selection").at(-1)!;
    expect(sel.frame).toBeNull();
    expect(sel.problem?.code).toBe("no_selection");
    const read = await readFrame(p);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.problem.message).toMatch(/Select a frame/);
  });

  it("takes the frame around a selected shape, and keeps it when the selection is cleared", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 256, 256);
    const [bg] = drawFace(p.figma, f, colours);
    await select(p, [bg]);
    expect(p.messages("selection").at(-1)!.frame?.id).toBe(f.id);
    expect(p.messages("selection").at(-1)!.selectedShapes).toBe(1);
    await select(p, []);
    const last = p.messages("selection").at(-1)!;
    expect(last.frame?.id).toBe(f.id);
    expect(last.problem).toBeNull();
  });

  it("explains a shape outside any frame and a selection across frames", async () => {
    const p = runPlugin();
    const loose = p.figma.createRectangle();
    loose.name = "Loose";
    await select(p, [loose]);
    expect(p.messages("selection").at(-1)!.problem?.message).toMatch(/“Loose” is not inside a frame/);
    const a = frame(p.figma, "A", 0, 0, 100, 100);
    const b = frame(p.figma, "B", 200, 0, 100, 100);
    await select(p, [a, b]);
    expect(p.messages("selection").at(-1)!.problem?.code).toBe("several_frames");
  });

  it("skips frames inside an instance (they cannot take new layers)", async () => {
    const p = runPlugin();
    const outer = frame(p.figma, "Outer", 0, 0, 200, 200);
    const inst = p.figma.createInstanceForTest();
    outer.appendChild(inst);
    const inner = new (outer.constructor as new (f: unknown, t: string, n: string) => FakeNode)(p.figma, "FRAME", "Inner");
    inst.children.push(inner);
    inner.parent = inst;
    await select(p, [inner]);
    expect(p.messages("selection").at(-1)!.frame?.id).toBe(outer.id);
  });
});

describe("reading shapes", () => {
  it("returns shapes in paint order with outlines, fills and transforms into the crop square", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 1000, 500, 400, 300); // landscape: crop x 50..350
    const skin = shape(p.figma, f, "ELLIPSE", "Skin", colours.skin, 50, 0, 300, 300);
    const group = p.figma.group([shape(p.figma, f, "RECTANGLE", "Eye", colours.l_eye, 200, 100, 40, 20)], f);
    group.name = "Eyes";
    const rotated = shape(p.figma, f, "RECTANGLE", "Nose", colours.nose, 190, 120, 20, 40);
    rotated.rotation = 90;
    const text = p.figma.createText();
    f.appendChild(text);
    const hidden = shape(p.figma, f, "RECTANGLE", "Hidden", colours.hair, 0, 0, 10, 10);
    hidden.visible = false;
    const outline = shape(p.figma, f, "RECTANGLE", "Outline", colours.hair, 0, 0, 10, 10);
    outline.fills = [];
    await select(p, [f]);
    const read = await readFrame(p);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const { snapshot } = read;
    expect(snapshot.frame).toMatchObject({ id: f.id, width: 400, height: 300, crop: { x: 50, y: 0, side: 300 } });
    expect(snapshot.shapes.map((s) => s.name)).toEqual(["Skin", "Eye", "Nose"]);
    expect(snapshot.skipped).toEqual({ text: 1, noFill: 1, masks: 0 });
    const [s0, s1, s2] = snapshot.shapes;
    expect(s0.fill).toEqual({ kind: "solid", color: rgb01(colours.skin), opacity: 1 });
    expect(s0.paths[0].data).toMatch(/^M /);
    // The skin ellipse fills the crop: its local corners map to the unit square's.
    const [x0, y0] = apply(s0.toUnit, 0, 0);
    const [x1, y1] = apply(s0.toUnit, 300, 300);
    expect([x0, y0, x1, y1].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 0, 1, 1]);
    // The eye inside a group is still placed relative to the frame.
    const [ex, ey] = apply(s1.toUnit, 0, 0);
    expect(ex).toBeCloseTo(150 / 300, 9);
    expect(ey).toBeCloseTo(100 / 300, 9);
    // Rotated 90° counter-clockwise about its top-left: local (w, 0) goes up.
    const [rx, ry] = apply(s2.toUnit, 20, 0);
    expect(rx).toBeCloseTo((190 - 50) / 300, 9);
    expect(ry).toBeCloseTo((120 - 20) / 300, 9);
  });

  it("ignores the result layers it inserted itself", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 64, 64);
    drawFace(p.figma, f, colours);
    await select(p, [f]);
    await p.send({ type: "insert", requestId: "r1", frameId: f.id, pack: "faces-64", images: [{ png: png(32), seed: 5 }] });
    const read = await readFrame(p);
    expect(read.ok && read.snapshot.shapes.some((s) => s.name.startsWith("Phototype"))).toBe(false);
    expect(read.ok && read.snapshot.shapes.length).toBe(9);
  });

  it("reports an empty frame, and one with only text", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Empty", 0, 0, 100, 100);
    await select(p, [f]);
    let read = await readFrame(p);
    expect(!read.ok && read.problem.code).toBe("empty_frame");
    f.appendChild(p.figma.createText());
    read = await readFrame(p);
    expect(!read.ok && read.problem.message).toMatch(/only 1 text layer/);
  });

  it("refuses a 10,000-shape frame before reading a single outline", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Busy", 0, 0, 1000, 1000);
    let outlineReads = 0;
    for (let i = 0; i < 10_000; i++) {
      const r = shape(p.figma, f, "RECTANGLE", `r${i}`, colours.skin, i % 100, Math.floor(i / 100), 5, 5);
      Object.defineProperty(r, "fillGeometry", {
        get() {
          outlineReads++;
          return [];
        },
      });
    }
    await select(p, [f]);
    const t0 = performance.now();
    const read = await readFrame(p);
    const ms = performance.now() - t0;
    expect(!read.ok && read.problem.code).toBe("too_many_shapes");
    expect(!read.ok && read.problem.message).toContain(`more than ${MAX_SHAPES.toLocaleString("en-US")} shapes`);
    expect(outlineReads).toBe(0);
    console.log(`10,000-shape frame refused in ${ms.toFixed(1)} ms`);
  });

  it("refuses a frame larger than 4096 px", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Huge", 0, 0, 5000, 3000);
    drawFace(p.figma, f, colours, 3000);
    await select(p, [f]);
    const read = await readFrame(p);
    expect(!read.ok && read.problem.code).toBe("frame_too_large");
  });
});

describe("inserting results", () => {
  it("adds one image layer per variation, changes no user layer, and commits one undo step", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 100, 200, 400, 300);
    const userShapes = drawFace(p.figma, f, colours, 300);
    const userNodes = [f, ...userShapes];
    await select(p, [f]);
    const before = snapshotNodes(userNodes);
    const commitsBefore = p.figma.commits();
    const pageChildrenBefore = p.figma.currentPage.children.length;

    await p.send({
      type: "insert",
      requestId: "req-1",
      frameId: f.id,
      pack: "faces-64",
      images: [1234, 1235, 1236].map((seed, i) => ({ png: png(32, 60 * i), seed })),
    });

    expect(p.messages("inserted").at(-1)).toEqual({
      type: "inserted",
      requestId: "req-1",
      count: 3,
      names: ["Phototype · seed 1234", "Phototype · seed 1235", "Phototype · seed 1236"],
      placement: "frame",
    });
    // First result: inside the frame, on top, over the centre square.
    const first = f.children.at(-1)!;
    expect(first.name).toBe("Phototype · seed 1234");
    expect([first.x, first.y, first.width, first.height]).toEqual([50, 0, 300, 300]);
    expect(first.getPluginData(RESULT_MARK_KEY)).toBe(RESULT_MARK_VALUE);
    const fill = first.fills[0] as { type: string; scaleMode: string; imageHash: string };
    expect(fill.type).toBe("IMAGE");
    expect(fill.scaleMode).toBe("FILL");
    expect(p.figma.getImageByHash(fill.imageHash)).not.toBeNull();
    // The others: on the page, in a row to the right of the frame, same size.
    const others = p.figma.currentPage.children.slice(pageChildrenBefore);
    expect(others.map((n) => n.name)).toEqual(["Phototype · seed 1235", "Phototype · seed 1236"]);
    expect(others.map((n) => [n.x, n.y, n.width])).toEqual([
      [100 + 400 + 30, 200, 300],
      [100 + 400 + 30 + 300 + 30, 200, 300],
    ]);
    // Different images, different hashes.
    const hashes = [first, ...others].map((n) => (n.fills[0] as { imageHash: string }).imageHash);
    expect(new Set(hashes).size).toBe(3);

    expect(snapshotNodes(userNodes)).toEqual(before);
    expect(p.figma.commits()).toBe(commitsBefore + 1);
    expect(p.figma.uncommittedChanges()).toBe(0);
  });

  it("keeps an auto-layout frame from swallowing the result", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Auto", 0, 0, 200, 200);
    f.layoutMode = "VERTICAL";
    drawFace(p.figma, f, colours);
    await p.send({ type: "insert", requestId: "r", frameId: f.id, pack: "p", images: [{ png: png(32), seed: 1 }] });
    expect(f.children.at(-1)!.layoutPositioning).toBe("ABSOLUTE");
  });

  it("adds nothing when the frame is gone", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 100, 100);
    drawFace(p.figma, f, colours);
    const id = f.id;
    f.remove();
    const pageBefore = p.figma.currentPage.children.length;
    await p.send({ type: "insert", requestId: "r", frameId: id, pack: "p", images: [{ png: png(32), seed: 1 }] });
    expect(p.messages("insert-failed").at(-1)?.message).toMatch(/gone, so nothing was added/);
    expect(p.figma.currentPage.children.length).toBe(pageBefore);
  });

  it("removes what it added when Figma refuses an image half way", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 100, 100);
    const shapes = drawFace(p.figma, f, colours);
    const before = snapshotNodes([f, ...shapes]);
    const childrenBefore = f.children.length;
    const pageBefore = p.figma.currentPage.children.length;
    await p.send({
      type: "insert",
      requestId: "r",
      frameId: f.id,
      pack: "p",
      images: [
        { png: png(32), seed: 1 },
        { png: new Uint8Array([1, 2, 3]), seed: 2 },
      ],
    });
    expect(p.messages("insert-failed").at(-1)?.message).toMatch(/Image type is unsupported.*Nothing was added/);
    expect(f.children.length).toBe(childrenBefore);
    expect(p.figma.currentPage.children.length).toBe(pageBefore);
    expect(snapshotNodes([f, ...shapes])).toEqual(before);
  });
});

describe("palette clicks", () => {
  it("recolours the selected shapes (and only them) in one undo step", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 256, 256);
    const shapes = drawFace(p.figma, f, colours);
    const [bg, hair, ...rest] = shapes;
    await select(p, [hair]);
    const before = snapshotNodes([bg, ...rest]);
    const commits = p.figma.commits();
    await p.send({ type: "apply-class", className: "hat", label: "Hat", color: colours.hat });
    expect(p.messages("class-applied").at(-1)).toMatchObject({ action: "recoloured", count: 1, label: "Hat" });
    expect(hair.fills).toEqual([{ type: "SOLID", visible: true, opacity: 1, color: rgb01(colours.hat) }]);
    expect(snapshotNodes([bg, ...rest])).toEqual(before);
    expect(p.figma.commits()).toBe(commits + 1);
    expect(p.figma.uncommittedChanges()).toBe(0);
  });

  it("adds a named shape of the class to the frame when no shape is selected", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 200, 100);
    await select(p, [f]);
    await p.send({ type: "apply-class", className: "hair", label: "Hair", color: colours.hair });
    const added = f.children.at(-1)!;
    expect(added.type).toBe("ELLIPSE");
    expect(added.name).toBe("Hair");
    expect([added.x, added.y, added.width]).toEqual([50 + 37.5, 37.5, 25]);
    expect(p.messages("class-applied").at(-1)).toMatchObject({ action: "added", label: "Hair" });
    expect(p.figma.uncommittedChanges()).toBe(0);
  });

  it("says to select a frame first when there is none", async () => {
    const p = runPlugin();
    await p.send({ type: "ui-ready" });
    await p.send({ type: "apply-class", className: "hair", label: "Hair", color: colours.hair });
    expect(p.messages("class-failed")).toHaveLength(1);
    expect(p.figma.currentPage.children).toHaveLength(0);
  });
});

describe("live preview triggers", () => {
  it("announces user edits in the frame, not its own result layers, and stops when live is off", async () => {
    const p = runPlugin();
    const f = frame(p.figma, "Face", 0, 0, 128, 128);
    const [, hair] = drawFace(p.figma, f, colours);
    const elsewhere = frame(p.figma, "Other", 500, 0, 100, 100);
    const otherShape = shape(p.figma, elsewhere, "RECTANGLE", "x", colours.skin, 0, 0, 10, 10);
    await select(p, [f]);
    await p.send({ type: "read-frame", token: 1 });
    await p.send({ type: "live", on: true });
    expect(p.figma.currentPage.listenerCount("nodechange")).toBe(1);
    const count = () => p.messages("frame-changed").length;

    hair.x += 5;
    await p.settle();
    expect(count()).toBe(1);

    otherShape.x += 5;
    await p.settle();
    expect(count()).toBe(1);

    await p.send({ type: "insert", requestId: "r", frameId: f.id, pack: "p", images: [{ png: png(32), seed: 1 }, { png: png(32), seed: 2 }] });
    await p.settle();
    expect(count()).toBe(1);

    hair.remove();
    await p.settle();
    expect(count()).toBe(2);

    await p.send({ type: "live", on: false });
    expect(p.figma.currentPage.listenerCount("nodechange")).toBe(0);
  });
});

describe("client storage", () => {
  it("saves and loads settings and history through the main thread", async () => {
    const figma = createFakeFigma();
    const p = runPlugin(figma);
    await p.send({ type: "save", key: "settings", value: { serverUrl: "ws://localhost:9/ws", token: "secret" } });
    await p.send({ type: "load", key: "settings" });
    expect(p.messages("loaded").at(-1)).toEqual({ type: "loaded", key: "settings", value: { serverUrl: "ws://localhost:9/ws", token: "secret" } });
    await p.send({ type: "load", key: "history" });
    expect(p.messages("loaded").at(-1)).toEqual({ type: "loaded", key: "history", value: null });
    // Nothing of it lands in the document.
    expect(figma.currentPage.children).toHaveLength(0);
  });
});
