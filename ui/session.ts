// The UI's state and what happens on each click, message and socket event. Preact components
// only render `state` and call the methods below.
import {
  base64ToBytes,
  bytesToBase64,
  NO_STROKE,
  type ClientMessage,
  type Condition,
  type ImageResult,
  type LayoutResult,
  type PackInfo,
  type ServerMessage,
  type Welcome,
} from "../server/protocol.ts";
import type { FrameInfo, FrameProblem, FrameRead, InsertTarget, MainToUi, PhotoExport, PhotoRead, StrokesRead } from "../plugin/messages.ts";
import { emitToMain, onMainMessage } from "./bridge.ts";
import { ServerConnection, checkServerUrl, type ConnectionState } from "./connection.ts";
import { backgroundClassId, classificationProblem, classifyShapes, classifyStrokes, darkStrokes } from "./lib/classify.ts";
import { rasterizeStrokes, strokeWidth } from "./lib/strokes.ts";
import { CONNECTION_SENTENCES, errorSentence, progressFraction, progressSentence } from "./lib/error-text.ts";
import { addToHistory, parseHistory, type HistoryEntry } from "./lib/history.ts";
import { rasterizeMask } from "./lib/rasterize.ts";
import { RequestBook, type PendingRequest, type RequestMode, type RequestPurpose } from "./lib/requests.ts";
import { clampVariations, isValidSeed, parseSettings, randomSeed, type PickedCondition, type Settings, DEFAULT_SETTINGS } from "./lib/settings.ts";

/** Quiet time after the last canvas change before a live preview is requested. */
export const PREVIEW_DEBOUNCE_MS = 250;
/** A request the server has not mentioned for this long is given up on. */
export const STALL_MS = 120_000;
const FRAME_READ_TIMEOUT_MS = 10_000;

export type Tone = "error" | "warning" | "info" | "success";

export interface Notice {
  tone: Tone;
  text: string;
  /** The server's own words, shown smaller, for whoever runs the server. */
  detail?: string;
}

export interface Busy {
  id: string;
  text: string;
  fraction: number;
  total: number;
}

export interface PreviewImage {
  src: string;
  seed: number;
  requestId: string;
  mode: RequestMode;
}

/** What the networks will see, for the small picture beside the preview. */
export interface LayoutSummary {
  kind: PickedCondition;
  /** One byte a pixel at `resolution`: class ids (mask), 1/0 (sketch), class ids or NO_STROKE (scribble). */
  mask: Uint8Array;
  /** One line on what was read: shapes by colour and name, strokes, skipped layers. */
  caption: string;
  frame: FrameInfo;
  resolution: number;
  packName: string;
}

/** Longest side of a photo sent to the server: its message limit is 2 MiB. */
export const PHOTO_MAX_SIDE = 512;

export interface UiState {
  connection: ConnectionState;
  settings: Settings;
  settingsLoaded: boolean;
  packs: PackInfo[];
  pack: PackInfo | null;
  frame: FrameInfo | null;
  frameProblem: FrameProblem | null;
  selectedShapes: number;
  busy: Busy | null;
  previewPending: string | null;
  preview: PreviewImage | null;
  layout: LayoutSummary | null;
  notice: Notice | null;
  history: HistoryEntry[];
  showSettings: boolean;
}

function clientTag(): string {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function pngSrc(b64: string): string {
  return `data:image/png;base64,${b64}`;
}

export class Session {
  state: UiState = {
    connection: { status: "connecting", url: DEFAULT_SETTINGS.serverUrl, attempt: 0 },
    settings: DEFAULT_SETTINGS,
    settingsLoaded: false,
    packs: [],
    pack: null,
    frame: null,
    frameProblem: null,
    selectedShapes: 0,
    busy: null,
    previewPending: null,
    preview: null,
    layout: null,
    notice: null,
    history: [],
    showSettings: false,
  };

  private readonly listeners = new Set<() => void>();
  private readonly book = new RequestBook(clientTag());
  private connection: ServerConnection | null = null;
  private readonly frameReads = new Map<number, (r: FrameRead) => void>();
  private readonly strokeReads = new Map<number, (r: StrokesRead) => void>();
  private readonly photoReads = new Map<number, (r: PhotoRead) => void>();
  private readToken = 0;
  private previewSeq = 0;
  /** A final request between the click and its registration (reading the frame): a second click waits. */
  private finalStarting = false;
  private previewTimer: ReturnType<typeof setTimeout> | null = null;
  /** A server warning for a final request (no face drawn), said with its "added" notice. */
  private readonly warnings = new Map<string, string>();
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private stopMain: (() => void) | null = null;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<UiState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  start(): void {
    this.stopMain = onMainMessage((m) => this.onMain(m));
    emitToMain({ type: "ui-ready" });
    emitToMain({ type: "load", key: "settings" });
    emitToMain({ type: "load", key: "history" });
    this.watchdog = setInterval(() => this.checkStalled(), 5_000);
  }

  dispose(): void {
    this.stopMain?.();
    this.connection?.stop();
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.previewTimer) clearTimeout(this.previewTimer);
  }

  // ------------------------------------------------------------ settings & connection

  private saveSettings(patch: Partial<Settings>): void {
    const settings = { ...this.state.settings, ...patch };
    this.set({ settings });
    emitToMain({ type: "save", key: "settings", value: settings });
  }

  private connect(): void {
    this.connection?.stop();
    const { serverUrl, token } = this.state.settings;
    const problem = checkServerUrl(serverUrl);
    if (problem) {
      this.set({ connection: { status: "stopped", url: serverUrl, reason: problem } });
      return;
    }
    const connection: ServerConnection = new ServerConnection(
      { url: serverUrl, token },
      {
        onState: (state) => {
          if (this.connection === connection) this.set({ connection: state });
        },
        onMessage: (m) => {
          if (this.connection === connection) this.onServer(m);
        },
        onDrop: () => {
          if (this.connection === connection) this.onDrop();
        },
        onProtocolError: (message) => this.set({ notice: { tone: "error", text: CONNECTION_SENTENCES.protocolMismatch, detail: message } }),
      },
    );
    this.connection = connection;
    connection.start();
  }

  retryNow(): void {
    this.connection?.retryNow();
  }

  applySettings(serverUrl: string, token: string, packName: string | null): void {
    const url = serverUrl.trim();
    const problem = checkServerUrl(url);
    if (problem) {
      this.set({ notice: { tone: "error", text: problem } });
      return;
    }
    const reconnect = url !== this.state.settings.serverUrl || token !== this.state.settings.token;
    this.saveSettings({ serverUrl: url, token: token.trim(), pack: packName });
    this.set({ showSettings: false, notice: null });
    if (packName) this.selectPack(packName);
    if (reconnect) this.connect();
  }

  /** The pairing code the person typed (shown in the server's terminal): kept in clientStorage, then used. */
  pair(code: string): void {
    const token = code.trim();
    if (!token) {
      this.set({ notice: { tone: "error", text: "Type the pairing code first: it is shown in the terminal where the server runs." } });
      return;
    }
    this.saveSettings({ token });
    this.set({ notice: null });
    this.connect();
  }

  toggleSettings(show: boolean): void {
    this.set({ showSettings: show });
  }

  private selectPack(name: string | null): void {
    const packs = this.state.packs;
    const welcomeDefault = this.connection?.current.status === "open" ? this.connection.current.welcome.defaultPack : null;
    const pack = packs.find((p) => p.name === name) ?? packs.find((p) => p.name === welcomeDefault) ?? packs[0] ?? null;
    if (pack?.name !== this.state.pack?.name) this.set({ pack, layout: null, preview: null });
    else this.set({ pack });
    if (this.state.settings.live) this.schedulePreview(0);
  }

  private onWelcome(w: Welcome): void {
    this.set({ packs: w.packs });
    if (w.packs.length === 0) {
      this.set({ pack: null, notice: { tone: "error", text: CONNECTION_SENTENCES.noPack } });
      return;
    }
    if (this.state.notice?.text === CONNECTION_SENTENCES.noPack) this.set({ notice: null });
    this.selectPack(this.state.settings.pack ?? w.defaultPack);
  }

  private onDrop(): void {
    const lost = this.book.dropAll();
    const finals = lost.filter((r) => r.mode === "final");
    this.set({ busy: null, previewPending: null });
    if (finals.length > 0) this.set({ notice: { tone: "error", text: CONNECTION_SENTENCES.droppedDuringRequest } });
  }

  private checkStalled(): void {
    const stalled = this.book.takeStalled(STALL_MS);
    if (stalled.length === 0) return;
    for (const r of stalled) this.connection?.send({ type: "cancel", id: r.id });
    if (stalled.some((r) => r.mode === "final")) this.set({ busy: null, notice: { tone: "error", text: CONNECTION_SENTENCES.stalled } });
    if (stalled.some((r) => r.id === this.state.previewPending)) this.set({ previewPending: null });
  }

  // ------------------------------------------------------------ controls

  setSeed(seed: number): void {
    if (!isValidSeed(seed)) return;
    this.saveSettings({ seed });
    if (this.state.settings.live) this.schedulePreview();
  }

  rollSeed(): void {
    this.setSeed(randomSeed());
  }

  setSeedLocked(seedLocked: boolean): void {
    this.saveSettings({ seedLocked });
  }

  setVariations(n: number): void {
    this.saveSettings({ variations: clampVariations(n) });
  }

  setLive(live: boolean): void {
    this.saveSettings({ live });
    emitToMain({ type: "live", on: live });
    if (live) this.schedulePreview(0);
    else {
      if (this.previewTimer) clearTimeout(this.previewTimer);
      this.previewSeq++;
      this.set({ previewPending: null });
    }
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  applyClass(classId: number): void {
    const cls = this.state.pack?.classes.find((c) => c.id === classId);
    if (!cls) return;
    const paint = this.conditionKind() === "scribble" ? "stroke" : "fill";
    emitToMain({ type: "apply-class", className: cls.name, label: cls.label, color: cls.color, paint });
  }

  reinsert(entry: HistoryEntry): void {
    if (!this.state.frame) {
      this.set({ notice: { tone: "warning", text: "Select a frame to put this image in; it goes over the frame's centre square." } });
      return;
    }
    emitToMain({
      type: "insert",
      requestId: `history-${entry.id}`,
      frameId: this.state.frame.id,
      pack: entry.pack,
      images: [{ png: base64ToBytes(entry.png), seed: entry.seed }],
    });
  }

  generate(): void {
    this.startFinal(() => this.run("final"));
  }

  /** "Use selected image as exemplar": the photo's layout, new faces from the seed(s). */
  useExemplar(): void {
    this.startFinal(() => this.runExemplar());
  }

  /** "Edit this photo": its layout as shapes in a new frame, linked to the photo. */
  editPhoto(): void {
    this.startFinal(() => this.runEdit());
  }

  /** "Restyle this region": the selected shapes' part from a new seed, the rest as it was. */
  restyleRegion(): void {
    this.startFinal(() => this.run("final", { restyle: true }));
  }

  setCondition(kind: PickedCondition): void {
    this.saveSettings({ condition: kind });
    this.set({ layout: null });
    if (this.state.settings.live) this.schedulePreview(0);
  }

  /** One final action at a time: a second click while one starts or runs does nothing. */
  private startFinal(action: () => Promise<void>): void {
    if (this.finalStarting || this.book.finalInFlight) return;
    this.finalStarting = true;
    void action().finally(() => {
      this.finalStarting = false;
    });
  }

  /** The picked condition if this pack takes it, else shapes. */
  conditionKind(pack: PackInfo | null = this.state.pack): PickedCondition {
    const kind = this.state.settings.condition;
    return pack && pack.conditions.includes(kind) ? kind : "mask";
  }

  private schedulePreview(delay = PREVIEW_DEBOUNCE_MS): void {
    // A photo's edges do not change as the designer edits shapes: no live preview for them.
    if (!this.state.settings.live || this.conditionKind() === "edges") return;
    if (this.previewTimer) clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => {
      this.previewTimer = null;
      void this.run("preview");
    }, delay);
  }

  // ------------------------------------------------------------ one generation

  /** Asks the main thread and waits for its answer (or a timeout that says Figma did not answer). */
  private askMain<R>(waiting: Map<number, (r: R) => void>, send: (token: number) => void, timeout: R): Promise<R> {
    const token = ++this.readToken;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(token);
        resolve(timeout);
      }, FRAME_READ_TIMEOUT_MS);
      waiting.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      send(token);
    });
  }

  private readFrame(): Promise<FrameRead> {
    const message = "Figma did not answer when asked for the frame's shapes. Close and reopen the plugin.";
    return this.askMain(this.frameReads, (token) => emitToMain({ type: "read-frame", token }), { ok: false, problem: { code: "frame_gone", message } });
  }

  private readStrokes(): Promise<StrokesRead> {
    const message = "Figma did not answer when asked for the frame's strokes. Close and reopen the plugin.";
    return this.askMain(this.strokeReads, (token) => emitToMain({ type: "read-strokes", token }), { ok: false, problem: { code: "frame_gone", message } });
  }

  /** The selected photo (or the photo with this id) as PNG, at most PHOTO_MAX_SIDE (or the pack's size) a side. */
  private readPhoto(nodeId?: string): Promise<PhotoRead> {
    const maxSide = Math.max(PHOTO_MAX_SIDE, this.state.pack?.resolution ?? 0);
    const message = "Figma did not answer when asked for the photo. Close and reopen the plugin.";
    return this.askMain(this.photoReads, (token) => emitToMain({ type: "read-photo", token, nodeId, maxSide }), { ok: false, problem: { code: "export_failed", message } });
  }

  private say(mode: RequestMode, notice: Notice): void {
    // A live preview repeats on every edit: its problems are shown the same way, and cleared by the next good run.
    this.set({ notice, ...(mode === "final" ? { busy: null } : { previewPending: null }) });
  }

  /** Checks shared by every request: connected, a pack. Says what is wrong for a final request. */
  private ready(mode: RequestMode): PackInfo | null {
    const conn = this.connection?.current;
    if (!conn || conn.status !== "open") {
      if (mode === "final") this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
      return null;
    }
    const pack = this.state.pack;
    if (!pack) {
      this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.noPack });
      return null;
    }
    return pack;
  }

  /** Sends a request and registers it; false (and says so) when the socket is gone. */
  private send(message: ClientMessage & { id: string }, mode: RequestMode, total: number, purpose: RequestPurpose, busyText: string): boolean {
    const frameId = purpose.target?.kind === "frame" ? purpose.target.id : null;
    const superseded = this.book.begin(message.id, mode, total, frameId, purpose);
    if (superseded) this.connection?.send({ type: "cancel", id: superseded });
    if (!this.connection?.send(message)) {
      this.book.forget(message.id);
      if (mode === "final") this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
      return false;
    }
    if (this.state.notice?.tone !== "success" || mode === "final") this.set({ notice: null });
    if (mode === "final") this.set({ busy: { id: message.id, text: busyText, fraction: 0.02, total } });
    else this.set({ previewPending: message.id });
    return true;
  }

  /**
   * The frame's drawing as the condition the picker asks for: shapes (mask), dark pen strokes
   * (sketch), coloured strokes (scribble) or the selected photo's edges. Also the classes of the
   * selected shapes / strokes (what a restyle changes). Returns a sentence when it cannot.
   */
  private async readCondition(pack: PackInfo, kind: PickedCondition): Promise<
    | { ok: true; condition: Condition; frame: FrameInfo | null; photo: PhotoExport | null; layout: LayoutSummary | null; selectedClasses: number[] }
    | { ok: false; text: string; problem?: string }
  > {
    const R = pack.resolution;
    if (kind === "edges") {
      const read = await this.readPhoto();
      if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
      return { ok: true, condition: { kind: "edges", photo: bytesToBase64(read.photo.png) }, frame: null, photo: read.photo, layout: null, selectedClasses: [] };
    }
    if (kind === "mask") {
      const read = await this.readFrame();
      if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
      const { snapshot } = read;
      const classes = classifyShapes(snapshot.shapes, pack, this.state.packs);
      const problem = classificationProblem(classes, pack.title);
      if (problem) return { ok: false, text: problem };
      const background = backgroundClassId(pack);
      const { mask, uncovered } = rasterizeMask(
        classes.shapes.map((c) => ({ classId: c.classId, paths: c.shape.paths, toUnit: c.shape.toUnit })),
        R,
        background,
      );
      if (uncovered > 0 && background === null) {
        return { ok: false, text: `${pack.title} has no background class, so every pixel needs a shape: ${uncovered} of ${mask.length} are empty. Cover the frame's centre square with shapes.` };
      }
      const byColour = classes.shapes.filter((c) => c.by === "colour").length;
      const n = classes.shapes.length;
      const sk = snapshot.skipped;
      const skipped = [sk.text ? `${sk.text} text` : "", sk.noFill ? `${sk.noFill} unfilled` : "", sk.masks ? `${sk.masks} mask` : ""].filter(Boolean);
      const caption = `What the model sees: ${n} shape${n === 1 ? "" : "s"} (${byColour} by colour, ${n - byColour} by name)${skipped.length ? ` · skipped ${skipped.join(", ")}` : ""}`;
      const selected = new Set(snapshot.selectedIds ?? []);
      const selectedClasses = [...new Set(classes.shapes.filter((c) => selected.has(c.shape.id)).map((c) => c.classId))];
      return {
        ok: true,
        condition: { kind: "mask", width: R, height: R, data: bytesToBase64(mask) },
        frame: snapshot.frame,
        photo: null,
        layout: { kind, mask, caption, frame: snapshot.frame, resolution: R, packName: pack.name },
        selectedClasses,
      };
    }
    const read = await this.readStrokes();
    if (!read.ok) return { ok: false, text: read.problem.message, problem: read.problem.code };
    const { snapshot } = read;
    if (kind === "sketch") {
      const { dark, light } = darkStrokes(snapshot.strokes);
      if (dark.length === 0) {
        return { ok: false, text: `No dark strokes found in “${snapshot.frame.name}”: Sketch reads black pen lines; ${light.length} coloured stroke${light.length === 1 ? " was" : "s were"} skipped. Pick Scribble for coloured strokes.`, problem: "no_strokes" };
      }
      const { map } = rasterizeStrokes(dark.map((s) => ({ value: 1, paths: s.paths, toUnit: s.toUnit })), R, strokeWidth("sketch", R), 0);
      const caption = `What the model sees: ${dark.length} pen stroke${dark.length === 1 ? "" : "s"}${light.length ? ` · skipped ${light.length} coloured` : ""}`;
      return {
        ok: true,
        condition: { kind: "sketch", width: R, height: R, data: bytesToBase64(map) },
        frame: snapshot.frame,
        photo: null,
        layout: { kind, mask: map, caption, frame: snapshot.frame, resolution: R, packName: pack.name },
        selectedClasses: [],
      };
    }
    const classes = classifyStrokes(snapshot.strokes, pack, this.state.packs);
    const problem = classificationProblem(classes, pack.title, "stroke");
    if (problem) return { ok: false, text: problem };
    const { map } = rasterizeStrokes(classes.shapes.map((c) => ({ value: c.classId, paths: snapshot.strokes.find((s) => s.id === c.shape.id)!.paths, toUnit: c.shape.toUnit })), R, strokeWidth("scribble", R), NO_STROKE);
    const n = classes.shapes.length;
    const parts = new Set(classes.shapes.map((c) => c.classId)).size;
    const caption = `What the model sees: ${n} stroke${n === 1 ? "" : "s"} of ${parts} part${parts === 1 ? "" : "s"}`;
    return {
      ok: true,
      condition: { kind: "scribble", width: R, height: R, data: bytesToBase64(map) },
      frame: snapshot.frame,
      photo: null,
      layout: { kind, mask: map, caption, frame: snapshot.frame, resolution: R, packName: pack.name },
      selectedClasses: [],
    };
  }

  private async run(mode: RequestMode, options: { restyle?: boolean } = {}): Promise<void> {
    const seq = mode === "preview" ? ++this.previewSeq : 0;
    const stale = () => mode === "preview" && seq !== this.previewSeq;
    const pack = this.ready(mode);
    if (!pack) return;
    const kind = this.conditionKind(pack);
    if (!pack.conditions.includes(kind)) return this.say(mode, { tone: "error", text: errorSentence("unsupported_condition") });

    const read = await this.readCondition(pack, kind);
    if (stale()) return;
    if (!read.ok) return this.say(mode, { tone: mode === "final" ? "error" : "warning", text: read.text });
    if (read.layout) this.set({ layout: read.layout });

    // An "Edit · …" frame generates with its photo's identity while the photo is there.
    let source: { photo: PhotoExport } | null = null;
    const link = read.frame?.source;
    if (link?.present) {
      const photo = await this.readPhoto(link.nodeId);
      if (!photo.ok) return this.say(mode, { tone: "error", text: photo.problem.message });
      source = { photo: photo.photo };
    }

    const { variations } = this.state.settings;
    const labels: string[] = [];
    let restyle: { classes: number[]; seed: number } | undefined;
    let seed = this.state.settings.seed;
    if (options.restyle) {
      if (!read.frame) return this.say(mode, { tone: "error", text: "Restyle works on a frame: select shapes of one face part (say, the hair) in it." });
      if (read.selectedClasses.length === 0) {
        return this.say(mode, { tone: "warning", text: "Select the shapes of the face part to restyle (say, the hair) in the frame, then click Restyle this region." });
      }
      restyle = { classes: read.selectedClasses, seed: randomSeed() };
      seed = read.frame.lastSeed ?? seed;
    }
    const total = mode === "final" ? (source && !restyle ? 1 : variations) : 1;
    const partNames = restyle ? restyle.classes.map((id) => pack.classes.find((c) => c.id === id)?.label.replace(/\s*\(.*\)$/, "") ?? String(id)).join(" + ") : "";
    for (let i = 0; i < total; i++) {
      const base = source ? `identity of “${source.photo.name}”` : `seed ${(seed + (restyle ? 0 : i)) % 2 ** 32}`;
      const parts = [base];
      if (restyle) parts.push(`${partNames} from seed ${(restyle.seed + i) % 2 ** 32}`);
      if (kind === "edges" && read.photo) parts.push(`edges of “${read.photo.name}”`);
      labels.push(parts.join(" · "));
    }
    const target: InsertTarget | null = read.photo ? { kind: "beside", id: read.photo.nodeId } : read.frame ? { kind: "frame", id: read.frame.id } : null;
    const id = this.book.nextId(mode);
    const message: ClientMessage & { id: string } = {
      type: "generate",
      id,
      pack: pack.name,
      condition: read.condition,
      seed,
      variations: total,
      mode,
      ...(source ? { source: { kind: "photo" as const, photo: bytesToBase64(source.photo.png) } } : {}),
      ...(restyle ? { restyle } : {}),
    };
    const action = restyle ? "restyle" : kind === "edges" ? "edges" : "generate";
    const busyText = source ? "Sending the layout and the photo" : kind === "edges" ? "Sending the photo" : "Sending the layout";
    this.send(message, mode, total, { action, target, photo: source ? { nodeId: source.photo.nodeId, name: source.photo.name } : undefined, labels }, busyText);
  }

  private async runExemplar(): Promise<void> {
    const pack = this.ready("final");
    if (!pack) return;
    const read = await this.readPhoto();
    if (!read.ok) return this.say("final", { tone: "error", text: read.problem.message });
    const { seed, variations } = this.state.settings;
    const id = this.book.nextId("final");
    const labels = Array.from({ length: variations }, (_, i) => `seed ${(seed + i) % 2 ** 32} · layout of “${read.photo.name}”`);
    this.send(
      { type: "generate", id, pack: pack.name, condition: { kind: "exemplar", photo: bytesToBase64(read.photo.png) }, seed, variations, mode: "final" },
      "final",
      variations,
      { action: "exemplar", target: { kind: "beside", id: read.photo.nodeId }, photo: { nodeId: read.photo.nodeId, name: read.photo.name }, labels },
      "Sending the photo",
    );
  }

  private async runEdit(): Promise<void> {
    const pack = this.ready("final");
    if (!pack) return;
    const read = await this.readPhoto();
    if (!read.ok) return this.say("final", { tone: "error", text: read.problem.message });
    const id = this.book.nextId("final");
    this.send(
      { type: "invert", id, pack: pack.name, photo: bytesToBase64(read.photo.png) },
      "final",
      1,
      { action: "edit", target: null, photo: { nodeId: read.photo.nodeId, name: read.photo.name } },
      "Sending the photo",
    );
  }

  private makeLayoutFrame(request: PendingRequest, layout: LayoutResult): void {
    const pack = this.state.packs.find((p) => p.name === layout.pack) ?? this.state.pack;
    const photo = request.purpose.photo;
    if (!pack || !photo) return;
    this.set({ busy: { id: request.id, text: "Adding the layout's shapes", fraction: 0.95, total: 1 } });
    const bg = pack.backgroundClass ?? backgroundClassId(pack);
    emitToMain({
      type: "create-layout",
      requestId: request.id,
      photoNodeId: photo.nodeId,
      resolution: layout.width,
      shapes: layout.polygons,
      classes: pack.classes.map((c) => ({ id: c.id, label: c.label.replace(/\s*\(.*\)$/, ""), color: c.color })),
      background: pack.classes.find((c) => c.id === bg)?.color ?? null,
    });
  }

  // ------------------------------------------------------------ server messages

  private onServer(msg: ServerMessage): void {
    if (msg.type === "welcome") return this.onWelcome(msg);
    const out = this.book.receive(msg);
    switch (out.kind) {
      case "ignore":
        return;
      case "progress":
        if (out.request.mode === "final") {
          this.set({ busy: { id: out.request.id, text: progressSentence(out.progress), fraction: progressFraction(out.progress), total: out.request.total } });
        }
        return;
      case "preview":
        this.set({ preview: { src: pngSrc(out.image.png), seed: out.image.seed, requestId: out.request.id, mode: "preview" } });
        return;
      case "preview-done":
        if (this.state.previewPending === out.request.id) this.set({ previewPending: null });
        return;
      case "final-image":
        if (out.image.index === 0) this.set({ preview: { src: pngSrc(out.image.png), seed: out.image.seed, requestId: out.request.id, mode: "final" } });
        return;
      case "final-done":
        if (out.warnings.length) this.warnings.set(out.request.id, out.warnings.map((w) => w.message).join(" "));
        this.finish(out.request, out.images);
        return;
      case "layout-done":
        this.makeLayoutFrame(out.request, out.layout);
        return;
      case "error": {
        const req = out.request;
        if (req?.mode === "final") this.set({ busy: null });
        if (req?.mode === "preview" && this.state.previewPending === req.id) this.set({ previewPending: null });
        if (!out.quiet) this.set({ notice: { tone: "error", text: errorSentence(out.code), detail: out.message } });
        return;
      }
    }
  }

  private finish(request: PendingRequest, images: ImageResult[]): void {
    this.set({ busy: { id: request.id, text: "Adding to the canvas", fraction: 0.97, total: request.total } });
    const labels = request.purpose.labels;
    emitToMain({
      type: "insert",
      requestId: request.id,
      frameId: request.frameId,
      ...(request.purpose.target ? { target: request.purpose.target } : {}),
      pack: images[0].pack,
      images: images.map((i) => ({ png: base64ToBytes(i.png), seed: i.seed, ...(labels?.[i.index] ? { label: labels[i.index] } : {}) })),
    });
    const packTitle = this.state.packs.find((p) => p.name === images[0].pack)?.title ?? images[0].pack;
    const now = Date.now();
    const entries: HistoryEntry[] = images.map((i) => ({
      id: `${request.id}-${i.index}`,
      seed: i.seed,
      pack: i.pack,
      packTitle,
      time: now + (images.length - i.index) * 1e-3, // keeps variation order among same-time entries
      width: i.width,
      height: i.height,
      png: i.png,
    }));
    const history = addToHistory(this.state.history, entries);
    this.set({ history });
    emitToMain({ type: "save", key: "history", value: history });
    if (!this.state.settings.seedLocked) this.setSeed(randomSeed());
  }

  // ------------------------------------------------------------ main-thread messages

  private onMain(msg: MainToUi): void {
    switch (msg.type) {
      case "loaded":
        if (msg.key === "settings") {
          const settings = parseSettings(msg.value);
          this.set({ settings, settingsLoaded: true });
          if (settings.live) emitToMain({ type: "live", on: true });
          this.connect();
        } else {
          this.set({ history: parseHistory(msg.value) });
        }
        return;
      case "selection": {
        const changed = msg.frame?.id !== this.state.frame?.id || msg.frame?.width !== this.state.frame?.width || msg.frame?.height !== this.state.frame?.height;
        this.set({ frame: msg.frame, frameProblem: msg.problem, selectedShapes: msg.selectedShapes });
        if (changed && msg.frame) this.schedulePreview();
        return;
      }
      case "frame-changed":
        this.schedulePreview();
        return;
      case "frame-read":
        this.frameReads.get(msg.token)?.(msg.result);
        this.frameReads.delete(msg.token);
        return;
      case "strokes-read":
        this.strokeReads.get(msg.token)?.(msg.result);
        this.strokeReads.delete(msg.token);
        return;
      case "photo-read":
        this.photoReads.get(msg.token)?.(msg.result);
        this.photoReads.delete(msg.token);
        return;
      case "layout-created":
        if (this.state.busy?.id === msg.requestId) this.set({ busy: null });
        this.set({
          notice: {
            tone: "success",
            text: `Added “${msg.name}” beside the photo with ${msg.shapes} shape${msg.shapes === 1 ? "" : "s"}. Move or reshape them, then Generate: it keeps the photo's identity.`,
          },
        });
        return;
      case "layout-failed":
        if (this.state.busy?.id === msg.requestId) this.set({ busy: null });
        this.set({ notice: { tone: "error", text: msg.message } });
        return;
      case "inserted": {
        if (this.state.busy?.id === msg.requestId) this.set({ busy: null });
        const first = msg.names[0] ?? "the image";
        const text =
          msg.placement === "beside"
            ? msg.count === 1
              ? `Added “${first}” beside the photo.`
              : `Added ${msg.count} images in a row beside the photo, starting with “${first}”.`
            : msg.count === 1
              ? `Added “${first}” over the frame.`
              : `Added ${msg.count} images: “${first}” over the frame, the other ${msg.count - 1} in a row to its right.`;
        const warning = this.warnings.get(msg.requestId);
        this.warnings.delete(msg.requestId);
        this.set({ notice: warning ? { tone: "warning", text: `${text} ${warning}` } : { tone: "success", text } });
        return;
      }
      case "insert-failed":
        if (this.state.busy?.id === msg.requestId) this.set({ busy: null });
        this.set({ notice: { tone: "error", text: msg.message } });
        return;
      case "class-applied":
        this.set({
          notice: {
            tone: "info",
            text: msg.action === "added" ? `Added a ${msg.label} shape in the middle of the frame; drag it into place.` : `Recoloured ${msg.count} shape${msg.count === 1 ? "" : "s"} as ${msg.label}.`,
          },
        });
        return;
      case "class-failed":
        this.set({ notice: { tone: "warning", text: msg.message } });
        return;
    }
  }
}
