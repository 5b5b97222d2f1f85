import { describe, expect, it } from "vitest";
import { base64ToBytes, base64ToBytesPortable, bytesToBase64, bytesToBase64Portable, jsonShapeProblem, parseClientMessage, parseServerMessage } from "../../protocol/index.ts";

describe("base64", () => {
  it("the browser-side (portable) code agrees with Node's Buffer for every length and byte", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 255);
    for (let n = 0; n <= 12; n++) {
      const b = bytes.subarray(0, n);
      expect(bytesToBase64Portable(b)).toBe(Buffer.from(b).toString("base64"));
      expect(base64ToBytesPortable(bytesToBase64(b))).toEqual(b);
    }
    expect(base64ToBytesPortable(bytesToBase64Portable(bytes))).toEqual(bytes);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    expect(() => base64ToBytesPortable("ab$d")).toThrow(RangeError);
  });
});

describe("message parsing", () => {
  it("never throws and names the problem", () => {
    for (const text of ["", "{", "[]", "null", "1", '{"type":"cancel"}', '{"type":"x","id":"a"}']) {
      const r = parseClientMessage(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message.length).toBeGreaterThan(5);
    }
    const bad = parseClientMessage('{"type":"generate","id":"r1","seed":"7"}');
    expect(bad).toMatchObject({ ok: false, code: "bad_message", id: "r1" });
    const seed = parseClientMessage(
      JSON.stringify({ type: "generate", id: "r2", pack: "p", condition: { kind: "mask", width: 1, height: 1, data: "AA==" }, seed: -3, variations: 1, mode: "final" }),
    );
    expect(seed).toMatchObject({ ok: false, code: "bad_message", id: "r2", message: expect.stringMatching(/seed must be an integer from 0 to 4294967295/) });
    expect(parseServerMessage('{"type":"done","id":"a","totalMs":1}').ok).toBe(true);
    expect(parseServerMessage('{"type":"done"}').ok).toBe(false);
  });

  it("reads the new conditions, photo source, restyle and invert, and names what is wrong with them", () => {
    const base = { type: "generate", id: "g", pack: "p", seed: 1, variations: 1, mode: "final" };
    const ok = (msg: unknown) => parseClientMessage(JSON.stringify(msg)).ok;
    expect(ok({ ...base, condition: { kind: "sketch", width: 2, height: 2, data: "AAAAAA==" } })).toBe(true);
    expect(ok({ ...base, condition: { kind: "scribble", width: 2, height: 2, data: "////AA==" } })).toBe(true);
    expect(ok({ ...base, condition: { kind: "edges", photo: "iVBORw0KGgo=" } })).toBe(true);
    expect(ok({ ...base, condition: { kind: "exemplar", photo: "iVBORw0KGgo=" } })).toBe(true);
    expect(ok({ ...base, condition: { kind: "mask", width: 1, height: 1, data: "AA==" }, source: { kind: "photo", photo: "iVBO" }, restyle: { classes: [13], seed: 2 } })).toBe(true);
    expect(ok({ type: "invert", id: "i", pack: "p", photo: "iVBO" })).toBe(true);
    const said = (msg: unknown) => {
      const r = parseClientMessage(JSON.stringify(msg));
      return r.ok ? "" : `${r.code}: ${r.message}`;
    };
    expect(said({ ...base, condition: { kind: "edges", photo: "not base64!" } })).toMatch(/bad_message: .*condition.photo must be a PNG in base64/);
    expect(said({ ...base, condition: { kind: "edges" } })).toMatch(/condition.photo must be a PNG/);
    expect(said({ ...base, condition: { kind: "doodle" } })).toMatch(/condition.kind must be one of mask, sketch, scribble, edges, exemplar/);
    expect(said({ ...base, condition: { kind: "mask", width: 1, height: 1, data: "AA==" }, restyle: { classes: [], seed: 2 } })).toMatch(/restyle.classes must be 1 to 64 class ids/);
    expect(said({ type: "invert", id: "i", pack: "p" })).toMatch(/Invert request is malformed/);
    expect(parseClientMessage(JSON.stringify({ type: "invert", id: "i", pack: "p" }))).toMatchObject({ id: "i" });
    expect(parseServerMessage(JSON.stringify({ type: "layout", id: "i", pack: "p", width: 2, height: 2, data: "AAAAAA==", polygons: [{ classId: 1, points: [0, 0, 1, 0, 1, 1] }], timings: {} })).ok).toBe(true);
    expect(parseServerMessage(JSON.stringify({ type: "progress", id: "i", stage: "tracing", done: 0, total: 1 })).ok).toBe(true);
  });
});

describe("the JSON scan before parsing", () => {
  it("refuses deep nesting and too many values, but not brackets, quotes or commas inside strings", () => {
    const limits = { maxDepth: 3, maxItems: 4 };
    expect(jsonShapeProblem('{"a":[[1]]}', limits)).toBeNull();
    expect(jsonShapeProblem('{"a":[[[1]]]}', limits)).toMatch(/deeper than 3/);
    expect(jsonShapeProblem("[1,2,3,4,5,6]", limits)).toMatch(/more than 4 values/);
    expect(jsonShapeProblem('{"id":"[[[[[[,,,,,,\\"[[[[[[\\\\"}', limits)).toBeNull();
    const message = JSON.stringify({ type: "cancel", id: `${"[".repeat(20)}\\"${"{".repeat(20)}` });
    expect(parseClientMessage(message)).toMatchObject({ ok: true, value: { type: "cancel" } });
    expect(parseClientMessage(`{"type":"cancel","id":"x","extra":${"[".repeat(9)}${"]".repeat(9)}}`)).toMatchObject({ ok: false, code: "bad_message" });
  });
});
