// A class map as vector shapes: each 4-connected region's outer boundary traced along pixel edges
// (crack following), simplified with Douglas-Peucker, and listed in a paint order that rebuilds
// the map. Holes are dropped: a region with a hole becomes its filled outline, and whatever sat in
// the hole is a smaller polygon painted after it (polygons are ordered largest area first, and a
// shape inside another's outline always has the smaller area), so stacking them in order restores
// the layout without even-odd paths.

export interface ClassPolygon {
  classId: number;
  /** Closed ring, x0, y0, x1, y1, … in pixel units of the map (corners at integer coordinates). */
  points: number[];
  /** Area of the simplified ring, px². */
  area: number;
}

export interface TraceOptions {
  /** Class ids to leave out (the background: uncovered area reads as background anyway). */
  skip?: Iterable<number>;
  /** Douglas-Peucker tolerance in pixels: how far a simplified edge may stray from the pixel outline. */
  epsilon?: number;
  /** Regions with fewer pixels are dropped (a parser's stray pixels would become litter). */
  minPixels?: number;
  /** At most this many polygons, the largest kept. */
  maxPolygons?: number;
}

export interface TraceResult {
  polygons: ClassPolygon[];
  /** Regions left out for being smaller than minPixels or beyond maxPolygons. */
  dropped: number;
}

// Directions: 0 +x, 1 +y, 2 -x, 3 -y (y grows downwards); the region is kept on the right.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/** Shoelace area of a closed ring (positive for clockwise on screen, y down). */
export function ringArea(points: readonly number[]): number {
  let a = 0;
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    a += points[2 * i] * points[2 * j + 1] - points[2 * j] * points[2 * i + 1];
  }
  return a / 2;
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return Math.hypot(px - ax, py - ay);
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Douglas-Peucker on an open chain of points (x, y pairs); keeps both ends. */
export function simplifyChain(points: readonly number[], epsilon: number): number[] {
  const n = points.length / 2;
  if (n <= 2) return points.slice();
  const keep = new Uint8Array(n);
  keep[0] = keep[n - 1] = 1;
  const stack: [number, number][] = [[0, n - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    let worst = -1, at = -1;
    for (let i = a + 1; i < b; i++) {
      const d = distanceToSegment(points[2 * i], points[2 * i + 1], points[2 * a], points[2 * a + 1], points[2 * b], points[2 * b + 1]);
      if (d > worst) (worst = d), (at = i);
    }
    if (worst > epsilon) {
      keep[at] = 1;
      stack.push([a, at], [at, b]);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(points[2 * i], points[2 * i + 1]);
  return out;
}

/** Douglas-Peucker on a closed ring: split at the vertex farthest from the first, simplify both halves. */
export function simplifyRing(points: readonly number[], epsilon: number): number[] {
  const n = points.length / 2;
  if (n <= 3 || epsilon <= 0) return points.slice();
  let far = 0, best = -1;
  for (let i = 1; i < n; i++) {
    const d = Math.hypot(points[2 * i] - points[0], points[2 * i + 1] - points[1]);
    if (d > best) (best = d), (far = i);
  }
  const first = simplifyChain(points.slice(0, 2 * far + 2), epsilon);
  const second = simplifyChain([...points.slice(2 * far), points[0], points[1]], epsilon);
  const ring = [...first, ...second.slice(2, -2)];
  // Too few corners left to enclose anything: keep the exact outline instead.
  return ring.length >= 6 && Math.abs(ringArea(ring)) > 0 ? ring : points.slice();
}

/** 4-connected components of equal values; returns a label per pixel (0-based, in scan order) and their count. */
export function labelRegions(map: Uint8Array, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(width * height).fill(-1);
  let count = 0;
  const stack: number[] = [];
  for (let start = 0; start < map.length; start++) {
    if (labels[start] >= 0) continue;
    const value = map[start];
    labels[start] = count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width, y = (p - x) / width;
      if (x > 0 && labels[p - 1] < 0 && map[p - 1] === value) (labels[p - 1] = count), stack.push(p - 1);
      if (x < width - 1 && labels[p + 1] < 0 && map[p + 1] === value) (labels[p + 1] = count), stack.push(p + 1);
      if (y > 0 && labels[p - width] < 0 && map[p - width] === value) (labels[p - width] = count), stack.push(p - width);
      if (y < height - 1 && labels[p + width] < 0 && map[p + width] === value) (labels[p + width] = count), stack.push(p + width);
    }
    count++;
  }
  return { labels, count };
}

/**
 * The outer boundary of region `label`, whose first pixel in scan order is (sx, sy), as the
 * corners of its pixel outline. Diagonal touches do not connect (4-connectivity, as labelled).
 */
export function traceOuter(labels: Int32Array, width: number, height: number, label: number, sx: number, sy: number): number[] {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && labels[y * width + x] === label;
  const points: number[] = [];
  let x = sx, y = sy, d = 0;
  // The top-left corner of the first pixel is a corner of the outline, left heading +x.
  const limit = 4 * (width + 1) * (height + 1);
  for (let step = 0; step < limit; step++) {
    x += DX[d];
    y += DY[d];
    // The two pixels ahead of this vertex: on the right and on the left of the heading.
    let rx: number, ry: number, lx: number, ly: number;
    switch (d) {
      case 0: (rx = x), (ry = y), (lx = x), (ly = y - 1); break;
      case 1: (rx = x - 1), (ry = y), (lx = x), (ly = y); break;
      case 2: (rx = x - 1), (ry = y - 1), (lx = x - 1), (ly = y); break;
      default: (rx = x), (ry = y - 1), (lx = x - 1), (ly = y - 1); break;
    }
    const right = inside(rx, ry), left = inside(lx, ly);
    const next = right ? (left ? (d + 3) % 4 : d) : (d + 1) % 4;
    if (next !== d) points.push(x, y);
    d = next;
    if (x === sx && y === sy && d === 0) return points;
  }
  throw new Error("outline did not close"); // cannot happen for a labelled region; guards the loop
}

/** Every region of every class (but `skip`) as a simplified polygon, largest first. */
export function traceClassMap(map: Uint8Array, width: number, height: number, options: TraceOptions = {}): TraceResult {
  if (map.length !== width * height) throw new RangeError(`map holds ${map.length} values, not ${width}x${height}`);
  const skip = new Set(options.skip ?? []);
  const epsilon = options.epsilon ?? 0.75;
  const minPixels = options.minPixels ?? 2;
  const maxPolygons = options.maxPolygons ?? 300;
  const { labels, count } = labelRegions(map, width, height);
  const sizes = new Int32Array(count);
  const first = new Int32Array(count).fill(-1);
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p];
    sizes[l]++;
    if (first[l] < 0) first[l] = p;
  }
  let dropped = 0;
  const polygons: ClassPolygon[] = [];
  for (let l = 0; l < count; l++) {
    const p = first[l];
    const classId = map[p];
    if (skip.has(classId)) continue;
    if (sizes[l] < minPixels) {
      dropped++;
      continue;
    }
    const outline = traceOuter(labels, width, height, l, p % width, Math.floor(p / width));
    const points = simplifyRing(outline, epsilon);
    polygons.push({ classId, points, area: Math.abs(ringArea(points)) });
  }
  polygons.sort((a, b) => b.area - a.area || a.classId - b.classId);
  if (polygons.length > maxPolygons) {
    dropped += polygons.length - maxPolygons;
    polygons.length = maxPolygons;
  }
  return { polygons, dropped };
}

/**
 * Paints polygons back into a class map in their order, a pixel taking a polygon's class when its
 * centre is inside (even-odd). For tests and for checking how faithful a traced layout is.
 */
export function rasterizePolygons(polygons: readonly ClassPolygon[], width: number, height: number, fill: number): Uint8Array {
  const out = new Uint8Array(width * height).fill(fill);
  for (const poly of polygons) {
    const pts = poly.points, n = pts.length / 2;
    for (let y = 0; y < height; y++) {
      const cy = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        const y1 = pts[2 * i + 1], y2 = pts[2 * j + 1];
        if ((y1 <= cy && y2 > cy) || (y2 <= cy && y1 > cy)) {
          const x1 = pts[2 * i], x2 = pts[2 * j];
          xs.push(x1 + ((cy - y1) / (y2 - y1)) * (x2 - x1));
        }
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x < Math.min(width, Math.ceil(xs[k + 1] - 0.5)); x++) out[y * width + x] = poly.classId;
      }
    }
  }
  return out;
}
