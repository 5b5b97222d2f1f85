import { describe, expect, it } from "vitest";
import { base64ToBytes, base64ToBytesPortable, bytesToBase64, bytesToBase64Portable, parseClientMessage, parseServerMessage } from "../../server/protocol.ts";

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
});
