// Left and right by position (pipeline/sides.ts, pipeline/side-pairs.ts): small maps whose
// answers can be worked out by hand, then the real pack's face layout.
import { describe, expect, it } from "vitest";
import { Value } from "@sinclair/typebox/value";
import { faceMidline, meanColumn, placeSides, regionsOf, withPartners, type SideRules } from "../../server/pipeline/sides.ts";
import { sidePairProblem, sidePairsOf, sideRulesOf } from "../../server/pipeline/side-pairs.ts";
import { PackManifest, type PackClass } from "../../server/pack/schema.ts";
import { defaultTestPack, faceLayout } from "./helpers.ts";

// Class ids as in the real packs: l_ is the image's right.
const BG = 0, SKIN = 1, NOSE = 2, L_EYE = 4, R_EYE = 5, L_EAR = 8, R_EAR = 9;
const RULES: SideRules = {
  pairs: [
    { label: "Eye", imageLeft: R_EYE, imageRight: L_EYE },
    { label: "Ear", imageLeft: R_EAR, imageRight: L_EAR },
  ],
  anchors: [new Set([NOSE]), new Set([SKIN])],
};

/** A size x size map from rows of one character a pixel. */
const KEY: Record<string, number> = { ".": BG, s: SKIN, n: NOSE, L: L_EYE, R: R_EYE, E: L_EAR, F: R_EAR };
function draw(...rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join(""), (ch) => KEY[ch]);
}
function show(map: Uint8Array, size: number): string[] {
  const back = Object.fromEntries(Object.entries(KEY).map(([k, v]) => [v, k]));
  return Array.from({ length: size }, (_, y) => Array.from(map.subarray(y * size, (y + 1) * size), (v) => back[v]).join(""));
}

describe("midline and parts", () => {
  it("meanColumn is the mean x of a class's pixels, null without any", () => {
    const map = draw("..ss....", "...sss..", "........", "........", "........", "........", "........", "........");
    expect(meanColumn(map, 8, new Set([SKIN]))).toBe((2 + 3 + 3 + 4 + 5) / 5); // 3.4
    expect(meanColumn(map, 8, new Set([NOSE]))).toBeNull();
  });

  it("regions are 8-connected over both classes of a pair", () => {
    // An eye drawn half in each colour is one eye; a diagonal stroke is one stroke.
    const map = draw("LR....L.", "......L.", "..R.....", "...R....", "........", "........", "........", "........");
    const regions = regionsOf(map, 8, new Set([L_EYE, R_EYE]));
    expect(regions.map((r) => r.pixels.length).sort()).toEqual([2, 2, 2]);
    expect(regions.map((r) => r.meanX).sort()).toEqual([0.5, 2.5, 6]);
  });

  it("the midline is the nose, else the skin, else halfway between the outer parts, else the image centre", () => {
    const parts = [{ pixels: [], meanX: 1 }, { pixels: [], meanX: 2 }, { pixels: [], meanX: 6 }];
    const noseAndSkin = draw("ssssss..", "snssss..", "........", "........", "........", "........", "........", "........");
    expect(faceMidline(noseAndSkin, 8, RULES.anchors, parts)).toBe(1);
    const skinOnly = draw("ssssss..", "........", "........", "........", "........", "........", "........", "........");
    expect(faceMidline(skinOnly, 8, RULES.anchors, parts)).toBe(2.5);
    const nothing = new Uint8Array(64);
    expect(faceMidline(nothing, 8, RULES.anchors, parts)).toBe(3.5); // (1 + 6) / 2
    expect(faceMidline(nothing, 8, RULES.anchors, parts.slice(0, 1))).toBe(3.5); // (8 - 1) / 2
  });
});

describe("placeSides", () => {
  const correct = draw(
    "..ssssss..",
    ".sssssssss",
    "FsRRssLLsE",
    "Fsssnnsss.",
    ".sssnnsss.",
    "..ssssss..",
    "..........",
    "..........",
    "..........",
    "..........",
  );

  it("leaves a drawing whose sides are right as it is", () => {
    expect(show(placeSides(correct, 10, RULES), 10)).toEqual(show(correct, 10));
  });

  it("swapped sides, or both eyes in one colour, come out as the right drawing", () => {
    const swapped = correct.map((v) => ({ [L_EYE]: R_EYE, [R_EYE]: L_EYE, [L_EAR]: R_EAR, [R_EAR]: L_EAR })[v] ?? v);
    expect(show(swapped, 10)[2]).toBe("EsLLssRRsF");
    expect(show(placeSides(swapped, 10, RULES), 10)).toEqual(show(correct, 10));
    const oneColour = correct.map((v) => (v === R_EYE ? L_EYE : v === R_EAR ? L_EAR : v));
    expect(show(placeSides(oneColour, 10, RULES), 10)).toEqual(show(correct, 10));
  });

  it("a mirrored drawing gets mirrored classes", () => {
    // Nose at columns 4-5 (mean 4.5): mirrored it stays there; the ear moves from right to left.
    const mirror = (m: Uint8Array) => Uint8Array.from(m, (_, i) => m[i - (i % 10) + 9 - (i % 10)]);
    const swapSides = (m: Uint8Array) => m.map((v) => ({ [L_EYE]: R_EYE, [R_EYE]: L_EYE, [L_EAR]: R_EAR, [R_EAR]: L_EAR })[v] ?? v);
    const mirrored = placeSides(mirror(correct), 10, RULES);
    expect(mirrored).toEqual(swapSides(mirror(correct)));
    expect(show(mirrored, 10)[2]).toBe("FsRRssLLsE");
    expect(show(mirrored, 10)[3]).toBe(".sssnnsssE");
  });

  it("a lone eye or a lone ear takes the side it lies on", () => {
    const loneEye = draw("ssssssss", "sssnsRss", "ssssssss", "........", "........", "........", "........", "........");
    expect(show(placeSides(loneEye, 8, RULES), 8)[1]).toBe("sssnsLss"); // right of the nose: image right, l_eye
    const loneEar = draw("E.ssss..", "E.snss..", "..ssss..", "........", "........", "........", "........", "........");
    expect(show(placeSides(loneEar, 8, RULES), 8).slice(0, 2)).toEqual(["F.ssss..", "F.snss.."]);
  });

  it("a profile's eye and ear are both behind the nose, on one side", () => {
    // Facing the image's left: the nose juts out at the left edge. The eye lies left of the skin's
    // mean column (58 / 19, about 3) but right of the nose (0), as the near eye of a profile does.
    const profile = draw(
      ".sssss..",
      "nsRsssF.",
      "nsssssF.",
      ".sssss..",
      "........",
      "........",
      "........",
      "........",
    );
    expect(show(placeSides(profile, 8, RULES), 8).slice(1, 3)).toEqual(["nsLsssE.", "nsssssE."]);
  });

  it("a part right on the midline keeps its colour; nothing but pair classes changes; the input stays", () => {
    const cyclops = draw("ssssR", "sssnR", "....E", ".....", ".....");
    const before = cyclops.slice();
    const out = placeSides(cyclops, 5, { ...RULES, anchors: [new Set([SKIN])] }); // skin mean 9 / 7: both parts right of it
    expect(show(out, 5).slice(0, 3)).toEqual(["ssssL", "sssnL", "....E"]);
    expect(cyclops).toEqual(before);
    const centred = draw("..R..", ".sns.", ".....", ".....", ".....");
    expect(placeSides(centred, 5, RULES)).toEqual(centred); // eye at column 2 = nose column 2
  });

  it("without pairs or paired parts the map is returned as it is", () => {
    const map = draw("sn", "ss");
    expect(placeSides(map, 2, { pairs: [], anchors: RULES.anchors })).toBe(map);
    expect(placeSides(map, 2, RULES)).toBe(map);
  });

  it("a restyle of one eye's class means both eyes", () => {
    expect(withPartners([L_EYE, SKIN], RULES.pairs).sort((a, b) => a - b)).toEqual([SKIN, L_EYE, R_EYE]);
    expect(withPartners([SKIN], RULES.pairs)).toEqual([SKIN]);
  });
});

describe("side pairs from pack.json", () => {
  const pack = defaultTestPack();
  const id = (name: string) => pack.manifest.classes.find((c) => c.name === name)!.id;

  it("the real packs declare Eye, Brow and Ear, image left r_, image right l_", () => {
    expect(sidePairsOf(pack.manifest)).toEqual([
      { label: "Eye", imageLeft: id("r_eye"), imageRight: id("l_eye") },
      { label: "Brow", imageLeft: id("r_brow"), imageRight: id("l_brow") },
      { label: "Ear", imageLeft: id("r_ear"), imageRight: id("l_ear") },
    ]);
  });

  it("a pack without sidePairs is valid and takes them from l_X / r_X names; [] turns them off", () => {
    const { sidePairs: _declared, ...older } = pack.manifest;
    expect(Value.Check(PackManifest, older)).toBe(true);
    expect(sidePairsOf(older)).toEqual(sidePairsOf(pack.manifest));
    // l_lip (lower lip) has no r_lip and ear_r (earring) is no side: neither pairs up.
    const classes: PackClass[] = ["background", "l_lip", "u_lip", "ear_r", "l_eye", "r_eye"].map((name, i) => ({ id: i, name, label: name, color: `#00000${i}` }));
    expect(sidePairsOf({ classes })).toEqual([{ label: "Eye", imageLeft: 5, imageRight: 4 }]);
    expect(sidePairsOf({ classes, sidePairs: [] })).toEqual([]);
  });

  it("refuses pairs that name unknown classes, one class twice, or one class on both sides", () => {
    const classes = pack.manifest.classes;
    expect(sidePairProblem(pack.manifest)).toBeNull();
    expect(sidePairProblem({ classes, sidePairs: [{ label: "Eye", imageLeft: "r_eye", imageRight: "third_eye" }] })).toMatch(/third_eye/);
    expect(sidePairProblem({ classes, sidePairs: [{ label: "Eye", imageLeft: "r_eye", imageRight: "r_eye" }] })).toMatch(/same class/);
    const twice = [{ label: "Eye", imageLeft: "r_eye", imageRight: "l_eye" }, { label: "Eye 2", imageLeft: "r_eye", imageRight: "l_brow" }];
    expect(sidePairProblem({ classes, sidePairs: twice })).toMatch(/r_eye is in more than one/);
  });

  it("on the real face layout: swapped and one-colour drawings come out as the drawn face; only eye, brow and ear pixels move", () => {
    const R = pack.manifest.resolution;
    const rules = sideRulesOf(pack.manifest);
    const face = faceLayout(pack.manifest.classes, R);
    expect(placeSides(face, R, rules)).toEqual(face);
    const swap = new Map(rules.pairs.flatMap((p) => [[p.imageLeft, p.imageRight], [p.imageRight, p.imageLeft]] as const));
    const swapped = face.map((v) => swap.get(v) ?? v);
    expect(swapped).not.toEqual(face);
    expect(placeSides(swapped, R, rules)).toEqual(face);
    const oneColour = face.map((v) => (rules.pairs.some((p) => p.imageLeft === v) ? rules.pairs.find((p) => p.imageLeft === v)!.imageRight : v));
    expect(placeSides(oneColour, R, rules)).toEqual(face);
  });
});
