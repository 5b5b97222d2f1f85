// Builds canvases for the main-thread tests on the fake `figma`, and runs the plugin on it.
// Used by vitest (Node) and bundled into the Chromium harness.
import { startPlugin, type PluginHandle } from "../../plugin/controller.ts";
import type { MainToUi, UiToMain } from "../../plugin/messages.ts";
import { createFakeFigma, type FakeFigma, type FakeNode } from "./fake-figma.ts";

export interface PaletteColour {
  name: string;
  label: string;
  color: string;
}

export function rgb01(hex: string): { r: number; g: number; b: number } {
  const n = parseInt(hex.replace("#", ""), 16);
  return { r: ((n >> 16) & 255) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255 };
}

export function shape(figma: FakeFigma, parent: FakeNode, kind: "RECTANGLE" | "ELLIPSE", name: string, hex: string, x: number, y: number, w: number, h: number): FakeNode {
  const n = kind === "RECTANGLE" ? figma.createRectangle() : figma.createEllipse();
  n.name = name;
  n.resize(w, h);
  n.fills = [{ type: "SOLID", color: rgb01(hex) }];
  parent.appendChild(n);
  n.x = x;
  n.y = y;
  return n;
}

export function frame(figma: FakeFigma, name: string, x: number, y: number, w: number, h: number): FakeNode {
  const f = figma.createFrame();
  f.name = name;
  f.resize(w, h);
  f.x = x;
  f.y = y;
  return f;
}

/** A simple face on a `size` square frame: skin oval, hair, eyes, nose, mouth (colours from `palette`). */
export function drawFace(figma: FakeFigma, f: FakeNode, colours: Record<string, string>, size = f.width): FakeNode[] {
  const s = size / 256;
  const ox = (f.width - size) / 2;
  const oy = (f.height - size) / 2;
  const out: FakeNode[] = [];
  const add = (kind: "RECTANGLE" | "ELLIPSE", cls: string, x: number, y: number, w: number, h: number) => {
    if (colours[cls]) out.push(shape(figma, f, kind, cls[0].toUpperCase() + cls.slice(1), colours[cls], ox + x * s, oy + y * s, w * s, h * s));
  };
  add("RECTANGLE", "background", 0, 0, 256, 256);
  add("ELLIPSE", "hair", 48, 20, 160, 150);
  add("RECTANGLE", "neck", 100, 190, 56, 66);
  add("ELLIPSE", "skin", 64, 48, 128, 164);
  add("ELLIPSE", "l_eye", 146, 108, 24, 12);
  add("ELLIPSE", "r_eye", 86, 108, 24, 12);
  add("ELLIPSE", "nose", 118, 120, 20, 34);
  add("ELLIPSE", "u_lip", 104, 164, 48, 10);
  add("ELLIPSE", "l_lip", 104, 172, 48, 12);
  return out;
}

export interface RunningPlugin {
  figma: FakeFigma;
  plugin: PluginHandle;
  /** Sends a UI message and waits until the main thread has handled it. */
  send(msg: UiToMain): Promise<void>;
  /** Lets the fake deliver its queued events (selectionchange, nodechange), then waits for the plugin. */
  settle(): Promise<void>;
  messages<T extends MainToUi["type"]>(type: T): Extract<MainToUi, { type: T }>[];
}

export function runPlugin(figma: FakeFigma = createFakeFigma()): RunningPlugin {
  const g = globalThis as unknown as { figma: unknown; __html__: string };
  g.figma = figma;
  g.__html__ = "<html></html>";
  const plugin = startPlugin(g.__html__);
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await plugin.idle();
    }
  };
  return {
    figma,
    plugin,
    async send(msg) {
      figma.sendFromUi(msg);
      await plugin.idle();
    },
    settle,
    messages: (type) => figma.uiOutbox.filter((m) => (m as MainToUi).type === type) as never,
  };
}

/** The properties a user would notice changing, for before/after comparisons. */
export function snapshotNodes(nodes: readonly FakeNode[]): unknown[] {
  return nodes.map((n) => ({
    id: n.id,
    name: n.name,
    type: n.type,
    parent: n.parent?.id ?? null,
    index: n.parent ? n.parent.children.indexOf(n) : -1,
    removed: n.removed,
    transform: n.relativeTransform,
    width: n.width,
    height: n.height,
    fills: JSON.parse(JSON.stringify(n.fills)),
    visible: n.visible,
    opacity: n.opacity,
    pluginData: n.getPluginDataKeys(),
  }));
}
