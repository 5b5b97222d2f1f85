// The UI's state and what each click does. Preact components only render `state` and call the
// public methods below. The other jobs live beside this file: condition.ts builds the condition
// from what was drawn, requests.ts assembles and sends one generation, on-server.ts and
// on-main.ts route the server's and the main thread's messages, ask-main.ts waits for reads.
// Those modules see the session as a SessionContext (context.ts), never this class.
import { base64ToBytes, type PackInfo, type Welcome } from "../../protocol/index.ts";
import { emitToMain, onMainMessage } from "../bridge.ts";
import { ServerConnection, checkServerUrl } from "../connection.ts";
import { CONNECTION_SENTENCES } from "../lib/error-text.ts";
import type { HistoryEntry } from "../lib/history.ts";
import { RequestBook } from "../lib/requests.ts";
import { swatchOf } from "../lib/swatches.ts";
import { clampFit, clampVariations, isValidSeed, randomSeed, type PickedCondition, type Settings } from "../lib/settings.ts";
import { MainThreadReads } from "./ask-main.ts";
import type { SessionContext } from "./context.ts";
import { onMain } from "./on-main.ts";
import { onServer } from "./on-server.ts";
import { runEdit, runExemplar, runGenerate } from "./requests.ts";
import { INITIAL_STATE, type UiState } from "./state.ts";

/** Quiet time after the last canvas change before a live preview is requested. */
export const PREVIEW_DEBOUNCE_MS = 250;
/** A request the server has not mentioned for this long is given up on. */
export const STALL_MS = 120_000;

function clientTag(): string {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Session implements SessionContext {
  state: UiState = { ...INITIAL_STATE };

  private readonly listeners = new Set<() => void>();
  private previewTimer: ReturnType<typeof setTimeout> | null = null;
  /** A final request between the click and its registration (reading the frame): a second click waits. */
  private finalStarting = false;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private stopMain: (() => void) | null = null;

  // Shared with the modules beside this file (requests, on-server, on-main) through SessionContext,
  // as are set(), connect(), onWelcome() and schedulePreview(); components do not use them.
  readonly book = new RequestBook(clientTag());
  connection: ServerConnection | null = null;
  readonly reads = new MainThreadReads();
  previewSeq = 0;
  /** A server warning for a final request (no face drawn), said with its "added" notice. */
  readonly warnings = new Map<string, string>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(patch: Partial<UiState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  start(): void {
    this.stopMain = onMainMessage((m) => onMain(this, m));
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

  connect(): void {
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
          if (this.connection === connection) onServer(this, m);
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

  onWelcome(w: Welcome): void {
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

  // ------------------------------------------------------------ controls and actions

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

  setFit(k: number): void {
    this.saveSettings({ fit: clampFit(k) });
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
    const swatch = this.state.pack ? swatchOf(this.state.pack, classId) : undefined;
    if (!swatch) return;
    const paint = this.conditionKind() === "scribble" ? "stroke" : "fill";
    emitToMain({ type: "apply-class", className: swatch.name, label: swatch.label, color: swatch.color, paint });
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
    this.startFinal(() => runGenerate(this, "final"));
  }

  /** "Use selected image as exemplar": the photo's layout, new faces from the seed(s). */
  useExemplar(): void {
    this.startFinal(() => runExemplar(this));
  }

  /** "Edit this photo": its layout as shapes in a new frame, linked to the photo. */
  editPhoto(): void {
    this.startFinal(() => runEdit(this));
  }

  /** "Restyle this region": the selected shapes' part from a new seed, the rest as it was. */
  restyleRegion(): void {
    this.startFinal(() => runGenerate(this, "final", { restyle: true }));
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

  schedulePreview(delay = PREVIEW_DEBOUNCE_MS): void {
    // A photo's edges do not change as the designer edits shapes: no live preview for them.
    if (!this.state.settings.live || this.conditionKind() === "edges") return;
    if (this.previewTimer) clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => {
      this.previewTimer = null;
      void runGenerate(this, "preview");
    }, delay);
  }
}
