import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { COLOUR_TOLERANCE, deltaE, from01, nearestClass, paletteOf, parseHex, rgbToLab, toHex } from "../../ui/lib/palette.ts";

const packJson = JSON.parse(readFileSync("models/packs/faces-64/pack.json", "utf8")) as { classes: { id: number; name: string; color: string }[] };

describe("palette colours", () => {
  it("parses and prints #RRGGBB", () => {
    expect(parseHex("#AEC6E8")).toEqual({ r: 0xae, g: 0xc6, b: 0xe8 });
    expect(parseHex("aec6e8")).toEqual({ r: 0xae, g: 0xc6, b: 0xe8 });
    expect(parseHex("#abc")).toBeNull();
    expect(toHex({ r: 10, g: 200, b: 255 })).toBe("#0AC8FF");
  });

  it("converts sRGB to CIELAB like the reference values", () => {
    const white = rgbToLab({ r: 255, g: 255, b: 255 });
    expect(white[0]).toBeCloseTo(100, 1);
    expect(Math.abs(white[1])).toBeLessThan(0.01);
    const red = rgbToLab({ r: 255, g: 0, b: 0 });
    expect(red[0]).toBeCloseTo(53.24, 1);
    expect(red[1]).toBeCloseTo(80.09, 1);
    expect(red[2]).toBeCloseTo(67.2, 1);
    expect(rgbToLab({ r: 0, g: 0, b: 0 })[0]).toBeCloseTo(0, 5);
  });

  it("matches every palette colour of a real pack to its own class", () => {
    const palette = paletteOf(packJson.classes);
    for (const c of packJson.classes) expect(nearestClass(parseHex(c.color)!, palette)?.id).toBe(c.id);
  });

  it("accepts a near shade within the tolerance and refuses a foreign colour", () => {
    const palette = paletteOf(packJson.classes);
    const hair = packJson.classes.find((c) => c.name === "hair")!;
    const skin = packJson.classes.find((c) => c.name === "skin")!;
    // #F5CBA7 (skin) nudged by a few levels, as a designer's eyedropper might.
    expect(nearestClass({ r: 0xf2, g: 0xc8, b: 0xa9 }, palette)?.id).toBe(skin.id);
    expect(nearestClass({ r: 0x20, g: 0x20, b: 0x20 }, palette)?.id).toBe(hair.id);
    // Pure green is nobody's face part.
    expect(nearestClass({ r: 0, g: 255, b: 0 }, palette)).toBeNull();
  });

  it("the tolerance is a perceptual distance, not an RGB one", () => {
    // Equal RGB steps in dark and light greys differ a lot in Lab.
    const dark = deltaE(rgbToLab({ r: 10, g: 10, b: 10 }), rgbToLab({ r: 30, g: 30, b: 30 }));
    const light = deltaE(rgbToLab({ r: 225, g: 225, b: 225 }), rgbToLab({ r: 245, g: 245, b: 245 }));
    expect(dark).toBeGreaterThan(light);
    expect(COLOUR_TOLERANCE).toBeGreaterThan(2.3); // above a just-noticeable difference
  });

  it("rounds Figma's 0..1 channels", () => {
    expect(from01({ r: 1, g: 0.5, b: 0 })).toEqual({ r: 255, g: 128, b: 0 });
  });
});
