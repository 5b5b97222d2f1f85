import { describe, expect, it } from "vitest";
import { apply, invert, multiply, relativeTo, toCanvasArgs, type Affine } from "../../plugin/lib/transform.ts";
import { centreSquare, checkFrameSize, frameToUnitSquare, gapFor, resultPlacements } from "../../plugin/lib/fit.ts";

const rot = (deg: number, tx = 0, ty = 0): Affine => {
  const r = (deg * Math.PI) / 180;
  return [
    [Math.cos(r), -Math.sin(r), tx],
    [Math.sin(r), Math.cos(r), ty],
  ];
};

describe("transform math", () => {
  it("multiply applies the inner transform first", () => {
    const scale: Affine = [
      [2, 0, 0],
      [0, 3, 0],
    ];
    const move: Affine = [
      [1, 0, 10],
      [0, 1, 20],
    ];
    expect(apply(multiply(move, scale), 1, 1)).toEqual([12, 23]);
    expect(apply(multiply(scale, move), 1, 1)).toEqual([22, 63]);
  });

  it("invert undoes a rotation with translation", () => {
    const m = rot(30, 5, -7);
    const [x, y] = apply(m, 3, 4);
    const [bx, by] = apply(invert(m), x, y);
    expect(bx).toBeCloseTo(3, 10);
    expect(by).toBeCloseTo(4, 10);
  });

  it("refuses a zero-scale transform", () => {
    expect(() =>
      invert([
        [0, 0, 1],
        [0, 0, 1],
      ]),
    ).toThrow(/not invertible/);
  });

  it("relativeTo gives a child's transform inside a rotated, moved frame", () => {
    const frame = rot(90, 100, 50);
    const childInFrame = rot(0, 10, 5);
    const childAbs = multiply(frame, childInFrame);
    const rel = relativeTo(frame, childAbs);
    const [x, y] = apply(rel, 0, 0);
    expect(x).toBeCloseTo(10, 9);
    expect(y).toBeCloseTo(5, 9);
  });

  it("toCanvasArgs orders the matrix as canvas setTransform(a, b, c, d, e, f)", () => {
    expect(
      toCanvasArgs([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe("frame fitting", () => {
  it("centre-crops a landscape frame to its largest square", () => {
    expect(centreSquare(400, 300)).toEqual({ x: 50, y: 0, side: 300 });
  });
  it("centre-crops a portrait frame to its largest square", () => {
    expect(centreSquare(300, 500)).toEqual({ x: 0, y: 100, side: 300 });
  });
  it("leaves a square frame whole", () => {
    expect(centreSquare(256, 256)).toEqual({ x: 0, y: 0, side: 256 });
  });
  it("maps the crop's corners to the unit square", () => {
    const m = frameToUnitSquare(centreSquare(400, 300));
    const near = ([x, y]: [number, number], ex: number, ey: number) => {
      expect(x).toBeCloseTo(ex, 12);
      expect(y).toBeCloseTo(ey, 12);
    };
    near(apply(m, 50, 0), 0, 0);
    near(apply(m, 350, 300), 1, 1);
    near(apply(m, 200, 150), 0.5, 0.5);
  });
  it("refuses frames beyond 4096 px and tiny ones, in words", () => {
    expect(checkFrameSize(5000, 300)?.code).toBe("frame_too_large");
    expect(checkFrameSize(5000, 300)?.message).toMatch(/5000 × 300 px/);
    expect(checkFrameSize(4096, 4096)).toBeNull();
    expect(checkFrameSize(4, 100)?.code).toBe("frame_too_small");
  });
  it("places the first result over the crop and the rest in a row to the right", () => {
    const crop = centreSquare(400, 300);
    const { inFrame, onPage } = resultPlacements({ x: 1000, y: 2000, width: 400, height: 300 }, crop, 3);
    expect(inFrame).toEqual({ x: 50, y: 0, size: 300 });
    const gap = gapFor(300);
    expect(gap).toBe(30);
    expect(onPage).toEqual([
      { x: 1000 + 400 + 30, y: 2000, size: 300 },
      { x: 1000 + 400 + 30 + 300 + 30, y: 2000, size: 300 },
    ]);
    expect(resultPlacements({ x: 0, y: 0, width: 10, height: 10 }, centreSquare(10, 10), 1).onPage).toEqual([]);
  });
});
