// Matching a shape's fill colour to the pack's palette in CIELAB (D65), by CIE76 ΔE: plain
// Euclidean distance in Lab, where equal distances look roughly equally different. RGB distance
// would call a dark-blue/black pair "close" and a light-green/light-blue pair "far" for no visual reason.

export interface Rgb255 {
  r: number;
  g: number;
  b: number;
}
export type Lab = readonly [number, number, number];

/** A shape's colour must be within this ΔE of a palette colour to count as it: beyond ~10 a designer would call it a different colour. */
export const COLOUR_TOLERANCE = 10;

export function parseHex(hex: string): Rgb255 | null {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const n = parseInt(m[1], 16);
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 };
}

export function toHex({ r, g, b }: Rgb255): string {
  return "#" + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("").toUpperCase();
}

function linear(channel255: number): number {
  const c = channel255 / 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

export function rgbToLab({ r, g, b }: Rgb255): Lab {
  const R = linear(r);
  const G = linear(g);
  const B = linear(b);
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const fx = f(x);
  const fy = f(y);
  const fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

export function deltaE(a: Lab, b: Lab): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

export interface PaletteEntry {
  id: number;
  lab: Lab;
}

export function paletteOf(classes: readonly { id: number; color: string }[]): PaletteEntry[] {
  const out: PaletteEntry[] = [];
  for (const c of classes) {
    const rgb = parseHex(c.color);
    if (rgb) out.push({ id: c.id, lab: rgbToLab(rgb) });
  }
  return out;
}

export interface ColourMatch {
  id: number;
  distance: number;
}

/** The nearest palette class within `tolerance`, or null when the colour is not a palette colour. */
export function nearestClass(rgb: Rgb255, palette: readonly PaletteEntry[], tolerance = COLOUR_TOLERANCE): ColourMatch | null {
  const lab = rgbToLab(rgb);
  let best: ColourMatch | null = null;
  for (const p of palette) {
    const d = deltaE(lab, p.lab);
    if (!best || d < best.distance) best = { id: p.id, distance: d };
  }
  return best && best.distance <= tolerance ? best : null;
}

/** Figma colours are 0..1 floats. */
export function from01(c: { r: number; g: number; b: number }): Rgb255 {
  return { r: Math.round(c.r * 255), g: Math.round(c.g * 255), b: Math.round(c.b * 255) };
}
