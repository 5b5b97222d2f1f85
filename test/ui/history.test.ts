import { describe, expect, it } from "vitest";
import { addToHistory, entryBytes, MAX_HISTORY, parseHistory, removeFromHistory, timeAgo, type HistoryEntry } from "../../ui/lib/history.ts";

const entry = (id: string, time: number, png = "iVBORw0KGgo="): HistoryEntry => ({ id, seed: time, pack: "p", packTitle: "P", time, width: 64, height: 64, png });

describe("history list", () => {
  it("puts the newest first", () => {
    const list = addToHistory([entry("a", 1)], [entry("b", 2), entry("c", 3)]);
    expect(list.map((e) => e.id)).toEqual(["c", "b", "a"]);
  });
  it("keeps at most 50 entries, dropping the oldest", () => {
    let list: HistoryEntry[] = [];
    for (let i = 0; i < 60; i++) list = addToHistory(list, [entry(`e${i}`, i)]);
    expect(list.length).toBe(MAX_HISTORY);
    expect(list[0].id).toBe("e59");
    expect(list.at(-1)!.id).toBe("e10");
  });
  it("replaces an entry with the same id instead of duplicating it", () => {
    const list = addToHistory([entry("a", 1), entry("b", 2)], [entry("a", 5)]);
    expect(list.map((e) => [e.id, e.time])).toEqual([
      ["a", 5],
      ["b", 2],
    ]);
  });
  it("stays under the byte budget", () => {
    const big = "A".repeat(1000);
    const list = addToHistory([], [entry("a", 3, big), entry("b", 2, big), entry("c", 1, big)], 50, 2 * entryBytes(entry("x", 0, big)));
    expect(list.map((e) => e.id)).toEqual(["a", "b"]);
  });
  it("removes by id", () => {
    expect(removeFromHistory([entry("a", 1), entry("b", 2)], "a").map((e) => e.id)).toEqual(["b"]);
  });
  it("reads back only valid entries from storage", () => {
    expect(parseHistory(null)).toEqual([]);
    expect(parseHistory("x")).toEqual([]);
    const list = parseHistory([entry("a", 1), { id: "bad" }, 7, entry("b", 2)]);
    expect(list.map((e) => e.id)).toEqual(["b", "a"]);
  });
  it("says how long ago", () => {
    expect(timeAgo(0, 10_000)).toBe("just now");
    expect(timeAgo(0, 5 * 60_000)).toBe("5 min ago");
    expect(timeAgo(0, 3 * 3600_000)).toBe("3 h ago");
    expect(timeAgo(0, 49 * 3600_000)).toBe("2 days ago");
  });
});
