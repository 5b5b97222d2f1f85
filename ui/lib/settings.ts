// What the UI keeps in figma.clientStorage (local to this user, never in the shared document):
// the server address and pairing code, and the last choices, so the panel opens as it was left.
import { DEFAULT_FIT, MAX_FIT, MAX_SEED, MAX_VARIATIONS } from "../../protocol/index.ts";

declare const __PHOTOTYPE_SERVER_URL__: string | undefined;

/** Set at build time (`--server-url`), else the local development server. */
export const DEFAULT_SERVER_URL: string = typeof __PHOTOTYPE_SERVER_URL__ === "string" && __PHOTOTYPE_SERVER_URL__ ? __PHOTOTYPE_SERVER_URL__ : "ws://localhost:8787/ws";

export interface Settings {
  serverUrl: string;
  /** The server's pairing code (its per-install secret), typed once in the pairing panel. */
  token: string;
  /** Pack name last chosen; the server's default when null or gone. */
  pack: string | null;
  variations: number;
  seed: number;
  seedLocked: boolean;
  live: boolean;
  /** Fit layout: candidates the server makes per kept image (1 = off); shapes only, Generate only. */
  fit: number;
  /** The condition picker: which drawing Generate reads. */
  condition: PickedCondition;
}

/** What Generate reads from the frame: shapes (mask), dark pen strokes, coloured strokes, or a photo's edges. */
export type PickedCondition = "mask" | "sketch" | "scribble" | "edges";
export const PICKED_CONDITIONS: readonly PickedCondition[] = ["mask", "sketch", "scribble", "edges"];

export const DEFAULT_SETTINGS: Settings = {
  serverUrl: DEFAULT_SERVER_URL,
  token: "",
  pack: null,
  variations: 1,
  seed: 1234,
  seedLocked: false,
  live: false,
  fit: DEFAULT_FIT,
  condition: "mask",
};

/** The fit choices the panel offers: off, then best of 2, 4 or 8 candidates per image. */
export const FIT_CHOICES: readonly number[] = [1, 2, 4, MAX_FIT];

export function clampVariations(n: number): number {
  return Math.min(MAX_VARIATIONS, Math.max(1, Math.round(Number.isFinite(n) ? n : 1)));
}

export function clampFit(n: number): number {
  return Math.min(MAX_FIT, Math.max(1, Math.round(Number.isFinite(n) ? n : DEFAULT_FIT)));
}

export function isValidSeed(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_SEED;
}

export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * (MAX_SEED + 1));
}

export function parseSettings(value: unknown): Settings {
  const v = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  return {
    serverUrl: typeof v.serverUrl === "string" && v.serverUrl ? v.serverUrl : DEFAULT_SETTINGS.serverUrl,
    token: typeof v.token === "string" ? v.token : "",
    pack: typeof v.pack === "string" ? v.pack : null,
    variations: typeof v.variations === "number" ? clampVariations(v.variations) : DEFAULT_SETTINGS.variations,
    seed: typeof v.seed === "number" && isValidSeed(v.seed) ? v.seed : DEFAULT_SETTINGS.seed,
    seedLocked: v.seedLocked === true,
    live: v.live === true,
    fit: typeof v.fit === "number" ? clampFit(v.fit) : DEFAULT_SETTINGS.fit,
    condition: PICKED_CONDITIONS.includes(v.condition as PickedCondition) ? (v.condition as PickedCondition) : "mask",
  };
}
