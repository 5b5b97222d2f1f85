// Each shape's class: its fill colour when that is a palette colour (what the designer sees wins),
// else its layer name when that names a class ("Hair", "hair 2", "l_eye", "Left eye").
// Shapes with neither are listed by name, never guessed.
import type { PackInfo } from "../../protocol/index.ts";
import type { ShapeSnapshot, StrokeSnapshot } from "../../plugin/messages.ts";
import { from01, nearestClass, paletteOf, rgbToLab, toHex, type PaletteEntry } from "./palette.ts";
import { swatchOf } from "./swatches.ts";

export interface ClassifiedShape {
  shape: ShapeSnapshot;
  classId: number;
  by: "colour" | "name";
}

export interface UnknownShape {
  id: string;
  name: string;
  /** What the fill looked like, for the message: "#12AB34" or "gradient". */
  fill: string;
}

export interface MissingClass {
  shapeName: string;
  classLabel: string;
  /** A pack that does have this class. */
  otherPack: string;
}

export interface Classification {
  shapes: ClassifiedShape[];
  unknown: UnknownShape[];
  missing: MissingClass[];
}

export function normalizeName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[_\-]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/ \d+$/, "") // "Hair 2": Figma numbers copies
    .trim();
}

/**
 * Every way a layer may name a class: its id name, its label, its label without the parenthesis,
 * and a side pair's label ("Eye": the server places it by position). Ambiguous aliases are dropped.
 */
export function classAliases(pack: Pick<PackInfo, "classes" | "sidePairs">): Map<string, number> {
  const ids = new Map<string, Set<number>>();
  const add = (alias: string, id: number) => {
    if (!alias) return;
    const set = ids.get(alias) ?? new Set<number>();
    set.add(id);
    ids.set(alias, set);
  };
  for (const c of pack.classes) {
    add(normalizeName(c.name), c.id);
    add(normalizeName(c.label), c.id);
    add(normalizeName(c.label.replace(/\(.*?\)/g, "")), c.id);
  }
  const out = new Map<string, number>();
  for (const [alias, set] of ids) if (set.size === 1) out.set(alias, [...set][0]);
  // "Eye" names the pair's swatch class, even where both eyes' labels shorten to "Eye".
  for (const p of pack.sidePairs ?? []) {
    const alias = normalizeName(p.label);
    const owners = [...(ids.get(alias) ?? [])];
    if (owners.every((id) => id === p.imageLeft || id === p.imageRight)) out.set(alias, swatchOf(pack, p.imageLeft)?.classId ?? p.imageRight);
  }
  return out;
}

interface PackMatcher {
  pack: PackInfo;
  palette: PaletteEntry[];
  aliases: Map<string, number>;
}

function matcher(pack: PackInfo): PackMatcher {
  return { pack, palette: paletteOf(pack.classes), aliases: classAliases(pack) };
}

function match(shape: ShapeSnapshot, m: PackMatcher): { classId: number; by: "colour" | "name" } | null {
  if (shape.fill.kind === "solid") {
    const hit = nearestClass(from01(shape.fill.color), m.palette);
    if (hit) return { classId: hit.id, by: "colour" };
  }
  const byName = m.aliases.get(normalizeName(shape.name));
  return byName === undefined ? null : { classId: byName, by: "name" };
}

function describeFill(shape: ShapeSnapshot): string {
  return shape.fill.kind === "solid" ? toHex(from01(shape.fill.color)) : shape.fill.paint.toLowerCase().replace(/_/g, " ");
}

export function classifyShapes(shapes: readonly ShapeSnapshot[], pack: PackInfo, otherPacks: readonly PackInfo[] = []): Classification {
  const mine = matcher(pack);
  const others = otherPacks.filter((p) => p.name !== pack.name).map(matcher);
  const out: Classification = { shapes: [], unknown: [], missing: [] };
  for (const shape of shapes) {
    const hit = match(shape, mine);
    if (hit) {
      out.shapes.push({ shape, ...hit });
      continue;
    }
    const elsewhere = others.map((m) => ({ m, hit: match(shape, m) })).find((x) => x.hit);
    if (elsewhere?.hit) {
      const cls = elsewhere.m.pack.classes.find((c) => c.id === elsewhere.hit!.classId);
      out.missing.push({ shapeName: shape.name, classLabel: cls?.label ?? "?", otherPack: elsewhere.m.pack.title });
    } else {
      out.unknown.push({ id: shape.id, name: shape.name, fill: describeFill(shape) });
    }
  }
  return out;
}

/** The class of pixels no shape covers. */
export function backgroundClassId(pack: Pick<PackInfo, "classes">): number | null {
  const bg = pack.classes.find((c) => c.name === "background");
  return bg ? bg.id : null;
}

function listItems(items: readonly string[], max = 5): string {
  const more = items.length > max ? ` and ${items.length - max} more` : "";
  return items.slice(0, max).join(", ") + more;
}

/** A designer-facing sentence for what blocks generation, or null when every shape has a class. */
export function classificationProblem(c: Classification, packTitle: string, things = "shape"): string | null {
  if (c.missing.length > 0) {
    const labels = [...new Set(c.missing.map((m) => m.classLabel))];
    const names = c.missing.map((m) => `“${m.shapeName}”`);
    return `${packTitle} has no ${labels.join(" / ")} class, used by ${listItems(names)}. Switch to ${c.missing[0].otherPack} in settings, or recolour or hide those shapes.`;
  }
  if (c.unknown.length > 0) {
    const n = c.unknown.length;
    return `${n} ${things}${n === 1 ? " has" : "s have"} a colour that is not in the palette and no face-part name: ${listItems(c.unknown.map((u) => `“${u.name}” (${u.fill})`))}. Select ${n === 1 ? "it" : "them"} and click a palette colour, rename ${n === 1 ? "it" : "them"} to a part (“Hair”), or hide ${n === 1 ? "it" : "them"}.`;
  }
  return null;
}

// ------------------------------------------------------------------ strokes

/** CIELAB lightness under which a stroke counts as a pen line of a sketch (black, dark grey, dark ink). */
export const SKETCH_MAX_LIGHTNESS = 50;

/** Splits strokes into the dark ones a sketch reads and the coloured ones it skips. */
export function darkStrokes<T extends Pick<StrokeSnapshot, "paint">>(strokes: readonly T[]): { dark: T[]; light: T[] } {
  const dark: T[] = [];
  const light: T[] = [];
  for (const s of strokes) {
    if (s.paint.kind === "solid" && rgbToLab(from01(s.paint.color))[0] < SKETCH_MAX_LIGHTNESS) dark.push(s);
    else light.push(s);
  }
  return { dark, light };
}

/** A scribble's strokes by class: stroke colour when it is a palette colour, else layer name. */
export function classifyStrokes(strokes: readonly StrokeSnapshot[], pack: PackInfo, otherPacks: readonly PackInfo[] = []): Classification {
  const asShapes: ShapeSnapshot[] = strokes.map((s) => ({ id: s.id, name: s.name, type: s.type, fill: s.paint, paths: [], toUnit: s.toUnit }));
  const c = classifyShapes(asShapes, pack, otherPacks);
  return c;
}
