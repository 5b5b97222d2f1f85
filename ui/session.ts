// The UI's state and what happens on each click, message and socket event. Preact components
// only render `state` and call the methods below.
import { base64ToBytes, bytesToBase64, type ImageResult, type PackInfo, type ServerMessage, type Welcome } from "../server/protocol.ts";
import type { FrameInfo, FrameProblem, FrameRead, MainToUi, SkippedCounts } from "../plugin/messages.ts";
import { emitToMain, onMainMessage } from "./bridge.ts";
import { ServerConnection, checkServerUrl, type ConnectionState } from "./connection.ts";
import { backgroundClassId, classificationProblem, classifyShapes } from "./lib/classify.ts";
import { CONNECTION_SENTENCES, errorSentence, progressFraction, progressSentence } from "./lib/error-text.ts";
import { addToHistory, parseHistory, type HistoryEntry } from "./lib/history.ts";
import { rasterizeMask } from "./lib/rasterize.ts";
import { RequestBook, type PendingRequest, type RequestMode } from "./lib/requests.ts";
import { clampVariations, isValidSeed, parseSettings, randomSeed, type Settings, DEFAULT_SETTINGS } from "./lib/settings.ts";

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

export interface LayoutSummary {
  shapes: number;
  byColour: number;
  byName: number;
  skipped: SkippedCounts;
  frame: FrameInfo;
  mask: Uint8Array;
  resolution: number;
  packName: string;
}

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
  private readToken = 0;
  private previewSeq = 0;
  /** A final request between the click and its registration (reading the frame): a second click waits. */
  private finalStarting = false;
  private previewTimer: ReturnType<typeof setTimeout> | null = null;
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
    emitToMain({ type: "apply-class", className: cls.name, label: cls.label, color: cls.color });
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
    if (this.finalStarting || this.book.finalInFlight) return;
    this.finalStarting = true;
    void this.run("final").finally(() => {
      this.finalStarting = false;
    });
  }

  private schedulePreview(delay = PREVIEW_DEBOUNCE_MS): void {
    if (!this.state.settings.live) return;
    if (this.previewTimer) clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => {
      this.previewTimer = null;
      void this.run("preview");
    }, delay);
  }

  // ------------------------------------------------------------ one generation

  private readFrame(): Promise<FrameRead> {
    const token = ++this.readToken;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.frameReads.delete(token);
        resolve({ ok: false, problem: { code: "frame_gone", message: "Figma did not answer when asked for the frame's shapes. Close and reopen the plugin." } });
      }, FRAME_READ_TIMEOUT_MS);
      this.frameReads.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      emitToMain({ type: "read-frame", token });
    });
  }

  private say(mode: RequestMode, notice: Notice): void {
    // A live preview repeats on every edit: its problems are shown the same way, and cleared by the next good run.
    this.set({ notice, ...(mode === "final" ? { busy: null } : { previewPending: null }) });
  }

  private async run(mode: RequestMode): Promise<void> {
    const seq = mode === "preview" ? ++this.previewSeq : 0;
    const stale = () => mode === "preview" && seq !== this.previewSeq;
    const conn = this.connection?.current;
    if (!conn || conn.status !== "open") {
      if (mode === "final") this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
      return;
    }
    const pack = this.state.pack;
    if (!pack) return this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.noPack });
    if (!pack.conditions.includes("mask")) {
      return this.say(mode, { tone: "error", text: errorSentence("unsupported_condition") });
    }

    const read = await this.readFrame();
    if (stale()) return;
    if (!read.ok) return this.say(mode, { tone: mode === "final" ? "error" : "warning", text: read.problem.message });
    const { snapshot } = read;

    const classes = classifyShapes(snapshot.shapes, pack, this.state.packs);
    const problem = classificationProblem(classes, pack.title);
    if (problem) return this.say(mode, { tone: "error", text: problem });

    const background = backgroundClassId(pack);
    const { mask, uncovered } = rasterizeMask(
      classes.shapes.map((c) => ({ classId: c.classId, paths: c.shape.paths, toUnit: c.shape.toUnit })),
      pack.resolution,
      background,
    );
    if (uncovered > 0 && background === null) {
      return this.say(mode, {
        tone: "error",
        text: `${pack.title} has no background class, so every pixel needs a shape: ${uncovered} of ${mask.length} are empty. Cover the frame's centre square with shapes.`,
      });
    }
    this.set({
      layout: {
        shapes: classes.shapes.length,
        byColour: classes.shapes.filter((c) => c.by === "colour").length,
        byName: classes.shapes.filter((c) => c.by === "name").length,
        skipped: snapshot.skipped,
        frame: snapshot.frame,
        mask,
        resolution: pack.resolution,
        packName: pack.name,
      },
    });

    const { seed, variations } = this.state.settings;
    const total = mode === "final" ? variations : 1;
    const id = this.book.nextId(mode);
    const superseded = this.book.begin(id, mode, total, snapshot.frame.id);
    if (superseded) this.connection?.send({ type: "cancel", id: superseded });
    const sent = this.connection?.send({
      type: "generate",
      id,
      pack: pack.name,
      condition: { kind: "mask", width: pack.resolution, height: pack.resolution, data: bytesToBase64(mask) },
      seed,
      variations: total,
      mode,
    });
    if (!sent) {
      this.book.forget(id);
      if (mode === "final") this.say(mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
      return;
    }
    if (this.state.notice?.tone !== "success" || mode === "final") this.set({ notice: null });
    if (mode === "final") this.set({ busy: { id, text: "Sending the layout", fraction: 0.02, total } });
    else this.set({ previewPending: id });
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
        this.finish(out.request, out.images);
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
    emitToMain({
      type: "insert",
      requestId: request.id,
      frameId: request.frameId,
      pack: images[0].pack,
      images: images.map((i) => ({ png: base64ToBytes(i.png), seed: i.seed })),
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
      case "inserted": {
        if (this.state.busy?.id === msg.requestId) this.set({ busy: null });
        const first = msg.names[0] ?? "the image";
        const text = msg.count === 1 ? `Added “${first}” over the frame.` : `Added ${msg.count} images: “${first}” over the frame, the other ${msg.count - 1} in a row to its right.`;
        this.set({ notice: { tone: "success", text } });
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
