// Left and right by position: each drawn eye, brow or ear takes the class of the side of the face
// it lies on, whichever of the pair's two colours it was drawn in. The data's l_eye is the
// person's left, on the image's right; a designer draws "an eye" and should not need to know that.
//
// The face's midline, tried in order:
//   1. the mean column of the nose: the nose sits on the midline of a face seen from the front and
//      moves with it when the head turns, so a profile's eye and ear both land behind the nose, on
//      one side, as they are in a photo;
//   2. the mean column of the skin;
//   3. halfway between the leftmost and rightmost paired part (their mean columns);
//   4. the image's centre.
// Each 8-connected region of a pair's classes (both colours together) goes to the side its mean
// column lies on; a region exactly on the midline keeps the classes it was drawn with. Nothing
// else changes: only pixels of a pair's classes move between that pair's two classes.

/** One part in two classes, by the side of the image each lies on (class ids). */
export interface SideIds {
  label: string;
  imageLeft: number;
  imageRight: number;
}

/** The pairs, and the classes that mark the midline: each entry tried in turn (nose, then skin). */
export interface SideRules {
  pairs: readonly SideIds[];
  anchors: readonly ReadonlySet<number>[];
}

/** A connected part: its pixels (row-major indices) and the mean of their columns. */
export interface Region {
  pixels: number[];
  meanX: number;
}

/** Mean column of the pixels whose class is in `ids`, or null when there are none. */
export function meanColumn(map: Uint8Array, size: number, ids: ReadonlySet<number>): number | null {
  let sum = 0, n = 0;
  for (let i = 0; i < map.length; i++) if (ids.has(map[i])) (sum += i % size), n++;
  return n ? sum / n : null;
}

/** 8-connected regions of pixels whose class is in `ids` (diagonal touches connect: thin scribble strokes stay whole). */
export function regionsOf(map: Uint8Array, size: number, ids: ReadonlySet<number>): Region[] {
  const seen = new Uint8Array(map.length);
  const regions: Region[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || !ids.has(map[start])) continue;
    const pixels: number[] = [];
    const stack = [start];
    seen[start] = 1;
    let sumX = 0;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % size, y = (p - x) / size;
      pixels.push(p);
      sumX += x;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const q = ny * size + nx;
          if (!seen[q] && ids.has(map[q])) (seen[q] = 1), stack.push(q);
        }
      }
    }
    regions.push({ pixels, meanX: sumX / pixels.length });
  }
  return regions;
}

/** The face's midline as a column (pixel centres at 0 … size-1); the rules are at the top of this file. */
export function faceMidline(map: Uint8Array, size: number, anchors: readonly ReadonlySet<number>[], parts: readonly Region[]): number {
  for (const ids of anchors) {
    const x = meanColumn(map, size, ids);
    if (x !== null) return x;
  }
  if (parts.length >= 2) {
    const xs = parts.map((r) => r.meanX);
    return (Math.min(...xs) + Math.max(...xs)) / 2;
  }
  return (size - 1) / 2;
}

/** A size x size class map with every paired part in the class of its side; `map` is not changed. */
export function placeSides(map: Uint8Array, size: number, rules: SideRules): Uint8Array {
  if (rules.pairs.length === 0) return map;
  const found = rules.pairs.map((pair) => ({ pair, regions: regionsOf(map, size, new Set([pair.imageLeft, pair.imageRight])) }));
  const parts = found.flatMap((f) => f.regions);
  if (parts.length === 0) return map;
  const midline = faceMidline(map, size, rules.anchors, parts);
  const out = map.slice();
  for (const { pair, regions } of found) {
    for (const r of regions) {
      if (r.meanX === midline) continue;
      const id = r.meanX > midline ? pair.imageRight : pair.imageLeft;
      for (const p of r.pixels) out[p] = id;
    }
  }
  return out;
}

/** `classes` and their pair partners: a region named by one side's class means the part on both sides. */
export function withPartners(classes: Iterable<number>, pairs: readonly SideIds[]): number[] {
  const out = new Set(classes);
  for (const p of pairs) {
    if (out.has(p.imageLeft) || out.has(p.imageRight)) {
      out.add(p.imageLeft);
      out.add(p.imageRight);
    }
  }
  return [...out];
}
