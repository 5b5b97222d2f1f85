// The page that stands in for Figma: the real main-thread code (plugin/controller.ts) runs here
// against the fake `figma`, and the real built UI (dist/ui.html) runs in a sandboxed iframe with
// an opaque ("null") origin, as in Figma. Messages cross exactly as Figma relays them:
// `figma.ui.postMessage(x)` → iframe `message` event with `{ pluginMessage: x }`, and the
// iframe's `parent.postMessage({ pluginMessage }, "*")` → `figma.ui.onmessage`.
import { startPlugin } from "../../../plugin/controller.ts";
import { RESULT_MARK_KEY, RESULT_MARK_VALUE } from "../../../plugin/messages.ts";
import { createFakeFigma, type FakeNode } from "../../plugin/fake-figma.ts";
import { drawFace, frame, shape, snapshotNodes } from "../../plugin/scene.ts";

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const figma = createFakeFigma();
  (globalThis as unknown as { figma: unknown }).figma = figma;
  const settings = params.get("settings");
  if (settings) await figma.clientStorage.setAsync("settings", JSON.parse(settings));

  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.id = "plugin-ui";
  let loaded = false;
  const queued: unknown[] = [];
  figma.onUiPost = (msg) => {
    if (loaded && iframe.contentWindow) iframe.contentWindow.postMessage({ pluginMessage: msg }, "*");
    else queued.push(msg);
  };
  window.addEventListener("message", (e) => {
    if (e.source !== iframe.contentWindow) return;
    const msg = (e.data as { pluginMessage?: unknown } | null)?.pluginMessage;
    if (msg) figma.sendFromUi(msg);
  });

  const plugin = startPlugin("<!-- dist/ui.html -->");
  const opts = figma.shownOptions as { width: number; height: number };
  iframe.width = String(opts.width);
  iframe.height = String(opts.height);
  iframe.style.border = "1px solid #ddd";
  iframe.addEventListener("load", () => {
    loaded = true;
    for (const m of queued.splice(0)) iframe.contentWindow!.postMessage({ pluginMessage: m }, "*");
  });
  iframe.src = "/ui.html";
  document.body.appendChild(iframe);

  const byId = (id: string): FakeNode => {
    const n = figma.root.findAll((x) => x.id === id)[0];
    if (!n) throw new Error(`no node ${id}`);
    return n;
  };

  const harness = {
    figma,
    plugin,
    drawFace(colours: Record<string, string>, options: { name?: string; width?: number; height?: number; x?: number } = {}) {
      const f = frame(figma, options.name ?? "Face", options.x ?? 0, 0, options.width ?? 256, options.height ?? 256);
      const shapes = drawFace(figma, f, colours, Math.min(f.width, f.height));
      return { frameId: f.id, shapeIds: shapes.map((s) => s.id), names: shapes.map((s) => s.name) };
    },
    addShape(frameId: string, name: string, hex: string, x: number, y: number, w: number, h: number) {
      return shape(figma, byId(frameId), "RECTANGLE", name, hex, x, y, w, h).id;
    },
    select(ids: string[]) {
      figma.currentPage.selection = ids.map(byId);
    },
    move(id: string, dx: number, dy: number) {
      const n = byId(id);
      n.x += dx;
      n.y += dy;
    },
    remove(id: string) {
      byId(id).remove();
    },
    results() {
      return figma.root
        .findAll((n) => n.getPluginData(RESULT_MARK_KEY) === RESULT_MARK_VALUE)
        .map((n) => ({ id: n.id, name: n.name, parent: n.parent?.id ?? null, x: n.x, y: n.y, width: n.width, fill: n.fills[0] }));
    },
    snapshot(ids: string[]) {
      return snapshotNodes(ids.map(byId));
    },
    fills(id: string) {
      return JSON.parse(JSON.stringify(byId(id).fills));
    },
    children(id: string) {
      return byId(id).children.map((c) => ({ id: c.id, name: c.name, type: c.type }));
    },
    /** A photo on the page (or in a frame): a rectangle with an image fill of these PNG bytes (base64). */
    addPhoto(pngBase64: string, name: string, x: number, y: number, w: number, h: number, frameId?: string) {
      const bytes = Uint8Array.from(atob(pngBase64), (c) => c.charCodeAt(0));
      const r = figma.createRectangle();
      r.name = name;
      r.resize(w, h);
      r.fills = [{ type: "IMAGE", scaleMode: "FILL", imageHash: figma.createImage(bytes).hash }];
      if (frameId) byId(frameId).appendChild(r);
      r.x = x;
      r.y = y;
      return r.id;
    },
    /** A pen stroke (VECTOR, no fill) in a frame: path data in its own coordinates. */
    addStroke(frameId: string, name: string, hex: string, data: string, x: number, y: number) {
      const v = figma.createVector();
      v.name = name;
      byId(frameId).appendChild(v);
      v.vectorPaths = [{ windingRule: "NONE", data }];
      const n = parseInt(hex.replace("#", ""), 16);
      v.strokes = [{ type: "SOLID", color: { r: ((n >> 16) & 255) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255 } }];
      v.x = x;
      v.y = y;
      return v.id;
    },
    node(id: string) {
      const n = byId(id);
      return {
        id: n.id,
        name: n.name,
        type: n.type,
        parent: n.parent?.id ?? null,
        x: n.x,
        y: n.y,
        width: n.width,
        height: n.height,
        children: n.children.map((c) => c.id),
        pluginData: Object.fromEntries(n.getPluginDataKeys().map((k) => [k, n.getPluginData(k)])),
        fill: JSON.parse(JSON.stringify(n.fills[0] ?? null)),
      };
    },
    findByName(name: string) {
      return figma.root.findAll((n) => n.name === name).map((n) => n.id);
    },
    commits: () => figma.commits(),
    lastCommitAt: () => figma.commitTimes.at(-1) ?? null,
    uncommitted: () => figma.uncommittedChanges(),
    storage: (key: string) => figma.clientStorage.getAsync(key),
  };
  Object.assign(window, { harness });
}

void main();
