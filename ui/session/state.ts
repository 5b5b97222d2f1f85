// What the UI shows: the session's state, which components render and never change themselves.
import type { PackInfo } from "../../protocol/index.ts";
import type { FrameInfo, FrameProblem } from "../../plugin/messages.ts";
import type { ConnectionState } from "../connection.ts";
import type { HistoryEntry } from "../lib/history.ts";
import type { RequestMode } from "../lib/requests.ts";
import { DEFAULT_SETTINGS, type PickedCondition, type Settings } from "../lib/settings.ts";

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

export const INITIAL_STATE: UiState = {
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

export function pngSrc(b64: string): string {
  return `data:image/png;base64,${b64}`;
}
