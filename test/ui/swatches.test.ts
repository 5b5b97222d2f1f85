// The palette's swatches: one a face part, so both eyes are one Eye.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PackInfo } from "../../protocol/index.ts";
import { swatchesOf, swatchOf } from "../../ui/lib/swatches.ts";
import { classAliases } from "../../ui/lib/classify.ts";

const raw = JSON.parse(readFileSync("models/packs/faces-128/pack.json", "utf8")) as { classes: PackInfo["classes"]; sidePairs: { label: string; imageLeft: string; imageRight: string }[] };
const id = (name: string) => raw.classes.find((c) => c.name === name)!.id;
// As the server sends it: the pairs by class id.
const pack: Pick<PackInfo, "classes" | "sidePairs"> = {
  classes: raw.classes,
  sidePairs: raw.sidePairs.map((p) => ({ label: p.label, imageLeft: id(p.imageLeft), imageRight: id(p.imageRight) })),
};

describe("palette swatches", () => {
  it("show one Eye, one Brow and one Ear, where the first of each pair is, and every other class once", () => {
    const swatches = swatchesOf(pack);
    expect(swatches).toHaveLength(raw.classes.length - 3);
    const labels = swatches.map((s) => s.label);
    for (const part of ["Eye", "Brow", "Ear"]) expect(labels.filter((l) => l === part)).toHaveLength(1);
    expect(labels.filter((l) => /left|right/i.test(l))).toEqual([]);
    expect(labels.slice(0, 7)).toEqual(["Background", "Skin", "Nose", "Glasses", "Eye", "Brow", "Ear"]);
    const eye = swatches.find((s) => s.label === "Eye")!;
    expect(eye).toEqual({ classId: id("l_eye"), name: "l_eye", label: "Eye", color: raw.classes[id("l_eye")].color });
  });

  it("either eye's class stands for the Eye swatch; other classes for their own", () => {
    expect(swatchOf(pack, id("r_eye"))?.label).toBe("Eye");
    expect(swatchOf(pack, id("l_ear"))?.classId).toBe(id("l_ear"));
    expect(swatchOf(pack, id("r_ear"))?.classId).toBe(id("l_ear"));
    expect(swatchOf(pack, id("hair"))?.label).toBe("Hair");
  });

  it("an older server without pairs gets a swatch a class", () => {
    expect(swatchesOf({ classes: raw.classes }).map((s) => s.name)).toEqual(raw.classes.map((c) => c.name));
  });

  it("a layer named Eye, Brow or Ear is that part", () => {
    const aliases = classAliases(pack);
    expect(aliases.get("eye")).toBe(id("l_eye"));
    expect(aliases.get("brow")).toBe(id("l_brow"));
    expect(aliases.get("ear")).toBe(id("l_ear"));
    expect(aliases.get("earring")).toBe(id("ear_r"));
    // Labels that both shorten to the part's name still give the part.
    const twoEyes = { classes: [{ id: 0, name: "a", label: "Eye (left)", color: "#000000" }, { id: 1, name: "b", label: "Eye (right)", color: "#FFFFFF" }], sidePairs: [{ label: "Eye", imageLeft: 1, imageRight: 0 }] };
    expect(classAliases(twoEyes).get("eye")).toBe(0);
  });
});
