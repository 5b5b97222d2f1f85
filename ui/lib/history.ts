// The history list kept in figma.clientStorage: newest first, at most MAX_HISTORY entries and
// MAX_HISTORY_BYTES of images (clientStorage holds 5 MB a plugin, shared with the settings).

export interface HistoryEntry {
  /** Request id + index: unique, so a reinsert can name what it reinserts. */
  id: string;
  seed: number;
  pack: string;
  packTitle: string;
  /** Epoch milliseconds. */
  time: number;
  width: number;
  height: number;
  /** The result PNG, base64. At pack resolution it doubles as the thumbnail. */
  png: string;
}

export const MAX_HISTORY = 50;
export const MAX_HISTORY_BYTES = 3 * 1024 * 1024;

export function entryBytes(e: HistoryEntry): number {
  return e.png.length + 200;
}

/** Adds entries (newest first), drops duplicates by id, then the oldest beyond the limits. */
export function addToHistory(list: readonly HistoryEntry[], added: readonly HistoryEntry[], maxEntries = MAX_HISTORY, maxBytes = MAX_HISTORY_BYTES): HistoryEntry[] {
  const ids = new Set(added.map((e) => e.id));
  const merged = [...[...added].sort((a, b) => b.time - a.time), ...list.filter((e) => !ids.has(e.id))];
  const out: HistoryEntry[] = [];
  let bytes = 0;
  for (const e of merged) {
    if (out.length >= maxEntries || bytes + entryBytes(e) > maxBytes) break;
    out.push(e);
    bytes += entryBytes(e);
  }
  return out;
}

export function removeFromHistory(list: readonly HistoryEntry[], id: string): HistoryEntry[] {
  return list.filter((e) => e.id !== id);
}

function isEntry(v: unknown): v is HistoryEntry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    Number.isInteger(e.seed) &&
    typeof e.pack === "string" &&
    typeof e.packTitle === "string" &&
    typeof e.time === "number" &&
    typeof e.width === "number" &&
    typeof e.height === "number" &&
    typeof e.png === "string"
  );
}

/** clientStorage can hold anything (an older version's format, a wiped value): keep only valid entries. */
export function parseHistory(value: unknown): HistoryEntry[] {
  if (!Array.isArray(value)) return [];
  return addToHistory([], value.filter(isEntry));
}

export function timeAgo(time: number, now: number): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? "" : "s"} ago`;
}
