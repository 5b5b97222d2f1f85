// A small typed fake of the `figma` global: the parts Phototype's main thread uses, with Figma's
// semantics where they matter (paint order, coordinates relative to the container, absolute
// transforms, frozen paint arrays, batched async nodechange events, image limits, undo commits).
// Runs in Node (vitest) and in the browser (bundled for the Chromium harness); no Node imports.
// figma-api-stub lacks fillGeometry, absoluteTransform, createImage checks, nodechange and
// commitUndo, which are exactly what these tests are about, hence this fake. It is one file over
// 400 lines because it mirrors one API surface that the tests read as a whole.

export type Matrix = [[number, number, number], [number, number, number]];
type Listener = (...args: any[]) => void;

const CONTAINERS = new Set(["PAGE", "FRAME", "GROUP", "COMPONENT", "INSTANCE", "SECTION", "BOOLEAN_OPERATION"]);
/** Groups and boolean operations have no coordinate system of their own (Figma's relativeTransform rule). */
const TRANSPARENT_CONTAINERS = new Set(["GROUP", "BOOLEAN_OPERATION"]);
const KAPPA = 0.5522847498;

function mul(a: Matrix, b: Matrix): Matrix {
  return [
    [a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1], a[0][0] * b[0][2] + a[0][1] * b[1][2] + a[0][2]],
    [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1], a[1][0] * b[0][2] + a[1][1] * b[1][2] + a[1][2]],
  ];
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 24 || sig.some((b, i) => bytes[i] !== b)) return null;
  const u32 = (o: number) => ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
  return { width: u32(16), height: u32(20) };
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0") + bytes.length.toString(16);
}

export interface Change {
  id: string;
  type: "CREATE" | "DELETE" | "PROPERTY_CHANGE";
  properties: string[];
}

export class FakeNode {
  readonly id: string;
  name: string;
  parent: FakeNode | null = null;
  children: FakeNode[] = [];
  visible = true;
  opacity = 1;
  isMask = false;
  layoutMode: "NONE" | "HORIZONTAL" | "VERTICAL" = "NONE";
  layoutPositioning: "AUTO" | "ABSOLUTE" = "AUTO";
  removed = false;
  private _fills: readonly unknown[] = [];
  private _width = 100;
  private _height = 100;
  private _transform: Matrix = [
    [1, 0, 0],
    [0, 1, 0],
  ];
  private _geometry: { windingRule: string; data: string }[] | null = null;
  private readonly pluginData = new Map<string, string>();

  constructor(
    readonly figma: FakeFigma,
    readonly type: string,
    name: string,
  ) {
    this.id = figma.nextId();
    this.name = name;
    figma.register(this);
    if (type === "FRAME" || type === "COMPONENT") this._fills = deepFreeze([{ type: "SOLID", visible: true, opacity: 1, color: { r: 1, g: 1, b: 1 } }]);
  }

  private touch(...properties: string[]): void {
    this.figma.recordChange(this, "PROPERTY_CHANGE", properties);
  }

  // ---------------------------------------------------------------- geometry

  get width(): number {
    return this._width;
  }
  get height(): number {
    return this._height;
  }
  resize(width: number, height: number): void {
    if (!(width >= 0.01 && height >= 0.01)) throw new Error(`in resize: Expected width and height to be >= 0.01`);
    this._width = width;
    this._height = height;
    this.touch("width", "height");
  }
  get relativeTransform(): Matrix {
    return clone(this._transform);
  }
  set relativeTransform(m: Matrix) {
    this._transform = clone(m);
    this.touch("relativeTransform", "x", "y");
  }
  get x(): number {
    return this._transform[0][2];
  }
  set x(v: number) {
    this._transform[0][2] = v;
    this.touch("x", "relativeTransform");
  }
  get y(): number {
    return this._transform[1][2];
  }
  set y(v: number) {
    this._transform[1][2] = v;
    this.touch("y", "relativeTransform");
  }
  /** Degrees, counter-clockwise as in Figma; rotates about the node's top-left corner. */
  set rotation(deg: number) {
    const r = (-deg * Math.PI) / 180;
    const [x, y] = [this.x, this.y];
    this._transform = [
      [Math.cos(r), -Math.sin(r), x],
      [Math.sin(r), Math.cos(r), y],
    ];
    this.touch("rotation", "relativeTransform");
  }

  /** The node whose coordinate system x/y/relativeTransform are in. */
  private container(): FakeNode | null {
    let p = this.parent;
    while (p && TRANSPARENT_CONTAINERS.has(p.type)) p = p.parent;
    return p;
  }

  get absoluteTransform(): Matrix {
    if (this.type === "PAGE" || this.type === "DOCUMENT") return [
      [1, 0, 0],
      [0, 1, 0],
    ];
    if (TRANSPARENT_CONTAINERS.has(this.type)) {
      const c = this.container();
      return c ? c.absoluteTransform : this.relativeTransform;
    }
    const c = this.container();
    return c ? mul(c.absoluteTransform, this._transform) : clone(this._transform);
  }

  get absoluteBoundingBox(): { x: number; y: number; width: number; height: number } {
    const m = this.absoluteTransform;
    const pts = [
      [0, 0],
      [this._width, 0],
      [0, this._height],
      [this._width, this._height],
    ].map(([x, y]) => [m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]]);
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
  }

  /** Test helper: give a VECTOR its outline. */
  setGeometry(paths: { windingRule: "NONZERO" | "EVENODD" | "NONE"; data: string }[]): void {
    this._geometry = clone(paths);
    this.touch("vectorNetwork");
  }

  /** VECTOR paths (Figma's `vectorPaths`): setting them also sets the node's size to their bounds. */
  get vectorPaths(): { windingRule: string; data: string }[] {
    return clone(this._geometry ?? []);
  }
  set vectorPaths(paths: { windingRule: string; data: string }[]) {
    this._geometry = clone(paths);
    const nums = paths.flatMap((p) => (p.data.match(/-?\d*\.?\d+(?:e-?\d+)?/gi) ?? []).map(Number));
    const xs = nums.filter((_, i) => i % 2 === 0);
    const ys = nums.filter((_, i) => i % 2 === 1);
    if (xs.length) {
      this._width = Math.max(0.01, Math.max(...xs) - Math.min(...xs));
      this._height = Math.max(0.01, Math.max(...ys) - Math.min(...ys));
    }
    this.touch("vectorNetwork", "width", "height");
  }

  get fillGeometry(): { windingRule: string; data: string }[] {
    if (this._geometry) return clone(this._geometry);
    const w = this._width;
    const h = this._height;
    if (this.type === "ELLIPSE") {
      const rx = w / 2;
      const ry = h / 2;
      const kx = rx * KAPPA;
      const ky = ry * KAPPA;
      const data = `M ${w} ${ry} C ${w} ${ry + ky} ${rx + kx} ${h} ${rx} ${h} C ${rx - kx} ${h} 0 ${ry + ky} 0 ${ry} C 0 ${ry - ky} ${rx - kx} 0 ${rx} 0 C ${rx + kx} 0 ${w} ${ry - ky} ${w} ${ry} Z`;
      return [{ windingRule: "NONZERO", data }];
    }
    if (this.type === "LINE" || this.type === "TEXT" || this.type === "GROUP" || this.type === "PAGE") return [];
    return [{ windingRule: "NONZERO", data: `M 0 0 L ${w} 0 L ${w} ${h} L 0 ${h} L 0 0 Z` }];
  }

  // ---------------------------------------------------------------- paints

  get fills(): readonly unknown[] {
    return this._fills;
  }
  set fills(paints: readonly unknown[]) {
    const normal = (paints as Record<string, unknown>[]).map((p) => {
      if (p.type === "IMAGE" && typeof p.imageHash === "string" && !this.figma.hasImage(p.imageHash)) throw new Error(`Image with hash ${p.imageHash} does not exist`);
      return { visible: true, opacity: 1, ...clone(p) };
    });
    this._fills = deepFreeze(normal);
    this.touch("fills");
  }

  // ---------------------------------------------------------------- strokes

  private _strokes: readonly unknown[] = [];
  strokeWeight = 1;
  get strokes(): readonly unknown[] {
    return this._strokes;
  }
  set strokes(paints: readonly unknown[]) {
    this._strokes = deepFreeze((paints as Record<string, unknown>[]).map((p) => ({ visible: true, opacity: 1, ...clone(p) })));
    this.touch("strokes");
  }

  // ---------------------------------------------------------------- export

  /**
   * Only image-filled nodes export here, and as the image's own PNG bytes: the fake cannot render,
   * so the SCALE constraint is recorded (`lastExport`) but not applied.
   */
  async exportAsync(settings?: { format?: string; constraint?: { type: string; value: number } }): Promise<Uint8Array> {
    this.figma.lastExport = { id: this.id, settings: clone(settings ?? {}) };
    const image = [...(this._fills as { type: string; imageHash?: string; visible?: boolean }[])].reverse().find((p) => p.visible !== false);
    if (image?.type !== "IMAGE" || !image.imageHash) throw new Error("the fake exports only nodes with an image fill");
    const bytes = this.figma.imageBytes(image.imageHash);
    if (!bytes) throw new Error(`Image with hash ${image.imageHash} does not exist`);
    return bytes.slice();
  }

  // ---------------------------------------------------------------- tree

  appendChild(child: FakeNode): void {
    this.insertChild(this.children.length, child);
  }

  insertChild(index: number, child: FakeNode): void {
    if (!CONTAINERS.has(this.type)) throw new Error(`${this.type} cannot have children`);
    if (this.type === "INSTANCE" || this.isInsideInstance()) throw new Error("Cannot move node. New parent is an instance or is inside of an instance");
    if (child.parent) {
      const old = child.parent;
      old.children.splice(old.children.indexOf(child), 1);
      child.parent = null;
    }
    this.children.splice(index, 0, child);
    child.parent = this;
    this.figma.recordChange(child, "PROPERTY_CHANGE", ["parent"]);
  }

  private isInsideInstance(): boolean {
    for (let p = this.parent; p; p = p.parent) if (p.type === "INSTANCE") return true;
    return false;
  }

  remove(): void {
    if (this.removed) return;
    if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.figma.recordChange(this, "DELETE", []);
    this.parent = null;
    const mark = (n: FakeNode) => {
      n.removed = true;
      n.children.forEach(mark);
    };
    mark(this);
  }

  findAll(predicate?: (n: FakeNode) => boolean): FakeNode[] {
    const out: FakeNode[] = [];
    const walk = (n: FakeNode) => {
      for (const c of n.children) {
        if (!predicate || predicate(c)) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }

  // ---------------------------------------------------------------- plugin data

  getPluginData(key: string): string {
    return this.pluginData.get(key) ?? "";
  }
  setPluginData(key: string, value: string): void {
    this.pluginData.set(key, value);
    this.touch("pluginData");
  }
  getPluginDataKeys(): string[] {
    return [...this.pluginData.keys()];
  }

  // ---------------------------------------------------------------- page-only API

  private _selection: FakeNode[] = [];
  private readonly pageListeners = new Map<string, Set<Listener>>();

  get selection(): readonly FakeNode[] {
    return this._selection;
  }
  set selection(nodes: readonly FakeNode[]) {
    this._selection = [...nodes];
    this.figma.emit("selectionchange");
  }
  on(type: string, cb: Listener): void {
    if (!this.pageListeners.has(type)) this.pageListeners.set(type, new Set());
    this.pageListeners.get(type)!.add(cb);
  }
  off(type: string, cb: Listener): void {
    this.pageListeners.get(type)?.delete(cb);
  }
  listenerCount(type: string): number {
    return this.pageListeners.get(type)?.size ?? 0;
  }
  emitPage(type: string, event: unknown): void {
    for (const cb of [...(this.pageListeners.get(type) ?? [])]) cb(event);
  }
}

export interface UndoEvent {
  kind: "change" | "commit";
  what?: string;
}

export class FakeFigma {
  readonly mixed = Symbol("mixed");
  readonly root: FakeNode;
  currentPage: FakeNode;
  private counter = 0;
  private readonly nodes = new Map<string, FakeNode>();
  private readonly images = new Map<string, Uint8Array>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private pendingChanges: { node: FakeNode; change: Change }[] = [];
  private flushScheduled = false;
  private readonly storage = new Map<string, unknown>();
  /** Every document change and every commitUndo, in order. */
  readonly undoLog: UndoEvent[] = [];
  readonly notifications: string[] = [];
  /** When each commitUndo happened (epoch ms, sub-millisecond), for timing the whole flow. */
  readonly commitTimes: number[] = [];
  /** What the main thread posted to the UI. */
  readonly uiOutbox: unknown[] = [];
  /** Set by the browser harness to forward `figma.ui.postMessage` into the UI iframe. */
  onUiPost: ((message: unknown) => void) | null = null;
  shownHtml: string | null = null;
  shownOptions: Record<string, unknown> | null = null;
  private uiHandler: ((msg: unknown) => void) | null = null;

  constructor() {
    const owner = this;
    this.ui = {
      postMessage(message: unknown) {
        const copy = typeof structuredClone === "function" ? structuredClone(message) : clone(message);
        owner.uiOutbox.push(copy);
        owner.onUiPost?.(copy);
      },
      get onmessage() {
        return owner.uiHandler;
      },
      set onmessage(handler) {
        owner.uiHandler = handler;
      },
    };
    this.root = new FakeNode(this, "DOCUMENT", "Document");
    this.currentPage = new FakeNode(this, "PAGE", "Page 1");
    this.currentPage.parent = this.root;
    this.root.children.push(this.currentPage);
    this.undoLog.length = 0;
  }

  nextId(): string {
    return `1:${++this.counter}`;
  }

  register(node: FakeNode): void {
    this.nodes.set(node.id, node);
  }

  hasImage(hash: string): boolean {
    return this.images.has(hash);
  }

  /** Figma batches node changes and delivers them after the current task. */
  recordChange(node: FakeNode, type: Change["type"], properties: string[]): void {
    if (node.type === "DOCUMENT" || node.type === "PAGE") return;
    this.undoLog.push({ kind: "change", what: `${type} ${node.id} ${properties.join(",")}` });
    const onPage = this.pageOf(node) === this.currentPage || type === "DELETE";
    if (!onPage) return;
    this.pendingChanges.push({ node, change: { id: node.id, type, properties } });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => this.flushChanges(), 0);
    }
  }

  private pageOf(node: FakeNode): FakeNode | null {
    for (let n: FakeNode | null = node; n; n = n.parent) if (n.type === "PAGE") return n;
    return null;
  }

  flushChanges(): void {
    this.flushScheduled = false;
    if (this.pendingChanges.length === 0) return;
    const batch = this.pendingChanges;
    this.pendingChanges = [];
    const nodeChanges = batch.map(({ node, change }) => ({
      id: change.id,
      origin: "LOCAL",
      type: change.type,
      node: change.type === "DELETE" ? { id: node.id, type: node.type, removed: true } : node,
      ...(change.type === "PROPERTY_CHANGE" ? { properties: change.properties } : {}),
    }));
    this.currentPage.emitPage("nodechange", { nodeChanges });
  }

  emit(type: string, ...args: unknown[]): void {
    setTimeout(() => {
      for (const cb of [...(this.listeners.get(type) ?? [])]) cb(...args);
    }, 0);
  }

  on(type: string, cb: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(cb);
  }
  off(type: string, cb: Listener): void {
    this.listeners.get(type)?.delete(cb);
  }

  // ---------------------------------------------------------------- creation

  private create(type: string, name: string): FakeNode {
    const node = new FakeNode(this, type, name);
    this.currentPage.appendChild(node);
    this.recordChange(node, "CREATE", []);
    return node;
  }
  createFrame(): FakeNode {
    return this.create("FRAME", "Frame");
  }
  createRectangle(): FakeNode {
    const n = this.create("RECTANGLE", "Rectangle");
    n.fills = [{ type: "SOLID", color: { r: 0.85, g: 0.85, b: 0.85 } }];
    return n;
  }
  createEllipse(): FakeNode {
    const n = this.create("ELLIPSE", "Ellipse");
    n.fills = [{ type: "SOLID", color: { r: 0.85, g: 0.85, b: 0.85 } }];
    return n;
  }
  createVector(): FakeNode {
    return this.create("VECTOR", "Vector");
  }
  createText(): FakeNode {
    return this.create("TEXT", "Text");
  }
  createComponent(): FakeNode {
    return this.create("COMPONENT", "Component");
  }
  group(nodes: FakeNode[], parent: FakeNode): FakeNode {
    const g = new FakeNode(this, "GROUP", "Group");
    parent.insertChild(parent.children.indexOf(nodes[0]), g);
    for (const n of nodes) g.appendChild(n);
    this.recordChange(g, "CREATE", []);
    return g;
  }
  /** Test helper: an INSTANCE node (the real API makes them from components). */
  createInstanceForTest(): FakeNode {
    return this.create("INSTANCE", "Instance");
  }

  createImage(bytes: Uint8Array): { hash: string } {
    const size = pngSize(bytes);
    if (!size) throw new Error("Image type is unsupported");
    if (size.width > 4096 || size.height > 4096) throw new Error("Image is too large");
    const hash = fnv1a(bytes);
    this.images.set(hash, bytes.slice());
    return { hash };
  }

  getImageByHash(hash: string): { hash: string; getBytesAsync(): Promise<Uint8Array>; getSizeAsync(): Promise<{ width: number; height: number }> } | null {
    const bytes = this.images.get(hash);
    return bytes ? { hash, getBytesAsync: async () => bytes.slice(), getSizeAsync: async () => pngSize(bytes)! } : null;
  }

  imageBytes(hash: string): Uint8Array | null {
    return this.images.get(hash) ?? null;
  }

  /** The last exportAsync call: which node, with which settings. */
  lastExport: { id: string; settings: unknown } | null = null;

  async getNodeByIdAsync(id: string): Promise<FakeNode | null> {
    const n = this.nodes.get(id);
    return n && !n.removed ? n : null;
  }

  getNodeById(): never {
    throw new Error('Cannot call getNodeById with documentAccess: "dynamic-page". Use figma.getNodeByIdAsync instead.');
  }

  commitUndo(): void {
    this.undoLog.push({ kind: "commit" });
    this.commitTimes.push(typeof performance !== "undefined" ? performance.timeOrigin + performance.now() : Date.now());
  }

  /** Document changes since the last commitUndo (0 = everything is in an undo step). */
  uncommittedChanges(): number {
    let n = 0;
    for (let i = this.undoLog.length - 1; i >= 0 && this.undoLog[i].kind !== "commit"; i--) n++;
    return n;
  }

  commits(): number {
    return this.undoLog.filter((e) => e.kind === "commit").length;
  }

  notify(message: string): { cancel(): void } {
    this.notifications.push(message);
    return { cancel() {} };
  }

  // ---------------------------------------------------------------- UI

  showUI(html: string, options?: Record<string, unknown>): void {
    this.shownHtml = html;
    this.shownOptions = options ?? null;
  }

  readonly ui: { postMessage(message: unknown): void; onmessage: ((msg: unknown) => void) | null };

  /** What the UI's `parent.postMessage({ pluginMessage })` does in Figma. */
  sendFromUi(message: unknown): void {
    const copy = typeof structuredClone === "function" ? structuredClone(message) : clone(message);
    this.uiHandler?.(copy);
  }

  readonly clientStorage = {
    getAsync: async (key: string) => {
      const v = this.storage.get(key);
      return v === undefined ? undefined : structuredClone(v);
    },
    setAsync: async (key: string, value: unknown) => {
      const copy = structuredClone(value);
      const size = JSON.stringify(copy)?.length ?? 0;
      const total = [...this.storage.entries()].filter(([k]) => k !== key).reduce((s, [, v]) => s + (JSON.stringify(v)?.length ?? 0), 0);
      if (size + total > 5 * 1024 * 1024) throw new Error("clientStorage quota exceeded (5 MB)");
      this.storage.set(key, copy);
    },
    deleteAsync: async (key: string) => {
      this.storage.delete(key);
    },
    keysAsync: async () => [...this.storage.keys()],
  };
}

export function createFakeFigma(): FakeFigma {
  return new FakeFigma();
}
