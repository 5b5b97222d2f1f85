import { describe, expect, it } from "vitest";
import { clampFit, clampVariations, DEFAULT_SETTINGS, isValidSeed, parseSettings, randomSeed } from "../../ui/lib/settings.ts";
import { checkServerUrl, socketUrl } from "../../ui/connection.ts";

describe("settings", () => {
  it("falls back to defaults for a wiped or foreign value", () => {
    expect(parseSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings({ serverUrl: 3, variations: "x", seed: -1 })).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.serverUrl).toBe("ws://localhost:8787/ws");
  });
  it("keeps valid values and clamps variations and fit to 1..8", () => {
    const s = parseSettings({ serverUrl: "wss://x/ws", token: "t", pack: "faces-64", variations: 12, seed: 42, seedLocked: true, live: true, fit: 4, condition: "sketch" });
    expect(s).toEqual({ serverUrl: "wss://x/ws", token: "t", pack: "faces-64", variations: 8, seed: 42, seedLocked: true, live: true, fit: 4, condition: "sketch" });
    expect(parseSettings({ fit: 20 }).fit).toBe(8);
    expect(parseSettings({ fit: "4" }).fit).toBe(DEFAULT_SETTINGS.fit);
    expect(clampFit(0)).toBe(1);
    expect(parseSettings({ condition: "telepathy" }).condition).toBe("mask");
    expect(clampVariations(0)).toBe(1);
    expect(clampVariations(NaN)).toBe(1);
  });
  it("accepts 32-bit unsigned seeds only", () => {
    expect(isValidSeed(0)).toBe(true);
    expect(isValidSeed(0xffffffff)).toBe(true);
    expect(isValidSeed(0x100000000)).toBe(false);
    expect(isValidSeed(1.5)).toBe(false);
    expect(randomSeed(() => 0.999999999)).toBeLessThanOrEqual(0xffffffff);
  });
});

describe("server address", () => {
  it("adds the token as a query parameter", () => {
    expect(socketUrl("ws://localhost:8787/ws", "")).toBe("ws://localhost:8787/ws");
    expect(socketUrl("ws://localhost:8787/ws", "a b&c")).toBe("ws://localhost:8787/ws?token=a%20b%26c");
    expect(socketUrl("ws://h/ws?x=1", "t")).toBe("ws://h/ws?x=1&token=t");
  });
  it("explains addresses that cannot work", () => {
    expect(checkServerUrl("ws://localhost:8787/ws")).toBeNull();
    expect(checkServerUrl("wss://phototype.example.com/ws")).toBeNull();
    expect(checkServerUrl("http://localhost:8787")).toMatch(/must start with ws:\/\//);
    expect(checkServerUrl("localhost")).toMatch(/not an address/);
  });
});
