import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import type { PackInfo } from "../../protocol/index.ts";
import type { ShapeSnapshot } from "../../plugin/messages.ts";
import { backgroundClassId, classAliases, classificationProblem, classifyShapes, classifyStrokes, darkStrokes, normalizeName } from "../../ui/lib/classify.ts";
import type { StrokeSnapshot } from "../../plugin/messages.ts";
import { parseHex } from "../../ui/lib/palette.ts";

const raw = JSON.parse(readFileSync("models/packs/faces-64/pack.json", "utf8"));
const pack: PackInfo = {
  name: raw.name,
  title: raw.title,
  version: raw.version,
  quality: raw.quality,
  license: raw.license.name,
  resolution: raw.resolution,
  conditions: ["mask"],
  classes: raw.classes,
  truncation: raw.truncation,
};
const cls = (name: string) => pack.classes.find((c) => c.name === name)!;
const colour01 = (hex: string) => {
  const c = parseHex(hex)!;
  return { r: c.r / 255, g: c.g / 255, b: c.b / 255 };
};
let n = 0;
function shape(name: string, fill: string | null): ShapeSnapshot {
  return {
    id: `1:${++n}`,
    name,
    type: "RECTANGLE",
    fill: fill ? { kind: "solid", color: colour01(fill), opacity: 1 } : { kind: "other", paint: "GRADIENT_LINEAR" },
    paths: [{ data: "M0 0L1 0L1 1Z", windingRule: "NONZERO" }],
    toUnit: [
      [1, 0, 0],
      [0, 1, 0],
    ],
  };
}

describe("layer names", () => {
  it("normalizes case, separators and Figma's copy numbers", () => {
    expect(normalizeName("  Hair 2 ")).toBe("hair");
    expect(normalizeName("l_eye")).toBe("l eye");
    expect(normalizeName("Upper-Lip")).toBe("upper lip");
  });
  it("knows a class by id name, label and label without its parenthesis", () => {
    const aliases = classAliases(pack);
    expect(aliases.get("l eye")).toBe(cls("l_eye").id);
    expect(aliases.get("left eye (image right)")).toBe(cls("l_eye").id);
    expect(aliases.get("left eye")).toBe(cls("l_eye").id);
    expect(aliases.get("mouth")).toBe(cls("mouth").id);
  });
  it("drops an alias two classes share", () => {
    const aliases = classAliases({
      classes: [
        { id: 0, name: "a", label: "Eye (left)", color: "#000000" },
        { id: 1, name: "b", label: "Eye (right)", color: "#FFFFFF" },
      ],
    });
    expect(aliases.has("eye")).toBe(false);
    expect(aliases.get("a")).toBe(0);
  });
});

describe("classifying shapes", () => {
  it("takes the palette colour first, the layer name second", () => {
    const out = classifyShapes([shape("Hair", cls("skin").color), shape("hair 3", "#00FF00"), shape("Rectangle 4", cls("nose").color)], pack);
    expect(out.shapes.map((s) => [s.classId, s.by])).toEqual([
      [cls("skin").id, "colour"],
      [cls("hair").id, "name"],
      [cls("nose").id, "colour"],
    ]);
    expect(out.unknown).toEqual([]);
  });

  it("lists shapes with neither, by name and colour, instead of guessing", () => {
    const out = classifyShapes([shape("Rectangle 1", "#00FF00"), shape("Blob", null), shape("Skin", null)], pack);
    expect(out.shapes.map((s) => s.classId)).toEqual([cls("skin").id]);
    expect(out.unknown.map((u) => [u.name, u.fill])).toEqual([
      ["Rectangle 1", "#00FF00"],
      ["Blob", "gradient linear"],
    ]);
    const text = classificationProblem(out, pack.title)!;
    expect(text).toMatch(/2 shapes have a colour that is not in the palette/);
    expect(text).toContain("“Rectangle 1” (#00FF00)");
    expect(text).toContain("“Blob” (gradient linear)");
  });

  it("names the class a pack lacks when another pack has it", () => {
    const smaller: PackInfo = { ...pack, name: "no-hat", title: "No Hats", classes: pack.classes.filter((c) => c.name !== "hat") };
    const out = classifyShapes([shape("Hat", null), shape("x", cls("hat").color)], smaller, [smaller, pack]);
    expect(out.missing.map((m) => [m.shapeName, m.classLabel, m.otherPack])).toEqual([
      ["Hat", "Hat", pack.title],
      ["x", "Hat", pack.title],
    ]);
    expect(classificationProblem(out, smaller.title)).toMatch(/No Hats has no Hat class, used by “Hat”, “x”/);
  });

  it("has no problem when every shape has a class", () => {
    expect(classificationProblem(classifyShapes([shape("a", cls("hair").color)], pack), pack.title)).toBeNull();
  });

  it("finds the background class by name", () => {
    expect(backgroundClassId(pack)).toBe(cls("background").id);
    expect(backgroundClassId({ classes: pack.classes.filter((c) => c.name !== "background") })).toBeNull();
  });
});

describe("strokes", () => {
  const stroke = (name: string, hex: string): StrokeSnapshot => ({
    id: `s:${name}`,
    name,
    type: "VECTOR",
    paint: { kind: "solid", color: colour01(hex), opacity: 1 },
    paths: [{ data: "M 0 0 L 1 1" }],
    toUnit: [
      [1, 0, 0],
      [0, 1, 0],
    ],
  });

  it("a sketch reads dark strokes and skips coloured and non-solid ones", () => {
    const gradient: StrokeSnapshot = { ...stroke("Gradient", "#000000"), paint: { kind: "other", paint: "GRADIENT_LINEAR" } };
    const { dark, light } = darkStrokes([stroke("Ink", "#000000"), stroke("Graphite", "#444444"), stroke("Skin", cls("skin").color), stroke("Pink", "#FF00FF"), gradient]);
    expect(dark.map((s) => s.name)).toEqual(["Ink", "Graphite"]);
    expect(light.map((s) => s.name)).toEqual(["Skin", "Pink", "Gradient"]);
  });

  it("a scribble's strokes get classes by stroke colour, then name; others are listed as strokes", () => {
    const c = classifyStrokes([stroke("line 1", cls("hair").color), stroke("Nose", "#123456"), stroke("Doodle", "#00FF00")], pack);
    expect(c.shapes.map((s) => [s.shape.name, s.classId, s.by])).toEqual([
      ["line 1", cls("hair").id, "colour"],
      ["Nose", cls("nose").id, "name"],
    ]);
    expect(classificationProblem(c, pack.title, "stroke")).toMatch(/^1 stroke has a colour that is not in the palette and no face-part name: “Doodle” \(#00FF00\)/);
  });
});
