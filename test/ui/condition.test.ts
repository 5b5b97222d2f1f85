// The condition builder (ui/session/condition.ts) in real Chromium: what the server is sent for
// shapes, pen strokes and coloured strokes, the caption under the small picture, and the sentence
// when nothing usable was drawn. A 4 x 4 pack keeps every answer countable by hand.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { PackInfo } from "../../protocol/index.ts";
import type { FrameInfo, FrameRead, ShapeSnapshot, StrokeSnapshot, StrokesRead } from "../../plugin/messages.ts";
import { bundleForBrowser, chromiumAvailable, launchChromium } from "./harness/chromium.ts";

let browser: Browser;
let page: Page;

const RED = { r: 1, g: 0, b: 0 };
const BLACK = { r: 0, g: 0, b: 0 };
const pack = (withBackground: boolean): PackInfo => ({
  name: "tiny",
  title: "Tiny",
  version: "1",
  quality: "test",
  license: "test",
  resolution: 4,
  conditions: ["mask", "sketch", "scribble"],
  classes: [...(withBackground ? [{ id: 0, name: "background", label: "Background", color: "#000000" }] : []), { id: 1, name: "skin", label: "Skin", color: "#FF0000" }],
  truncation: 0.7,
});
const frame: FrameInfo = { id: "1:1", name: "Face", width: 4, height: 4, crop: { x: 0, y: 0, side: 4 } };
/** Frame pixels -> the crop's unit square (the frame is its own 4 px crop). */
const toUnit: ShapeSnapshot["toUnit"] = [
  [0.25, 0, 0],
  [0, 0.25, 0],
];

/** A red rectangle over the frame's left half (columns 0 and 1). */
const leftHalf: ShapeSnapshot = {
  id: "1:2",
  name: "Rectangle",
  type: "RECTANGLE",
  fill: { kind: "solid", color: RED, opacity: 1 },
  paths: [{ data: "M 0 0 L 2 0 L 2 4 L 0 4 Z", windingRule: "NONZERO" }],
  toUnit,
};
/** A horizontal line through the middle of row 1 (y = 1.5), across the frame: 1.5 px wide at 4 px, it covers rows 0 and 2 only a quarter (under the half that counts). */
const line = (id: string, color: typeof RED): StrokeSnapshot => ({
  id,
  name: "Line",
  type: "VECTOR",
  paint: { kind: "solid", color, opacity: 1 },
  paths: [{ data: "M 0 1.5 L 4 1.5" }],
  toUnit,
});

interface Built {
  ok: boolean;
  text?: string;
  problem?: string;
  condition?: { kind: string; width?: number; height?: number };
  map?: number[];
  caption?: string;
  selectedClasses?: number[];
}

async function build(call: "mask" | "sketch" | "scribble", read: FrameRead | StrokesRead, p: PackInfo): Promise<Built> {
  return page.evaluate(
    ({ call, read, p }) => {
      const g = globalThis as any;
      const r = call === "mask" ? g.maskCondition(read, p, [p]) : g.strokeCondition(call, read, p, [p]);
      if (!r.ok) return { ok: false, text: r.text, problem: r.problem };
      const { kind, width, height } = r.condition;
      return { ok: true, condition: { kind, width, height }, map: Array.from(r.layout.mask as Uint8Array), caption: r.layout.caption, selectedClasses: r.selectedClasses };
    },
    { call, read, p },
  );
}

const rows = (map: number[]) => [0, 1, 2, 3].map((y) => map.slice(y * 4, y * 4 + 4));

describe.skipIf(!chromiumAvailable())("condition builder (Chromium)", () => {
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.addScriptTag({ content: await bundleForBrowser("test/ui/harness/condition-entry.ts") });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("shapes: the left half is skin (1), the rest background (0); the selected shape's class is what a restyle changes", async () => {
    const read: FrameRead = { ok: true, snapshot: { frame, shapes: [leftHalf], skipped: { text: 1, noFill: 0, masks: 0 }, selectedIds: ["1:2"] } };
    const r = await build("mask", read, pack(true));
    expect(r.ok).toBe(true);
    expect(r.condition).toEqual({ kind: "mask", width: 4, height: 4 });
    expect(rows(r.map!)).toEqual([
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
    expect(r.caption).toBe("What the model sees: 1 shape (1 by colour, 0 by name) · skipped 1 text");
    expect(r.selectedClasses).toEqual([1]);
  });

  it("shapes: a pack without a background class counts the empty pixels and sends nothing", async () => {
    const read: FrameRead = { ok: true, snapshot: { frame, shapes: [leftHalf], skipped: { text: 0, noFill: 0, masks: 0 } } };
    const r = await build("mask", read, pack(false));
    expect(r).toEqual({
      ok: false,
      text: "Tiny has no background class, so every pixel needs a shape: 8 of 16 are empty. Cover the frame's centre square with shapes.",
    });
  });

  it("a failed read passes the main thread's sentence and code on", async () => {
    const read: FrameRead = { ok: false, problem: { code: "frame_gone", message: "The frame was deleted." } };
    expect(await build("mask", read, pack(true))).toEqual({ ok: false, text: "The frame was deleted.", problem: "frame_gone" });
  });

  // Both read strokes; a sketch keeps the dark ones as 1 on 0 paper, a scribble the palette-coloured ones as their class on 255.
  const strokeCases = [
    {
      kind: "sketch" as const,
      title: "sketch: a black line is 1 along its row, paper 0; the red line is skipped and said so",
      strokes: [line("1:3", BLACK), line("1:4", RED)],
      paper: 0,
      ink: 1,
      caption: "What the model sees: 1 pen stroke · skipped 1 coloured",
    },
    {
      kind: "scribble" as const,
      title: "scribble: the red line is skin (1) along its row, 255 (nothing drawn) elsewhere",
      strokes: [line("1:4", RED)],
      paper: 255,
      ink: 1,
      caption: "What the model sees: 1 stroke of 1 part",
    },
  ];
  for (const c of strokeCases) {
    it(c.title, async () => {
      const read: StrokesRead = { ok: true, snapshot: { frame, strokes: c.strokes, skipped: { text: 0, noStroke: 0 } } };
      const r = await build(c.kind, read, pack(true));
      expect(r.condition).toEqual({ kind: c.kind, width: 4, height: 4 });
      const [o, x] = [c.paper, c.ink];
      expect(rows(r.map!)).toEqual([
        [o, o, o, o],
        [x, x, x, x],
        [o, o, o, o],
        [o, o, o, o],
      ]);
      expect(r.caption).toBe(c.caption);
    });
  }

  it("sketch with only coloured strokes: a sentence pointing to Scribble, nothing sent", async () => {
    const read: StrokesRead = { ok: true, snapshot: { frame, strokes: [line("1:4", RED)], skipped: { text: 0, noStroke: 0 } } };
    expect(await build("sketch", read, pack(true))).toEqual({
      ok: false,
      text: "No dark strokes found in “Face”: Sketch reads black pen lines; 1 coloured stroke was skipped. Pick Scribble for coloured strokes.",
      problem: "no_strokes",
    });
  });

  it("scribble: a stroke in no palette colour stops with the palette sentence", async () => {
    const read: StrokesRead = { ok: true, snapshot: { frame, strokes: [line("1:5", { r: 0, g: 0.5, b: 1 })], skipped: { text: 0, noStroke: 0 } } };
    const r = await build("scribble", read, pack(true));
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^1 stroke has a colour that is not in the palette and no face-part name: “Line” \(#0080FF\)/);
  });
});
