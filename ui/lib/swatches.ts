// The palette as the designer sees it: one swatch a face part. A part that the pack keeps in two
// classes, one a side (eyes, brows, ears: `sidePairs`), is one swatch, since the server gives each
// drawn eye the class of the side it lies on; the swatch paints the pair's first class in the
// pack's order. An older server sends no pairs: every class is its own swatch.
import type { PackInfo } from "../../protocol/index.ts";

export interface Swatch {
  /** The class a click paints with. */
  classId: number;
  /** That class's name (data-class in the DOM). */
  name: string;
  /** The pair's label ("Eye"), else the class's ("Mouth (inside)"). */
  label: string;
  color: string;
}

type PackClasses = Pick<PackInfo, "classes" | "sidePairs">;

/** The pair `classId` belongs to, if any. */
function pairOf(pack: PackClasses, classId: number) {
  return pack.sidePairs?.find((p) => p.imageLeft === classId || p.imageRight === classId);
}

/** The swatches in the pack's class order; a pair sits where its first class is. */
export function swatchesOf(pack: PackClasses): Swatch[] {
  const out: Swatch[] = [];
  const shown = new Set<number>();
  for (const c of pack.classes) {
    const pair = pairOf(pack, c.id);
    if (shown.has(c.id)) continue;
    if (pair) [pair.imageLeft, pair.imageRight].forEach((id) => shown.add(id));
    out.push({ classId: c.id, name: c.name, label: pair ? pair.label : c.label, color: c.color });
  }
  return out;
}

/** The swatch that stands for `classId`: its own, or its pair's (the other side's class has none). */
export function swatchOf(pack: PackClasses, classId: number): Swatch | undefined {
  const pair = pairOf(pack, classId);
  const ids = pair ? [pair.imageLeft, pair.imageRight] : [classId];
  return swatchesOf(pack).find((s) => ids.includes(s.classId));
}
