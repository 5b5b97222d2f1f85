import { describe, expect, it } from "vitest";
import { RECONNECT_BACKOFF, reconnectDelay } from "../../ui/lib/backoff.ts";

describe("reconnect backoff", () => {
  it("doubles from the base, within the jitter band", () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const exp = RECONNECT_BACKOFF.baseMs * 2 ** attempt;
      expect(reconnectDelay(attempt, () => 0)).toBe(exp / 2);
      expect(reconnectDelay(attempt, () => 0.999999)).toBeCloseTo(exp, -1);
    }
  });
  it("never waits longer than the cap", () => {
    for (const attempt of [10, 30, 1000]) expect(reconnectDelay(attempt, () => 0.999999)).toBeLessThanOrEqual(RECONNECT_BACKOFF.capMs);
    expect(reconnectDelay(1000, () => 0)).toBe(RECONNECT_BACKOFF.capMs / 2);
  });
  it("spreads clients apart: different random draws give different delays", () => {
    const delays = new Set([0.1, 0.4, 0.7].map((r) => reconnectDelay(3, () => r)));
    expect(delays.size).toBe(3);
  });
  it("grows on average", () => {
    const mean = (a: number) => (reconnectDelay(a, () => 0) + reconnectDelay(a, () => 0.999)) / 2;
    expect(mean(1)).toBeGreaterThan(mean(0));
    expect(mean(4)).toBeGreaterThan(mean(3));
  });
});
