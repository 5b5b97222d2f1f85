// 2x3 affine transforms in Figma's layout: [[a, c, e], [b, d, f]] maps (x, y) to
// (a·x + c·y + e, b·x + d·y + f). Pure, so both the main thread and the tests use it.

export type Affine = readonly [readonly [number, number, number], readonly [number, number, number]];

export const IDENTITY: Affine = [
  [1, 0, 0],
  [0, 1, 0],
];

/** `outer ∘ inner`: apply `inner` first, then `outer`. */
export function multiply(outer: Affine, inner: Affine): Affine {
  const [[a1, c1, e1], [b1, d1, f1]] = outer;
  const [[a2, c2, e2], [b2, d2, f2]] = inner;
  return [
    [a1 * a2 + c1 * b2, a1 * c2 + c1 * d2, a1 * e2 + c1 * f2 + e1],
    [b1 * a2 + d1 * b2, b1 * c2 + d1 * d2, b1 * e2 + d1 * f2 + f1],
  ];
}

export function invert(m: Affine): Affine {
  const [[a, c, e], [b, d, f]] = m;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error("transform is not invertible (a shape scaled to zero size)");
  return [
    [d / det, -c / det, (c * f - d * e) / det],
    [-b / det, a / det, (b * e - a * f) / det],
  ];
}

export function apply(m: Affine, x: number, y: number): [number, number] {
  return [m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]];
}

export function scaleTranslate(scale: number, tx: number, ty: number): Affine {
  return [
    [scale, 0, tx],
    [0, scale, ty],
  ];
}

/** The transform that takes a descendant's local space into its ancestor's local space. */
export function relativeTo(ancestorAbsolute: Affine, nodeAbsolute: Affine): Affine {
  return multiply(invert(ancestorAbsolute), nodeAbsolute);
}

/** Canvas `setTransform(a, b, c, d, e, f)` argument order. */
export function toCanvasArgs(m: Affine): [number, number, number, number, number, number] {
  return [m[0][0], m[1][0], m[0][1], m[1][1], m[0][2], m[1][2]];
}
