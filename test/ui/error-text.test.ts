import { describe, expect, it } from "vitest";
import { ErrorCode, Stage } from "../../protocol/index.ts";
import { ERROR_SENTENCES, errorSentence, progressFraction, progressSentence } from "../../ui/lib/error-text.ts";

// The codes as the protocol schema lists them (TypeBox union of literals).
const codes = (ErrorCode as unknown as { anyOf: { const: string }[] }).anyOf.map((s) => s.const);
const stages = (Stage as unknown as { anyOf: { const: string }[] }).anyOf.map((s) => s.const);

describe("error codes in words", () => {
  it("has a sentence for every protocol error code, and nothing else", () => {
    expect(codes.length).toBeGreaterThan(10);
    expect(Object.keys(ERROR_SENTENCES).sort()).toEqual([...codes].sort());
  });
  it("each sentence is a full, distinct sentence without jargon codes", () => {
    const sentences = codes.map((c) => errorSentence(c as ErrorCode));
    expect(new Set(sentences).size).toBe(sentences.length);
    for (const s of sentences) {
      expect(s).toMatch(/^[A-Z].*\.$/);
      expect(s).not.toMatch(/_/);
    }
  });
});

describe("progress in words", () => {
  it("describes every stage", () => {
    for (const stage of stages) {
      const s = progressSentence({ stage: stage as Stage, done: 0, total: 1 });
      expect(s.length).toBeGreaterThan(5);
    }
  });
  it("counts images and queue position", () => {
    expect(progressSentence({ stage: "generating", done: 1, total: 4 })).toBe("Painting the faces (2 of 4)");
    expect(progressSentence({ stage: "queued", done: 0, total: 1, position: 2 })).toBe("Waiting for the server: 2 requests ahead");
  });
  it("moves forward through the stages", () => {
    const order = [
      progressFraction({ stage: "queued", done: 0, total: 2 }),
      progressFraction({ stage: "mapping", done: 0, total: 2 }),
      progressFraction({ stage: "generating", done: 0, total: 2 }),
      progressFraction({ stage: "generating", done: 1, total: 2 }),
      progressFraction({ stage: "encoding", done: 2, total: 2 }),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(order.at(-1)!).toBeLessThan(1);
  });
});
